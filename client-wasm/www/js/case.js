// The mailbox (/case and /o/{slug}/case): enter the pickup code, read the verified
// conversation, write a follow-up.
import { wasm, boot } from '/js/boot.js';
import { t, currentLang, onLanguageChange, formatDay } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { el, show, paragraphs, formatBytes } from '/js/dom.js';
import { proofOfWork, deriveSeed, CRYPTO_UNAVAILABLE } from '/js/workers.js';
import { FilePicker, sendAttachments } from '/js/files.js';

let reporter = null; // wasm.Reporter while the mailbox is open
let advisors = null;
let view = null; // the server's case view
let transcript = null;
let orgInfo = null;
let picker = null;
let linkOrg = ''; // the organisation of the reporting link, if the page has one
let codeErrorText = null; // () => text of the shown code error, redrawn on a language change
let sendStatus = null; // () => text of the send status

// ---------- entering the code

function codeError(check) {
  if (check.problem === 'bad_character') return t('case.error_character', { n: check.position + 1 });
  if (check.problem === 'wrong_length') return t('case.error_length', { n: check.found });
  return t('case.error_typo');
}

function setCodeError(render) {
  codeErrorText = render;
  const text = render ? render() : '';
  const p = document.getElementById('code-error');
  const input = document.getElementById('code');
  p.hidden = !text;
  p.textContent = text || '';
  if (text) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
}

async function openWithCode(e) {
  e.preventDefault();
  const input = document.getElementById('code');
  // Checked locally first: a typo never reaches the server.
  const check = wasm.checkPickupCode(input.value);
  if (!check.ok) {
    setCodeError(() => codeError(check));
    input.focus();
    return;
  }
  setCodeError(null);
  const progressBox = document.getElementById('open-progress');
  const status = document.getElementById('open-status');
  progressBox.hidden = false;
  status.textContent = t('case.opening_keys');
  try {
    const seed = await deriveSeed(input.value);
    reporter = wasm.Reporter.fromSeed(seed);
    status.textContent = t('case.opening_fetch');
    await loadCase();
    input.value = '';
    progressBox.hidden = true;
    show('view-case');
  } catch (err) {
    progressBox.hidden = true;
    status.textContent = '';
    if (reporter) { reporter.free(); reporter = null; }
    // Unknown, closed or wrong: one neutral answer; the server tells nothing more either.
    const notFound = err instanceof ApiError && (err.status === 401 || err.status === 404 || err.status === 403);
    const key = notFound ? 'case.error_unknown'
      : (err instanceof ApiError && err.status === 429 ? 'error.rate_limited'
        : (err && err.message === CRYPTO_UNAVAILABLE ? 'error.crypto_open' : 'error.load'));
    setCodeError(() => t(key));
    input.focus();
  }
}

// ---------- the case

async function loadCase() {
  view = await (await api('/api/v1/case', { headers: { Authorization: `CaseToken ${reporter.caseToken}` } })).json();
  if (!orgInfo || orgInfo.slug !== view.org) {
    try { orgInfo = await (await api(`/api/v1/orgs/${encodeURIComponent(view.org)}`)).json(); } catch { orgInfo = null; }
  }
  if (advisors) advisors.free();
  advisors = new wasm.Advisors();
  const now = Date.now() / 1000;
  const none = wasm.Pins.none();
  for (const a of Array.isArray(view.advisors) ? view.advisors : []) {
    advisors.add(String(a.id || ''), String(a.identity || ''), a.bundles || [], a.revocations || [], none, now);
    advisors.named(String(a.id || ''), String(a.display_name || ''));
  }
  none.free();
  // The organisation of the reporting link (/o/{slug}/case); on /case the one the server names.
  const org = linkOrg || String(view.org || '');
  const envelopes = (Array.isArray(view.messages) ? view.messages : []).map((m) => String(m.envelope || ''));
  transcript = reporter.openCase(org, envelopes, advisors);
  renderCase();
}

/** A person the core named: their name as the server lists them, else their fingerprint. */
function personName(p) {
  return (p && (p.name || p.fingerprint)) || t('case.unknown_advisor');
}

function warningText(w) {
  const vars = { name: w.name || w.fingerprint || w.id, fp: w.fingerprint || '—' };
  return t(`warning.${w.code}`, vars);
}

function categoryLabel(id) {
  const c = orgInfo && orgInfo.categories.find((x) => x.id === id);
  return c ? (c[currentLang()] || c.nl) : (t(`category.${id}`).startsWith('⟦') ? id : t(`category.${id}`));
}

function attachmentList(list) {
  if (!Array.isArray(list) || !list.length) return null;
  return el('ul', { class: 'attachments' }, ...list.map((a) => el('li', {},
    el('button', {
      type: 'button', class: 'link-button', text: t('case.download', { name: wasm.safeFileName(String(a.name || '')), size: formatBytes(Number(a.size) || 0) }),
      onclick: () => download(a),
    }))));
}

