// End-to-end tests of the advisor's pages (/advisor/): the real `meldpunt` server, advisors
// registered and reporters played by `meldpunt-testkit`, Debian's Chromium via playwright-core,
// axe-core with zero violations allowed. Screenshots at 360 and 1280 px go to
// target/browser-artifacts/ (or SCREENSHOT_DIR).
//
// Environment (set by `cargo xtask test`): TEST_MELDPUNT_BIN, TEST_MELDPUNT_TESTKIT,
// TEST_MELDPUNT_WWW, CHROMIUM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  Instance, launch, newPage, axe, shots, assertNotSent, foreign, jpeg, NL, EN, PASSPHRASE, BIN, WWW, threeInvites,
} from './helpers-advisor.js';

const inst = new Instance();
let browser;
const adv = {};
const state = {};
const STORY = 'Mijn teamleider stuurt mij steeds berichten over mijn uiterlijk. Advisor test 77.';
const REPLY = 'Dank voor je melding. Ik bel je niet, maar schrijf hier terug. Antwoord 31.';
const FOLLOW_UP = 'Het gebeurde gisteren opnieuw, bij de koffieautomaat. Vervolg 58.';

before(async () => {
  inst.admin('org', 'create', '--slug', 'acme', '--name', 'Acme Schoonmaak BV');
  inst.admin('org', 'set', '--slug', 'acme',
    '--categories', JSON.stringify([
      { id: 'sexual-harassment', nl: 'Seksuele intimidatie', en: 'Sexual harassment' },
      { id: 'other', nl: 'Iets anders', en: 'Something else' },
    ]),
    '--languages', 'nl,en');
  const invites = threeInvites(inst);
  await inst.start();
  browser = await launch();
  const { context, page } = await newPage(browser);
  await page.goto(`${inst.base}/healthz`);
  const photo = join(inst.dir, 'anna.jpg');
  writeFileSync(photo, await jpeg(page));
  await context.close();
  const names = { anna: 'Anna de Vries', carla: 'Carla Jansen', bram: 'Bram Bakker' };
  for (const who of ['anna', 'carla', 'bram']) {
    const keyring = join(inst.dir, `${who}.keyring`);
    const extra = who === 'anna' ? ['--photo', photo] : [];
    adv[who] = { ...inst.testkit('register', '--invite', invites[who], '--name', names[who], '--keyring', keyring, ...extra), keyring };
  }
  // A reporter writes to Anna and Bram, with a 150 kB attachment (three 64 KiB chunks).
  state.attachment = randomBytes(150_000);
  state.attachmentFile = join(inst.dir, 'verslag.pdf');
  writeFileSync(state.attachmentFile, state.attachment);
  state.report = inst.testkit('report', '--org', 'acme', '--advisors', `${adv.anna.id},${adv.bram.id}`,
    '--story', STORY, '--attachment', state.attachmentFile);
});

after(async () => {
  if (browser) await browser.close();
  inst.stop();
});

async function unlock(page, passphrase, file = adv.anna.keyring) {
  await page.locator('#keyring-file').setInputFiles(file);
  await page.locator('#passphrase').fill(passphrase);
  await page.locator('#unlock-button').click();
}

