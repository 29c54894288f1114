// Unlocking the keyring file (Argon2id in the worker) and logging in; locking (by hand or
// after 10 minutes without activity), which reloads the page so that nothing decrypted stays.
import { wasm } from '/js/boot.js';
import { t, currentLang } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { $, setText } from '/js/dom.js';
import { fragmentParams } from '/js/fragment.js';
import { runAdvisorWorker } from '/js/workers.js';
import { app, MS_PER_MIB_PASS, errorText, showError, safeFileName, progressTo, login, callJson } from '/js/advisor/state.js';
import { goInbox } from '/js/advisor/inbox.js';

const IDLE_LIMIT_S = 600;

export async function unlock(e) {
  e.preventDefault();
  showError('unlock-error', '');
  const input = $('keyring-file');
  const pass = $('passphrase');
  const file = input.files && input.files[0];
  if (!file) { showError('unlock-error', t('advisor.ui.error_no_file')); input.focus(); return; }
  if (!pass.value) { showError('unlock-error', t('advisor.ui.error_no_passphrase')); pass.focus(); return; }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let info;
  try {
    info = wasm.keyringFileInfo(bytes);
  } catch (err) {
    showError('unlock-error', errorText(err));
    return;
  }
  const button = $('unlock-button');
  button.disabled = true;
  $('unlock-progress').hidden = false;
  const passphrase = pass.value;
  let keyring = null;
  try {
    const expected = (info.mKib / 1024) * info.t * MS_PER_MIB_PASS + 300;
    const { parts } = await runAdvisorWorker({ op: 'unlock', file: bytes.slice(), passphrase }, [],
      progressTo('unlock-bar', 'unlock-status', 'advisor.ui.unlocking_pct'), expected);
    pass.value = '';
    keyring = wasm.AdvisorKeyring.fromParts(parts);
    app.S = {
      keyring, file: bytes, fileName: file.name, token: null, me: null, orgs: new Map(), seen: new Map(),
      blobs: [], opened: null, view: null, caseId: null, cases: [], unsaved: false,
    };
    setText('unlock-status', t('advisor.ui.logging_in'));
    await login();
    app.S.me = await callJson('/api/v1/advisor/me');
  } catch (err) {
    if (app.S) { try { app.S.keyring.free(); } catch { /* already freed */ } app.S = null; } else if (keyring) keyring.free();
    const code = (err && (err.code || err.message)) || '';
    let text = errorText(err);
    if (err instanceof ApiError && (code === 'login_failed' || err.status === 401)) text = t('advisor.ui.error_login_failed');
    showError('unlock-error', text);
    setText('unlock-status', '');
    $('unlock-progress').hidden = true;
    button.disabled = false;
    if (code === 'wrong_passphrase') { pass.select(); pass.focus(); }
    return;
  }
  input.value = '';
  $('unlock-progress').hidden = true;
  button.disabled = false;
  setText('unlock-status', '');
  startIdleTimer();
  $('lock').hidden = false;
  $('advisor-nav').hidden = false;
  renderWhoami();
  await goInbox();
}

export async function lock(reason = 'manual') {
  if (app.S && app.S.unsaved && reason === 'manual' && !window.confirm(t('advisor.ui.lock_unsaved'))) return;
  const s = app.S;
  app.S = null;
  // A rotated keyring that was not saved yet must not be lost to the idle lock: the new key is
  // already published, so reports may be sealed to it. The file is passphrase-encrypted, so it
  // stays offered for download on the locked screen; everything else is wiped.
  const unsavedFile = s && s.unsaved && s.file ? s.file.slice() : null;
  const unsavedName = s ? safeFileName(s.fileName || 'meldpunt.keyring') : '';
  if (s) {
    if (s.token) {
      try {
        await api('/api/v1/advisor/logout', { method: 'POST', headers: { Authorization: `Bearer ${s.token}` } });
      } catch { /* the session expires by itself */ }
    }
    try { if (s.opened) s.opened.free(); } catch { /* freed */ }
    try { s.keyring.free(); } catch { /* freed */ }
    for (const u of s.blobs) URL.revokeObjectURL(u);
    if (s.file) s.file.fill(0);
  }
  // Reload the page: whatever the tab still held (decrypted text in the DOM, JS objects) is
  // gone with the old document. The reason travels in the fragment, never to the server.
  const lang = currentLang() === 'en' ? '&lang=en' : '';
  history.replaceState(null, '', `${location.pathname}#locked=${reason}${lang}`);
  if (unsavedFile) {
    showUnsavedKeyringOnly(unsavedFile, unsavedName);
    return;
  }
  location.reload();
}

/** The locked screen after an idle lock with an unsaved rotated keyring: only its download. */
function showUnsavedKeyringOnly(file, name) {
  const main = document.querySelector('main');
  main.replaceChildren();
  const h = document.createElement('h1');
  h.textContent = t('advisor.ui.locked_unsaved_title');
  const p = document.createElement('p');
  p.textContent = t('advisor.ui.locked_unsaved_text');
  const a = document.createElement('a');
  a.className = 'button primary';
  a.textContent = t('advisor.ui.rotate_download');
  a.href = URL.createObjectURL(new Blob([file], { type: 'application/octet-stream' }));
  a.download = name;
  const again = document.createElement('button');
  again.type = 'button';
  again.textContent = t('advisor.ui.unlock_again');
  again.addEventListener('click', () => location.reload());
  main.append(h, p, a, document.createElement('br'), again);
  for (const id of ['lock', 'advisor-nav']) { const el = document.getElementById(id); if (el) el.hidden = true; }
  a.focus();
}

let idleTimer = null;
function idleLimitMs() {
  // A shorter limit may be asked for in the fragment (e.g. for a shared computer); never longer.
  const asked = Number(fragmentParams().get('idle'));
  const s = Number.isFinite(asked) && asked >= 10 ? Math.min(asked, IDLE_LIMIT_S) : IDLE_LIMIT_S;
  return s * 1000;
}

function startIdleTimer() {
  const reset = () => {
    clearTimeout(idleTimer);
    if (app.S) idleTimer = setTimeout(() => lock('idle'), idleLimitMs());
  };
  for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart', 'input', 'scroll']) {
    document.addEventListener(ev, reset, { passive: true, capture: true });
  }
  reset();
}

export function renderWhoami() {
  if (!app.S || !app.S.me) return;
  setText('whoami', t('advisor.ui.whoami', { name: app.S.me.display_name }));
}
