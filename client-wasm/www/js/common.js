// Shared by every page: translations, quick exit, language switch, API calls, the WASM
// module and the Web Worker. No framework, no third-party code, nothing stored but what the
// tab holds in memory.

import init, * as wasm from '/pkg/meldpunt_client_wasm.js';

export { wasm };

const EXIT_URL = 'https://www.nu.nl/';
const LANGS = ['nl', 'en'];
let table = {};
let lang = 'nl';
const rerenders = [];

// ---- URL fragment: pins and language travel here, never to the server.

export function fragmentParams() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, ''));
  const out = new Map();
  for (const part of raw.split('&')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i), part.slice(i + 1));
  }
  return out;
}

function fragmentWith(changes) {
  const params = fragmentParams();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) params.delete(k); else params.set(k, v);
  }
  const parts = [...params].map(([k, v]) => `${k}=${v}`);
  return parts.length ? `#${parts.join('&')}` : '';
}

/** Goes to another page of the service without adding a history entry, keeping pins and language. */
export function navigate(path) {
  location.replace(path + fragmentWith({}));
}

export function linkTo(path) {
  return path + fragmentWith({});
}

// ---- Translations: one table per language in /i18n/{lang}.json.

export function t(key, vars = {}) {
  let s = table[key];
  if (typeof s !== 'string') return `⟦${key}⟧`;
  for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function currentLang() {
  return lang;
}

export function applyI18n(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

/** Registers a function that redraws dynamic content after a language change. */
export function onLanguageChange(fn) {
  rerenders.push(fn);
}

async function loadLanguage(next) {
  const res = await fetch(`/i18n/${next}.json`, fetchDefaults());
  if (!res.ok) throw new Error('i18n');
  table = await res.json();
  lang = next;
  document.documentElement.lang = lang;
  applyI18n();
  const sw = document.getElementById('lang-switch');
  if (sw) {
    const other = lang === 'nl' ? 'en' : 'nl';
    sw.textContent = t('common.switch_to');
    sw.setAttribute('lang', other);
  }
  if (document.body.dataset.title) document.title = t(document.body.dataset.title);
  for (const fn of rerenders) fn();
}

// ---- Quick exit: leave at once, replacing this page in the history.

export function quickExit() {
  try {
    document.title = '';
    document.body.replaceChildren();
  } finally {
    location.replace(EXIT_URL);
  }
}

function setUpQuickExit() {
  const link = document.getElementById('quick-exit');
  if (link) {
    link.addEventListener('click', (e) => {
      e.preventDefault();
      quickExit();
    });
  }
  let presses = [];
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    const now = Date.now();
    presses = presses.filter((p) => now - p < 2000);
    presses.push(now);
    if (presses.length >= 3) quickExit();
  });
}

// ---- API: same origin only, no cookies, no cache, no referrer.

function fetchDefaults(extra = {}) {
  return { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', redirect: 'error', ...extra };
}

export class ApiError extends Error {
  constructor(status, code) {
    super(code || `http_${status}`);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, { method = 'GET', json, body, headers = {} } = {}) {
  const init = fetchDefaults({ method, headers: { ...headers } });
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network');
  }
  if (!res.ok) {
    let code = '';
    try { code = (await res.json()).error || ''; } catch { /* not JSON */ }
    throw new ApiError(res.status, code);
  }
  return res;
}

/** Uploads with progress (fetch cannot report upload progress). */
export function upload(path, bytes, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    xhr.withCredentials = false;
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else {
        let code = '';
        try { code = JSON.parse(xhr.responseText).error || ''; } catch { /* not JSON */ }
        reject(new ApiError(xhr.status, code));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network'));
    xhr.send(bytes);
  });
}

// ---- The Web Worker: Argon2id and the proof of work, so the page never freezes.

/** The error of a worker (or of the WASM module in it) that could not be loaded. */
export const CRYPTO_UNAVAILABLE = 'crypto_unavailable';

