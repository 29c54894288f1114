// Helpers for the admin pages' browser tests: the instance (helpers-advisor.js's, with room for
// the admin API's requests), operator accounts made with the CLI, RFC 6238 TOTP codes computed
// here with node:crypto, and the per-state page check (axe in Dutch and English, screenshots at
// 360 and 1280 px, no horizontal scrolling, no missing translation).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Instance, axe, shot, noHorizontalScroll, createOperator } from './helpers-advisor.js';

export class AdminInstance extends Instance {
  env() {
    return {
      ...super.env(),
      // Admin sessions count in the authenticated class; one test address does everything.
      MELDPUNT_RATE_LIMIT__ADVISOR__BURST: '1000',
      MELDPUNT_RATE_LIMIT__ADVISOR__PER_MINUTE: '3000',
      MELDPUNT_RATE_LIMIT__ADVISOR__GLOBAL_PER_MINUTE: '30000',
    };
  }

  /** `meldpunt admin operator create --username NAME --passphrase-fd 3`. */
  createOperator(username, passphrase) {
    return createOperator(this.dir, this.env(), username, passphrase);
  }
}

// ---- RFC 6238 (TOTP, HMAC-SHA1, 6 digits, 30 s), RFC 4648 base32.

function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/[\s=]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = ((value << 5) | i) >>> 0;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0x0f;
  const n = (((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]) % 1_000_000;
  return String(n).padStart(6, '0');
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);

/**
 * An authenticator app: the server accepts the codes of the steps around now (±1) but each step
 * once, so the next code is for a step after the last one used (waiting if that is too far).
 */
export class Authenticator {
  constructor(secret) {
    this.secret = secret.replace(/\s+/g, '');
    this.last = -1;
  }

  async code() {
    for (;;) {
      const now = stepNow();
      const step = Math.max(now, this.last + 1);
      if (step <= now + 1) {
        this.last = step;
        return totpAt(this.secret, step);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** A six-digit code that is valid for none of the steps the server would accept now. */
  wrong() {
    const now = stepNow();
    const valid = new Set([now - 1, now, now + 1, now + 2].map((s) => totpAt(this.secret, s)));
    for (let n = 123456; ; n = (n + 111111) % 1_000_000) {
      const c = String(n).padStart(6, '0');
      if (!valid.has(c)) return c;
    }
  }
}

// ---- Page checks.

export async function setLanguage(page, lang) {
  if (await page.evaluate(() => document.documentElement.lang) === lang) return;
  await page.locator('#lang-switch').click();
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

/**
 * One page state: axe with zero violations in Dutch and in English, screenshots of each at 360
 * and 1280 px ({name}-{lang}-{width}.png), no horizontal scrolling, no missing key. Leaves the
 * page in Dutch at 360 px.
 */
export async function checkPage(page, name) {
  const shots = [];
  for (const lang of ['nl', 'en']) {
    await setLanguage(page, lang);
    await axe(page, `${name} (${lang})`);
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await shot(page, `${name}-${lang}-${width}`);
      const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && e.getClientRects().length)
        .slice(-3).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} (${Math.round(e.getBoundingClientRect().right)}px)`));
      assert.deepEqual(wide, [], `${name} ${lang} ${width}: wider than the window`);
      await noHorizontalScroll(page, `${name} ${lang} ${width}`);
      shots.push(`${name}-${lang}-${width}`);
    }
    const text = await page.locator('body').innerText();
    assert.ok(!text.includes('⟦'), `missing translation on ${name} (${lang}): ${text.match(/⟦[^⟧]*⟧/)}`);
  }
  await setLanguage(page, 'nl');
  await page.setViewportSize({ width: 360, height: 800 });
  return shots;
}

/** Console errors that are not the browser's note of an expected 4xx answer. */
export function unexpected(errors) {
  return errors.filter((e) => !/status of 4\d\d/.test(e));
}

/** The bearer token the page sent last (read from the request log, as an attacker with it would). */
export function bearerOf(requests) {
  const r = [...requests].reverse().find((x) => x.headers.authorization && x.url.includes('/api/v1/admin/'));
  assert.ok(r, 'the page sent a bearer token');
  return r.headers.authorization.replace(/^Bearer /, '');
}

/** Logs in on the admin page as `who` (`{ username, passphrase }`), with the TOTP code of
 * `totp` (an {@link Authenticator}) when given. */
export async function adminLogin(page, who, totp = null) {
  await page.locator('#login-username').fill(who.username);
  await page.locator('#login-passphrase').fill(who.passphrase);
  await page.locator('#login-button').click();
  if (totp) {
    await page.locator('#login-totp').waitFor({ state: 'visible' });
    await page.locator('#login-totp').fill(await totp.code());
    await page.locator('#login-button').click();
  }
}

/** Opens the admin page's view `view` from the navigation and waits until it shows. */
export async function nav(page, view) {
  await page.locator(`.nav-link[data-view="${view}"]`).click();
  await page.locator(`#${view}`).waitFor({ state: 'visible' });
}
