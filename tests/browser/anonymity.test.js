// Anonymity audit (issue 7): the real `meldpunt` server on a temporary SQLite file, listening on
// 127.0.0.2 with its most verbose log captured in a file, `trusted_proxy = 127.0.0.1`, every
// browser request carrying `X-Forwarded-For: 203.0.113.77` (so the server does learn a client
// address for its rate limits) and a canary User-Agent and Accept-Language. The testkit's requests
// (through a recording proxy in this process) carry no X-Forwarded-For: the server keys them by
// their TCP peer, 127.0.0.1. One run thus covers a forwarded and a direct client address; a probe
// of the rate limiter proves the server knew both.
//
// The whole life of a report runs through Chromium, the CLI and `meldpunt-testkit`: operator
// (CLI, /admin/ with TOTP), organisation admin (invite, login, settings, advisor invite),
// reporter files a report with an attachment, advisors read and reply (/advisor/ pages and
// testkit), the reporter comes back in a new browser context with the pickup code, reads the
// reply and follows up, the advisors read again. Every request and response is recorded.
//
// Then the database (main file, -wal and -shm, read while the server runs and again after a clean
// stop), a logical dump of every table cell (python3's sqlite3), the log and every response
// header are scanned for the client addresses (text, UTF-16, decimal, hex, 4 raw bytes), the
// User-Agent and Accept-Language canaries, every plaintext canary and the pickup code in every
// spelling (raw, UTF-16, base64/base64url at each alignment, hex), plus the credentials the
// server must keep only hashed (case token, session tokens, passphrases, invite codes). No
// Set-Cookie anywhere, no cookie in any context. Finally, the reporter's two visits must share
// no value but constants and the case token.
//
// Environment (set by `cargo xtask test`): TEST_MELDPUNT_BIN, TEST_MELDPUNT_TESTKIT,
// TEST_MELDPUNT_WWW, CHROMIUM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, NL, PASSPHRASE, TESTKIT } from './helpers-advisor.js';
import { Authenticator, adminLogin, nav } from './helpers-admin.js';
import {
  AuditServer, freePortOn, recordingProxy, rawRequest, spellings, ipSpellings, scan, around,
  explainedByClientData, clientBlobsOf, features, sqliteDump,
} from './helpers-anonymity.js';

const HOST = '127.0.0.2';
const CLIENT_IP = '127.0.0.1';
const FORWARDED_IP = '203.0.113.77';
const UA = 'MeldpuntAudit/9.9 (UA-CANARY-4711)';
const AL = 'nl-NL,nl;q=0.9,fy-NL;q=0.41';

const ORG = { slug: 'acme', name: 'Acme Audit Schoonmaak BV' };
const OPERATOR = { username: 'beheer-audit', passphrase: 'paarse olifant danst op de regenboog 4711' };
const ORG_ADMIN = { username: 'anna.acme.audit', passphrase: 'zeven blauwe fietsen bij het station 4711' };
const INTRO = 'Bij Acme Audit luisteren we. Intro-tekst 4711.';

// Plaintext canaries: each carries a short token of its own, searched for separately too (a
// long string could straddle two database pages).
const STORY = 'CANARY-STORY-8d1f: mijn chef Jan Pietersen zei steeds dingen over mijn kleding en raakte mij aan in het magazijn.';
const WHERE = 'CANARY-WHERE-3c7a Magazijn Noord, tweede verdieping';
const FILE_NAME = 'Verslag-CANARY-FILENAME-5e2b.pdf';
const ATTACHMENT_TEXT = 'CANARY-ATTACHMENT-9f4e: dagboek van wat er gebeurde, met data en namen. ';
const REPLY = 'CANARY-REPLY-a61c: Dank voor je melding, ik neem contact op via dit kanaal.';
const FOLLOW_UP = 'CANARY-FOLLOWUP-77b0: het gebeurde vandaag opnieuw bij de koffieautomaat.';
const CONTACT = 'CANARY-CONTACT-06-98765432';
const TOKENS = {
  story: 'CANARY-STORY-8d1f', where: 'CANARY-WHERE-3c7a', file_name: 'CANARY-FILENAME-5e2b',
  attachment: 'CANARY-ATTACHMENT-9f4e', reply: 'CANARY-REPLY-a61c', follow_up: 'CANARY-FOLLOWUP-77b0',
  contact: 'CANARY-CONTACT-06',
};

const execFileAsync = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'meldpunt-anonymity-'));
let srv;
let proxy;
let browser;
const rec = { requests: [], responses: [], contexts: [], probes: [] };
const state = { adv: {}, secrets: {} };

