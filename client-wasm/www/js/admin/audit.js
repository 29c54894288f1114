// The audit log: what was done on this instance (an operator) or organisation (its admin).
import { t, has, formatMoment } from '/js/i18n.js';
import { $, el } from '/js/dom.js';
import { api, guarded } from '/js/admin/session.js';

let auditEntries = null;
let currentRole = () => null;

/** `role` says whose log it is (the operator's shows the organisation of each entry). */
export function init({ role }) {
  currentRole = role;
}

export async function openAudit() {
  await guarded('audit-error', async () => {
    auditEntries = await api('/api/v1/admin/audit');
    renderAudit();
  });
}

function auditAction(action) {
  const key = `admin.audit_action.${action}`;
  return has(key) ? t(key) : action;
}

export function renderAudit() {
  if (!auditEntries) return;
  const list = [...auditEntries].sort((a, b) => b.at - a.at);
  $('audit-list').replaceChildren(...list.map((e) => el('li', { class: 'audit-entry' },
    el('p', { class: 'audit-head' },
      el('time', { datetime: new Date(e.at * 1000).toISOString(), text: formatMoment(e.at) }),
      ' ', el('strong', { text: auditAction(e.action) })),
    el('p', { class: 'audit-who', text: [t('admin.audit_by', { actor: e.actor || '—' }), e.org && currentRole() === 'operator' ? t('admin.audit_org', { org: e.org }) : null].filter(Boolean).join(' · ') }),
    e.detail ? el('p', { class: 'audit-detail', text: typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail) }) : null)));
  $('audit-empty').hidden = list.length > 0;
}
