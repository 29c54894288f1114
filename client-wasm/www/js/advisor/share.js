// Sharing a case with a colleague: the core confirms the colleague (remembered in the keyring,
// or by the fingerprint typed in), the messages and attachments are re-sealed to them, and the
// keyring file with the remembered colleague can be saved.
import { wasm } from '/js/boot.js';
import { t, tOr } from '/js/i18n.js';
import { $, el, setText } from '/js/dom.js';
import { runAdvisorWorker } from '/js/workers.js';
import { app, nowSecs, errorText, showError, showFailure, offerKeyringFile, call, loadCase } from '/js/advisor/state.js';

const HEADER_MAX = 3192;

function colleagueCheck(a) {
  // The core decides: remembered in the keyring, or a fingerprint must be typed, or refused.
  try {
    const c = app.S.keyring.confirmColleague(a, null, nowSecs());
    const fp = c.fingerprint;
    c.free();
    return { fp, remembered: true, problem: '' };
  } catch (err) {
    const code = (err && err.message) || '';
    const fp = wasm.fingerprintOf(String(a.identity || ''));
    if (code === 'needs_fingerprint') return { fp, remembered: false, problem: '' };
    return { fp, remembered: false, problem: tOr(`advisor.ui.colleague_${code}`, t('advisor.ui.colleague_no_key')) };
  }
}

export function renderShareChoices() {
  const page = app.S.orgs.get(app.S.view.org);
  const members = new Set(app.S.summary.members.map((a) => a.fingerprint));
  const others = ((page && page.advisors) || []).filter((a) => !members.has(wasm.fingerprintOf(String(a.identity || ''))));
  const selected = document.querySelector('input[name="share-to"]:checked');
  const keep = selected ? selected.value : '';
  $('share-none').hidden = others.length > 0;
  $('share-send').disabled = others.length === 0 || !app.S.summary.amMember;
  $('share-choices').replaceChildren(...others.map((a) => {
    const c = colleagueCheck(a);
    const input = el('input', { type: 'radio', name: 'share-to', value: a.id, disabled: Boolean(c.problem) });
    if (a.id === keep && !c.problem) input.checked = true;
    input.addEventListener('change', () => showSharePrompt(null));
    return el('label', { class: 'choice' }, input,
      el('span', {},
        el('strong', { text: a.display_name }),
        el('span', { class: 'tag-text', text: ` · ${c.remembered ? t('advisor.ui.colleague_remembered') : t('advisor.ui.colleague_unconfirmed')}` }),
        c.problem ? el('span', { class: 'refused', text: ` ${c.problem}` }) : null));
  }));
}

/** Shows (for `a`) or hides the fingerprint prompt of the share form. */
function showSharePrompt(a) {
  const box = $('share-confirm');
  box.hidden = !a;
  if (!a) { $('share-fingerprint').value = ''; showError('share-fp-error', ''); return; }
  setText('share-fp-label', t('advisor.ui.share_fp_label', { name: a.display_name }));
  $('share-fingerprint').focus();
}

async function readHeader(res) {
  const reader = res.body.getReader();
  const chunks = [];
  let n = 0;
  while (n < HEADER_MAX) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
  }
  reader.cancel().catch(() => {});
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out.subarray(0, Math.min(n, HEADER_MAX));
}

export async function share(e) {
  e.preventDefault();
  showError('share-fp-error', '');
  const chosen = document.querySelector('input[name="share-to"]:checked');
  if (!chosen) { setText('share-status', t('advisor.ui.error_share_choose')); return; }
  const page = app.S.orgs.get(app.S.view.org);
  const a = page.advisors.find((x) => x.id === chosen.value);
  const typed = $('share-fingerprint').value.trim();
  let colleague = null;
  try {
    colleague = app.S.keyring.confirmColleague(a, typed || null, nowSecs());
  } catch (err) {
    const code = (err && err.message) || '';
    if (code === 'needs_fingerprint') {
      showSharePrompt(a);
      setText('share-status', t('advisor.ui.share_needs_fp', { name: a.display_name }));
      return;
    }
    if (code === 'bad_fingerprint' || code === 'fingerprint_mismatch') {
      showError('share-fp-error', t(`advisor.ui.colleague_${code}`));
      $('share-fingerprint').focus();
      setText('share-status', '');
      return;
    }
    setText('share-status', tOr(`advisor.ui.colleague_${code}`, errorText(err)));
    return;
  }
  $('share-send').disabled = true;
  setText('share-status', t('advisor.ui.sharing'));
  try {
    const stanzas = [...app.S.keyring.shareMessages(app.S.opened, colleague)];
    for (const att of app.S.view.attachments) {
      const res = await call(`/api/v1/advisor/cases/${encodeURIComponent(app.S.view.id)}/attachments/${encodeURIComponent(att.id)}`);
      const header = await readHeader(res);
      stanzas.push({ attachment: att.id, stanza: app.S.keyring.shareAttachment(app.S.opened, header, att.stanzas || [], colleague) });
    }
    // The signed statement that makes the colleague a member, for everyone on the case.
    const envelope = app.S.keyring.sealAdd(app.S.opened, colleague, nowSecs());
    await call(`/api/v1/advisor/cases/${encodeURIComponent(app.S.view.id)}/share`, { method: 'POST', json: { advisor: a.id, stanzas, envelope } });
    if (colleague.isNew) {
      app.S.keyring.remember(colleague, new Date().toISOString().slice(0, 10));
      app.S.unsaved = true;
      $('share-save-form').hidden = false;
    }
    showSharePrompt(null);
    await loadCase();
    setText('share-status', t('advisor.ui.shared', { name: a.display_name }));
  } catch (err) {
    setText('share-status', errorText(err));
  } finally {
    colleague.free();
    $('share-send').disabled = !(app.S && app.S.summary && app.S.summary.amMember);
  }
}

/** Writes the keyring file with the remembered colleagues (Argon2id in the worker) for download. */
export async function saveKeyring(e) {
  e.preventDefault();
  showError('share-save-error', '');
  const pass = $('share-save-passphrase');
  if (!pass.value) { showError('share-save-error', t('advisor.ui.error_no_passphrase')); pass.focus(); return; }
  $('share-save-button').disabled = true;
  setText('share-save-status', t('advisor.ui.saving_keyring'));
  try {
    const out = await runAdvisorWorker({ op: 'rewrite', file: app.S.file.slice(), passphrase: pass.value, identity: app.S.keyring.identity, meta: app.S.keyring.meta }, [],
      () => {}, 2000);
    pass.value = '';
    app.S.file = out.file;
    const link = offerKeyringFile('share-save-download', out.file);
    link.hidden = false;
    setText('share-save-status', t('advisor.ui.keyring_ready'));
    link.focus();
  } catch (err) {
    showFailure('share-save-status', 'share-save-error', err);
  } finally {
    $('share-save-button').disabled = false;
  }
}

