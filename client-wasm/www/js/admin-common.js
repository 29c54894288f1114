// Shared by the admin pages (/admin/): translations, the language switch, DOM helpers, API calls
// with the session token, and formatting. The admin pages need no cryptography, so they do not
// load the WASM module (common.js loads it on import); the translation mechanism is the same:
// one table per language in /i18n/{lang}.json, `data-i18n` and `data-i18n-attr` in the HTML,
// `t(key, vars)` in code. Both tables are loaded, because the poster can be printed in the other
// language than the one the page is shown in.
//
// Nothing is written to cookies or any browser storage: the session token lives in this module
// only, and is forgotten on logout, after 30 minutes without activity, or when the tab closes.

const LANGS = ['nl', 'en'];
const tables = { nl: {}, en: {} };
let lang = 'nl';
const rerenders = [];

// ---- URL fragment: the invite code and the language travel here, never to the server.

export function fragmentParams() {
  let raw = location.hash.replace(/^#/, '');
  try { raw = decodeURIComponent(raw); } catch { /* keep it as it is */ }
  const out = new Map();
  for (const part of raw.split('&')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i), part.slice(i + 1));
  }
  return out;
}

/** Rewrites the fragment (without a history entry): `null` removes a parameter. */
export function setFragment(changes) {
  const params = fragmentParams();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) params.delete(k); else params.set(k, v);
  }
  const parts = [...params].map(([k, v]) => `${k}=${v}`);
  history.replaceState(null, '', location.pathname + (parts.length ? `#${parts.join('&')}` : ''));
}

// ---- Translations.

function lookup(table, key, vars) {
  let s = table[key];
  if (typeof s !== 'string') return `⟦${key}⟧`;
  for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function t(key, vars = {}) {
  return lookup(tables[lang], key, vars);
}

/** A text in a given language (the poster's), whatever the page's language. */
export function tIn(language, key, vars = {}) {
  return lookup(tables[language] || tables.nl, key, vars);
}

/** Whether a key exists (for error codes the page may not know). */
export function has(key) {
  return typeof tables[lang][key] === 'string';
}

export function currentLang() {
  return lang;
}

export function locale(language = lang) {
  return language === 'nl' ? 'nl-NL' : 'en-GB';
}

export function applyI18n(root = document) {
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of node.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) node.setAttribute(attr.trim(), t(key.trim()));
    }
  }
  for (const node of root.querySelectorAll('[data-msg]')) renderMsg(node);
}

/** Registers a function that redraws dynamic content after a language change. */
export function onLanguageChange(fn) {
  rerenders.push(fn);
}

function setLanguage(next) {
  lang = next;
  document.documentElement.lang = lang;
  applyI18n();
  const sw = document.getElementById('lang-switch');
  if (sw) {
    sw.textContent = t('common.switch_to');
    sw.setAttribute('lang', lang === 'nl' ? 'en' : 'nl');
  }
  if (document.body.dataset.title) document.title = t(document.body.dataset.title);
  for (const fn of rerenders) fn();
}

async function loadTable(which) {
  const res = await fetch(`/i18n/${which}.json`, fetchDefaults());
  if (!res.ok) throw new Error('i18n');
  tables[which] = await res.json();
}

/** Loads both tables and sets up the language switch. Returns false if they cannot be loaded. */
export async function bootI18n() {
  try {
    await Promise.all(LANGS.map(loadTable));
  } catch {
    const main = document.getElementById('main');
    main.replaceChildren(el('section', {},
      el('h1', { text: 'De pagina kon niet worden geladen / The page could not be loaded' }),
      el('p', { text: 'Probeer het later opnieuw. / Please try again later.' })));
    return false;
  }
  const wanted = fragmentParams().get('lang');
  setLanguage(LANGS.includes(wanted) ? wanted : 'nl');
  const sw = document.getElementById('lang-switch');
  if (sw) {
    sw.addEventListener('click', () => {
      const next = lang === 'nl' ? 'en' : 'nl';
      setLanguage(next);
      setFragment({ lang: next === 'nl' ? null : next });
    });
  }
  return true;
}

// ---- Messages whose text is redrawn on a language change.

/**
 * Shows the translation of `key` in `node` (hidden when `key` is null) and remembers it, so that
 * a language change redraws it. Values in `vars` may be `{date: unixSeconds}`,
 * `{moment: unixSeconds}` or `{duration: seconds}`: those are formatted in the language shown.
 */
export function msg(node, key, vars = {}) {
  if (typeof node === 'string') node = document.getElementById(node);
  if (!key) {
    delete node.dataset.msg;
    delete node.dataset.msgVars;
    node.textContent = '';
    if (!node.classList.contains('live')) node.hidden = true;
    return node;
  }
  node.dataset.msg = key;
  node.dataset.msgVars = JSON.stringify(vars);
  renderMsg(node);
  node.hidden = false;
  return node;
}

