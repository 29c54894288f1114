// The mailbox (/case and /o/{slug}/case): enter the pickup code, read the verified
// conversation, write a follow-up.
import {
  wasm, boot, t, api, el, show, paragraphs, fragmentParams, currentLang, onLanguageChange,
  proofOfWork, deriveSeed, formatDay, formatBytes, ApiError, CRYPTO_UNAVAILABLE,
} from '/js/common.js';
import { FilePicker, sendAttachments } from '/js/files.js';

let pins = null;
let reporter = null; // wasm.Reporter while the mailbox is open
let advisors = null;
let view = null; // the server's case view
let transcript = null;
let orgInfo = null;
let picker = null;
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
  view.checks = new Map();
  for (const a of view.advisors) view.checks.set(a.id, advisors.add(a.id, a.identity, a.bundles, a.revocations, pins, now));
  transcript = reporter.openCase(view.messages.map((m) => m.envelope), advisors);
  renderCase();
}

function advisorName(id) {
  const a = view.advisors.find((x) => x.id === id);
  return a ? a.display_name : t('case.unknown_advisor');
}

function categoryLabel(id) {
  const c = orgInfo && orgInfo.categories.find((x) => x.id === id);
  return c ? (c[currentLang()] || c.nl) : (t(`category.${id}`).startsWith('⟦') ? id : t(`category.${id}`));
}

function attachmentList(list) {
  if (!Array.isArray(list) || !list.length) return null;
  return el('ul', { class: 'attachments' }, ...list.map((a) => el('li', {},
    el('button', {
      type: 'button', class: 'link-button', text: t('case.download', { name: a.name, size: formatBytes(a.size || 0) }),
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
    const link = el('a', { href: url, download: a.name || 'bijlage' });
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
    item.append(el('p', { class: 'warning', text: t('case.unreadable') }));
    return item;
  }
  let body = {};
  try { body = JSON.parse(m.body); } catch { body = { text: m.body }; }
  const mine = m.kind !== 'reply';
  // A reply's name comes from the server's list only for an advisor the report named (or the
  // link pinned): anyone else is shown by fingerprint, never by a name the server gives.
  const who = mine ? t('case.you') : (m.trusted ? advisorName(m.authorId) : t('case.unknown_advisor'));
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
  } else if (!m.signatureOk || !m.parentKnown) {
    item.append(el('p', { class: 'warning', text: m.signatureOk ? t('case.gap_here') : t('case.not_verified', { fp: m.author }) }));
  }
  if (m.kind === 'report') item.append(...reportBody(body));
  else {
    item.append(el('div', { class: 'prose' }, paragraphs(body.text || '')));
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

async function sendReply(e) {
  e.preventDefault();
  const text = document.getElementById('reply-text').value.trim();
  const err = document.getElementById('reply-error');
  const status = document.getElementById('send-status');
  if (!text && !picker.entries.length) {
    err.hidden = false;
    err.textContent = t('case.error_empty');
    document.getElementById('reply-text').focus();
    return;
  }
  err.hidden = true;
  // Only the advisors the report named (§6), never someone the server added later.
  const chosen = reporter.chosenAdvisors(advisors);
  if (!chosen.length) { setSendStatus(() => t('case.no_advisor')); return; }
  const button = document.getElementById('reply-send');
  const box = document.getElementById('send-progress');
  const bar = box.querySelector('progress');
  button.disabled = true;
  box.hidden = false;
  try {
    const files = picker.entries;
    if (files.length) {
      await sendAttachments(files, reporter, view.org, advisors, chosen, (i, phase, f) => {
        bar.value = (i + (phase === 'upload' ? 0.5 + f / 2 : f / 2)) / (files.length + 1);
        setSendStatus(() => t('case.sending_file', { n: i + 1, total: files.length }));
      });
    }
    setSendStatus(() => t('case.sending_pow'));
    const pow = await proofOfWork((f) => { bar.value = (files.length + f * 0.9) / (files.length + 1); });
    const contact = document.getElementById('reply-contact').value.trim();
    const body = { text, attachments: picker.describe() };
    if (contact) body.contact = contact;
    const envelope = reporter.sealFollowUp(view.org, advisors, chosen, JSON.stringify(body), Date.now() / 1000);
    const req = { envelope };
    if (pow) req.pow = pow;
    await api('/api/v1/case/messages', { method: 'POST', json: req, headers: { Authorization: `CaseToken ${reporter.caseToken}` } });
    bar.value = 1;
    document.getElementById('reply-text').value = '';
    document.getElementById('reply-contact').value = '';
    picker.clear();
    await loadCase();
    setSendStatus(() => t('case.sent'));
  } catch (e2) {
    setSendStatus(() => e2 instanceof ApiError && e2.status === 409 ? t('error.stale_keys') : t('case.send_failed'));
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
  try {
    pins = wasm.Pins.fromFragment(fragmentParams().has('pin') ? `#pin=${fragmentParams().get('pin')}` : '');
  } catch {
    pins = wasm.Pins.fromFragment('#pin=');
  }
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
