// A case: its messages and attachments, the reply, the status, and who reads it.
import { t, tOr, formatServerDay } from '/js/i18n.js';
import { $, el, setText, show, formatBytes } from '/js/dom.js';
import {
  app, nowSecs, errorText, showError, showFailure, safeFileName, shortId, blobUrl, setNav, badge, call, orgName, loadCase,
} from '/js/advisor/state.js';
import { badgesFor, personName, warningText, attachmentNames, messageItem } from '/js/advisor/messages.js';
import { renderShareChoices } from '/js/advisor/share.js';

export async function openCase(id) {
  setNav('');
  app.S.caseId = id;
  app.rerender = renderCase;
  for (const s of ['reply-status', 'status-status', 'share-status', 'download-status']) setText(s, '');
  showError('reply-error', '');
  $('reply-text').value = '';
  await loadCase();
  show('view-case');
}

export 
function renderCase() {
  if (!app.S || !app.S.view) return;
  const v = app.S.view;
  const sum = app.S.summary;
  setText('case-title', t('advisor.ui.case_label', { id: shortId(v.id) }));
  setText('case-org', orgName(v.org));
  setText('case-status', t(`advisor.ui.status_${v.status}`));
  setText('case-created', formatServerDay(v.created));
  setText('case-ack-due', v.deadlines ? formatServerDay(v.deadlines.ack_due) : '');
  setText('case-feedback-due', v.deadlines ? formatServerDay(v.deadlines.feedback_due) : '');
  $('case-badges').replaceChildren(...badgesFor(v.deadlines, v.status).map(badge));
  const tr = $('case-transcript');
  if (sum.ok) {
    tr.className = 'transcript-status check-ok';
    tr.textContent = t('advisor.ui.transcript_ok');
  } else {
    tr.className = 'transcript-status warning';
    tr.textContent = tOr(`advisor.ui.transcript_${sum.problem}`, t('advisor.ui.transcript_malformed', { n: sum.problemIndex + 1 }), { n: sum.problemIndex + 1 });
  }
  $('case-messages').replaceChildren(...sum.messages.map(messageItem));

  // Attachments.
  const names = attachmentNames();
  $('attachments-empty').hidden = v.attachments.length > 0;
  $('case-attachments').replaceChildren(...v.attachments.map((a) => {
    const info = names.get(a.id);
    const name = (info && info.name) || t('advisor.ui.attachment_unnamed');
    const size = info && info.size ? info.size : a.size;
    const button = el('button', {
      type: 'button', class: 'button secondary download', onclick: () => downloadAttachment(a, info ? info.name : '', button),
      'aria-label': t('advisor.ui.download_named', { name }),
    }, t('advisor.ui.download'));
    return el('li', { class: 'att' },
      el('span', { class: 'file-name', text: name }),
      el('span', { class: 'file-note', text: `${formatBytes(size)} · ${a.sender === 'advisor' ? t('advisor.ui.from_advisor') : t('advisor.ui.from_reporter')}` }),
      button);
  }));

  // Reply: to the members the core found (never anyone else the server lists).
  const recipients = sum.members.filter((a) => a.usable && !a.me).map(personName);
  setText('reply-recipients', recipients.length
    ? t('advisor.ui.reply_recipients_more', { names: recipients.join(', ') })
    : t('advisor.ui.reply_recipients'));
  $('reply-send').disabled = !sum.canReply;
  if (!sum.canReply) showError('reply-error', t(sum.amMember ? 'advisor.ui.error_cannot_reply' : 'advisor.ui.error_not_member'));
  $('status-select').value = v.status;

  // Who reads this case: members by signed statements; what the server claims besides.
  const warnings = $('case-warnings');
  warnings.hidden = !sum.warnings.length;
  warnings.replaceChildren(...sum.warnings.map((w) => el('li', { class: `warning warning-${w.code}`, text: warningText(w) })));
  const canRemove = sum.amMember && sum.members.length > 1;
  $('case-advisors').replaceChildren(...sum.members.map((a) => el('li', { class: 'person' },
    el('span', { class: 'person-name', text: a.me ? t('advisor.ui.you_named', { name: personName(a) }) : personName(a) }),
    el('span', { class: 'tag-text', text: a.usable ? t('advisor.ui.member') : t('advisor.ui.member_no_key') }),
    el('span', { class: 'fingerprint' }, `${t('advisor.ui.fingerprint')}: `, el('code', { text: a.fingerprint })),
    canRemove ? el('button', {
      type: 'button', class: 'link-button remove-member',
      'aria-label': t(a.me ? 'advisor.ui.leave_case' : 'advisor.ui.remove_named', { name: personName(a) }),
      onclick: () => removeMember(a),
    }, t(a.me ? 'advisor.ui.leave_case' : 'advisor.ui.remove')) : null)));
  renderShareChoices();
}