function renderVars(vars) {
  const out = {};
  for (const [k, v] of Object.entries(vars)) {
    if (v && typeof v === 'object' && 'date' in v) out[k] = formatDay(v.date);
    else if (v && typeof v === 'object' && 'moment' in v) out[k] = formatMoment(v.moment);
    else if (v && typeof v === 'object' && 'duration' in v) out[k] = formatDuration(v.duration);
    else if (v && typeof v === 'object' && 'key' in v) out[k] = t(v.key);
    else out[k] = v;
  }
  return out;
}

function renderMsg(node) {
  let vars = {};
  try { vars = JSON.parse(node.dataset.msgVars || '{}'); } catch { vars = {}; }
  node.textContent = t(node.dataset.msg, renderVars(vars));
}

// ---- Formatting.

export function formatDay(unixSeconds, language = lang) {
  return new Date(unixSeconds * 1000).toLocaleDateString(locale(language), {
    day: 'numeric', month: 'long', year: 'numeric',
  });
}

export function formatMoment(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleString(locale(), {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

/** "3 minuten" / "45 seconds": rounded up to whole minutes above a minute. */
export function formatDuration(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  if (s < 60) return t(s === 1 ? 'admin.duration_second' : 'admin.duration_seconds', { n: s });
  const m = Math.ceil(s / 60);
  return t(m === 1 ? 'admin.duration_minute' : 'admin.duration_minutes', { n: m });
}

// ---- The API: same origin only, no cookies, no cache, no referrer; the token as a bearer.

function fetchDefaults(extra = {}) {
  return { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', redirect: 'error', ...extra };
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `http_${status}`);
    this.status = status;
    this.code = (body && body.error) || '';
    this.body = body || {};
  }
}

const session = { token: null };
const sessionHandlers = { lost: () => {}, totpRequired: () => {} };

export function setToken(token) {
  session.token = token;
}

export function hasSession() {
  return session.token !== null;
}

/**
 * What happens when the server no longer knows the session (401) or wants a second factor set up
 * first (403 totp_setup_required), on any call but the login.
 */
export function onSession({ lost, totpRequired }) {
  sessionHandlers.lost = lost;
  sessionHandlers.totpRequired = totpRequired;
}

/**
 * Calls the API. `json` is sent as JSON, `body` as is (with `type`). Returns the parsed JSON
 * answer (or null for 204). Throws an ApiError with the server's {error, message, ...}. With
 * `keep401`, a 401 is the caller's to explain (a wrong code or old passphrase), not a lost session.
 */
export async function api(path, { method = 'GET', json, body, type, auth = true, keep401 = false } = {}) {
  const headers = {};
  if (auth && session.token) headers.Authorization = `Bearer ${session.token}`;
  const init = fetchDefaults({ method, headers });
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    headers['Content-Type'] = type;
    init.body = body;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { error: 'network' });
  }
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (auth && session.token) {
      if (res.status === 401 && !keep401) sessionHandlers.lost('expired');
      else if (res.status === 403 && err.code === 'totp_setup_required') sessionHandlers.totpRequired();
    }
    throw err;
  }
  return data;
}

/** The translation key for an error: `admin.error.{code}` if the page knows it. */
export function errorKey(err) {
  if (!(err instanceof ApiError)) return 'admin.error.generic';
  if (err.status === 0) return 'admin.error.network';
  if (err.code && has(`admin.error.${err.code}`)) return `admin.error.${err.code}`;
  if (err.status === 429) return 'admin.error.rate_limited';
  if (err.status === 403) return 'admin.error.forbidden';
  return 'admin.error.server';
}

/** Shows an API error in `node` (translated, redrawn on a language change). */
export function showError(node, err) {
  const vars = { code: (err && (err.code || `http_${err.status}`)) || '?' };
  if (err && err.body && err.body.retry_after !== undefined) vars.wait = { duration: err.body.retry_after };
  return msg(node, errorKey(err), vars);
}

// ---- Small DOM helpers.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

export const $ = (id) => document.getElementById(id);

/** An <img> showing an SVG the server made (a QR code): as an image, it can run nothing. */
export function svgImage(svg, attrs) {
  return el('img', { ...attrs, src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg || '')}` });
}

/** Copies the value of an input; says whether it worked in `status`. */
export async function copyFrom(input, status) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    input.focus();
    input.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  msg(status, ok ? 'admin.copied' : 'admin.copy_failed');
}

/** A rough strength estimate for the hint under a new passphrase. The server decides. */
export function passphraseStrength(p) {
  if (!p) return null;
  const words = p.trim().split(/[\s\-_.]+/).filter((w) => w.length >= 3).length;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  if (p.length >= 20 || (words >= 4 && p.length >= 16)) return 'strong';
  if (p.length >= 14 || (p.length >= 12 && classes >= 3)) return 'fair';
  return 'weak';
}

export function showStrength(node, passphrase) {
  const s = passphraseStrength(passphrase);
  node.className = `strength ${s ? `strength-${s}` : ''}`;
  return msg(node, s ? `admin.strength_${s}` : null);
}