test('a wrong passphrase shows a clear error and sends nothing', async () => {
  const { context, page, requests, errors } = await newPage(browser, 360, 800);
  await page.goto(`${inst.base}/advisor/`);
  await page.locator('#unlock-form').waitFor();
  await axe(page, 'unlock');
  await shots(page, 'advisor-unlock');
  await unlock(page, 'not-the-passphrase');
  const error = page.locator('#unlock-error');
  await error.waitFor({ state: 'visible', timeout: 90_000 });
  assert.equal(await error.innerText(), NL['advisor.ui.error_wrong_passphrase']);
  assert.equal(await page.locator('#passphrase').evaluate((e) => document.activeElement === e), true, 'focus back on the passphrase');
  assert.deepEqual(requests.filter((r) => r.url.includes('/api/')).map((r) => r.url), [], 'no API request');
  await axe(page, 'unlock with error');
  await shots(page, 'advisor-unlock-error');
  // Not a keyring at all.
  await unlock(page, 'x', state.attachmentFile);
  await page.locator('#unlock-error').filter({ hasText: NL['advisor.ui.error_not_keyring'] }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('unlock, inbox, read, download, reply, follow-up, share, close; nothing secret is sent', async () => {
  const { context, page, requests, errors } = await newPage(browser, 360, 800);
  await page.goto(`${inst.base}/advisor/`);
  await unlock(page, PASSPHRASE);

  // Inbox.
  await page.locator('#view-inbox').waitFor({ state: 'visible', timeout: 60_000 });
  assert.equal(await page.locator('#passphrase').inputValue(), '', 'passphrase field cleared');
  const cards = page.locator('#case-list > li');
  await cards.first().waitFor();
  assert.equal(await cards.count(), 1);
  const card = await cards.first().innerText();
  assert.ok(card.includes('Acme Schoonmaak BV'), card);
  assert.ok(card.includes(NL['advisor.ui.status_new']));
  assert.ok(card.includes(NL['advisor.ui.badge_new_report']), 'new report badge');
  assert.ok(await cards.first().locator('.badge-due, .badge-soon, .badge-overdue').count() > 0, 'a deadline badge');
  assert.ok((await page.locator('#whoami').innerText()).includes('Anna de Vries'));
  // Who joined after Anna is in her inbox (issue 11): Carla (the organisation's invite, made
  // by the operator here) and Bram (branch-wide); never Anna herself.
  const events = page.locator('#event-list > li');
  await events.first().waitFor();
  const eventText = await page.locator('#event-list').innerText();
  const joined = (name, org) => NL['advisor.ui.event_joined'].replace('{name}', name).replace('{org}', org);
  assert.ok(eventText.includes(joined('Carla Jansen', 'Acme Schoonmaak BV')), eventText);
  assert.ok(eventText.includes(joined('Bram Bakker', NL['advisor.ui.event_branch_wide'])), eventText);
  assert.ok(eventText.includes(NL['advisor.appointed_branch']), eventText);
  assert.ok(!eventText.includes('Anna de Vries'), eventText);
  await axe(page, 'inbox');
  await shots(page, 'advisor-inbox');

  // The case.
  await cards.first().locator('.case-open').click();
  await page.locator('#view-case').waitFor({ state: 'visible' });
  const messages = page.locator('#case-messages > li');
  assert.equal(await messages.count(), 1);
  const report = await messages.first().innerText();
  assert.ok(report.includes(STORY), 'story decrypted');
  assert.ok(report.includes('Iets anders'), 'category name from the organisation');
  assert.ok(report.includes(NL['advisor.ui.msg_verified']));
  assert.equal(await page.locator('#case-transcript').innerText(), NL['advisor.ui.transcript_ok']);
  assert.ok((await page.locator('#case-advisors').innerText()).includes(adv.bram.fingerprint), 'co-advisor fingerprint');

  // Download the attachment: decrypted in the browser, offered as a blob: download.
  const att = page.locator('#case-attachments > li');
  assert.equal(await att.count(), 1);
  assert.ok((await att.innerText()).includes('verslag.pdf'));
  const [download] = await Promise.all([page.waitForEvent('download'), att.locator('button').click()]);
  assert.equal(download.suggestedFilename(), 'verslag.pdf');
  assert.ok(download.url().startsWith('blob:'), download.url());
  const got = readFileSync(await download.path());
  assert.ok(got.equals(state.attachment), 'downloaded bytes equal the original');
  await page.locator('#download-status').filter({ hasText: 'verslag.pdf' }).waitFor();
  await axe(page, 'case');
  await shots(page, 'advisor-case');

  // Reply.
  await page.locator('#reply-text').fill(REPLY);
  await page.locator('#reply-send').click();
  await page.locator('#reply-status').filter({ hasText: NL['advisor.ui.reply_sent'] }).waitFor({ timeout: 30_000 });
  assert.equal(await messages.count(), 2);
  const reply = await messages.nth(1).innerText();
  assert.ok(reply.includes(REPLY) && reply.includes(NL['advisor.ui.from_you']));
  assert.ok(reply.includes(adv.anna.fingerprint), 'signer fingerprint');
  // The co-advisor reads the signed reply; the transcript verifies.
  let out = inst.testkit('read', '--keyring', adv.bram.keyring);
  assert.equal(out.cases[0].transcript, 'ok');
  assert.equal(out.cases[0].messages[1].kind, 'reply');
  assert.equal(out.cases[0].messages[1].body.text, REPLY);
  state.caseId = out.cases[0].id;

  // The reporter answers: an unread follow-up in the inbox and in the case.
  inst.testkit('follow-up', '--seed', state.report.seed, '--text', FOLLOW_UP);
  await page.locator('.nav-link[data-view="view-inbox"]').click();
  await page.locator('#case-list > li').filter({ hasText: NL['advisor.ui.badge_unread'] }).waitFor();
  await page.locator('#case-list .case-open').first().click();
  await page.locator('#view-case').waitFor({ state: 'visible' });
  await messages.nth(2).waitFor();
  const follow = await messages.nth(2).innerText();
  assert.ok(follow.includes(FOLLOW_UP));
  assert.ok(await messages.nth(2).locator('.badge-unread').isVisible(), 'follow-up marked new');
  assert.equal(await messages.nth(0).locator('.badge-unread').count(), 0, 'report before the reply is not new');
  assert.equal(await page.locator('#case-transcript').innerText(), NL['advisor.ui.transcript_ok']);

  // Share with Carla: not remembered in the keyring, so the page asks for her fingerprint
  // (read out by Carla herself; the page does not offer the server's one to copy).
  const carla = page.locator('#share-choices label').filter({ hasText: 'Carla Jansen' });
  assert.ok((await carla.innerText()).includes(NL['advisor.ui.colleague_unconfirmed']));
  assert.ok(!(await carla.innerText()).includes(adv.carla.fingerprint), 'no fingerprint to copy from the server');
  await carla.locator('input').check();
  await page.locator('#share-send').click();
  await page.locator('#share-confirm').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#share-status').innerText(), NL['advisor.ui.share_needs_fp'].replace('{name}', 'Carla Jansen'));
  assert.equal(await page.locator('#share-fp-label').innerText(), NL['advisor.ui.share_fp_label'].replace('{name}', 'Carla Jansen'));
  await page.locator('#share-fingerprint').fill('ABCD');
  await page.locator('#share-send').click();
  await page.locator('#share-fp-error').filter({ hasText: NL['advisor.ui.colleague_bad_fingerprint'] }).waitFor();
  await page.locator('#share-fingerprint').fill(adv.bram.fingerprint);
  await page.locator('#share-send').click();
  await page.locator('#share-fp-error').filter({ hasText: NL['advisor.ui.colleague_fingerprint_mismatch'] }).waitFor();
  await axe(page, 'share dialog');
  await shots(page, 'advisor-share-dialog');
  await page.locator('#share-fingerprint').fill(adv.carla.fingerprint);
  await page.locator('#share-send').click();
  await page.locator('#share-status').filter({ hasText: 'Carla Jansen' }).waitFor({ timeout: 30_000 });
  // The signed statement is in the transcript; Carla is a member for the page as well.
  assert.ok((await page.locator('#case-messages').innerText()).includes(
    NL['advisor.ui.member_added'].replace('{name}', NL['advisor.ui.from_you']).replace('{other}', 'Carla Jansen')));
  assert.ok((await page.locator('#case-advisors').innerText()).includes(adv.carla.fingerprint));
  assert.equal(await page.locator('#case-transcript').innerText(), NL['advisor.ui.transcript_ok']);
  out = inst.testkit('read', '--keyring', adv.carla.keyring, '--attachments', inst.dir);
  assert.equal(out.cases.length, 1);
  assert.equal(out.cases[0].transcript, 'ok');
  assert.equal(out.cases[0].messages.length, 4, 'report, reply, follow-up, membership statement');
  assert.ok(readFileSync(out.cases[0].attachments[0].file).equals(state.attachment), 'Carla opens the attachment');
  // The keyring remembers Carla: a new file, written in the worker, offered for download.
  await page.locator('#share-save-form').waitFor({ state: 'visible' });
  await page.locator('#share-save-passphrase').fill(PASSPHRASE);
  await page.locator('#share-save-button').click();
  await page.locator('#share-save-download').waitFor({ state: 'visible', timeout: 60_000 });
  const [remembered] = await Promise.all([page.waitForEvent('download'), page.locator('#share-save-download').click()]);
  const rememberedFile = join(inst.dir, 'anna-colleagues.keyring');
  await remembered.saveAs(rememberedFile);
  assert.equal(inst.testkit('read', '--keyring', rememberedFile).cases.length, 1, 'the new file opens');

  // Close the case.
  await page.locator('#status-select').selectOption('closed');
  await page.locator('#status-save').click();
  await page.locator('#status-status').filter({ hasText: NL['advisor.ui.status_closed'] }).waitFor();
  assert.equal(await page.locator('#case-status').innerText(), NL['advisor.ui.status_closed']);
  out = inst.testkit('read', '--keyring', adv.bram.keyring);
  assert.equal(out.cases[0].status, 'closed');
  await axe(page, 'case after reply, share and close');

  // Keys: fingerprint, poster.
  await page.locator('.nav-link[data-view="view-keys"]').click();
  await page.locator('#view-keys').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#my-fingerprint').innerText(), adv.anna.fingerprint);
  assert.equal(await page.locator('#key-list > li').count(), 1);
  assert.ok((await page.locator('#key-list').innerText()).includes(NL['advisor.ui.key_current']));
  await axe(page, 'keys');
  await shots(page, 'advisor-keys');
  await page.locator('#open-poster').click();
  await page.locator('#view-poster').waitFor({ state: 'visible' });
  const link = await page.locator('#poster-link').inputValue();
  assert.equal(link, `${inst.base}/o/acme#pin=${adv.anna.pin}`);
  assert.equal(await page.locator('#poster-fp').innerText(), adv.anna.fingerprint);
  assert.ok((await page.locator('#poster-qr').getAttribute('src')).startsWith('blob:'));
  const qrSize = await page.locator('#poster-qr').evaluate((img) => img.complete && img.naturalWidth);
  assert.ok(qrSize >= 200, `QR code drawn (${qrSize}px)`);
  // (The SVG itself cannot be fetched back: the CSP's connect-src does not allow blob:.)
  assert.ok(await page.locator('#poster-photo').isVisible(), 'photo on the poster');
  assert.equal(await page.locator('#poster-name').innerText(), 'Anna de Vries');
  await axe(page, 'poster');
  await shots(page, 'advisor-poster');

  // Rotate: new bundle published, new keyring file offered; old keys kept.
  await page.locator('#back-to-keys').click();
  await page.locator('#rotate-passphrase').fill(PASSPHRASE);
  await page.locator('#rotate-button').click();
  await page.locator('#rotate-done').waitFor({ state: 'visible', timeout: 60_000 });
  const [saved] = await Promise.all([page.waitForEvent('download'), page.locator('#rotate-download').click()]);
  assert.equal(saved.suggestedFilename(), 'anna.keyring');
  const newKeyring = join(inst.dir, 'anna-rotated.keyring');
  await saved.saveAs(newKeyring);
  assert.equal(await page.locator('#key-list > li').count(), 2, 'old key kept');
  await axe(page, 'keys after rotation');
  await shots(page, 'advisor-keys-rotated');
  // The new file opens with the same passphrase and reads the old case; a new report is
  // sealed to the new key and the unlocked page (holding the new keys) reads it.
  out = inst.testkit('read', '--keyring', newKeyring);
  assert.equal(out.cases.length, 1);
  assert.equal(out.cases[0].transcript, 'ok');
  inst.testkit('report', '--org', 'acme', '--advisors', adv.anna.id, '--story', 'Tweede melding na rotatie.');
  await page.locator('.nav-link[data-view="view-inbox"]').click();
  await page.locator('#case-list > li').nth(1).waitFor();
  const second = page.locator('#case-list > li').filter({ hasText: NL['advisor.ui.badge_new_report'] });
  await second.locator('.case-open').click();
  await page.locator('#case-messages > li').first().filter({ hasText: 'Tweede melding na rotatie.' }).waitFor();
  assert.equal(await page.locator('#case-transcript').innerText(), NL['advisor.ui.transcript_ok']);

  // Nothing secret left the tab: not the keyring file, not the passphrase, no plaintext.
  const keyringBytes = readFileSync(adv.anna.keyring);
  assertNotSent(requests, keyringBytes, 'keyring file');
  assertNotSent(requests, readFileSync(newKeyring), 'rotated keyring file');
  assertNotSent(requests, Buffer.from(PASSPHRASE), 'passphrase', 16);
  assertNotSent(requests, Buffer.from(STORY), 'story');
  assertNotSent(requests, Buffer.from(REPLY), 'reply text');
  assertNotSent(requests, Buffer.from(FOLLOW_UP), 'follow-up text');
  assertNotSent(requests, state.attachment, 'attachment');
  assert.ok(requests.some((r) => r.url.endsWith('/api/v1/advisor/login')), 'the log saw the API');
  assert.ok(requests.some((r) => r.method === 'POST' && r.url.includes('/messages') && r.body.length > 1000), 'the log saw bodies');
  assert.deepEqual(foreign(requests, inst.base), []);
  assert.deepEqual(await context.cookies(), []);
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
  assert.equal(await page.evaluate(async () => (await indexedDB.databases()).length), 0);

  // Lock: back to the unlock form; the keys are gone with the old document.
  await page.locator('#lock').click();
  await page.locator('#unlock-status').filter({ hasText: NL['advisor.ui.locked'] }).waitFor();
  assert.ok(await page.locator('#view-unlock').isVisible());
  assert.ok(!(await page.locator('#lock').isVisible()));
  assert.equal(await page.locator('#case-list > li').count(), 0);
  assert.equal(await page.locator('body').innerText().then((s) => s.includes(STORY)), false);
  assert.deepEqual(errors, []);
  await context.close();
});

test('idle time locks the keyring', async () => {
  const { context, page, errors } = await newPage(browser, 1280, 900);
  // The fragment may shorten the idle limit (never lengthen it): 10 s here.
  await page.goto(`${inst.base}/advisor/#idle=10`);
  await unlock(page, PASSPHRASE);
  await page.locator('#view-inbox').waitFor({ state: 'visible', timeout: 60_000 });
  await page.locator('#unlock-status').filter({ hasText: NL['advisor.ui.locked_idle'] }).waitFor({ timeout: 30_000 });
  assert.ok(await page.locator('#view-unlock').isVisible());
  assert.deepEqual(errors, []);
  await context.close();
});

test('English is complete on the advisor pages', async () => {
  const mine = Object.keys(NL).filter((k) => k.startsWith('advisor.ui.'));
  assert.deepEqual(mine.sort(), Object.keys(EN).filter((k) => k.startsWith('advisor.ui.')).sort());
  const { context, page, errors } = await newPage(browser, 1280, 900);
  await page.goto(`${inst.base}/advisor/`);
  await page.locator('#unlock-form').waitFor();
  await page.locator('#lang-switch').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  const pairs = await page.evaluate(() => [...document.querySelectorAll('[data-i18n]')].map((e) => [e.dataset.i18n, e.textContent]));
  assert.ok(pairs.length > 60);
  for (const [key, text] of pairs) assert.equal(text, EN[key], key);
  assert.ok(!(await page.locator('body').innerText()).includes('⟦'));
  await unlock(page, PASSPHRASE);
  await page.locator('#view-inbox').waitFor({ state: 'visible', timeout: 60_000 });
  await page.locator('#case-list > li').first().waitFor();
  const body = await page.locator('body').innerText();
  assert.ok(!body.includes('⟦') && body.includes('Cases'), 'inbox in English');
  await axe(page, 'inbox in English');
  await page.locator('#case-list .case-open').first().click();
  await page.locator('#view-case').waitFor({ state: 'visible' });
  assert.ok(!(await page.locator('body').innerText()).includes('⟦'));
  await shots(page, 'advisor-case-en');
  assert.deepEqual(errors, []);
  await context.close();
});

test('`meldpunt advisor app` serves the pages from the binary and relays the API', async () => {
  // The advisor's own binary serves the pages on 127.0.0.1 and relays /api/* to the instance:
  // the code that touches the keyring comes from the advisor's computer, not from the server.
  const app = spawn(BIN, ['advisor', '--keyring', adv.carla.keyring, 'app', '--server', inst.base, '--www', WWW, '--no-open'],
    { env: { ...inst.env(), MELDPUNT_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise((res, rej) => {
      let out = '';
      app.stdout.on('data', (d) => { out += d; const line = out.split('\n')[0]; if (out.includes('\n')) res(line.trim()); });
      app.once('exit', (c) => rej(new Error(`advisor app exited with ${c}`)));
      setTimeout(() => rej(new Error('advisor app printed no address')), 30_000);
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/advisor\/$/);
    const origin = new URL(url).origin;
    assert.notEqual(origin, inst.base);
    // Carla gets a case of her own, filed through the instance.
    const story = 'Via de app gelezen: de melding aan Carla. App test 12.';
    inst.testkit('report', '--org', 'acme', '--advisors', adv.carla.id, '--story', story);

    const { context, page, requests, errors } = await newPage(browser, 360, 800);
    const res = await page.goto(url);
    assert.ok(res.headers()['content-security-policy'].includes("default-src 'none'"), 'the app sends a CSP');
    await unlock(page, PASSPHRASE, adv.carla.keyring);
    await page.locator('#view-inbox').waitFor({ state: 'visible', timeout: 60_000 });
    const cards = page.locator('#case-list > li');
    await cards.first().waitFor();
    assert.ok((await page.locator('#whoami').innerText()).includes('Carla Jansen'));
    // Carla may also hold a case shared with her by an earlier test: open each until hers.
    let found = false;
    for (let i = 0; i < await cards.count() && !found; i++) {
      await cards.nth(i).locator('.case-open').click();
      await page.locator('#view-case').waitFor({ state: 'visible' });
      await page.locator('#case-messages > li').first().waitFor();
      found = (await page.locator('#case-messages').innerText()).includes(story);
      if (!found) { await page.locator('#back-to-inbox').click(); await page.locator('#view-inbox').waitFor({ state: 'visible' }); }
    }
    assert.ok(found, 'decrypted through the relay');
    await axe(page, 'advisor app case');
    await shots(page, 'advisor-app-case');
    // Every request went to the app on this computer; the browser never spoke to the instance.
    assert.deepEqual(foreign(requests, origin), []);
    const api = requests.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
    assert.ok(api.length >= 3, `API calls went through the relay (${api.length})`);
    assertNotSent(requests, readFileSync(adv.carla.keyring), 'the keyring file');
    assertNotSent(requests, PASSPHRASE, 'the passphrase');
    assertNotSent(requests, story, 'the story');
    // Paths outside the page folder are refused.
    for (const path of ['/%2e%2e/Cargo.toml', '/advisor/%2e%2e/%2e%2e/Cargo.toml', '/.git/config']) {
      assert.equal((await fetch(`${origin}${path}`)).status, 404, path);
    }
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    app.kill('SIGTERM');
  }
});
