// Keys: fingerprints, rotation (Argon2id in the worker, the new key published), the poster.
import { wasm } from '/js/boot.js';
import { t, formatMoment } from '/js/i18n.js';
import { $, el, setText, show } from '/js/dom.js';
import { runAdvisorWorker } from '/js/workers.js';
import {
  app, MS_PER_MIB_PASS, nowSecs, errorText, showError, showFailure, blobUrl, offerKeyringFile, progressTo, setNav, badge, call, callJson,
} from '/js/advisor/state.js';

const ROTATE_VALIDITY_DAYS = 365;

export function goKeys() {
  setNav('view-keys');
  app.rerender = renderKeys;
  renderKeys();
  show('view-keys');
}

function renderKeys() {
  if (!app.S) return;
  setText('my-fingerprint', app.S.keyring.fingerprint);
  const now = nowSecs();
  const keys = [...app.S.keyring.keys(now, (app.S.me && app.S.me.all_bundles) || [])].reverse();
  const newest = keys.find((k) => k.current);
  $('key-list').replaceChildren(...keys.map((k) => {
    let state;
    if (k.revokedAt) state = ['overdue', t('advisor.ui.key_revoked')];
    else if (now >= k.notAfter) state = ['due', t('advisor.ui.key_expired')];
    else if (!k.published) state = ['soon', t('advisor.ui.key_unpublished')];
    else if (k === newest) state = ['ok', t('advisor.ui.key_current')];
    else state = ['due', t('advisor.ui.key_older')];
    return el('li', { class: 'key' },
      el('span', { class: 'key-id' }, `${t('advisor.ui.key_id')}: `, el('code', { text: k.keyId.slice(0, 16) })),
      badge(state),
      el('span', { class: 'hint', text: t('advisor.ui.key_validity', { from: formatMoment(k.notBefore, 'long'), to: formatMoment(k.notAfter, 'long') }) }));
  }));
}

export async function rotate(e) {
  e.preventDefault();
  showError('rotate-error', '');
  const pass = $('rotate-passphrase');
  if (!pass.value) { showError('rotate-error', t('advisor.ui.error_no_passphrase')); pass.focus(); return; }
  const button = $('rotate-button');
  button.disabled = true;
  $('rotate-progress').hidden = false;
  try {
    const info = wasm.keyringFileInfo(app.S.file);
    const expected = 2 * ((info.mKib / 1024) * info.t * MS_PER_MIB_PASS) + 300;
    const out = await runAdvisorWorker({ op: 'rotate', file: app.S.file.slice(), passphrase: pass.value, now: nowSecs(), validityDays: ROTATE_VALIDITY_DAYS }, [],
      progressTo('rotate-bar', 'rotate-status', 'advisor.ui.rotating_pct'), expected);
    pass.value = '';
    setText('rotate-status', t('advisor.ui.publishing'));
    await call('/api/v1/advisor/keys', { method: 'POST', json: { bundle: out.bundle } });
    app.S.keyring.replaceParts(out.parts);
    app.S.file = out.file;
    app.S.unsaved = true;
    app.S.me = await callJson('/api/v1/advisor/me');
    const link = offerKeyringFile('rotate-download', out.file);
    $('rotate-done').hidden = false;
    setText('rotate-status', t('advisor.ui.rotated'));
    renderKeys();
    link.focus();
  } catch (err) {
    showFailure('rotate-status', 'rotate-error', err);
  } finally {
    $('rotate-progress').hidden = true;
    button.disabled = false;
  }
}

function defaultPosterLink() {
  let base = location.origin;
  try {
    const meta = JSON.parse(app.S.keyring.meta || '{}');
    if (meta && typeof meta.instance === 'string' && /^https?:\/\//.test(meta.instance)) base = meta.instance.replace(/\/+$/, '');
  } catch { /* no metadata */ }
  const org = app.S.me && app.S.me.org;
  return org ? `${base}/o/${org}#pin=${app.S.keyring.pin}` : `${base}/#pin=${app.S.keyring.pin}`;
}

export function goPoster() {
  setNav('');
  app.rerender = renderPoster;
  if (!$('poster-link').value) $('poster-link').value = defaultPosterLink();
  renderPoster();
  show('view-poster');
}

export function renderPoster() {
  if (!app.S) return;
  const link = $('poster-link').value.trim();
  showError('poster-error', '');
  setText('poster-name', app.S.me.display_name);
  const photo = $('poster-photo');
  if (app.S.me.photo && app.S.me.photo.startsWith('data:image/')) {
    photo.src = app.S.me.photo;
    photo.alt = t('advisor.ui.poster_photo_alt', { name: app.S.me.display_name });
    photo.hidden = false;
  } else {
    photo.hidden = true;
  }
  setText('poster-fp', app.S.keyring.fingerprint);
  setText('poster-url', link);
  const qr = $('poster-qr');
  try {
    const svg = wasm.qrSvg(link, 240);
    if (qr.dataset.url) URL.revokeObjectURL(qr.dataset.url);
    const url = blobUrl([svg], 'image/svg+xml');
    qr.dataset.url = url;
    qr.src = url;
    qr.alt = t('advisor.ui.poster_qr_alt', { url: link });
    qr.hidden = false;
  } catch (err) {
    qr.hidden = true;
    showError('poster-error', errorText(err));
  }
}

