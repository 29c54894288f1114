// The confidential advisor's pages: unlock the keyring file in this tab, log in by signing the
// server's challenge, read and answer cases, change their status, share them with a colleague,
// rotate keys and print a poster. All cryptography runs in WASM; Argon2id runs in a Web Worker.
// The keyring, the session token and everything decrypted live only in this tab's memory and
// are forgotten on Lock, after 10 minutes without activity, or when the tab closes. Nothing is
// written to cookies or any browser storage. Only relative /api/v1 URLs are used, so these pages
// work on the instance (/advisor) and from `meldpunt advisor app` on localhost alike.
import {
  wasm, t, el, api as rawApi, ApiError, show, boot, onLanguageChange, formatBytes, currentLang, paragraphs,
  fragmentParams,
} from '/js/common.js';

const IDLE_LIMIT_S = 600;
const HEADER_MAX = 3192;
const ROTATE_VALIDITY_DAYS = 365;
// Rough Argon2id speed in WASM, for the progress estimate only (ms per MiB per pass).
const MS_PER_MIB_PASS = 9;

let S = null; // the unlocked session
let rerender = () => {};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Small helpers.

function nowSecs() {
  return Date.now() / 1000;
}

function locale() {
  return currentLang() === 'nl' ? 'nl-NL' : 'en-GB';
}

function formatServerDay(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '');
  if (!m) return day || '';
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).toLocaleDateString(locale(), {
    day: 'numeric', month: 'long', year: 'numeric',
  });
}

function formatMoment(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleString(locale(), {
    day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

function tOr(key, fallback, vars) {
  const s = t(key, vars);
  return s.startsWith('⟦') ? fallback : s;
}

function errorText(err) {
  const c = (err && (err.code || err.message)) || '';
  if (err instanceof ApiError) {
    if (err.status === 0) return t('advisor.ui.error_network');
    if (err.status === 429) return t('advisor.ui.error_rate');
    return t('advisor.ui.error_server', { code: c || `http_${err.status}` });
  }
  return tOr(`advisor.ui.error_${c}`, t('advisor.ui.error_generic', { code: c }));
}

function setText(id, text) {
  const node = $(id);
  node.textContent = text;
  return node;
}

function showError(id, text) {
  const node = $(id);
  node.textContent = text || '';
  node.hidden = !text;
}

/** Control, bidi and path characters removed by the core. */
function safeFileName(name) {
  return wasm.safeFileName(String(name || ''));
}

function shortId(id) {
  return String(id || '').slice(0, 6).toUpperCase();
}

function blobUrl(parts, type) {
  const url = URL.createObjectURL(new Blob(parts, { type }));
  if (S) S.blobs.push(url);
  return url;
}

function runWorker(request, transfer, onProgress, expectedMs) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('/js/advisor-worker.js', { type: 'module' });
    const started = performance.now();
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      onProgress(Math.min(0.95, 1 - Math.exp(-elapsed / expectedMs)));
    }, 100);
    const done = () => { clearInterval(timer); worker.terminate(); };
    worker.onmessage = (e) => {
      done();
      if (e.data.error) reject(new Error(e.data.error)); else { onProgress(1); resolve(e.data); }
    };
    worker.onerror = () => { done(); reject(new Error('worker')); };
    worker.postMessage(request, transfer);
  });
}

function progressTo(barId, statusId, key) {
  return (f) => {
    $(barId).value = f;
    setText(statusId, t(key, { pct: Math.round(f * 100) }));
  };
}

// ---------------------------------------------------------------------------------------------
// API with the session token (memory only). A 401 logs in again once with the keyring.

async function login() {
  const identity = S.keyring.identity;
  const c = await (await rawApi('/api/v1/advisor/login/challenge', { method: 'POST', json: { identity } })).json();
  const signature = S.keyring.signLogin(c.challenge);
  const r = await (await rawApi('/api/v1/advisor/login', { method: 'POST', json: { identity, challenge: c.challenge, signature } })).json();
  S.token = r.token;
}