async function download(a) {
  const status = document.getElementById('send-status');
  try {
    const res = await api(`/api/v1/case/attachments/${encodeURIComponent(a.id)}`, { headers: { Authorization: `CaseToken ${reporter.caseToken}` } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const dec = reporter.attachmentDecryptor();
    const parts = [dec.push(bytes), dec.finish()];
    dec.free();
    const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }));
    const link = el('a', { href: url, download: wasm.safeFileName(String(a.name || '')) });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch {
    setSendStatus(() => t('case.download_failed'));
  }
}

function reportBody(b) {
  const rows = [
    ['review.categories', (b.categories || []).map(categoryLabel).join(', ')],
    ['review.role', b.role ? t(`report.role_${b.role}`) : ''],
    ['review.when', /^\d{4}-\d{2}$/.test(b.when || '') ? `${t(`month.${Number(b.when.slice(5))}`)} ${b.when.slice(0, 4)}` : (b.when || '')],
    ['review.where', b.where || ''],
    ['review.wishes', (b.wishes || []).map((w) => t(`wish.${w}`)).join(', ')],
    ['review.contact', b.contact || t('review.anonymous')],
  ].filter(([, v]) => v);
  return [
    el('dl', { class: 'review compact' }, ...rows.flatMap(([k, v]) => [el('dt', { text: t(k) }), el('dd', { text: v })])),
    el('div', { class: 'prose' }, paragraphs(b.story || '')),
  ];
}

function renderMessage(m) {
  const item = el('li', { class: `message message-${m.kind}` });
  if (m.kind === 'unreadable') {
    item.append(el('p', { class: 'warning', text: t(m.problem === 'wrong_org' || m.problem === 'wrong_purpose' ? `transcript.${m.problem}` : 'case.unreadable') }));
    return item;
  }
  if (m.kind === 'member_added' || m.kind === 'member_removed') {
    const vars = { name: m.trusted ? (m.authorName || m.author) : m.author, other: personName(m.subject) };
    item.classList.add(m.trusted ? 'message-verified' : 'message-untrusted');
    item.append(el('p', { class: 'message-meta' }, el('span', { text: formatDay(m.createdAt) })));
    item.append(el('p', { class: m.trusted ? 'membership' : 'warning not-chosen', text: m.trusted ? t(`case.${m.kind}`, vars) : t('case.membership_untrusted', vars) }));
    return item;
  }
  let body = {};
  try { body = JSON.parse(m.body); } catch { body = { text: m.body }; }
  if (!body || typeof body !== 'object') body = { text: String(m.body) };
  const mine = m.kind !== 'reply';
  // A name only for a signer the core trusts (a member at that point); anyone else is shown
  // by fingerprint, never by a name the server gives.
  const who = mine ? t('case.you') : (m.trusted ? (m.authorName || m.author) : t('case.unknown_advisor'));
  const title = m.kind === 'report' ? t('case.your_report') : who;
  item.append(el('p', { class: 'message-meta' },
    el('strong', { text: title }), ' · ', el('span', { text: formatDay(m.createdAt) })));
  if (m.kind === 'reply') {
    let note;
    if (!m.signatureOk) note = t('case.not_verified', { fp: m.author });
    else if (!m.trusted) note = t('case.not_chosen', { fp: m.author });
    else if (!m.parentKnown) note = t('case.gap_here');
    const ok = !note;
    if (ok) item.classList.add('message-verified'); else item.classList.add('message-untrusted');
    item.append(el('p', { class: ok ? 'verified' : 'warning not-chosen' }, ok ? t('case.verified', { name: who, fp: m.author }) : note));
  } else if (!m.signatureOk || !m.parentKnown || m.problem) {
    item.append(el('p', { class: 'warning', text: !m.signatureOk ? t('case.not_verified', { fp: m.author }) : (m.problem === 'not_mine' ? t('transcript.not_mine') : t('case.gap_here')) }));
  }
  if (m.kind === 'report') item.append(...reportBody(body));
  else {
    item.append(el('div', { class: 'prose' }, paragraphs(String(body.text || ''))));
    if (body.contact) item.append(el('p', { class: 'contact-shared', text: `${t('review.contact')}: ${body.contact}` }));
  }
  const files = attachmentList(body.attachments);
  if (files) item.append(files);
  return item;
}

function renderCase() {
  if (!view) return;
  document.getElementById('case-status').textContent = t(`status.${view.status}`);
  document.getElementById('case-status-text').textContent = t(`status_text.${view.status}`);
  document.getElementById('case-created').textContent = view.created;
  const warn = document.getElementById('transcript-warning');
  warn.hidden = transcript.ok;
  warn.textContent = transcript.ok ? '' : t(`transcript.${transcript.problem}`);
  const warnings = document.getElementById('case-warnings');
  warnings.hidden = !transcript.warnings.length;
  warnings.replaceChildren(...transcript.warnings.map((w) => el('li', { class: `warning warning-${w.code}`, text: warningText(w) })));
  const members = document.getElementById('case-members');
  members.replaceChildren(...transcript.members.map((p) => el('li', { class: 'person' },
    el('span', { class: 'person-name', text: personName(p) }),
    el('span', { class: 'fingerprint' }, `${t('advisor.fingerprint')}: `, el('code', { text: p.fingerprint })))));
  document.getElementById('members-title').hidden = !transcript.members.length;
  document.getElementById('messages').replaceChildren(...transcript.messages.map(renderMessage));
  const closed = view.status === 'closed';
  document.getElementById('reply-form').hidden = closed;
  document.getElementById('write-title').hidden = closed;
}