/** The testkit, through the recording proxy (asynchronously: the proxy runs in this process). */
async function testkit(...args) {
  const { stdout } = await execFileAsync(TESTKIT, [...args, '--server', proxy.url], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').pop());
}

const withTimeout = (p, ms, fallback) => Promise.race([p, new Promise((r) => setTimeout(() => r(fallback), ms))]);

/** A fresh browser context with the canaries; records every request and response of it. */
async function open(label, width = 360) {
  const context = await browser.newContext({
    viewport: { width, height: 800 }, userAgent: UA, acceptDownloads: true,
    // (No `locale`: Chromium would send it, not this header, with navigations.)
    extraHTTPHeaders: { 'Accept-Language': AL, 'X-Forwarded-For': FORWARDED_IP },
  });
  context.setDefaultTimeout(60_000); // a busy 2-core machine
  const page = await context.newPage();
  const c = { label, context, page, requests: [], pending: [], errors: [] };
  context.on('request', (r) => {
    let body = null;
    try { body = r.postDataBuffer(); } catch { body = null; }
    const entry = { who: label, method: r.method(), url: r.url(), body: body || Buffer.alloc(0), headersArray: null };
    c.requests.push(entry);
    rec.requests.push(entry);
    const fallback = () => Object.entries(r.headers()).map(([name, value]) => ({ name, value }));
    c.pending.push(withTimeout(r.headersArray(), 15_000, null).then((h) => { entry.headersArray = h || fallback(); entry.partial = !h; }, () => { entry.headersArray = fallback(); entry.partial = true; }));
  });
  context.on('response', (res) => {
    const entry = { who: label, url: res.url(), status: res.status(), headersArray: null, body: null };
    rec.responses.push(entry);
    c.pending.push(withTimeout(res.headersArray(), 15_000, null).then((h) => { entry.headersArray = h || Object.entries(res.headers()).map(([name, value]) => ({ name, value })); }, () => { entry.headersArray = []; }));
    if (new URL(res.url()).pathname.startsWith('/api/')) c.pending.push(withTimeout(res.body(), 15_000, null).then((b) => { entry.body = b; }, () => {}));
  });
  page.on('pageerror', (e) => c.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') c.errors.push(m.text()); });
  rec.contexts.push(c);
  return c;
}

/** Waits for every recorded header and body, checks the context holds no cookie, closes it. */
async function close(c) {
  for (let n = 0; n < c.pending.length;) { const upto = c.pending.length; await Promise.all(c.pending.slice(n, upto)); n = upto; }
  c.cookies = await c.context.cookies();
  assert.deepEqual(c.cookies, [], `${c.label}: no cookie in the browser context`);
  c.storage = await c.page.evaluate(() => localStorage.length + sessionStorage.length);
  assert.equal(c.storage, 0, `${c.label}: no web storage`);
  await c.context.close();
}

const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));