async function call(path, opts = {}, retry = true) {
  const headers = { ...(opts.headers || {}), Authorization: `Bearer ${S.token}` };
  try {
    return await rawApi(path, { ...opts, headers });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && retry && S) {
      await login();
      return call(path, opts, false);
    }
    throw e;
  }
}

async function callJson(path, opts) {
  return (await call(path, opts)).json();
}

async function orgPage(slug) {
  if (!S.orgs.has(slug)) {
    try {
      S.orgs.set(slug, await (await rawApi(`/api/v1/orgs/${encodeURIComponent(slug)}`)).json());
    } catch {
      S.orgs.set(slug, null);
    }
  }
  return S.orgs.get(slug);
}

// ---------------------------------------------------------------------------------------------
// Unlock, lock and the idle timer.

async function unlock(e) {
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
    const { parts } = await runWorker({ op: 'unlock', file: bytes.slice(), passphrase }, [],
      progressTo('unlock-bar', 'unlock-status', 'advisor.ui.unlocking_pct'), expected);
    pass.value = '';
    keyring = wasm.AdvisorKeyring.fromParts(parts);
    S = {
      keyring, file: bytes, fileName: file.name, token: null, me: null, orgs: new Map(), seen: new Map(),
      blobs: [], opened: null, view: null, caseId: null, cases: [], unsaved: false,
    };
    setText('unlock-status', t('advisor.ui.logging_in'));
    await login();
    S.me = await callJson('/api/v1/advisor/me');
  } catch (err) {
    if (S) { try { S.keyring.free(); } catch { /* already freed */ } S = null; } else if (keyring) keyring.free();
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

async function lock(reason = 'manual') {
  if (S && S.unsaved && reason === 'manual' && !window.confirm(t('advisor.ui.lock_unsaved'))) return;
  const s = S;
  S = null;
  // A rotated keyring that was not saved yet must not be lost to the idle lock: the new key is
  // already published, so reports may be sealed to it. The file is passphrase-encrypted, so it
  // stays offered for download on the locked screen; everything else is wiped.
  const unsavedFile = s && s.unsaved && s.file ? s.file.slice() : null;
  const unsavedName = s ? safeFileName(s.fileName || 'meldpunt.keyring') : '';
  if (s) {
    if (s.token) {
      try {
        await rawApi('/api/v1/advisor/logout', { method: 'POST', headers: { Authorization: `Bearer ${s.token}` } });
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
    if (S) idleTimer = setTimeout(() => lock('idle'), idleLimitMs());
  };
  for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart', 'input', 'scroll']) {
    document.addEventListener(ev, reset, { passive: true, capture: true });
  }
  reset();
}

function renderWhoami() {
  if (!S || !S.me) return;
  setText('whoami', t('advisor.ui.whoami', { name: S.me.display_name }));
}

function setNav(view) {
  for (const b of document.querySelectorAll('.nav-link')) {
    if (b.dataset.view === view) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
  }
}

// ---------------------------------------------------------------------------------------------
// Inbox.

function badgesFor(d, status) {
  const out = [];
  if (!d) return out;
  if (d.ack_overdue) out.push(['overdue', t('advisor.ui.badge_ack_overdue', { date: formatServerDay(d.ack_due) })]);
  else if (d.ack_due_soon) out.push(['soon', t('advisor.ui.badge_ack_soon', { date: formatServerDay(d.ack_due) })]);
  if (d.feedback_overdue) out.push(['overdue', t('advisor.ui.badge_feedback_overdue', { date: formatServerDay(d.feedback_due) })]);
  else if (d.feedback_due_soon) out.push(['soon', t('advisor.ui.badge_feedback_soon', { date: formatServerDay(d.feedback_due) })]);
  if (!out.length && status !== 'closed') {
    if (status === 'new') out.push(['due', t('advisor.ui.badge_ack_by', { date: formatServerDay(d.ack_due) })]);
    else out.push(['due', t('advisor.ui.badge_feedback_by', { date: formatServerDay(d.feedback_due) })]);
  }
  return out;
}

function badge([kind, text]) {
  return el('span', { class: `badge badge-${kind}`, text });
}

function isUnread(c) {
  return c.last_sender === 'reporter' && c.messages > (S.seen.get(c.id) || 0) && c.status !== 'closed';
}

function urgency(c) {
  const d = c.deadlines || {};
  if (d.ack_overdue || d.feedback_overdue) return 0;
  if (isUnread(c)) return 1;
  if (d.ack_due_soon || d.feedback_due_soon) return 2;
  if (c.status === 'closed') return 4;
  return 3;
}

async function goInbox() {
  setNav('view-inbox');
  show('view-inbox');
  rerender = renderInbox;
  await loadInbox();
}

async function loadInbox() {
  setText('inbox-summary', t('advisor.ui.loading'));
  loadEvents();
  try {
    const { cases } = await callJson('/api/v1/advisor/cases');
    S.cases = cases;
    await Promise.all([...new Set(cases.map((c) => c.org))].map(orgPage));
  } catch (err) {
    setText('inbox-summary', errorText(err));
    return;
  }
  renderInbox();
}

// Who may receive reports: changes among the advisors of the organisations this advisor
// serves (joined, suspended, reinstated, reordered), so that a planted advisor is seen by the
// people who can object. Day granularity only; the server never says more.
async function loadEvents() {
  showError('events-error', null);
  try {
    const { events } = await callJson('/api/v1/advisor/events');
    S.events = Array.isArray(events) ? events : [];
  } catch (err) {
    S.events = [];
    showError('events-error', errorText(err));
  }
  renderEvents();
}

function renderEvents() {
  if (!S || !S.events) return;
  $('events-empty').hidden = S.events.length > 0;
  $('event-list').replaceChildren(...S.events.map((e) => {
    const kind = ['joined', 'suspended', 'unsuspended', 'reordered'].includes(e.kind) ? e.kind : 'other';
    const by = e.appointed_by === 'branch' || e.appointed_by === 'organisation' ? t(`advisor.appointed_${e.appointed_by}`) : '';
    const what = t(`advisor.ui.event_${kind}`, {
      name: String(e.display_name || ''),
      org: e.org ? orgName(String(e.org)) : t('advisor.ui.event_branch_wide'),
    });
    const text = kind === 'joined' && by ? `${what} ${by}.` : what;
    return el('li', { class: `event event-${kind}` },
      el('span', { class: 'event-day', text: formatServerDay(String(e.day || '')) }), ' ',
      el('span', { class: 'event-text', text }));
  }));
}

function orgName(slug) {
  const page = S.orgs.get(slug);
  return (page && page.name) || slug;
}

function renderInbox() {
  if (!S) return;
  renderEvents();
  const cases = [...S.cases].sort((a, b) => urgency(a) - urgency(b) || (a.updated < b.updated ? 1 : -1));
  const unread = cases.filter(isUnread).length;
  const overdue = cases.filter((c) => c.deadlines && (c.deadlines.ack_overdue || c.deadlines.feedback_overdue)).length;
  setText('inbox-summary', t('advisor.ui.inbox_summary', { n: cases.length, unread, overdue }));
  $('inbox-empty').hidden = cases.length > 0;
  $('case-list').replaceChildren(...cases.map((c) => {
    const badges = badgesFor(c.deadlines, c.status).map(badge);
    if (isUnread(c)) badges.unshift(badge(['unread', c.messages === 1 ? t('advisor.ui.badge_new_report') : t('advisor.ui.badge_unread')]));
    const open = el('button', { type: 'button', class: 'case-open', onclick: () => openCase(c.id) },
      t('advisor.ui.case_label', { id: shortId(c.id) }));
    return el('li', { class: `case-card status-${c.status}` },
      el('h2', { class: 'case-card-title' }, open),
      el('p', { class: 'badges' }, ...badges),
      el('dl', { class: 'case-card-facts' },
        el('dt', { text: t('advisor.ui.org') }), el('dd', { text: orgName(c.org) }),
        el('dt', { text: t('advisor.ui.status') }), el('dd', { text: t(`advisor.ui.status_${c.status}`) }),
        el('dt', { text: t('advisor.ui.created') }), el('dd', { text: formatServerDay(c.created) }),
        el('dt', { text: t('advisor.ui.updated') }), el('dd', { text: formatServerDay(c.updated) }),
        el('dt', { text: t('advisor.ui.messages') }), el('dd', { text: String(c.messages) })));
  }));
}

// ---------------------------------------------------------------------------------------------
// A case.

async function openCase(id) {
  setNav('');
  S.caseId = id;
  rerender = renderCase;
  for (const s of ['reply-status', 'status-status', 'share-status', 'download-status']) setText(s, '');
  showError('reply-error', '');
  $('reply-text').value = '';
  await loadCase();
  show('view-case');
}

async function loadCase() {
  const id = S.caseId;
  let view;
  try {
    view = await callJson(`/api/v1/advisor/cases/${encodeURIComponent(id)}`);
    await orgPage(view.org);
  } catch (err) {
    setText('case-title', t('advisor.ui.case_label', { id: shortId(id) }));
    setText('case-transcript', errorText(err));
    return;
  }
  if (S.opened) S.opened.free();
  S.opened = S.keyring.openCase(view, nowSecs());
  S.view = view;
  S.summary = S.opened.summary;
  // What the server says about each message (who posted it, when): for the unread badge and the
  // date only, never for trust.
  S.summary.messages.forEach((m, i) => {
    const v = view.messages[i] || {};
    m.sender = String(v.sender || '');
    m.created = String(v.created || '');
  });
  // Unread: reporter messages after the newest advisor message, not seen before in this session.
  const seenBefore = S.seen.get(id) || 0;
  const msgs = S.summary.messages;
  let lastAdvisor = -1;
  msgs.forEach((m, i) => { if (m.sender === 'advisor') lastAdvisor = i; });
  S.unreadFrom = Math.max(lastAdvisor + 1, seenBefore);
  S.seen.set(id, view.messages.length);
  renderCase();
}

function parseBody(m) {
  try {
    const b = JSON.parse(m.body);
    return b && typeof b === 'object' ? b : { text: String(m.body) };
  } catch {
    return { text: String(m.body || '') };
  }
}

/** A person the core named: their name as the server lists them, else the fingerprint. */
function personName(p) {
  return (p && (p.name || p.fingerprint)) || t('advisor.ui.from_advisor');
}

function warningText(w) {
  return t(`advisor.ui.warning_${w.code}`, { name: w.name || w.fingerprint || w.id, fp: w.fingerprint || '—' });
}

function categoryName(slug, id) {
  const page = S.orgs.get(slug);
  const cat = page && (page.categories || []).find((c) => c.id === id);
  if (!cat) return id;
  return (currentLang() === 'en' ? cat.en : cat.nl) || cat.nl || id;
}

function attachmentNames() {
  const names = new Map();
  for (const m of S.summary.messages) {
    if (m.kind === 'unreadable') continue;
    const b = parseBody(m);
    for (const a of Array.isArray(b.attachments) ? b.attachments : []) {
      if (a && typeof a.id === 'string') names.set(a.id, { name: safeFileName(a.name), size: Number(a.size) || 0, type: String(a.type || '') });
    }
  }
  return names;
}

function verification(m) {
  if (m.kind === 'unreadable') return el('p', { class: 'check check-bad', text: t('advisor.ui.msg_unreadable') });
  if (!m.signatureOk) return el('p', { class: 'check check-bad', text: t('advisor.ui.msg_forged') });
  if (m.problem === 'wrong_org' || m.problem === 'wrong_purpose') return el('p', { class: 'check check-bad', text: t(`advisor.ui.msg_${m.problem}`) });
  if (!m.trusted && (m.kind === 'reply' || m.kind === 'member_added' || m.kind === 'member_removed')) {
    return el('p', { class: 'check check-bad', text: t('advisor.ui.msg_not_member', { fp: m.author }) });
  }
  if (!m.parentKnown) return el('p', { class: 'check check-warn', text: t('advisor.ui.msg_gap') });
  if (m.kind === 'reply' || m.kind === 'member_added' || m.kind === 'member_removed') return el('p', { class: 'check check-ok', text: t('advisor.ui.msg_verified_signed', { fp: m.author }) });
  return el('p', { class: 'check check-ok', text: t('advisor.ui.msg_verified') });
}

function reportBody(b, slug) {
  const dl = el('dl', { class: 'review compact' });
  const add = (key, value) => {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) return;
    dl.append(el('dt', { text: t(key) }), el('dd', {}, value instanceof Node ? value : String(value)));
  };
  add('advisor.ui.field_categories', (b.categories || []).map((c) => categoryName(slug, c)).join(', '));
  add('advisor.ui.field_role', b.role ? tOr(`advisor.ui.role_${b.role}`, b.role) : '');
  add('advisor.ui.field_when', b.when);
  add('advisor.ui.field_where', b.where);
  if (b.story) add('advisor.ui.field_story', paragraphs(b.story));
  add('advisor.ui.field_wishes', (b.wishes || []).map((w) => tOr(`advisor.ui.wish_${w}`, w)).join(', '));
  return dl;
}

function messageItem(m, i) {
  const li = el('li', { class: `message message-${m.kind === 'reply' ? 'reply' : m.kind}` });
  let who;
  if (m.kind === 'report') who = t('advisor.ui.from_report');
  else if (m.kind === 'follow_up') who = t('advisor.ui.from_reporter');
  else if (m.kind === 'reply' || m.kind === 'member_added' || m.kind === 'member_removed') {
    who = m.mine ? t('advisor.ui.from_you') : (m.trusted ? (m.authorName || m.author) : t('advisor.ui.from_unknown'));
  }
  else who = m.sender === 'advisor' ? t('advisor.ui.from_advisor') : t('advisor.ui.from_reporter');
  const when = m.createdAt ? formatMoment(m.createdAt) : formatServerDay(m.created);
  const meta = el('p', { class: 'message-meta' }, el('strong', { text: who }), ` · ${when}`);
  if (m.sender === 'reporter' && i >= S.unreadFrom && m.kind !== 'unreadable') meta.append(' ', badge(['unread', t('advisor.ui.badge_new')]));
  li.append(meta, verification(m));
  if (m.kind === 'unreadable') return li;
  if (m.kind === 'member_added' || m.kind === 'member_removed') {
    const vars = { name: m.mine ? t('advisor.ui.from_you') : (m.trusted ? (m.authorName || m.author) : m.author), other: personName(m.subject) };
    li.append(el('p', { class: 'membership', text: t(`advisor.ui.${m.kind}`, vars) }));
    return li;
  }
  const b = parseBody(m);
  if (m.kind === 'report') li.append(reportBody(b, S.view.org));
  else li.append(paragraphs(b.text));
  if (b.contact) {
    li.append(el('div', { class: 'contact' }, el('p', { class: 'label', text: t('advisor.ui.field_contact') }), paragraphs(b.contact)));
  }
  const atts = Array.isArray(b.attachments) ? b.attachments : [];
  if (atts.length) {
    li.append(el('p', { class: 'hint', text: t('advisor.ui.msg_attachments', { names: atts.map((a) => a && safeFileName(a.name)).filter(Boolean).join(', ') }) }));
  }
  return li;
}

function renderCase() {
  if (!S || !S.view) return;
  const v = S.view;
  const sum = S.summary;
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

function colleagueCheck(a) {
  // The core decides: remembered in the keyring, or a fingerprint must be typed, or refused.
  try {
    const c = S.keyring.confirmColleague(a, null, nowSecs());
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

function renderShareChoices() {
  const page = S.orgs.get(S.view.org);
  const members = new Set(S.summary.members.map((a) => a.fingerprint));
  const others = ((page && page.advisors) || []).filter((a) => !members.has(wasm.fingerprintOf(String(a.identity || ''))));
  const selected = document.querySelector('input[name="share-to"]:checked');
  const keep = selected ? selected.value : '';
  $('share-none').hidden = others.length > 0;
  $('share-send').disabled = others.length === 0 || !S.summary.amMember;
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

async function downloadAttachment(a, name, button) {
  const status = $('download-status');
  button.disabled = true;
  const label = name || t('advisor.ui.attachment_unnamed');
  status.textContent = t('advisor.ui.downloading', { name: label, pct: 0 });
  let dec = null;
  try {
    const res = await call(`/api/v1/advisor/cases/${encodeURIComponent(S.view.id)}/attachments/${encodeURIComponent(a.id)}`);
    dec = S.keyring.attachmentDecryptor(S.opened, a.stanzas || []);
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

async function sendReply(e) {
  e.preventDefault();
  showError('reply-error', '');
  const text = $('reply-text').value.trim();
  if (!text) { showError('reply-error', t('advisor.ui.error_empty_reply')); $('reply-text').focus(); return; }
  $('reply-send').disabled = true;
  setText('reply-status', t('advisor.ui.sending'));
  try {
    const { envelope } = S.keyring.sealReply(S.opened, JSON.stringify({ text, attachments: [] }), nowSecs());
    await call(`/api/v1/advisor/cases/${encodeURIComponent(S.view.id)}/messages`, { method: 'POST', json: { envelope } });
    $('reply-text').value = '';
    await loadCase();
    setText('reply-status', t('advisor.ui.reply_sent'));
  } catch (err) {
    setText('reply-status', '');
    showError('reply-error', errorText(err));
  } finally {
    $('reply-send').disabled = !(S && S.summary && S.summary.canReply);
  }
}

async function saveStatus(e) {
  e.preventDefault();
  const status = $('status-select').value;
  setText('status-status', t('advisor.ui.saving'));
  try {
    await call(`/api/v1/advisor/cases/${encodeURIComponent(S.view.id)}/status`, { method: 'PUT', json: { status } });
    await loadCase();
    setText('status-status', t('advisor.ui.status_saved', { status: t(`advisor.ui.status_${status}`) }));
  } catch (err) {
    setText('status-status', errorText(err));
  }
}

async function share(e) {
  e.preventDefault();
  showError('share-fp-error', '');
  const chosen = document.querySelector('input[name="share-to"]:checked');
  if (!chosen) { setText('share-status', t('advisor.ui.error_share_choose')); return; }
  const page = S.orgs.get(S.view.org);
  const a = page.advisors.find((x) => x.id === chosen.value);
  const typed = $('share-fingerprint').value.trim();
  let colleague = null;
  try {
    colleague = S.keyring.confirmColleague(a, typed || null, nowSecs());
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
    const stanzas = [...S.keyring.shareMessages(S.opened, colleague)];
    for (const att of S.view.attachments) {
      const res = await call(`/api/v1/advisor/cases/${encodeURIComponent(S.view.id)}/attachments/${encodeURIComponent(att.id)}`);
      const header = await readHeader(res);
      stanzas.push({ attachment: att.id, stanza: S.keyring.shareAttachment(S.opened, header, att.stanzas || [], colleague) });
    }
    // The signed statement that makes the colleague a member, for everyone on the case.
    const envelope = S.keyring.sealAdd(S.opened, colleague, nowSecs());
    await call(`/api/v1/advisor/cases/${encodeURIComponent(S.view.id)}/share`, { method: 'POST', json: { advisor: a.id, stanzas, envelope } });
    if (colleague.isNew) {
      S.keyring.remember(colleague, new Date().toISOString().slice(0, 10));
      S.unsaved = true;
      $('share-save-form').hidden = false;
    }
    showSharePrompt(null);
    await loadCase();
    setText('share-status', t('advisor.ui.shared', { name: a.display_name }));
  } catch (err) {
    setText('share-status', errorText(err));
  } finally {
    colleague.free();
    $('share-send').disabled = !(S && S.summary && S.summary.amMember);
  }
}

/** Writes the keyring file with the remembered colleagues (Argon2id in the worker) for download. */
async function saveKeyring(e) {
  e.preventDefault();
  showError('share-save-error', '');
  const pass = $('share-save-passphrase');
  if (!pass.value) { showError('share-save-error', t('advisor.ui.error_no_passphrase')); pass.focus(); return; }
  $('share-save-button').disabled = true;
  setText('share-save-status', t('advisor.ui.saving_keyring'));
  try {
    const out = await runWorker({ op: 'rewrite', file: S.file.slice(), passphrase: pass.value, identity: S.keyring.identity, meta: S.keyring.meta }, [],
      () => {}, 2000);
    pass.value = '';
    S.file = out.file;
    const link = $('share-save-download');
    link.href = blobUrl([out.file], 'application/octet-stream');
    link.download = safeFileName(S.fileName || 'meldpunt.keyring');
    link.hidden = false;
    setText('share-save-status', t('advisor.ui.keyring_ready'));
    link.focus();
  } catch (err) {
    setText('share-save-status', '');
    showError('share-save-error', errorText(err));
  } finally {
    $('share-save-button').disabled = false;
  }
}

async function removeMember(a) {
  // Removing someone (or leaving) cannot be undone by this advisor alone: ask first.
  if (!window.confirm(t(a.me ? 'advisor.ui.leave_confirm' : 'advisor.ui.remove_confirm', { name: personName(a) }))) return;
  setText('remove-status', t('advisor.ui.removing', { name: personName(a) }));
  try {
    const out = S.keyring.sealRemove(S.opened, a.fingerprint, nowSecs());
    await call(`/api/v1/advisor/cases/${encodeURIComponent(S.view.id)}/remove`, { method: 'POST', json: { advisor: out.advisor, envelope: out.envelope } });
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

// ---------------------------------------------------------------------------------------------
// Keys: fingerprints, rotation, poster.

function goKeys() {
  setNav('view-keys');
  rerender = renderKeys;
  renderKeys();
  show('view-keys');
}

function renderKeys() {
  if (!S) return;
  setText('my-fingerprint', S.keyring.fingerprint);
  const now = nowSecs();
  const keys = [...S.keyring.keys(now, (S.me && S.me.all_bundles) || [])].reverse();
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
      el('span', { class: 'hint', text: t('advisor.ui.key_validity', { from: formatMoment(k.notBefore), to: formatMoment(k.notAfter) }) }));
  }));
}

async function rotate(e) {
  e.preventDefault();
  showError('rotate-error', '');
  const pass = $('rotate-passphrase');
  if (!pass.value) { showError('rotate-error', t('advisor.ui.error_no_passphrase')); pass.focus(); return; }
  const button = $('rotate-button');
  button.disabled = true;
  $('rotate-progress').hidden = false;
  try {
    const info = wasm.keyringFileInfo(S.file);
    const expected = 2 * ((info.mKib / 1024) * info.t * MS_PER_MIB_PASS) + 300;
    const out = await runWorker({ op: 'rotate', file: S.file.slice(), passphrase: pass.value, now: nowSecs(), validityDays: ROTATE_VALIDITY_DAYS }, [],
      progressTo('rotate-bar', 'rotate-status', 'advisor.ui.rotating_pct'), expected);
    pass.value = '';
    setText('rotate-status', t('advisor.ui.publishing'));
    await call('/api/v1/advisor/keys', { method: 'POST', json: { bundle: out.bundle } });
    S.keyring.replaceParts(out.parts);
    S.file = out.file;
    S.unsaved = true;
    S.me = await callJson('/api/v1/advisor/me');
    const link = $('rotate-download');
    link.href = blobUrl([out.file], 'application/octet-stream');
    link.download = safeFileName(S.fileName || 'meldpunt.keyring');
    $('rotate-done').hidden = false;
    setText('rotate-status', t('advisor.ui.rotated'));
    renderKeys();
    link.focus();
  } catch (err) {
    setText('rotate-status', '');
    showError('rotate-error', errorText(err));
  } finally {
    $('rotate-progress').hidden = true;
    button.disabled = false;
  }
}

function defaultPosterLink() {
  let base = location.origin;
  try {
    const meta = JSON.parse(S.keyring.meta || '{}');
    if (meta && typeof meta.instance === 'string' && /^https?:\/\//.test(meta.instance)) base = meta.instance.replace(/\/+$/, '');
  } catch { /* no metadata */ }
  const org = S.me && S.me.org;
  return org ? `${base}/o/${org}#pin=${S.keyring.pin}` : `${base}/#pin=${S.keyring.pin}`;
}

function goPoster() {
  setNav('');
  rerender = renderPoster;
  if (!$('poster-link').value) $('poster-link').value = defaultPosterLink();
  renderPoster();
  show('view-poster');
}

function renderPoster() {
  if (!S) return;
  const link = $('poster-link').value.trim();
  showError('poster-error', '');
  setText('poster-name', S.me.display_name);
  const photo = $('poster-photo');
  if (S.me.photo && S.me.photo.startsWith('data:image/')) {
    photo.src = S.me.photo;
    photo.alt = t('advisor.ui.poster_photo_alt', { name: S.me.display_name });
    photo.hidden = false;
  } else {
    photo.hidden = true;
  }
  setText('poster-fp', S.keyring.fingerprint);
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

// ---------------------------------------------------------------------------------------------
// Start.

async function start() {
  await boot();
  const locked = fragmentParams().get('locked');
  if (locked) {
    setText('unlock-status', locked === 'idle' ? t('advisor.ui.locked_idle') : t('advisor.ui.locked'));
    history.replaceState(null, '', location.pathname + (currentLang() === 'en' ? '#lang=en' : ''));
  }
  $('unlock-form').addEventListener('submit', unlock);
  $('lock').addEventListener('click', () => lock('manual'));
  for (const b of document.querySelectorAll('.nav-link')) {
    b.addEventListener('click', () => (b.dataset.view === 'view-keys' ? goKeys() : goInbox()));
  }
  $('inbox-refresh').addEventListener('click', loadInbox);
  $('back-to-inbox').addEventListener('click', goInbox);
  $('reply-form').addEventListener('submit', sendReply);
  $('status-form').addEventListener('submit', saveStatus);
  $('share-form').addEventListener('submit', share);
  $('share-save-form').addEventListener('submit', saveKeyring);
  $('rotate-form').addEventListener('submit', rotate);
  $('rotate-download').addEventListener('click', () => { if (S) S.unsaved = false; });
  $('open-poster').addEventListener('click', goPoster);
  $('back-to-keys').addEventListener('click', goKeys);
  $('poster-link').addEventListener('change', renderPoster);
  $('poster-print').addEventListener('click', () => window.print());
  onLanguageChange(() => { renderWhoami(); rerender(); });
  window.addEventListener('beforeunload', () => {
    if (S) { try { S.keyring.free(); } catch { /* freed */ } }
  });
}

start();
