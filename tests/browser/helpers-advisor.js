// Helpers for the advisor pages' browser tests: the real `meldpunt` server on a free port with a
// temporary SQLite file, `meldpunt-testkit` to register advisors and play reporters, Debian's
// Chromium driven by playwright-core, axe-core, screenshots and a request log. Same approach as
// reporter.test.js (kept separate so the two test files can change independently).
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '..', '..');
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const BIN = process.env.TEST_MELDPUNT_BIN || join(root, 'target', 'debug', 'meldpunt');
export const TESTKIT = process.env.TEST_MELDPUNT_TESTKIT || join(root, 'target', 'debug', 'meldpunt-testkit');
export const WWW = process.env.TEST_MELDPUNT_WWW || join(root, 'client-wasm', 'www');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.SCREENSHOT_DIR || join(root, 'target', 'browser-artifacts');
export const EN = JSON.parse(readFileSync(join(WWW, 'i18n', 'en.json'), 'utf8'));
export const NL = JSON.parse(readFileSync(join(WWW, 'i18n', 'nl.json'), 'utf8'));

/** This process's environment without MELDPUNT_* variables: the server reads every one of them
 * as a setting, so a test passes only its own. */
export function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MELDPUNT_')));
}

/** The test server's settings with its database in `dir`: the pages of WWW, no metrics, a
 * cheap proof of work, warnings only in the log. */
export function serverEnv(dir) {
  return {
    ...cleanEnv(),
    MELDPUNT_DATABASE: join(dir, 'meldpunt.db'),
    MELDPUNT_METRICS__ENABLED: 'false',
    MELDPUNT_STATIC_DIR: WWW,
    MELDPUNT_POW__M_KIB: '64',
    MELDPUNT_POW__DIFFICULTY: '2',
    MELDPUNT_LOG: 'warn',
  };
}

/** Invites for the advisors of the browser tests: Anna and Carla of `acme`, Bram branch-wide. */
export function threeInvites(inst) {
  return {
    anna: inst.admin('advisor', 'invite', '--org', 'acme'),
    carla: inst.admin('advisor', 'invite', '--org', 'acme'),
    bram: inst.admin('advisor', 'invite', '--branch'),
  };
}

/** Login and public limits raised: one test address plays every advisor, reporter and browser. */
export const ROOM_LOGIN_PUBLIC = {
    MELDPUNT_RATE_LIMIT__LOGIN__BURST: '200',
    MELDPUNT_RATE_LIMIT__LOGIN__PER_MINUTE: '600',
    MELDPUNT_RATE_LIMIT__LOGIN__GLOBAL_PER_MINUTE: '6000',
    MELDPUNT_RATE_LIMIT__PUBLIC__BURST: '1000',
    MELDPUNT_RATE_LIMIT__PUBLIC__PER_MINUTE: '3000',
    MELDPUNT_RATE_LIMIT__PUBLIC__GLOBAL_PER_MINUTE: '30000',
};

/** Advisor-route limits raised likewise. */
export const ROOM_ADVISOR = {
    MELDPUNT_RATE_LIMIT__ADVISOR__BURST: '1000',
    MELDPUNT_RATE_LIMIT__ADVISOR__PER_MINUTE: '3000',
    MELDPUNT_RATE_LIMIT__ADVISOR__GLOBAL_PER_MINUTE: '30000',
};

/** `meldpunt admin operator create --username NAME --passphrase-fd 3` for the instance whose
 * files are in `dir` and whose server environment is `env`; returns its output. */
export function createOperator(dir, env, username, passphrase) {
  const file = join(dir, `pass-${username}`);
  writeFileSync(file, `${passphrase}\n`, { mode: 0o600 });
  const fd = openSync(file, 'r');
  try {
    const r = spawnSync(BIN, ['admin', 'operator', 'create', '--username', username, '--passphrase-fd', '3'], {
      env: env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', fd],
    });
    assert.equal(r.status, 0, `operator create: ${r.stderr}`);
    return r.stdout.trim();
  } finally {
    closeSync(fd);
  }
}
/** The passphrase of every keyring the testkit writes. */
export const PASSPHRASE = 'meldpunt-testkit';

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