before(async () => {
  const port = await freePortOn(HOST);
  srv = new AuditServer(dir, { host: HOST, port, trustedProxy: CLIENT_IP });
  srv.createOperator(OPERATOR.username, OPERATOR.passphrase);
  await srv.start();
  proxy = await recordingProxy(srv.base);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (proxy) await proxy.close();
  if (srv) await srv.stop().catch(() => {});
  if (process.env.KEEP_AUDIT_DIR) console.log(`# audit files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

test('set-up: the server listens on 127.0.0.2 and says so in its log; clients connect from 127.0.0.1', async () => {
  // Linux picks the source address of the loopback route (`local 127.0.0.0/8 dev lo src
  // 127.0.0.1`) for any socket that is not bound: Chromium, the testkit and node all reach
  // 127.0.0.2 from 127.0.0.1.
  const local = await new Promise((res, rej) => {
    const s = connect({ host: HOST, port: srv.port }, () => { const a = s.localAddress; s.end(); res(a); });
    s.once('error', rej);
  });
  assert.equal(local, CLIENT_IP, 'an unbound socket reaches 127.0.0.2 from 127.0.0.1');
  // The log shows the listen address (actix at trace level): proof that this log would show an
  // address written as text, and that the scan below reads it.
  const log = readFileSync(srv.logFile, 'utf8');
  assert.ok(log.includes(`${HOST}:${srv.port}`), 'the log names the listen address');
  assert.ok(/ TRACE /.test(log), 'trace level is on');
});

test('operator: created by the CLI, logs in on /admin/, sets up TOTP, creates the organisation and two invites', async () => {
  const c = await open('operator', 1280);
  const { page } = c;
  await page.goto(`${srv.base}/admin/`);
  await page.locator('#view-login').waitFor({ state: 'visible' });
  await adminLogin(page, OPERATOR);
  await page.locator('#view-orgs').waitFor({ state: 'visible' });
  // TOTP on the account page, then log out and in again with a code.
  await nav(page, 'view-account');
  await page.locator('#acct-totp-setup').click();
  await page.locator('#totp-unlock').waitFor({ state: 'visible' });
  await page.locator('#totp-passphrase').fill(OPERATOR.passphrase);
  await page.locator('#totp-start').click();
  await page.locator('#totp-setup').waitFor({ state: 'visible' });
  const app = new Authenticator((await page.locator('#totp-secret').innerText()).replace(/\s+/g, ''));
  await page.locator('#totp-code').fill(await app.code());
  await page.locator('#totp-confirm').click();
  await page.locator('#acct-totp-done').waitFor({ state: 'visible' });
  await page.locator('#logout').click();
  await page.locator('#login-notice').filter({ hasText: NL['admin.logged_out'] }).waitFor();
  await adminLogin(page, OPERATOR, app);
  await page.locator('#view-orgs').waitFor({ state: 'visible' });
  // The organisation.
  await page.locator('#org-create-name').fill(ORG.name);
  await page.locator('#org-create-slug').fill(ORG.slug);
  await page.locator('#org-create-button').click();
  const li = page.locator(`#org-list li[data-slug="${ORG.slug}"]`);
  await li.waitFor();
  await li.getByRole('button', { name: /Uitnodiging voor beheerder/ }).click();
  state.orgAdminInvite = await li.locator('input[readonly]').inputValue();
  assert.match(state.orgAdminInvite, /\/admin\/#invite=[A-Z0-9-]+$/);
  // A branch-wide advisor.
  await nav(page, 'view-branch');
  await page.locator('#branch-invite').click();
  state.branchInvite = await page.locator('#branch-invite-out-code').inputValue();
  assert.ok(state.branchInvite.length > 8);
  await page.locator('#logout').click();
  await page.locator('#login-notice').filter({ hasText: NL['admin.logged_out'] }).waitFor();
  assert.deepEqual(unexpected(c.errors), []);
  await close(c);
  state.adv.bram = { ...(await testkit('register', '--invite', state.branchInvite, '--name', 'Bram Audit Bakker', '--languages', 'nl', '--keyring', join(dir, 'bram.keyring'))), keyring: join(dir, 'bram.keyring') };
});

test('organisation admin: accepts the invite, logs in, changes the settings, invites an advisor', async () => {
  assert.ok(state.orgAdminInvite, 'needs the operator');
  const c = await open('org-admin', 1280);
  const { page } = c;
  await page.goto(state.orgAdminInvite);
  await page.locator('#view-invite').waitFor({ state: 'visible' });
  await page.locator('#invite-username').fill(ORG_ADMIN.username);
  await page.locator('#invite-passphrase').fill(ORG_ADMIN.passphrase);
  await page.locator('#invite-repeat').fill(ORG_ADMIN.passphrase);
  await page.locator('#invite-button').click();
  await page.locator('#view-login').waitFor({ state: 'visible' });
  await page.locator('#login-passphrase').fill(ORG_ADMIN.passphrase);
  await page.locator('#login-button').click();
  await page.locator('#view-settings').waitFor({ state: 'visible' });
  await page.waitForFunction((n) => document.getElementById('set-name').value === n, ORG.name);
  await page.locator('#set-intro-nl').fill(INTRO);
  await page.locator('#settings-save').click();
  await page.locator('#settings-status').filter({ hasText: NL['admin.settings_saved'] }).waitFor();
  await nav(page, 'view-advisors');
  await page.locator('#advisor-invite').click();
  state.advisorInvite = await page.locator('#advisor-invite-out-code').inputValue();
  await page.locator('#logout').click();
  await page.locator('#login-notice').filter({ hasText: NL['admin.logged_out'] }).waitFor();
  assert.deepEqual(unexpected(c.errors), []);
  await close(c);
  state.adv.anna = { ...(await testkit('register', '--invite', state.advisorInvite, '--name', 'Anna Audit de Vries', '--languages', 'nl,en', '--keyring', join(dir, 'anna.keyring'))), keyring: join(dir, 'anna.keyring') };
  const pub = await (await fetch(`${srv.base}/api/v1/orgs/${ORG.slug}`)).json();
  assert.deepEqual(pub.advisors.map((a) => a.id).sort(), [state.adv.anna.id, state.adv.bram.id].sort());
});

test('reporter, visit 1: files a report with an attachment and gets the pickup code', async () => {
  assert.ok(state.adv.anna, 'needs the advisors');
  state.attachment = Buffer.from(`%PDF-1.4\n%${ATTACHMENT_TEXT.repeat(40)}\n%%EOF\n`);
  const file = join(dir, FILE_NAME);
  writeFileSync(file, state.attachment);
  const c = await open('reporter-visit-1');
  const { page } = c;
  await page.goto(`${srv.base}/o/${ORG.slug}`);
  await page.locator('#org-name').filter({ hasText: ORG.name }).waitFor();
  await page.locator('#start-report').click();
  await page.locator('#categories input').first().check();
  await page.locator('input[name="role"][value="affected"]').check();
  await page.locator('#step-next').click();
  await page.locator('#where').fill(WHERE);
  await page.locator('#step-next').click();
  await page.locator('#story').fill(STORY);
  await page.locator('#files').setInputFiles(file);
  await page.locator('#file-list li').filter({ hasText: FILE_NAME }).waitFor();
  await page.locator('#step-next').click();
  await page.getByLabel(NL['wish.advice']).check();
  await page.locator('#step-next').click();
  for (const input of await page.locator('input[name="advisor"]').all()) await input.check();
  await page.locator('#step-next').click();
  assert.ok((await page.locator('#review').innerText()).includes(STORY));
  await page.locator('#step-next').click();
  await page.locator('#view-done').waitFor({ state: 'visible', timeout: 120_000 });
  state.code = (await page.locator('#pickup-code .code-group').allInnerTexts()).join('-');
  assert.match(state.code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
  await page.locator('#retype').fill(state.code);
  await page.locator('#finish').click();
  await page.waitForURL(`${srv.base}/o/${ORG.slug}/case`);
  assert.deepEqual(c.errors, []);
  await close(c);
  state.visit1 = c;
  assert.ok(c.requests.some((r) => r.method === 'POST' && r.url.endsWith('/api/v1/cases')), 'the case was sent');
  assert.ok(c.requests.some((r) => r.method === 'PUT' && r.url.includes('/api/v1/case/attachments/') && r.body.length > 1000), 'the attachment was uploaded');
});

test('advisors: Anna reads, downloads and replies on the /advisor/ pages; Bram reads with the testkit', async () => {
  assert.ok(state.code, 'needs the report');
  const c = await open('advisor-anna');
  const { page } = c;
  await page.goto(`${srv.base}/advisor/`);
  await page.locator('#keyring-file').setInputFiles(state.adv.anna.keyring);
  await page.locator('#passphrase').fill(PASSPHRASE);
  await page.locator('#unlock-button').click();
  await page.locator('#view-inbox').waitFor({ state: 'visible', timeout: 90_000 });
  await page.locator('#case-list > li').first().waitFor();
  await page.locator('#case-list .case-open').first().click();
  await page.locator('#view-case').waitFor({ state: 'visible' });
  const messages = page.locator('#case-messages > li');
  await messages.first().filter({ hasText: TOKENS.story }).waitFor();
  assert.ok((await messages.first().innerText()).includes(WHERE), 'where decrypted');
  const att = page.locator('#case-attachments > li');
  assert.ok((await att.innerText()).includes(FILE_NAME));
  const [download] = await Promise.all([page.waitForEvent('download'), att.locator('button').first().click()]);
  assert.equal(download.suggestedFilename(), FILE_NAME);
  assert.ok(readFileSync(await download.path()).equals(state.attachment), 'the attachment decrypts to the original bytes');
  await page.locator('#reply-text').fill(REPLY);
  await page.locator('#reply-send').click();
  await page.locator('#reply-status').filter({ hasText: NL['advisor.ui.reply_sent'] }).waitFor({ timeout: 60_000 });
  await page.locator('#lock').click();
  await page.locator('#view-unlock').waitFor({ state: 'visible' });
  assert.deepEqual(c.errors, []);
  await close(c);
  const out = await testkit('read', '--keyring', state.adv.bram.keyring);
  assert.equal(out.cases.length, 1);
  assert.equal(out.cases[0].transcript, 'ok');
  assert.equal(out.cases[0].messages[0].body.story, STORY);
  assert.ok(JSON.stringify(out.cases[0].messages[0].body).includes(WHERE));
  assert.equal(out.cases[0].messages[1].body.text, REPLY);
  state.caseId = out.cases[0].id;
});

test('reporter, visit 2 (new context): reads the reply with the code, follows up; the advisors read it', async () => {
  assert.ok(state.caseId, 'needs the reply');
  const c = await open('reporter-visit-2');
  const { page } = c;
  await page.goto(`${srv.base}/o/${ORG.slug}/case`);
  await page.locator('#code').waitFor();
  await page.locator('#code').fill(state.code);
  await page.locator('#code-form button[type="submit"]').click();
  await page.locator('#view-case').waitFor({ state: 'visible', timeout: 90_000 });
  const messages = page.locator('#messages > li');
  await messages.nth(1).waitFor();
  assert.ok((await messages.nth(1).innerText()).includes(REPLY));
  assert.ok(await messages.nth(1).locator('.verified').isVisible(), 'the reply is verified');
  await page.locator('#reply-text').fill(FOLLOW_UP);
  await page.locator('.reveal summary').click();
  await page.locator('#reply-contact').fill(CONTACT);
  await page.locator('#reply-send').click();
  await page.locator('#send-status').filter({ hasText: NL['case.sent'] }).waitFor({ timeout: 90_000 });
  assert.equal(await messages.count(), 3);
  assert.deepEqual(c.errors, []);
  await close(c);
  state.visit2 = c;
  for (const who of ['anna', 'bram']) {
    const attDir = join(dir, `att-${who}`);
    mkdirSync(attDir, { recursive: true });
    const out = await testkit('read', '--keyring', state.adv[who].keyring, '--attachments', attDir);
    const m = out.cases[0].messages;
    assert.equal(out.cases[0].transcript, 'ok');
    assert.equal(m.length, 3);
    assert.equal(m[2].kind, 'follow_up');
    assert.equal(m[2].body.text, FOLLOW_UP);
    assert.equal(m[2].body.contact, CONTACT);
    assert.equal(m[0].body.attachments[0].name, FILE_NAME);
    assert.ok(readFileSync(out.cases[0].attachments[0].file).equals(state.attachment));
  }
});

test('the server did learn both client addresses: its rate limiter keys requests by them', async () => {
  assert.ok(state.visit2, 'after the flows (the probe shuts the addresses out of case routes)');
  const bogus = () => ({ Authorization: `CaseToken ${randomBytes(32).toString('base64url')}` });
  const probe = async (headers, localAddress) => {
    const r = await rawRequest(srv.base, { path: '/api/v1/case', headers: { ...bogus(), ...headers }, localAddress });
    rec.probes.push({ who: 'probe', url: `${srv.base}/api/v1/case`, status: r.status, headersArray: pairs(r.headers), body: r.body, local: r.local });
    return r;
  };
  // 203.0.113.77 (X-Forwarded-For from the trusted proxy 127.0.0.1): guessed until shut out.
  let status = 0;
  for (let i = 0; i < 30 && status !== 429; i++) ({ status } = await probe({ 'X-Forwarded-For': FORWARDED_IP }));
  assert.equal(status, 429, '203.0.113.77 is shut out after its failures');
  assert.equal((await probe({ 'X-Forwarded-For': FORWARDED_IP })).status, 429);
  const fromPeer = await probe({});
  assert.equal(fromPeer.local, CLIENT_IP);
  assert.equal(fromPeer.status, 401, '127.0.0.1 itself (no forwarded address) is another client');
  assert.equal((await probe({ 'X-Forwarded-For': '198.51.100.23' })).status, 401, 'another forwarded address too');
  // 127.0.0.1 (the TCP peer): guessed until shut out; 127.0.0.3 is still served.
  status = 0;
  for (let i = 0; i < 30 && status !== 429; i++) ({ status } = await probe({}));
  assert.equal(status, 429, '127.0.0.1 is shut out after its failures');
  const other = await probe({}, '127.0.0.3');
  assert.equal(other.local, '127.0.0.3');
  assert.equal(other.status, 401, 'a request from 127.0.0.3 is keyed by that address, not shut out');
  assert.equal((await probe({ 'X-Forwarded-For': '198.51.100.24' })).status, 401);
});

function pairs(raw) {
  const out = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push({ name: raw[i], value: raw[i + 1] });
  return out;
}

test('linkability: the two visits share no value but constants and the case token', () => {
  assert.ok(state.visit1 && state.visit2, 'needs both visits');
  const api = (c) => c.requests.filter((r) => r.url.startsWith(srv.base) && new URL(r.url).pathname.startsWith('/api/'));
  const v1 = api(state.visit1);
  const v2 = api(state.visit2);
  assert.ok(v1.length >= 4 && v2.length >= 3, `API requests: ${v1.length} and ${v2.length}`);
  const set = (list) => new Set(list.flatMap((r) => [...features(r)]));
  const f1 = set(v1);
  const f2 = set(v2);
  const common = [...f1].filter((x) => f2.has(x)).sort();
  // What other people (operator, organisation admin, advisor) sent: a value they sent too is
  // the same for every client of this browser, not the reporter's.
  const others = set(rec.requests.filter((r) => !r.who.startsWith('reporter') && r.url.startsWith(srv.base)));
  const caseAuth = v2.find((r) => r.url.endsWith('/api/v1/case') && r.method === 'GET').headersArray.find((h) => h.name.toLowerCase() === 'authorization').value;
  assert.match(caseAuth, /^CaseToken [A-Za-z0-9_-]{40,}$/);
  state.secrets.caseToken = caseAuth.replace(/^CaseToken /, '');
  // (a) Constants, listed: the request headers of this browser and of the (simulated) proxy, the
  // API's fixed paths, the empty proof-of-work request, the organisation's slug.
  const CONSTANT_HEADERS = {
    host: `${HOST}:${srv.port}`, // the server's own address
    origin: srv.base,
    'user-agent': UA, // the browser's (the canary), not ours
    'accept-language': AL, // the browser's
    'x-forwarded-for': FORWARDED_IP, // added by the trusted proxy
    connection: 'keep-alive',
    accept: '*/*',
    'accept-encoding': null, // the browser's list, e.g. "gzip, deflate, br, zstd"
    'sec-ch-ua': null, 'sec-ch-ua-mobile': null, 'sec-ch-ua-platform': null, // the browser's brand
    'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty',
    'content-type': ['application/json', 'application/octet-stream'],
    'cache-control': 'no-cache', pragma: 'no-cache', // fetch(…, { cache: 'no-store' })
    'content-length': ['2'], // the body `{}` of POST /api/v1/pow
  };
  const CONSTANT_PATHS = [`GET /api/v1/orgs/${ORG.slug}`, 'POST /api/v1/pow', 'GET /api/v1/case', 'POST /api/v1/case/messages', 'POST /api/v1/cases'];
  const CONSTANT_JSON = ['json .={}']; // the body of POST /api/v1/pow
  const classify = (f) => {
    if (f === `header authorization: CaseToken ${state.secrets.caseToken}`) return '(b) the case token, sent deliberately';
    let m = f.match(/^header ([^:]+): (.*)$/);
    if (m && m[1] in CONSTANT_HEADERS) {
      const want = CONSTANT_HEADERS[m[1]];
      if (want !== null && ![want].flat().includes(m[2])) return null;
      if (!others.has(f)) return null; // a browser constant is sent by everyone
      return `(a) constant header ${m[1]}`;
    }
    m = f.match(/^path (.*)$/);
    if (m && CONSTANT_PATHS.includes(m[1])) return '(a) constant path';
    // The smallest nonce that solves a fresh server challenge (the search starts at 0): a
    // function of that challenge, not of the client. At difficulty 2 such small numbers repeat.
    if (/^json \.pow\.nonce=\d+$/.test(f)) return '(a) proof-of-work solution (smallest nonce for a fresh challenge)';
    if (CONSTANT_JSON.includes(f)) return '(a) constant body';
    return null;
  };
  const rows = common.map((f) => [f, classify(f)]);
  console.log(`# linkability: visit 1 sent ${v1.length} API requests (${f1.size} distinct values), visit 2 ${v2.length} (${f2.size}); in common (${common.length}):`);
  for (const [f, why] of rows) console.log(`#   ${why || 'UNEXPLAINED'}  ${f.length > 160 ? `${f.slice(0, 160)}…` : f}`);
  assert.deepEqual(rows.filter(([, why]) => !why).map(([f]) => f), [], 'nothing in common between the visits but constants and the case token');
});

test('the audit: no address, user agent, cookie, plaintext, pickup code or raw credential in the database, its WAL, the log or any response header', async () => {
  assert.ok(state.secrets.caseToken, 'needs the flows');
  // Every request reached the server with the canaries (the XFF also from the page's workers).
  const toServer = rec.requests.filter((r) => r.url.startsWith(srv.base));
  assert.ok(toServer.length > 50, `${toServer.length} browser requests`);
  for (const r of toServer) {
    const h = Object.fromEntries(r.headersArray.map(({ name, value }) => [name.toLowerCase(), value]));
    assert.equal(h['user-agent'], UA, `UA of ${r.method} ${r.url}`);
    assert.equal(h['x-forwarded-for'], FORWARDED_IP, `X-Forwarded-For of ${r.method} ${r.url}`);
    assert.equal(h['accept-language'], AL, `Accept-Language of ${r.method} ${r.url}`);
    assert.equal(h.cookie, undefined, `no cookie sent with ${r.method} ${r.url}`);
  }
  assert.ok(proxy.records.length > 10, `${proxy.records.length} testkit requests`);

  // Credentials the server may keep only as hashes, taken from the requests.
  const bearer = new Set();
  for (const r of [...rec.requests, ...proxy.records]) {
    const hs = r.headersArray || Object.entries(r.headers).map(([name, value]) => ({ name, value }));
    for (const { name, value } of hs) if (name.toLowerCase() === 'authorization' && /^Bearer /.test(value)) bearer.add(value.slice(7));
  }
  assert.ok(bearer.size >= 3, `session tokens seen: ${bearer.size}`);

  // 1. Snapshot while the server runs (the WAL holds the recent writes), then SIGTERM and wait.
  const live = srv.files('running:');
  const stopped = await srv.stop();
  assert.ok(stopped.code === 0 || stopped.signal === 'SIGTERM', `clean stop: ${JSON.stringify(stopped)}`);
  const final = srv.files('stopped:');
  const logBuf = readFileSync(srv.logFile);
  const files = [...live, ...final, { name: 'server log (stdout+stderr)', buf: logBuf }];
  // Logical dumps: every cell of every table, read by SQLite from a scratch copy of the main
  // file and its WAL (a value split over overflow pages is whole here).
  const dump = (label, snapshot) => {
    const d = join(dir, `dump-${label}`);
    mkdirSync(d, { recursive: true });
    for (const suffix of ['', '-wal']) {
      const f = snapshot.find((x) => x.name.endsWith(`meldpunt.db${suffix}`));
      if (f && f.buf) writeFileSync(join(d, `meldpunt.db${suffix}`), f.buf);
    }
    return sqliteDump(join(d, 'meldpunt.db'), true);
  };
  const dumpLive = dump('running', live);
  const dumpFinal = dump('stopped', final);
  if (dumpLive) files.push({ name: 'running: every table cell (python3 sqlite3)', buf: dumpLive.buf });
  if (dumpFinal) files.push({ name: 'stopped: every table cell (python3 sqlite3)', buf: dumpFinal.buf });
  else console.log('# python3 with sqlite3 not available: no logical dump (raw files only)');

  // Every response header: browser contexts, the testkit's (through the proxy), the probes.
  const responses = [
    ...rec.responses.map((r) => ({ ...r, headersArray: r.headersArray || [] })),
    ...proxy.records.filter((r) => r.response).map((r) => ({ who: 'testkit', url: r.url, status: r.response.status, headersArray: pairs(r.response.headers), body: r.response.body })),
    ...rec.probes,
  ];
  const headerLines = responses.reduce((n, r) => n + r.headersArray.length, 0);
  const setCookie = responses.flatMap((r) => r.headersArray.filter((h) => /^set-cookie2?$/i.test(h.name)).map((h) => `${r.url}: ${h.value}`));
  assert.deepEqual(setCookie, [], 'no Set-Cookie in any response');
  for (const c of rec.contexts) assert.deepEqual(c.cookies, [], `${c.label}: no cookie`);
  const headerText = responses.map((r) => ({ name: `response headers of ${r.who} ${r.status} ${r.url}`, buf: Buffer.from(r.headersArray.map((h) => `${h.name}: ${h.value}`).join('\n')) }));
  const apiBodies = responses.filter((r) => r.body && new URL(r.url).pathname.startsWith('/api/')).map((r) => ({ name: `response body of ${r.who} ${r.status} ${r.url}`, buf: r.body }));

  // Needles.
  const ipNeedles = [...ipSpellings(CLIENT_IP), ...ipSpellings(FORWARDED_IP)];
  const canaries = [
    ...spellings('User-Agent canary', 'UA-CANARY-4711'), ...spellings('User-Agent product', 'MeldpuntAudit/9.9'),
    ...spellings('Accept-Language', AL), ...spellings('Accept-Language canary', 'fy-NL;q=0.41'),
    ...spellings('story', STORY), ...spellings('where', WHERE), ...spellings('file name', FILE_NAME),
    ...spellings('attachment bytes', ATTACHMENT_TEXT), ...spellings('reply', REPLY),
    ...spellings('follow-up', FOLLOW_UP), ...spellings('contact', CONTACT),
    ...Object.entries(TOKENS).flatMap(([k, v]) => spellings(`${k} token`, v)),
  ];
  const canonical = state.code.replace(/-/g, '');
  const codeNeedles = [
    ...spellings('pickup code', state.code), ...spellings('pickup code, lower case', state.code.toLowerCase()),
    ...spellings('pickup code, canonical', canonical), ...spellings('pickup code, canonical lower', canonical.toLowerCase()),
    ...spellings('pickup code, spaced', state.code.replace(/-/g, ' ')), ...spellings('pickup code, spaced lower', state.code.replace(/-/g, ' ').toLowerCase()),
  ];
  const credentials = [
    ...spellings('case token', state.secrets.caseToken), ...spellings('case token bytes', Buffer.from(state.secrets.caseToken, 'base64url')),
    ...[...bearer].flatMap((t, i) => spellings(`session token ${i + 1}`, t)),
    ...spellings('operator passphrase', OPERATOR.passphrase), ...spellings('organisation admin passphrase', ORG_ADMIN.passphrase),
    ...spellings('organisation admin invite', state.orgAdminInvite.split('invite=')[1]),
    ...spellings('branch advisor invite', state.branchInvite), ...spellings('advisor invite', state.advisorInvite),
  ];
  // The log has exact times: it must not name what a line was about (case, attachment,
  // advisor, organisation), or it would give a case the exact times its day-dates hide.
  const ids = new Set();
  for (const r of [...rec.requests, ...proxy.records]) {
    if (!r.url.startsWith(srv.base) && !r.url.startsWith(proxy.url)) continue;
    const u = new URL(r.url);
    for (const seg of u.pathname.split('/').map(decodeURIComponent)) if (seg.length >= 16 && /^[A-Za-z0-9_-]+$/.test(seg)) ids.add(seg);
    for (const [, v] of u.searchParams) if (v.length >= 4) ids.add(v);
  }
  ids.add(state.caseId);
  for (const a of Object.values(state.adv)) ids.add(a.id);
  assert.ok(ids.size >= 4, `ids from the paths: ${[...ids].join(' ')}`);
  const logOnly = [...[...ids].flatMap((id) => spellings(`id ${id}`, id)), ...spellings('organisation slug in a path', `/${ORG.slug}`)];
  const textIp = ipNeedles.filter((n) => !n.raw);
  const rawIp = ipNeedles.filter((n) => n.raw);

  const fileHits = [
    ...scan(files, [...ipNeedles, ...canaries, ...codeNeedles, ...credentials]),
    ...scan(files.filter((f) => f.name.startsWith('server log')), logOnly),
  ];
  const headerHits = scan(headerText, [...textIp, ...canaries, ...codeNeedles, ...credentials]);
  const bodyHits = scan(apiBodies, [...textIp, ...spellings('User-Agent canary', 'UA-CANARY-4711'), ...spellings('Accept-Language canary', 'fy-NL;q=0.41')]);
  // Raw 4-byte addresses inside ciphertext the clients sent are chance, not a leak.
  const blobs = [...rec.requests, ...proxy.records].flatMap((r) => clientBlobsOf(r.body));
  const chance = fileHits.filter((h) => h.needle.raw && explainedByClientData(h, blobs));
  const leaks = [...fileHits.filter((h) => !chance.includes(h)), ...headerHits, ...bodyHits];
  for (const h of chance) console.log(`# raw bytes of an address inside client ciphertext (chance, not a leak): ${h.what} in ${around(h)}`);

  // Summary.
  const needles = ipNeedles.length + canaries.length + codeNeedles.length + credentials.length + logOnly.length;
  console.log('# anonymity audit, bytes scanned:');
  for (const f of files) console.log(`#   ${String(f.buf ? f.buf.length : 'absent').padStart(10)}  ${f.name}`);
  const logLines = logBuf.toString('utf8').split('\n');
  const httpLines = logLines.filter((l) => l.includes('meldpunt::http'));
  console.log(`#   log: ${logLines.length} lines, ${httpLines.length} request lines, e.g. ${JSON.stringify(httpLines.find((l) => l.includes('/api/v1/cases')) || httpLines[0])}`);
  console.log(`# responses checked: ${responses.length} (${rec.responses.length} browser, ${proxy.records.length} testkit, ${rec.probes.length} probes), ${headerLines} header lines, ${apiBodies.length} API bodies; response header names: ${[...new Set(responses.flatMap((r) => r.headersArray.map((h) => h.name.toLowerCase())))].sort().join(' ')}`);
  console.log(`# requests recorded: ${rec.requests.length} browser (${toServer.length} to the server), ${proxy.records.length} testkit; contexts: ${rec.contexts.length}, cookies: 0, Set-Cookie: 0`);
  console.log(`# needles: ${needles} (${ipNeedles.length} address spellings, ${canaries.length} canary spellings, ${codeNeedles.length} pickup code spellings, ${credentials.length} credential spellings, ${logOnly.length} spellings of ${ids.size} ids for the log); hits: ${leaks.length} leaks, ${chance.length} chance`);
  if (dumpFinal) {
    console.log('# database tables (rows; columns):');
    for (const t of dumpFinal.tables) console.log(`#   ${t.name} (${t.rows}): ${t.columns.join(', ')}`);
  }
  // Positive controls: the scan does find what is known to be there.
  const control = (bufName, value) => files.filter((f) => f.name.startsWith(bufName) && f.buf && f.buf.includes(Buffer.from(value))).length;
  assert.ok(logBuf.includes(Buffer.from(`${HOST}:${srv.port}`)), 'control: the listen address is in the log');
  assert.ok(control('running: meldpunt.db', ORG_ADMIN.username) > 0, 'control: the admin username is in the database files');
  assert.ok(control('stopped: meldpunt.db', 'Anna Audit de Vries') > 0, 'control: an advisor name is in the database files');
  if (dumpFinal) assert.ok(dumpFinal.buf.includes(Buffer.from(INTRO)), 'control: the intro text is in the dump');

  assert.deepEqual(leaks.map((h) => `${h.what} in ${around(h)}`), [], 'nothing of the reporter, the browser or the addresses is written or sent back');
});
