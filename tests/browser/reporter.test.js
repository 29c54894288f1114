// End-to-end tests of the reporter's pages: the real `meldpunt` server (temp SQLite file, low
// proof-of-work difficulty), two advisors registered by `meldpunt-testkit`, Debian's Chromium
// driven by playwright-core, accessibility checked with axe-core.
//
// Environment (set by `cargo xtask test`): TEST_MELDPUNT_BIN, TEST_MELDPUNT_TESTKIT, TEST_MELDPUNT_WWW,
// CHROMIUM. Screenshots of every page (Dutch and English, 360 and 1280 px wide) go to
// target/browser-artifacts/ (or SCREENSHOT_DIR). Measurements (bytes to load the report page,
// time from send to code, WASM seal throughput) are printed, never asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { serverEnv, ROOM_LOGIN_PUBLIC, ROOM_ADVISOR } from './helpers-advisor.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.TEST_MELDPUNT_BIN || join(root, 'target', 'debug', 'meldpunt');
const TESTKIT = process.env.TEST_MELDPUNT_TESTKIT || join(root, 'target', 'debug', 'meldpunt-testkit');
const WWW = process.env.TEST_MELDPUNT_WWW || join(root, 'client-wasm', 'www');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || join(root, 'target', 'browser-artifacts');
const EN = JSON.parse(readFileSync(join(WWW, 'i18n', 'en.json'), 'utf8'));
const NL = JSON.parse(readFileSync(join(WWW, 'i18n', 'nl.json'), 'utf8'));

const dir = mkdtempSync(join(tmpdir(), 'meldpunt-browser-'));
let server;
let base;
let browser;
const advisors = {};
const state = {};

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

function env() {
  return {
    ...serverEnv(dir),
    // One test address plays the reporter and every advisor (testkit logins): raise the
    // per-address limits that a single real person would never reach. The case-token guessing
    // limit stays at its default.
    ...ROOM_LOGIN_PUBLIC,
    ...ROOM_ADVISOR,
  };
}

function admin(...args) {
  return execFileSync(BIN, ['admin', ...args], { env: env(), encoding: 'utf8' }).trim();
}