/** A running server with its data folder; `stop()` ends it. */
export class Instance {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'meldpunt-advisor-'));
    this.server = null;
    this.base = '';
  }

  env() {
    return {
      ...serverEnv(this.dir),
      // One client address plays every advisor, reporter and browser here: room for that.
      ...ROOM_LOGIN_PUBLIC,
    };
  }

  admin(...args) {
    return execFileSync(BIN, ['admin', ...args], { env: this.env(), encoding: 'utf8' }).trim();
  }

  testkit(...args) {
    const out = execFileSync(TESTKIT, [...args, '--server', this.base], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop());
  }

  async start() {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    this.server = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`], { env: this.env(), stdio: ['ignore', 'inherit', 'inherit'] });
    for (let i = 0; i < 200; i++) {
      try { if ((await fetch(`${this.base}/healthz`)).ok) return; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('server did not start');
  }

  stop() {
    if (this.server) this.server.kill('SIGTERM');
  }
}

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A fresh context and page. `requests` logs every request of the context (page and workers):
 * method, URL, headers and body bytes.
 */
export async function newPage(browser, width = 360, height = 800) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  const requests = [];
  context.on('request', (r) => {
    let body = null;
    try { body = r.postDataBuffer(); } catch { body = null; }
    requests.push({ method: r.method(), url: r.url(), headers: r.headers(), body: body || Buffer.alloc(0) });
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { context, page, requests, errors };
}

/** Every form in which `needle` (bytes) could travel in a request: raw, base64, base64url, hex. */
function encodings(needle) {
  const b = Buffer.from(needle);
  const b64 = b.toString('base64');
  return [b, Buffer.from(b64.replace(/=+$/, '')), Buffer.from(b.toString('base64url')), Buffer.from(b.toString('hex'))];
}

/**
 * Asserts that no request (URL, headers or body) carries `needle`. For long secrets a window
 * of `window` bytes from the middle is searched as well as the start, in every encoding.
 */
export function assertNotSent(requests, needle, what, window = 48) {
  const bytes = Buffer.from(needle);
  const probes = [bytes.subarray(0, Math.min(bytes.length, window))];
  if (bytes.length > window * 2) {
    const mid = Math.floor(bytes.length / 2);
    probes.push(bytes.subarray(mid, mid + window));
  }
  for (const r of requests) {
    const hay = Buffer.concat([Buffer.from(r.url), Buffer.from(JSON.stringify(r.headers)), r.body]);
    for (const p of probes) {
      for (const enc of encodings(p)) {
        // Base64 of a window depends on its alignment; try the three alignments too.
        assert.ok(!hay.includes(enc), `${what} found in ${r.method} ${r.url}`);
      }
    }
    if (bytes.length > window) {
      for (let shift = 1; shift < 3; shift++) {
        const shifted = bytes.subarray(shift, shift + window);
        for (const enc of encodings(shifted)) assert.ok(!hay.includes(enc), `${what} found in ${r.method} ${r.url}`);
      }
    }
  }
}

export function foreign(requests, base) {
  return requests.map((r) => r.url).filter((u) => !u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:'));
}

/** axe-core on the page: zero violations of any impact. */
export async function axe(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  assert.deepEqual(result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${name}`);
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Screenshots at 360 and 1280 px (the viewport is put back afterwards). */
export async function shots(page, name) {
  const size = page.viewportSize();
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await shot(page, `${name}-${width}`);
    await noHorizontalScroll(page, name);
  }
  await page.setViewportSize(size);
}

export async function noHorizontalScroll(page, name) {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= w, `${name}: page is ${sw}px wide in a ${w}px window`);
}

/** A small real JPEG drawn by Chromium (for an advisor's photo). */
export async function jpeg(page, colour = '#3a6') {
  const dataUrl = await page.evaluate((c) => {
    const canvas = document.createElement('canvas');
    canvas.width = 96; canvas.height = 96;
    const g = canvas.getContext('2d');
    g.fillStyle = c; g.fillRect(0, 0, 96, 96);
    g.fillStyle = '#fff'; g.beginPath(); g.arc(48, 38, 18, 0, 7); g.fill(); g.fillRect(22, 62, 52, 34);
    return canvas.toDataURL('image/jpeg', 0.9);
  }, colour);
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}
