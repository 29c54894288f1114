// Translations, the one mechanism of every page: one table per language in /i18n/{lang}.json
// (Dutch by default), `data-i18n` and `data-i18n-attr` in the HTML, `t(key, vars)` in code, and
// `msg()` for texts set from code that a language change redraws. The language is chosen in the
// fragment (`#lang=en`) and by the switch; nothing is stored.

import { fetchDefaults } from '/js/api.js';
import { fragmentParams, setFragment } from '/js/fragment.js';

export const LANGS = ['nl', 'en'];
const tables = {};
let lang = 'nl';
const rerenders = [];

function lookup(table, key, vars) {
  let s = table ? table[key] : undefined;
  if (typeof s !== 'string') return `⟦${key}⟧`;
  for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function t(key, vars = {}) {
  return lookup(tables[lang], key, vars);
}

/** A text in a given language (the poster's), whatever the page's language (a loaded table). */
export function tIn(language, key, vars = {}) {
  return lookup(tables[language] || tables.nl, key, vars);
}

/** The translation of `key`, or `fallback` if the table has none. */
export function tOr(key, fallback, vars) {
  const s = t(key, vars);
  return s.startsWith('⟦') ? fallback : s;
}

/** Whether a key exists (for error codes the page may not know). */
export function has(key) {
  return Boolean(tables[lang]) && typeof tables[lang][key] === 'string';
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

/** Fetches the table of a language (once; it stays in this tab's memory). */
export async function loadTable(which) {
  if (tables[which]) return;
  const res = await fetch(`/i18n/${which}.json`, fetchDefaults());
  if (!res.ok) throw new Error('i18n');
  tables[which] = await res.json();
}

/** The language asked for in the fragment, else Dutch. */
export function initialLanguage() {
  const wanted = fragmentParams().get('lang');
  return LANGS.includes(wanted) ? wanted : 'nl';
}

/** Shows the page in `next` (loading its table first if needed) and redraws what registered. */
export async function setLanguage(next) {
  await loadTable(next);
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

/** Without any table the page cannot explain anything: these few texts stand in (both languages). */
export function useFallbackTable(table) {
  tables[lang] = table;
}

/** The switch toggles Dutch and English (after `ready`, the first table) and notes it in the fragment. */
export function setUpLanguageSwitch(ready = Promise.resolve()) {
  const sw = document.getElementById('lang-switch');
  if (!sw) return;
  sw.addEventListener('click', async () => {
    await ready.catch(() => {});
    const next = lang === 'nl' ? 'en' : 'nl';
    await setLanguage(next);
    setFragment({ lang: next === 'nl' ? null : next });
  });
}

// ---- Messages whose text is redrawn on a language change.

/**
 * Shows the translation of `key` in `node` (hidden when `key` is null) and remembers it, so that
 * a language change redraws it. Values in `vars` may be `{date: unixSeconds}`,
 * `{moment: unixSeconds}`, `{duration: seconds}` or `{key}`: those are formatted in the
 * language shown.
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

// ---- Dates and durations in the language shown.

export function formatDay(unixSeconds, language = lang) {
  return new Date(unixSeconds * 1000).toLocaleDateString(locale(language), {
    day: 'numeric', month: 'long', year: 'numeric',
  });
}

/** A date and time; `month` is 'short' (the admin pages) or 'long' (the advisor's). */
export function formatMoment(unixSeconds, month = 'short') {
  return new Date(unixSeconds * 1000).toLocaleString(locale(), {
    day: 'numeric', month, year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

/** A day the server gives as YYYY-MM-DD, in the language shown. */
export function formatServerDay(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '');
  if (!m) return day || '';
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).toLocaleDateString(locale(), {
    day: 'numeric', month: 'long', year: 'numeric',
  });
}

/** "3 minuten" / "45 seconds": rounded up to whole minutes above a minute. */
export function formatDuration(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  if (s < 60) return t(s === 1 ? 'admin.duration_second' : 'admin.duration_seconds', { n: s });
  const m = Math.ceil(s / 60);
  return t(m === 1 ? 'admin.duration_minute' : 'admin.duration_minutes', { n: m });
}