async function downloadAttachment(a, name, button) {
  const status = $('download-status');
  button.disabled = true;
  const label = name || t('advisor.ui.attachment_unnamed');
  status.textContent = t('advisor.ui.downloading', { name: label, pct: 0 });
  let dec = null;
  try {
    const res = await call(`/api/v1/advisor/cases/${encodeURIComponent(app.S.view.id)}/attachments/${encodeURIComponent(a.id)}`);
    dec = app.S.keyring.attachmentDecryptor(app.S.opened, a.stanzas || []);
    const reader = res.body.getReader();
    const parts = [];
    let got = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.length;
      const out = dec.push(value);
      if (out.length) parts.push(out);
      status.textContent = t('advisor.ui.downloading', { name: label, pct: Math.min(99, Math.round((got / Math.max(1, a.size)) * 100)) });
    }
    parts.push(dec.finish());
    const url = blobUrl(parts, 'application/octet-stream');
    const link = el('a', { href: url, download: safeFileName(name), class: 'visually-hidden' }, label);
    document.body.append(link);
    link.click();
    link.remove();
    status.textContent = t('advisor.ui.downloaded', { name: label });
  } catch (err) {
    status.textContent = t('advisor.ui.download_failed', { name: label, reason: errorText(err) });
  } finally {
    if (dec) dec.free();
    button.disabled = false;
  }
}

export async function sendReply(e) {
  e.preventDefault();
  showError('reply-error', '');
  const text = $('reply-text').value.trim();
  if (!text) { showError('reply-error', t('advisor.ui.error_empty_reply')); $('reply-text').focus(); return; }
  $('reply-send').disabled = true;
  setText('reply-status', t('advisor.ui.sending'));
  try {
    const { envelope } = app.S.keyring.sealReply(app.S.opened, JSON.stringify({ text, attachments: [] }), nowSecs());
    await call(`/api/v1/advisor/cases/${encodeURIComponent(app.S.view.id)}/messages`, { method: 'POST', json: { envelope } });
    $('reply-text').value = '';
    await loadCase();
    setText('reply-status', t('advisor.ui.reply_sent'));
  } catch (err) {
    showFailure('reply-status', 'reply-error', err);
  } finally {
    $('reply-send').disabled = !(app.S && app.S.summary && app.S.summary.canReply);
  }
}

export async function saveStatus(e) {
  e.preventDefault();
  const status = $('status-select').value;
  setText('status-status', t('advisor.ui.saving'));
  try {
    await call(`/api/v1/advisor/cases/${encodeURIComponent(app.S.view.id)}/status`, { method: 'PUT', json: { status } });
    await loadCase();
    setText('status-status', t('advisor.ui.status_saved', { status: t(`advisor.ui.status_${status}`) }));
  } catch (err) {
    setText('status-status', errorText(err));
  }
}

async function removeMember(a) {
  // Removing someone (or leaving) cannot be undone by this advisor alone: ask first.
  if (!window.confirm(t(a.me ? 'advisor.ui.leave_confirm' : 'advisor.ui.remove_confirm', { name: personName(a) }))) return;
  setText('remove-status', t('advisor.ui.removing', { name: personName(a) }));
  try {
    const out = app.S.keyring.sealRemove(app.S.opened, a.fingerprint, nowSecs());
    await call(`/api/v1/advisor/cases/${encodeURIComponent(app.S.view.id)}/remove`, { method: 'POST', json: { advisor: out.advisor, envelope: out.envelope } });
    await loadCase();
    setText('remove-status', t('advisor.ui.removed', { name: personName(a) }));
  } catch (err) {
    const code = (err && (err.code || err.message)) || '';
    if (code === 'not_on_case' || code === 'last_advisor' || code === 'not_a_member' || code === 'last_member') {
      setText('remove-status', t(`advisor.ui.remove_${code}`, { name: personName(a) }));
    } else {
      setText('remove-status', errorText(err));
    }
  }
}