// ---------- writing

function setSendStatus(render) {
  sendStatus = render;
  document.getElementById('send-status').textContent = render();
}

/** Seals the files and the follow-up to the members of the case as last opened, and sends. */
async function sendOnce(text, bar) {
  const files = picker.entries;
  const ids = [];
  if (files.length) {
    // New ids on every try: a retry seals to the members as re-read, under fresh ids.
    for (const f of files) f.id = wasm.makeId();
    await sendAttachments(files, reporter, () => reporter.followUpAttachmentEncryptor(), (i, phase, f) => {
      bar.value = (i + (phase === 'upload' ? 0.5 + f / 2 : f / 2)) / (files.length + 1);
      setSendStatus(() => t('case.sending_file', { n: i + 1, total: files.length }));
    });
    for (const f of files) ids.push(f.id);
  }
  setSendStatus(() => t('case.sending_pow'));
  const pow = await proofOfWork((f) => { bar.value = (files.length + f * 0.9) / (files.length + 1); });
  const contact = document.getElementById('reply-contact').value.trim();
  const body = { text, attachments: picker.describe() };
  if (contact) body.contact = contact;
  const sealed = reporter.sealFollowUp(JSON.stringify(body), Date.now() / 1000);
  const req = { envelope: sealed.envelope };
  if (pow) req.pow = pow;
  await api('/api/v1/case/messages', { method: 'POST', json: req, headers: { Authorization: `CaseToken ${reporter.caseToken}` } });
  return sealed;
}

async function sendReply(e) {
  e.preventDefault();
  const text = document.getElementById('reply-text').value.trim();
  const err = document.getElementById('reply-error');
  if (!text && !picker.entries.length) {
    err.hidden = false;
    err.textContent = t('case.error_empty');
    document.getElementById('reply-text').focus();
    return;
  }
  err.hidden = true;
  const button = document.getElementById('reply-send');
  const box = document.getElementById('send-progress');
  const bar = box.querySelector('progress');
  button.disabled = true;
  box.hidden = false;
  try {
    let sealed;
    try {
      sealed = await sendOnce(text, bar);
    } catch (first) {
      // The server wants stanzas for someone: re-read the case once (a share adds a member by
      // a signed statement) and seal again to the members the core finds. Never wider.
      if (!(first instanceof ApiError && first.status === 409)) throw first;
      await loadCase();
      try {
        sealed = await sendOnce(text, bar);
      } catch (second) {
        if (second instanceof ApiError && second.status === 409) {
          throw new Error('not_member_listed');
        }
        throw second;
      }
    }
    bar.value = 1;
    document.getElementById('reply-text').value = '';
    document.getElementById('reply-contact').value = '';
    picker.clear();
    await loadCase();
    const missing = sealed.unreachable || [];
    setSendStatus(() => (missing.length ? `${t('case.sent')} ${t('case.sent_unreachable', { fps: missing.join(', ') })}` : t('case.sent')));
  } catch (e2) {
    const code = e2 && e2.message;
    setSendStatus(() => {
      if (code === 'not_member_listed') return t('case.error_not_member_listed');
      if (code === 'nobody_reachable') return t('case.no_advisor');
      if (code === 'cannot_reply') return t('case.error_cannot_send');
      return t('case.send_failed');
    });
  } finally {
    button.disabled = false;
    box.hidden = true;
  }
}

function closeMailbox() {
  if (reporter) { reporter.free(); reporter = null; }
  view = null;
  transcript = null;
  document.getElementById('messages').replaceChildren();
  show('view-enter');
}

async function main() {
  if (!(await boot())) return; // no WASM: the page says so; no code can be opened
  const m = /^\/o\/([^/]+)\/case/.exec(location.pathname);
  if (m) linkOrg = decodeURIComponent(m[1]);
  picker = new FilePicker(document.getElementById('reply-files'), document.getElementById('reply-file-list'));
  document.getElementById('code-form').addEventListener('submit', openWithCode);
  document.getElementById('code').addEventListener('input', () => setCodeError(null));
  document.getElementById('reply-form').addEventListener('submit', sendReply);
  document.getElementById('close-case').addEventListener('click', closeMailbox);
  onLanguageChange(() => {
    renderCase();
    picker.render();
    if (codeErrorText) setCodeError(codeErrorText);
    if (sendStatus) document.getElementById('send-status').textContent = sendStatus();
  });
  document.getElementById('code').focus();
}

main();
