// The pieces of a case the views draw: deadline badges, the messages with what the core
// verified about each, the report's fields. Text only, never HTML.
import { t, tOr, currentLang, formatMoment, formatServerDay } from '/js/i18n.js';
import { el, paragraphs } from '/js/dom.js';
import { app, safeFileName, badge } from '/js/advisor/state.js';

export function badgesFor(d, status) {
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

export function parseBody(m) {
  try {
    const b = JSON.parse(m.body);
    return b && typeof b === 'object' ? b : { text: String(m.body) };
  } catch {
    return { text: String(m.body || '') };
  }
}

/** A person the core named: their name as the server lists them, else the fingerprint. */
export function personName(p) {
  return (p && (p.name || p.fingerprint)) || t('advisor.ui.from_advisor');
}

export function warningText(w) {
  return t(`advisor.ui.warning_${w.code}`, { name: w.name || w.fingerprint || w.id, fp: w.fingerprint || '—' });
}

function categoryName(slug, id) {
  const page = app.S.orgs.get(slug);
  const cat = page && (page.categories || []).find((c) => c.id === id);
  if (!cat) return id;
  return (currentLang() === 'en' ? cat.en : cat.nl) || cat.nl || id;
}

export function attachmentNames() {
  const names = new Map();
  for (const m of app.S.summary.messages) {
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

export function messageItem(m, i) {
  const li = el('li', { class: `message message-${m.kind === 'reply' ? 'reply' : m.kind}` });
  let who;
  if (m.kind === 'report') who = t('advisor.ui.from_report');
  else if (m.kind === 'follow_up') who = t('advisor.ui.from_reporter');
  else if (m.kind === 'reply' || m.kind === 'member_added' || m.kind === 'member_removed') {
    who = m.mine ? t('advisor.ui.from_you') : (m.trusted ? (m.authorName || m.author) : t('advisor.ui.from_unknown'));
  }
  else who = m.sender === 'advisor' ? t('advisor.ui.from_advisor') : t('advisor.ui.from_reporter');
  const when = m.createdAt ? formatMoment(m.createdAt, 'long') : formatServerDay(m.created);
  const meta = el('p', { class: 'message-meta' }, el('strong', { text: who }), ` · ${when}`);
  if (m.sender === 'reporter' && i >= app.S.unreadFrom && m.kind !== 'unreadable') meta.append(' ', badge(['unread', t('advisor.ui.badge_new')]));
  li.append(meta, verification(m));
  if (m.kind === 'unreadable') return li;
  if (m.kind === 'member_added' || m.kind === 'member_removed') {
    const vars = { name: m.mine ? t('advisor.ui.from_you') : (m.trusted ? (m.authorName || m.author) : m.author), other: personName(m.subject) };
    li.append(el('p', { class: 'membership', text: t(`advisor.ui.${m.kind}`, vars) }));
    return li;
  }
  const b = parseBody(m);
  if (m.kind === 'report') li.append(reportBody(b, app.S.view.org));
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

