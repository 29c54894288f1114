// The advisor app's state and what every view shares: the unlocked session (`app.S`: the
// keyring, the session token and everything decrypted, in this tab's memory only), the view's
// redraw for a language change (`app.rerender`), the API with the session token, and small helpers.
import { wasm } from '/js/boot.js';
import { t, tOr } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { $, el, setText } from '/js/dom.js';

// Rough Argon2id speed in WASM, for the progress estimate only (ms per MiB per pass).
export const MS_PER_MIB_PASS = 9;

export const app = {
  S: null, // the unlocked session
  rerender: () => {},
};

// ---------------------------------------------------------------------------------------------
// Small helpers.

export function nowSecs() {
  return Date.now() / 1000;
}

export function errorText(err) {
  const c = (err && (err.code || err.message)) || '';
  if (err instanceof ApiError) {
    if (err.status === 0) return t('advisor.ui.error_network');
    if (err.status === 429) return t('advisor.ui.error_rate');
    return t('advisor.ui.error_server', { code: c || `http_${err.status}` });
  }
  return tOr(`advisor.ui.error_${c}`, t('advisor.ui.error_generic', { code: c }));
}

export function showError(id, text) {
  const node = $(id);
  node.textContent = text || '';
  node.hidden = !text;
}

/** A step that failed: its status line is cleared and the error shown in `errorId`. */
export function showFailure(statusId, errorId, err) {
  setText(statusId, '');
  showError(errorId, errorText(err));
}

/** Control, bidi and path characters removed by the core. */
export function safeFileName(name) {
  return wasm.safeFileName(String(name || ''));
}

export function shortId(id) {
  return String(id || '').slice(0, 6).toUpperCase();
}

export function blobUrl(parts, type) {
  const url = URL.createObjectURL(new Blob(parts, { type }));
  if (app.S) app.S.blobs.push(url);
  return url;
}

/** Offers the (passphrase-encrypted) keyring file for download in the link `linkId`. */
export function offerKeyringFile(linkId, file) {
  const link = $(linkId);
  link.href = blobUrl([file], 'application/octet-stream');
  link.download = safeFileName(app.S.fileName || 'meldpunt.keyring');
  return link;
}

export function progressTo(barId, statusId, key) {
  return (f) => {
    $(barId).value = f;
    setText(statusId, t(key, { pct: Math.round(f * 100) }));
  };
}

export function setNav(view) {
  for (const b of document.querySelectorAll('.nav-link')) {
    if (b.dataset.view === view) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
  }
}

export function badge([kind, text]) {
  return el('span', { class: `badge badge-${kind}`, text });
}

// ---------------------------------------------------------------------------------------------
// API with the session token (memory only). A 401 logs in again once with the keyring.

export async function login() {
  const identity = app.S.keyring.identity;
  const c = await (await api('/api/v1/advisor/login/challenge', { method: 'POST', json: { identity } })).json();
  const signature = app.S.keyring.signLogin(c.challenge);
  const r = await (await api('/api/v1/advisor/login', { method: 'POST', json: { identity, challenge: c.challenge, signature } })).json();
  app.S.token = r.token;
}

export async function call(path, opts = {}, retry = true) {
  const headers = { ...(opts.headers || {}), Authorization: `Bearer ${app.S.token}` };
  try {
    return await api(path, { ...opts, headers });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && retry && app.S) {
      await login();
      return call(path, opts, false);
    }
    throw e;
  }
}

export async function callJson(path, opts) {
  return (await call(path, opts)).json();
}

export async function orgPage(slug) {
  if (!app.S.orgs.has(slug)) {
    try {
      app.S.orgs.set(slug, await (await api(`/api/v1/orgs/${encodeURIComponent(slug)}`)).json());
    } catch {
      app.S.orgs.set(slug, null);
    }
  }
  return app.S.orgs.get(slug);
}

export function orgName(slug) {
  const page = app.S.orgs.get(slug);
  return (page && page.name) || slug;
}

/** Fetches and opens the case shown (`app.S.caseId`), then redraws the view. */
export async function loadCase() {
  const id = app.S.caseId;
  let view;
  try {
    view = await callJson(`/api/v1/advisor/cases/${encodeURIComponent(id)}`);
    await orgPage(view.org);
  } catch (err) {
    setText('case-title', t('advisor.ui.case_label', { id: shortId(id) }));
    setText('case-transcript', errorText(err));
    return;
  }
  if (app.S.opened) app.S.opened.free();
  app.S.opened = app.S.keyring.openCase(view, nowSecs());
  app.S.view = view;
  app.S.summary = app.S.opened.summary;
  // What the server says about each message (who posted it, when): for the unread badge and the
  // date only, never for trust.
  app.S.summary.messages.forEach((m, i) => {
    const v = view.messages[i] || {};
    m.sender = String(v.sender || '');
    m.created = String(v.created || '');
  });
  // Unread: reporter messages after the newest advisor message, not seen before in this session.
  const seenBefore = app.S.seen.get(id) || 0;
  const msgs = app.S.summary.messages;
  let lastAdvisor = -1;
  msgs.forEach((m, i) => { if (m.sender === 'advisor') lastAdvisor = i; });
  app.S.unreadFrom = Math.max(lastAdvisor + 1, seenBefore);
  app.S.seen.set(id, view.messages.length);
  app.rerender();
}
