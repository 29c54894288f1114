// End-to-end tests of the reporter's pages: the real `meldpunt` server (temp SQLite file, low
// proof-of-work difficulty), two advisors registered by `meldpunt-testkit`, Debian's Chromium
// driven by playwright-core, accessibility checked with axe-core.
//
// Environment (set by `cargo xtask test`): TEST_MELDPUNT_BIN, TEST_MELDPUNT_TESTKIT, TEST_MELDPUNT_WWW,
// CHROMIUM. SCREENSHOT_DIR, if set, receives screenshots of every page.
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

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.TEST_MELDPUNT_BIN || join(root, 'target', 'debug', 'meldpunt');
const TESTKIT = process.env.TEST_MELDPUNT_TESTKIT || join(root, 'target', 'debug', 'meldpunt-testkit');
const WWW = process.env.TEST_MELDPUNT_WWW || join(root, 'client-wasm', 'www');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || '';
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
  // The server reads every MELDPUNT_* variable as a setting: pass only its own.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MELDPUNT_')));
  return {
    ...clean,
    MELDPUNT_DATABASE: join(dir, 'meldpunt.db'),
    MELDPUNT_STATIC_DIR: WWW,
    MELDPUNT_POW__M_KIB: '64',
    MELDPUNT_POW__DIFFICULTY: '2',
    MELDPUNT_LOG: 'warn',
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
  page.on('request', (r) => requests.push(r.url()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { context, page, requests, errors };
}

function foreign(requests) {
  return requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:'));
}

async function axe(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${name}`);
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
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
    await shot(page, `landing-${width}`);
    await axe(page, `landing ${width}`);
    assert.deepEqual(foreign(requests), []);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('the full report flow: metadata stripped, advisor decrypts, code confirmed', async () => {
  const { context, page, requests, errors } = await newPage(360, 800);
  await page.goto(`${base}/o/acme`);
  await page.locator('#start-report').click();
  await shot(page, 'report-1');
  // Next without answers: errors, no request.
  const before = requests.length;
  await page.locator('#step-next').click();
  assert.ok(await page.locator('#report-errors').isVisible());
  assert.equal(requests.length, before);
  await axe(page, 'report step 1 with errors');
  await page.getByLabel('Seksuele intimidatie').check();
  await page.getByLabel(NL['report.role_affected']).check();
  await page.locator('#step-next').click();
  await page.locator('#where').fill('Op de afdeling schoonmaak');
  await shot(page, 'report-2');
  await axe(page, 'report step 2');
  await page.locator('#step-next').click();
  const story = 'Mijn leidinggevende maakte herhaaldelijk opmerkingen over mijn lichaam. Test 42.';
  await page.locator('#story').fill(story);
  const jpeg = await jpegWithExif(page);
  const fixture = join(dir, 'IMG_0042.jpg');
  writeFileSync(fixture, jpeg);
  assert.ok(jpeg.includes(Buffer.from('Exif')) && jpeg.includes(Buffer.from('GPSLatitude')));
  await page.locator('#files').setInputFiles(fixture);
  await page.locator('#file-list li').filter({ hasText: NL['files.cleaned'] }).waitFor();
  await shot(page, 'report-3');
  await axe(page, 'report step 3');
  await page.locator('#step-next').click();
  await page.getByLabel(NL['wish.advice']).check();
  await shot(page, 'report-4');
  await axe(page, 'report step 4');
  await page.locator('#step-next').click();
  await page.locator(`input[name="advisor"][value="${advisors.internal.id}"]`).check();
  await page.locator(`input[name="advisor"][value="${advisors.branch.id}"]`).check();
  await shot(page, 'report-5');
  await axe(page, 'report step 5');
  await page.locator('#step-next').click();
  assert.ok((await page.locator('#review').innerText()).includes(story));
  await shot(page, 'report-6');
  await axe(page, 'report step 6');
  await page.locator('#step-next').click();
  await page.locator('#view-done').waitFor({ state: 'visible', timeout: 120_000 });
  const code = (await page.locator('#pickup-code .code-group').allInnerTexts()).join('-');
  assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
  await shot(page, 'done');
  await axe(page, 'pickup code');
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
    assert.equal(c.attachments.length, 1);
    const plain = readFileSync(c.attachments[0].file);
    assert.equal(plain[0], 0xFF); assert.equal(plain[1], 0xD8);
    assert.ok(!plain.includes(Buffer.from('Exif')), 'no Exif after stripping');
    assert.ok(!plain.includes(Buffer.from('GPSLatitude')), 'no GPS after stripping');
    assert.ok(plain.length < jpeg.length && plain.length > 100, 'the picture itself is kept');
  }
  assert.deepEqual(foreign(requests), []);
  assert.deepEqual(await context.cookies(), []);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).length), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the reporter reads a verified reply, a typo makes no request, and a follow-up arrives', async () => {
  assert.ok(state.code, 'needs the report flow');
  testkit('reply', '--keyring', advisors.internal.keyring, '--case', state.caseId, '--text', 'Dank je voor je melding. Ik neem hem serieus.');
  const { context, page, requests, errors } = await newPage(360, 800);
  await page.goto(`${base}/o/acme/case`);
  await page.locator('#code').waitFor();
  await shot(page, 'case-enter');
  await axe(page, 'mailbox');
  // A typo: one character changed.
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
  await axe(page, 'mailbox with typo');
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
  await shot(page, 'case-view');
  await axe(page, 'case view');
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
  assert.deepEqual(foreign(requests), []);
  assert.deepEqual(await context.cookies(), []);
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('English is complete: no Dutch left and no missing keys', async () => {
  assert.deepEqual(Object.keys(EN).sort(), Object.keys(NL).sort(), 'same keys in both tables');
  const { context, page, errors } = await newPage(1280, 900);
  await page.goto(`${base}/o/acme`);
  await page.locator('#org-name').filter({ hasText: 'Acme' }).waitFor();
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
    await page.goto(`${base}/o/acme`);
    await page.locator('#org-name').filter({ hasText: 'Acme' }).waitFor();
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
  await page.goto(`${base}/o/acme#pin=${advisors.internal.pin}`);
  await page.locator('#org-name').filter({ hasText: 'Acme' }).waitFor();
  assert.ok(await page.locator('#pin-status').isVisible());
  const refused = page.locator('#advisor-list .advisor-refused');
  assert.equal(await refused.count(), 1);
  assert.ok((await refused.innerText()).includes('Bram Bakker'));
  assert.ok((await refused.innerText()).includes(NL['refused.not_pinned']));
  assert.ok((await refused.innerText()).includes(advisors.branch.fingerprint), 'fingerprint shown for comparison');
  await shot(page, 'pinned');
  await page.locator('#start-report').click();
  for (let i = 0; i < 4; i++) {
    if (i === 0) { await page.getByLabel('Pesten').check(); await page.getByLabel(NL['report.role_witness']).check(); }
    if (i === 2) await page.locator('#story').fill('x');
    if (i === 3) await page.getByLabel(NL['wish.heard']).check();
    await page.locator('#step-next').click();
  }
  assert.ok(await page.locator(`input[name="advisor"][value="${advisors.branch.id}"]`).isDisabled());
  assert.ok(await page.locator(`input[name="advisor"][value="${advisors.internal.id}"]`).isEnabled());
  // A pin that matches nobody: everyone refused, no report possible.
  await page.goto('about:blank');
  await page.goto(`${base}/o/acme#pin=${'0'.repeat(32)}`);
  await page.locator('#org-name').filter({ hasText: 'Acme' }).waitFor();
  assert.equal(await page.locator('#advisor-list .advisor-refused').count(), 2);
  assert.ok(await page.locator('#start-report').isDisabled());
  await context.close();
});