function testkit(...args) {
  const out = execFileSync(TESTKIT, [...args, '--server', base], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

async function waitForServer() {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

/** A small real JPEG (drawn by Chromium) with an APP1 Exif segment carrying GPS data. */
async function jpegWithExif(page) {
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 16; c.height = 16;
    const g = c.getContext('2d');
    g.fillStyle = '#c33'; g.fillRect(0, 0, 16, 16);
    return c.toDataURL('image/jpeg', 0.9);
  });
  const jpeg = Buffer.from(dataUrl.split(',')[1], 'base64');
  const tiff = Buffer.concat([Buffer.from('MM\0*\0\0\0\x08', 'binary'), Buffer.from('GPSLatitude 52.3676 N GPSLongitude 4.9041 E Model Canon EOS 5D', 'latin1')]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const len = Buffer.alloc(2); len.writeUInt16BE(payload.length + 2);
  const app1 = Buffer.concat([Buffer.from([0xFF, 0xE1]), len, payload]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

async function newPage(width = 360, height = 800) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const requests = [];
  const captured = []; // every request of the context (pages and workers): url, method, body
  context.on('request', (r) => {
    captured.push({ url: r.url(), method: r.method(), body: r.postDataBuffer() });
  });
  page.on('request', (r) => requests.push(r.url()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { context, page, requests, errors, captured };
}

/** Asserts that no request's URL or body contains any of the secrets (strings or Buffers). */
function assertNoLeak(captured, secrets, what) {
  assert.ok(captured.length > 0);
  for (const r of captured) {
    const url = Buffer.from(decodeURIComponent(r.url));
    for (const [name, secret] of Object.entries(secrets)) {
      const needle = Buffer.isBuffer(secret) ? secret : Buffer.from(secret);
      assert.ok(!url.includes(needle) && !Buffer.from(r.url).includes(needle), `${what}: ${name} in the URL ${r.method} ${r.url}`);
      if (r.body) assert.ok(!r.body.includes(needle), `${what}: ${name} in the body of ${r.method} ${r.url}`);
    }
  }
}

/** Every spelling of a pickup code a page could let slip. */
function codeSpellings(code) {
  const canonical = code.replace(/-/g, '');
  return {
    code: code, code_lower: code.toLowerCase(), canonical, canonical_lower: canonical.toLowerCase(),
    spaced: code.replace(/-/g, ' '), spaced_lower: code.replace(/-/g, ' ').toLowerCase(),
  };
}

function foreign(requests) {
  return requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:'));
}

let axeRuns = 0;
const shotsTaken = [];

/** axe-core: zero violations of any impact. */
async function axe(page, name) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  axeRuns += 1;
  assert.deepEqual(result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${name}`);
}

async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  shotsTaken.push(name);
}

async function setLanguage(page, lang) {
  if (await page.evaluate(() => document.documentElement.lang) === lang) return;
  await page.locator('#lang-switch').click();
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

/**
 * The whole check of one page state: axe in Dutch and in English, screenshots of each at 360
 * and 1280 px (named {name}-{lang}-{width}.png), no horizontal scrolling, no missing keys.
 * Leaves the page in Dutch at 360 px.
 */
async function checkPage(page, name) {
  for (const lang of ['nl', 'en']) {
    await setLanguage(page, lang);
    await axe(page, `${name} (${lang})`);
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await noHorizontalScroll(page);
      await shot(page, `${name}-${lang}-${width}`);
    }
    assert.ok(!(await page.locator('body').innerText()).includes('⟦'), `missing translation on ${name} (${lang})`);
  }
  await setLanguage(page, 'nl');
  await page.setViewportSize({ width: 360, height: 800 });
}

/** Opens Acme's reporter page (with an optional `#…` tail) and waits until it shows the name. */
async function openOrgPage(page, hash = '') {
  await page.goto(`${base}/o/acme${hash}`);
  await page.locator('#org-name').filter({ hasText: 'Acme' }).waitFor();
}

/** Starts a report (bullying, a witness, story `x`, to be heard) and walks on to the advisor step. */
async function toAdvisorStep(page) {
  await page.locator('#start-report').click();
  for (let i = 0; i < 4; i++) {
    if (i === 0) { await page.getByLabel('Pesten').check(); await page.getByLabel(NL['report.role_witness']).check(); }
    if (i === 2) await page.locator('#story').fill('x');
    if (i === 3) await page.getByLabel(NL['wish.heard']).check();
    await page.locator('#step-next').click();
  }
}

/** Fills the six steps of the report (Dutch page); stops on the review step. */
async function fillReport(page, { story, advisorIds, file, check = false }) {
  const maybe = (name) => (check ? checkPage(page, name) : null);
  await page.locator('#start-report').click();
  await page.getByLabel('Seksuele intimidatie').check();
  await page.getByLabel(NL['report.role_affected']).check();
  await maybe('report-1');
  await page.locator('#step-next').click();
  await page.locator('#where').fill('Op de afdeling schoonmaak');
  await maybe('report-2');
  await page.locator('#step-next').click();
  await page.locator('#story').fill(story);
  if (file) {
    await page.locator('#files').setInputFiles(file);
    await page.locator('#file-list li').filter({ hasText: NL['files.cleaned'] }).waitFor();
  }
  await maybe('report-3');
  await page.locator('#step-next').click();
  await page.getByLabel(NL['wish.advice']).check();
  await maybe('report-4');
  await page.locator('#step-next').click();
  for (const input of await page.locator('input[name="advisor"]').all()) {
    if (advisorIds.includes(await input.getAttribute('value'))) await input.check(); else await input.uncheck();
  }
  await maybe('report-5');
  await page.locator('#step-next').click();
  assert.ok((await page.locator('#review').innerText()).includes(story));
  await maybe('report-6');
}

async function noHorizontalScroll(page) {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= w, `page is ${sw}px wide in a ${w}px window`);
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  admin('org', 'create', '--slug', 'acme', '--name', 'Acme Schoonmaak BV');
  admin('org', 'set', '--slug', 'acme',
    '--intro-nl', 'Bij Acme willen we dat iedereen veilig kan werken.',
    '--intro-en', 'At Acme we want everyone to be able to work safely.',
    '--conduct-nl', 'We behandelen elkaar met respect.',
    '--conduct-en', 'We treat each other with respect.',
    '--categories', JSON.stringify([
      { id: 'sexual-harassment', nl: 'Seksuele intimidatie', en: 'Sexual harassment' },
      { id: 'bullying', nl: 'Pesten', en: 'Bullying' },
      { id: 'other', nl: 'Iets anders', en: 'Something else' },
    ]),
    '--languages', 'nl,en');
  const internal = admin('advisor', 'invite', '--org', 'acme');
  const branch = admin('advisor', 'invite', '--branch');
  server = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`], { env: env(), stdio: ['ignore', 'inherit', 'inherit'] });
  await waitForServer();
  advisors.internal = { ...testkit('register', '--invite', internal, '--name', 'Anna de Vries', '--bio', 'HR adviser, 10 years at Acme.', '--languages', 'nl,en', '--keyring', join(dir, 'anna.keyring')), keyring: join(dir, 'anna.keyring') };
  advisors.branch = { ...testkit('register', '--invite', branch, '--name', 'Bram Bakker', '--bio', 'Independent confidential advisor for the cleaning branch.', '--languages', 'nl', '--keyring', join(dir, 'bram.keyring')), keyring: join(dir, 'bram.keyring') };
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  console.log(`# axe-core ${JSON.parse(readFileSync(require.resolve('axe-core/package.json'), 'utf8')).version}: ${axeRuns} runs, every impact, 0 violations allowed; ${shotsTaken.length} screenshots in ${SHOTS}`);
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
});

test('the landing page renders at 360 and 1280 px, with advisors and fingerprints', async () => {
  for (const width of [360, 1280]) {
    const { context, page, requests, errors } = await newPage(width, 900);
    await page.goto(`${base}/o/acme`);
    await page.locator('#org-name').filter({ hasText: 'Acme Schoonmaak BV' }).waitFor();
    assert.equal(await page.locator('#advisor-list > li').count(), 2);
    const text = await page.locator('#view-landing').innerText();
    assert.ok(text.includes(advisors.internal.fingerprint), 'fingerprint shown');
    assert.ok(text.includes(advisors.branch.fingerprint));
    assert.ok(text.includes(NL['advisor.branch_note']), 'branch-wide advisor explained');
    assert.ok(text.includes(NL['landing.private_device']));
    assert.ok(await page.locator('#link-case').isVisible());
    assert.ok(await page.locator('#quick-exit').isVisible());
    await noHorizontalScroll(page);
    if (width === 360) await checkPage(page, 'landing');
    assert.deepEqual(foreign(requests), []);
    assert.deepEqual(errors, []);
    await context.close();
  }
  const { context, page, errors } = await newPage(360, 800);
  await page.goto(`${base}/`);
  await page.locator('#home-case').waitFor();
  await checkPage(page, 'home');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the full report flow: metadata stripped, advisor decrypts, code confirmed, nothing leaks', async () => {
  const { context, page, requests, errors, captured } = await newPage(360, 800);
  await page.goto(`${base}/o/acme`);
  await page.locator('#start-report').click();
  // Next without answers: errors, no request.
  const before = requests.length;
  await page.locator('#step-next').click();
  assert.ok(await page.locator('#report-errors').isVisible());
  assert.equal(requests.length, before);
  await checkPage(page, 'report-1-errors');
  assert.ok(await page.locator('#report-errors').isVisible(), 'errors survive a language change');
  await page.locator('#step-back').click();
  const story = 'Mijn leidinggevende maakte herhaaldelijk opmerkingen over mijn lichaam. Test 42.';
  const jpeg = await jpegWithExif(page);
  const fixture = join(dir, 'IMG_0042.jpg');
  writeFileSync(fixture, jpeg);
  assert.ok(jpeg.includes(Buffer.from('Exif')) && jpeg.includes(Buffer.from('GPSLatitude')));
  // The file button is a translated label; the input itself is visually hidden but focusable.
  const label = page.locator('label[for="files"]');
  await fillReport(page, { story, advisorIds: [advisors.internal.id, advisors.branch.id], file: fixture, check: true });
  assert.equal((await label.innerText()).replace('+', '').trim(), NL['files.choose']);
  assert.equal(await page.locator('#files').evaluate((i) => i.tabIndex), 0);

  // Hold the proof-of-work request so that the sending screen can be checked.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/v1/pow', async (route) => { await held; await route.continue(); });
  await page.locator('#step-next').click();
  await page.locator('#view-submit').waitFor({ state: 'visible' });
  await checkPage(page, 'sending');
  release();
  await page.locator('#view-done').waitFor({ state: 'visible', timeout: 120_000 });
  const code = (await page.locator('#pickup-code .code-group').allInnerTexts()).join('-');
  assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
  const timing = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('measure')
    .filter((m) => m.name.startsWith('meldpunt:')).map((m) => [m.name.slice(9), Math.round(m.duration)])));
  await checkPage(page, 'done');
  // Leaving needs a confirmation.
  await page.locator('#finish').click({ force: true }); // aria-disabled: focusable, explains why
  assert.equal(new URL(page.url()).pathname, '/o/acme');
  assert.ok((await page.locator('#finish-hint').innerText()).length > 0);
  await page.locator('#retype').fill(code.toLowerCase().replace(/-/g, ' '));
  assert.equal(await page.locator('#retype-status').innerText(), NL['done.retype_ok']);
  await page.locator('#finish').click();
  await page.waitForURL(`${base}/o/acme/case`);
  state.code = code;

  // The advisors decrypt the case.
  for (const who of ['internal', 'branch']) {
    const attDir = join(dir, `att-${who}`);
    mkdirSync(attDir, { recursive: true });
    const out = testkit('read', '--keyring', advisors[who].keyring, '--attachments', attDir);
    assert.equal(out.cases.length, 1);
    const c = out.cases[0];
    state.caseId = c.id;
    assert.equal(c.transcript, 'ok');
    const report = c.messages[0];
    assert.equal(report.kind, 'report');
    assert.equal(report.body.story, story);
    assert.deepEqual(report.body.categories, ['sexual-harassment']);
    assert.equal(report.body.role, 'affected');
    assert.equal(report.body.contact, undefined);
    assert.equal(report.body.attachments.length, 1);
    assert.equal(report.body.attachments[0].name, 'IMG_0042.jpg');
    // §6.1: the identities of the chosen advisors, as the server lists them.
    assert.deepEqual(report.body.advisors, [advisors.internal.identity, advisors.branch.identity]);
    assert.equal(c.attachments.length, 1);
    const plain = readFileSync(c.attachments[0].file);
    assert.equal(plain[0], 0xFF); assert.equal(plain[1], 0xD8);
    assert.ok(!plain.includes(Buffer.from('Exif')), 'no Exif after stripping');
    assert.ok(!plain.includes(Buffer.from('GPSLatitude')), 'no GPS after stripping');
    assert.ok(plain.length < jpeg.length && plain.length > 100, 'the picture itself is kept');
  }
  // Nothing secret in any request: not the story, not the code, not the GPS bytes.
  const puts = captured.filter((r) => r.method === 'PUT');
  assert.equal(puts.length, 1, 'the attachment upload was captured');
  assert.ok(puts[0].body && puts[0].body.length > 100, 'with its body bytes');
  const posts = captured.filter((r) => r.method === 'POST' && r.url.endsWith('/api/v1/cases'));
  assert.equal(posts.length, 1);
  assert.ok(posts[0].body && posts[0].body.length > 100);
  assertNoLeak(captured, {
    story, story_part: 'opmerkingen over mijn lichaam', ...codeSpellings(code),
    gps: 'GPSLatitude 52.3676 N GPSLongitude 4.9041 E', gps_lat: '52.3676', exif_tiff: Buffer.from('MM\0*\0\0\0\x08', 'binary'),
  }, 'report flow');
  assert.deepEqual(foreign(requests), []);
  assert.deepEqual(await context.cookies(), []);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).length), 0);
  assert.deepEqual(errors, []);
  console.log(`# send → code (headless Chromium, 1 JPEG of ${jpeg.length} B; PoW difficulty 2, m 64 KiB; pow and argon2id run in parallel), ms: ${JSON.stringify(timing)}`);
  assert.ok(timing.total > 0 && timing.argon2id > 0 && 'encrypt-report' in timing && 'upload-report' in timing, 'timings exposed');
  await context.close();
});