export function runWorker(request, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker('/js/worker.js', { type: 'module' });
    } catch {
      reject(new Error(CRYPTO_UNAVAILABLE));
      return;
    }
    worker.onmessage = (e) => {
      const m = e.data;
      if (m.progress !== undefined) { onProgress(m.progress); return; }
      worker.terminate();
      if (m.error) reject(new Error(m.error)); else resolve(m);
    };
    // The script or the module could not be loaded (or crashed): never a reason to go on
    // without encryption; the caller shows that nothing was sent.
    worker.onerror = (e) => { if (e && e.preventDefault) e.preventDefault(); worker.terminate(); reject(new Error(CRYPTO_UNAVAILABLE)); };
    worker.onmessageerror = worker.onerror;
    worker.postMessage(request);
  });
}

/** Fetches a proof-of-work challenge and solves it in the worker. Returns {challenge, nonce}. */
export async function proofOfWork(onProgress) {
  const c = await (await api('/api/v1/pow', { method: 'POST', json: {} })).json();
  if (c.enabled === false) { onProgress(1); return null; }
  const expected = 2 ** c.difficulty;
  const { nonce } = await runWorker({ op: 'pow', challenge: c.challenge }, (n) => {
    // Expected attempts are 2^difficulty; the bar approaches the end without claiming it.
    onProgress(Math.min(0.95, 1 - Math.exp(-n / expected)));
  });
  onProgress(1);
  return { challenge: c.challenge, nonce };
}

/** Argon2id over the pickup code, in the worker. Returns the 32-byte seed. */
export async function deriveSeed(code) {
  const { seed } = await runWorker({ op: 'derive', code });
  return seed;
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
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

/** Plain text with blank-line paragraphs, never HTML. */
export function paragraphs(text) {
  const frag = document.createDocumentFragment();
  for (const p of String(text || '').split(/\n\s*\n/)) {
    if (p.trim()) frag.append(el('p', { text: p.trim() }));
  }
  return frag;
}

export function show(id) {
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id;
  const section = document.getElementById(id);
  const heading = section && section.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
  window.scrollTo(0, 0);
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function formatDay(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleDateString(lang === 'nl' ? 'nl-NL' : 'en-GB', {
    day: 'numeric', month: 'long', year: 'numeric',
  });
}

// ---- Start-up.

/** Replaces the page's content with a plain explanation that nothing can be sent. */
function showCryptoUnavailable() {
  const main = document.getElementById('main');
  const render = () => {
    const section = el('section', { id: 'view-crypto-error' },
      el('h1', { text: t('error.crypto_title') }),
      el('p', { class: 'warning', text: t('error.crypto') }),
      el('p', { text: t('error.crypto_what') }));
    main.replaceChildren(section);
  };
  render();
  onLanguageChange(render);
  const heading = main.querySelector('h1');
  heading.tabIndex = -1;
  heading.focus();
}

/**
 * Loads the translations and the WASM module. Returns false, after saying so on the page, if
 * the module cannot be loaded: the page must then do nothing else (there is no way to send
 * without encryption).
 */
export async function boot() {
  setUpQuickExit();
  const wanted = fragmentParams().get('lang');
  const first = loadLanguage(LANGS.includes(wanted) ? wanted : 'nl');
  // The switch works from the start (also while the WASM loads), after the first table.
  const sw = document.getElementById('lang-switch');
  if (sw) {
    sw.addEventListener('click', async () => {
      await first.catch(() => {});
      const next = lang === 'nl' ? 'en' : 'nl';
      await loadLanguage(next);
      history.replaceState(null, '', location.pathname + fragmentWith({ lang: next === 'nl' ? null : next }));
    });
  }
  const [module, language] = await Promise.allSettled([
    init({ module_or_path: '/pkg/meldpunt_client_wasm_bg.wasm' }),
    first,
  ]);
  if (language.status === 'rejected') {
    // Without translations the page cannot explain anything: say so in both languages.
    table = {
      'error.crypto_title': 'De pagina kon niet worden geladen / The page could not be loaded',
      'error.crypto': 'Er is niets verstuurd. Probeer het later opnieuw. / Nothing was sent. Please try again later.',
      'error.crypto_what': '',
    };
    showCryptoUnavailable();
    return false;
  }
  if (module.status === 'rejected') {
    showCryptoUnavailable();
    return false;
  }
  return true;
}
