// The inbox: the cases this advisor reads, most urgent first, and the changes among the
// advisors of the organisations they serve.
import { t, formatServerDay } from '/js/i18n.js';
import { $, el, setText, show } from '/js/dom.js';
import { app, errorText, showError, shortId, setNav, badge, callJson, orgPage, orgName } from '/js/advisor/state.js';
import { badgesFor } from '/js/advisor/messages.js';
import { openCase } from '/js/advisor/case.js';

function isUnread(c) {
  return c.last_sender === 'reporter' && c.messages > (app.S.seen.get(c.id) || 0) && c.status !== 'closed';
}

function urgency(c) {
  const d = c.deadlines || {};
  if (d.ack_overdue || d.feedback_overdue) return 0;
  if (isUnread(c)) return 1;
  if (d.ack_due_soon || d.feedback_due_soon) return 2;
  if (c.status === 'closed') return 4;
  return 3;
}

export async function goInbox() {
  setNav('view-inbox');
  show('view-inbox');
  app.rerender = renderInbox;
  await loadInbox();
}

export async function loadInbox() {
  setText('inbox-summary', t('advisor.ui.loading'));
  loadEvents();
  try {
    const { cases } = await callJson('/api/v1/advisor/cases');
    app.S.cases = cases;
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
    app.S.events = Array.isArray(events) ? events : [];
  } catch (err) {
    app.S.events = [];
    showError('events-error', errorText(err));
  }
  renderEvents();
}

function renderEvents() {
  if (!app.S || !app.S.events) return;
  $('events-empty').hidden = app.S.events.length > 0;
  $('event-list').replaceChildren(...app.S.events.map((e) => {
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

function renderInbox() {
  if (!app.S) return;
  renderEvents();
  const cases = [...app.S.cases].sort((a, b) => urgency(a) - urgency(b) || (a.updated < b.updated ? 1 : -1));
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