test('the reporter reads a verified reply, a typo or unknown code makes no disclosure, and a follow-up arrives', async () => {
  assert.ok(state.code, 'needs the report flow');
  testkit('reply', '--keyring', advisors.internal.keyring, '--case', state.caseId, '--text', 'Dank je voor je melding. Ik neem hem serieus.');
  const { context, page, requests, errors, captured } = await newPage(360, 800);
  await page.goto(`${base}/o/acme/case`);
  await page.locator('#code').waitFor();
  await page.waitForFunction(() => document.title !== '');
  await checkPage(page, 'case-enter');
  // A typo: one character changed. Refused locally, no request.
  const chars = state.code.split('');
  chars[0] = chars[0] === 'A' ? 'B' : 'A';
  const typo = chars.join('');
  const before = requests.length;
  await page.locator('#code').fill(typo);
  await page.locator('#code-form button[type="submit"]').click();
  await page.locator('#code-error').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#code-error').innerText(), NL['case.error_typo']);
  await page.waitForTimeout(300);
  assert.equal(requests.length, before, 'no request for a typo');
  await checkPage(page, 'case-typo');
  assert.equal(await page.locator('#code-error').innerText(), NL['case.error_typo'], 'error redrawn after switching back');
  // A well-formed code (valid check characters) that belongs to no case: one neutral message.
  const unknown = await page.evaluate(async () => (await import('/pkg/meldpunt_client_wasm.js')).makePickupCode());
  assert.equal(await page.evaluate(async (c) => (await import('/pkg/meldpunt_client_wasm.js')).checkPickupCode(c).ok, unknown), true);
  const asked = captured.length;
  await page.locator('#code').fill(unknown);
  await page.locator('#code-form button[type="submit"]').click();
  await page.locator('#code-error').filter({ hasText: NL['case.error_unknown'] }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#code-error').innerText(), NL['case.error_unknown']);
  assert.ok(await page.locator('#view-enter').isVisible());
  assert.ok(!(await page.locator('#view-case').isVisible()));
  assert.equal(await page.locator('#messages > li').count(), 0);
  const api = captured.slice(asked).filter((r) => r.url.includes('/api/'));
  assert.deepEqual(api.map((r) => `${r.method} ${new URL(r.url).pathname}`), ['GET /api/v1/case'], 'one lookup by case token, nothing else');
  await checkPage(page, 'case-unknown');
  assertNoLeak(captured, codeSpellings(unknown), 'unknown code');
  // Chromium logs the 401 of the lookup; that is the expected answer, not a page error.
  assert.ok(errors.every((e) => e.includes('401')), String(errors));
  errors.length = 0;
  // The right code.
  await page.locator('#code').fill(state.code);
  await page.locator('#code-form button[type="submit"]').click();
  await page.locator('#view-case').waitFor({ state: 'visible', timeout: 60_000 });
  const messages = page.locator('#messages > li');
  assert.equal(await messages.count(), 2);
  const reply = await messages.nth(1).innerText();
  assert.ok(reply.includes('Ik neem hem serieus'));
  assert.ok(reply.includes('Anna de Vries'));
  assert.ok(reply.includes(advisors.internal.fingerprint), 'signer fingerprint shown');
  assert.ok(await messages.nth(1).locator('.verified').isVisible());
  assert.ok(!(await page.locator('#transcript-warning').isVisible()));
  await checkPage(page, 'case-view');
  // A follow-up, revealing identity.
  await page.locator('#reply-text').fill('Het gebeurde weer op maandag.');
  await page.locator('.reveal summary').click();
  await page.locator('#reply-contact').fill('06-12345678');
  await page.locator('#reply-send').click();
  await page.locator('#send-status').filter({ hasText: NL['case.sent'] }).waitFor({ timeout: 60_000 });
  assert.equal(await messages.count(), 3);
  const out = testkit('read', '--keyring', advisors.branch.keyring);
  const c = out.cases[0];
  assert.equal(c.transcript, 'ok');
  assert.equal(c.messages.length, 3);
  assert.equal(c.messages[2].kind, 'follow_up');
  assert.equal(c.messages[2].body.text, 'Het gebeurde weer op maandag.');
  assert.equal(c.messages[2].body.contact, '06-12345678');
  assertNoLeak(captured, { ...codeSpellings(state.code), text: 'Het gebeurde weer op maandag', contact: '06-12345678' }, 'mailbox');
  assert.deepEqual(foreign(requests), []);
  assert.deepEqual(await context.cookies(), []);
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a reply signed by an advisor the reporter did not choose is flagged, never trusted (§6.1)', async () => {
  const { context, page, errors } = await newPage(360, 800);
  await openOrgPage(page);
  const story = 'Alleen voor Anna bedoeld. Test 43.';
  await fillReport(page, { story, advisorIds: [advisors.internal.id] });
  await page.locator('#step-next').click();
  await page.locator('#view-done').waitFor({ state: 'visible', timeout: 120_000 });
  const code = (await page.locator('#pickup-code .code-group').allInnerTexts()).join('-');
  const cases = testkit('read', '--keyring', advisors.internal.keyring).cases;
  const mine = cases.find((c) => c.messages[0].body.story === story);
  assert.deepEqual(mine.messages[0].body.advisors, [advisors.internal.identity]);
  // Anna's session posts a reply signed with Bram's identity: a valid signature by someone
  // the server lists for the case, but whom the reporter never chose.
  testkit('reply', '--keyring', advisors.internal.keyring, '--sign-with', advisors.branch.keyring, '--case', mine.id, '--text', 'Ik ben Bram, vertel mij alles.');
  await page.locator('#saved').check();
  await page.locator('#finish').click();
  await page.waitForURL(`${base}/o/acme/case`);
  // A server that lies about the case's advisors: its case view lists Bram (with his real,
  // valid identity and bundles) beside Anna. Before §6.1 the mailbox trusted that list.
  const bram = (await (await fetch(`${base}/api/v1/orgs/acme`)).json()).advisors.find((a) => a.id === advisors.branch.id);
  let lied = 0;
  await page.route('**/api/v1/case', async (route) => {
    if (route.request().method() !== 'GET') return route.fallback();
    const response = await route.fetch();
    const json = await response.json();
    if (!json.advisors.some((a) => a.id === bram.id)) json.advisors.push(bram);
    lied += 1;
    return route.fulfill({ response, json });
  });
  await page.locator('#code').fill(code);
  await page.locator('#code-form button[type="submit"]').click();
  await page.locator('#view-case').waitFor({ state: 'visible', timeout: 60_000 });
  const reply = page.locator('#messages > li').nth(1);
  const text = await reply.innerText();
  assert.ok(text.includes(NL['case.not_chosen'].replace('{fp}', advisors.branch.fingerprint)), text);
  assert.ok(!text.includes('Bram Bakker'), 'no name from the server for an unchosen signer');
  assert.equal(await reply.locator('.verified').count(), 0);
  assert.ok(await page.locator('#transcript-warning').isVisible());
  assert.equal(await page.locator('#transcript-warning').innerText(), NL['transcript.unknown_author']);
  // The core names the listed advisor who is no member of the case, by the server's name and
  // the fingerprint computed here, and never seals to them.
  const named = NL['warning.listed_not_member'].split('{name}').join('Bram Bakker').replace('{fp}', advisors.branch.fingerprint);
  assert.equal(await page.locator('#case-warnings').innerText(), named);
  assert.ok(!(await page.locator('#case-members').innerText()).includes(advisors.branch.fingerprint));
  assert.ok(lied > 0, 'the lie was served');
  await checkPage(page, 'case-not-chosen');
  assert.deepEqual(errors, []);
  await context.close();
});

test('English is complete: no Dutch left and no missing keys', async () => {
  assert.deepEqual(Object.keys(EN).sort(), Object.keys(NL).sort(), 'same keys in both tables');
  const { context, page, errors } = await newPage(1280, 900);
  await openOrgPage(page);
  await page.locator('#lang-switch').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  const pairs = await page.evaluate(() => [...document.querySelectorAll('[data-i18n]')].map((e) => [e.dataset.i18n, e.textContent]));
  assert.ok(pairs.length > 40);
  for (const [key, text] of pairs) assert.equal(text, EN[key], key);
  const body = await page.locator('body').innerText();
  assert.ok(!body.includes('⟦'), 'no missing-key markers');
  for (const dutch of ['Melding maken', 'Zo blijf je anoniem', 'Ik heb al een ophaalcode', 'Sleutelcode', 'Snel weg', 'Bij Acme willen']) {
    assert.ok(!body.includes(dutch), `Dutch left: ${dutch}`);
  }
  assert.ok(body.includes('At Acme we want everyone'), 'organisation text in English');
  assert.ok(body.includes(EN['advisor.branch_note']));
  await shot(page, 'landing-en');
  await axe(page, 'landing in English');
  // The report form in English too.
  await page.locator('#start-report').click();
  const form = await page.locator('#view-report').innerText();
  assert.ok(form.includes('Sexual harassment') && !form.includes('⟦'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('quick exit leaves at once and the page is not in the history', async () => {
  for (const how of ['button', 'escape']) {
    const { context, page } = await newPage(360, 800);
    await context.route('https://www.nu.nl/**', (r) => r.fulfill({ status: 200, contentType: 'text/html', body: '<title>nu</title>' }));
    await page.goto('about:blank');
    await openOrgPage(page);
    const length = await page.evaluate(() => history.length);
    if (how === 'button') await page.locator('#quick-exit').click();
    else for (let i = 0; i < 3; i++) await page.keyboard.press('Escape');
    await page.waitForURL('https://www.nu.nl/');
    assert.equal(await page.evaluate(() => history.length), length, 'replaced, not added');
    await page.goBack().catch(() => {});
    assert.ok(!page.url().startsWith(base), `back went to ${page.url()}`);
    await context.close();
  }
});

test('pinned fingerprints: unpinned advisors are refused', async () => {
  const { context, page } = await newPage(360, 800);
  await openOrgPage(page, `#pin=${advisors.internal.pin}`);
  assert.ok(await page.locator('#pin-status').isVisible());
  const refused = page.locator('#advisor-list .advisor-refused');
  assert.equal(await refused.count(), 1);
  assert.ok((await refused.innerText()).includes('Bram Bakker'));
  assert.ok((await refused.innerText()).includes(NL['refused.not_pinned']));
  assert.ok((await refused.innerText()).includes(advisors.branch.fingerprint), 'fingerprint shown for comparison');
  await shot(page, 'pinned');
  await toAdvisorStep(page);
  assert.ok(await page.locator(`input[name="advisor"][value="${advisors.branch.id}"]`).isDisabled());
  assert.ok(await page.locator(`input[name="advisor"][value="${advisors.internal.id}"]`).isEnabled());
  // A pin that matches nobody: everyone refused, no report possible.
  await page.goto('about:blank');
  await openOrgPage(page, `#pin=${'0'.repeat(32)}`);
  assert.equal(await page.locator('#advisor-list .advisor-refused').count(), 2);
  assert.ok(await page.locator('#start-report').isDisabled());
  await context.close();
});

test('a server that alters key bundles is refused and flagged: swapped key, bad signature, dates, revocation', async () => {
  // A separate organisation and advisor, so that the other tests' case counts stay as they are.
  admin('org', 'create', '--slug', 'veilig', '--name', 'Veilig Werk BV');
  const invite = admin('advisor', 'invite', '--org', 'veilig');
  const keyring = join(dir, 'cas.keyring');
  const cas = testkit('register', '--invite', invite, '--name', 'Cas Jansen', '--languages', 'nl', '--keyring', keyring);
  const forged = testkit('forge', '--keyring', keyring);
  const { context, page, errors } = await newPage(360, 800);
  // The server (played by this route) rewrites Cas's entry of the organisation page.
  let alter = null;
  await page.route(`${base}/api/v1/orgs/veilig`, async (route) => {
    const response = await route.fetch();
    const org = await response.json();
    const entry = org.advisors.find((a) => a.id === cas.id);
    assert.ok(entry, 'Cas is listed');
    if (alter) alter(entry);
    await route.fulfill({ response, json: org });
  });
  const casEntry = () => page.locator('#advisor-list .advisor').filter({ hasText: 'Cas Jansen' });
  const cases = [
    ['swapped_key', (a) => { a.bundles = [forged.swapped_key]; }, 'bad_signature'],
    ['bad_signature', (a) => { a.bundles = [forged.bad_signature]; }, 'bad_signature'],
    ['expired', (a) => { a.bundles = [forged.expired]; }, 'expired'],
    ['not_yet_valid', (a) => { a.bundles = [forged.not_yet_valid]; }, 'not_yet_valid'],
    ['revoked', (a) => { a.bundles = [forged.revoked]; a.revocations = [forged.revocation]; }, 'revoked'],
    ['identity swapped', (a) => { a.identity = advisors.internal.identity; }, 'wrong_identity'],
  ];
  for (const [name, change, problem] of cases) {
    alter = change;
    await page.goto('about:blank');
    await page.goto(`${base}/o/veilig`);
    await page.locator('#org-name').filter({ hasText: 'Veilig Werk' }).waitFor();
    await casEntry().waitFor();
    assert.ok((await casEntry().getAttribute('class')).includes('advisor-refused'), `${name}: Cas is flagged`);
    assert.ok((await casEntry().innerText()).includes(NL[`refused.${problem}`]), `${name}: the reason is ${problem}`);
    if (name === 'swapped_key') await shot(page, 'altered-bundle');
    // The flagged advisor cannot be chosen.
    await toAdvisorStep(page);
    assert.ok(await page.locator(`input[name="advisor"][value="${cas.id}"]`).isDisabled(), `${name}: Cas cannot be chosen`);
  }
  // The same pages with the bundles untouched: Cas is offered.
  alter = null;
  await page.goto('about:blank');
  await page.goto(`${base}/o/veilig`);
  await casEntry().waitFor();
  assert.ok(!(await casEntry().getAttribute('class')).includes('advisor-refused'), 'the real bundle is accepted');

  // A revoked key is never used, even when it is the newest: the server lists the revoked
  // (newer) bundle beside the real one. The report must be sealed to the real key only: Cas's
  // keyring does not hold the revoked key, so Cas reads the case only if that is so.
  alter = (a) => { a.bundles = [forged.revoked, ...a.bundles]; a.revocations = [forged.revocation]; };
  await page.goto('about:blank');
  await page.goto(`${base}/o/veilig`);
  await casEntry().waitFor();
  assert.ok(!(await casEntry().getAttribute('class')).includes('advisor-refused'));
  const story = 'Sleutel-test: ingetrokken sleutel niet gebruiken.';
  await page.locator('#start-report').click();
  await page.getByLabel('Pesten').check();
  await page.getByLabel(NL['report.role_witness']).check();
  await page.locator('#step-next').click();
  await page.locator('#step-next').click();
  await page.locator('#story').fill(story);
  await page.locator('#step-next').click();
  await page.getByLabel(NL['wish.heard']).check();
  await page.locator('#step-next').click();
  for (const input of await page.locator('input[name="advisor"]').all()) {
    if (await input.getAttribute('value') === cas.id) await input.check(); else await input.uncheck();
  }
  await page.locator('#step-next').click();
  await page.locator('#step-next').click();
  await page.locator('#view-done').waitFor({ state: 'visible', timeout: 120_000 });
  const out = testkit('read', '--keyring', keyring);
  assert.equal(out.cases.length, 1);
  assert.equal(out.cases[0].messages[0].body.story, story);
  assert.deepEqual(out.cases[0].messages[0].body.advisors, [cas.identity]);
  // And with only the revoked bundle, nothing can be sent to Cas.
  alter = (a) => { a.bundles = [forged.revoked]; a.revocations = [forged.revocation]; };
  await page.goto('about:blank');
  await page.goto(`${base}/o/veilig`);
  await casEntry().waitFor();
  assert.ok((await casEntry().innerText()).includes(NL['refused.revoked']));
  assert.deepEqual(errors, []);
  await context.close();
});

test('without WASM the pages say so and offer nothing to send', async () => {
  for (const path of ['/o/acme', '/o/acme/case']) {
    const { context, page, captured } = await newPage(360, 800);
    await context.route('**/*.wasm', (r) => r.fulfill({ status: 404, body: 'not found' }));
    await page.goto(`${base}${path}`);
    await page.locator('#view-crypto-error').waitFor({ state: 'visible' });
    const text = await page.locator('main').innerText();
    assert.ok(text.includes(NL['error.crypto_title']) && text.includes(NL['error.crypto']), text);
    assert.equal(await page.locator('main form, main input, main textarea, #start-report').count(), 0, 'nothing to fill in or send');
    await checkPage(page, `no-wasm-${path === '/o/acme' ? 'report' : 'case'}`);
    assert.deepEqual(captured.filter((r) => r.method !== 'GET').map((r) => r.url), [], 'no request but loading the page');
    await context.close();
  }
});

test('if the worker cannot load, nothing is sent and the page says why', async () => {
  const { context, page, captured } = await newPage(360, 800);
  await context.route('**/js/worker.js', (r) => r.abort());
  await openOrgPage(page);
  const story = 'Dit mag nooit onversleuteld weg. Test 44.';
  await fillReport(page, { story, advisorIds: [advisors.internal.id] });
  await page.locator('#step-next').click();
  await page.locator('#submit-error').waitFor({ state: 'visible', timeout: 30_000 });
  assert.equal(await page.locator('#submit-error-text').innerText(), NL['error.crypto_send']);
  assert.ok(!(await page.locator('#view-done').isVisible()));
  await checkPage(page, 'worker-failed');
  assert.equal(captured.filter((r) => r.url.endsWith('/api/v1/cases')).length, 0, 'no case created');
  assertNoLeak(captured, { story, story_part: 'onversleuteld weg' }, 'worker failure');
  // The mailbox refuses too: no code is sent or looked up.
  await page.goto(`${base}/o/acme/case`);
  await page.locator('#code').waitFor();
  const before = captured.length;
  const code = state.code || await page.evaluate(async () => (await import('/pkg/meldpunt_client_wasm.js')).makePickupCode());
  await page.locator('#code').fill(code);
  await page.locator('#code-form button[type="submit"]').click();
  await page.locator('#code-error').filter({ hasText: NL['error.crypto_open'] }).waitFor({ timeout: 30_000 });
  assert.equal(captured.slice(before).filter((r) => r.url.includes('/api/')).length, 0, 'no API request');
  await context.close();
});

test('measurements: bytes to load the report page, WASM seal throughput, send → code (printed, not asserted)', async () => {
  const { context, page } = await newPage(360, 800);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();
  const sizes = new Map();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => sizes.set(e.requestId, e.encodedDataLength));
  await openOrgPage(page);
  await page.waitForLoadState('networkidle');
  const rows = [...sizes].map(([id, n]) => [new URL(urls.get(id) || 'x:/?').pathname, n]).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((n, [, b]) => n + b, 0);
  console.log(`# report page load: ${rows.length} responses, ${total} bytes on the wire (headers included), ${(total / 1024).toFixed(1)} KiB`);
  for (const [path, n] of rows) console.log(`#   ${String(n).padStart(8)}  ${path}`);
  assert.ok(rows.some(([p]) => p.endsWith('.wasm')), 'the WASM was counted');

  // 10 MiB through the attachment sealer, in the page (the real WASM build), 256 KiB pieces.
  const result = await page.evaluate(async () => {
    const m = await import('/pkg/meldpunt_client_wasm.js');
    const org = await (await fetch('/api/v1/orgs/acme')).json();
    const set = new m.Advisors();
    for (const a of org.advisors) set.add(a.id, a.identity, a.bundles, a.revocations, m.Pins.none(), Date.now() / 1000);
    const t0 = performance.now();
    const seed = m.deriveSeed(m.makePickupCode());
    const argon = performance.now() - t0;
    const reporter = m.Reporter.fromSeed(seed);
    const size = 10 * 1024 * 1024;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    const runs = [];
    for (let r = 0; r < 3; r++) {
      const start = performance.now();
      const enc = reporter.attachmentEncryptor('acme', set, org.advisors.map((a) => a.id));
      let out = enc.header().length;
      for (let at = 0; at < size; at += 256 * 1024) out += enc.push(data.subarray(at, at + 256 * 1024)).length;
      out += enc.finish().length;
      enc.free();
      runs.push([performance.now() - start, out]);
    }
    reporter.free();
    return { argon, runs, agent: navigator.userAgent };
  });
  const best = Math.min(...result.runs.map(([ms]) => ms));
  console.log(`# WASM seal (Chromium main thread, ${result.agent.match(/Chrome\/[\d.]+/)}): 10 MiB to 3 recipients in ${best.toFixed(0)} ms = ${(10 / (best / 1000)).toFixed(1)} MiB/s (runs: ${result.runs.map(([ms]) => ms.toFixed(0)).join(', ')} ms); Argon2id on the main thread ${result.argon.toFixed(0)} ms`);
  await context.close();

  // Send → code with nothing held (the report flow test holds the proof of work to check the
  // sending screen): one report with a small JPEG to both advisors, as a reporter sends it.
  const sent = await newPage(360, 800);
  await sent.page.goto(`${base}/o/acme`);
  const jpeg = await jpegWithExif(sent.page);
  const fixture = join(dir, 'measure.jpg');
  writeFileSync(fixture, jpeg);
  await fillReport(sent.page, { story: 'Meting: van verzenden tot code.', advisorIds: [advisors.internal.id, advisors.branch.id], file: fixture });
  const clicked = Date.now();
  await sent.page.locator('#step-next').click();
  await sent.page.locator('#view-done').waitFor({ state: 'visible', timeout: 120_000 });
  const wall = Date.now() - clicked;
  const timing = await sent.page.evaluate(() => Object.fromEntries(performance.getEntriesByType('measure')
    .filter((m) => m.name.startsWith('meldpunt:')).map((m) => [m.name.slice(9), Math.round(m.duration)])));
  console.log(`# send → code, nothing held (headless Chromium, 1 JPEG of ${jpeg.length} B; PoW difficulty 2, m 64 KiB): wall ${wall} ms, measures ms: ${JSON.stringify(timing)}`);
  assert.ok(timing.total > 0, 'timings exposed');
  await sent.context.close();
});
