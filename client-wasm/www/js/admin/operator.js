// The instance operator's views: member organisations (create, suspend/resume, a one-time link
// for the organisation's first admin), branch-wide advisors (invite, status, suspend) and the
// instance setting that makes two-step verification compulsory.
import { t, msg, onLanguageChange, formatDay } from '/js/i18n.js';
import { $, el } from '/js/dom.js';
import { api, ApiError, showError, errorKey, guarded } from '/js/admin/session.js';
import { advisorInviteOut, namedButton, copyFrom, setAdvisorSuspended, renderAdvisorList } from '/js/admin/parts.js';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

let orgs = null;
const adminInvites = new Map(); // slug -> {invite, expires_at}
const orgStatus = new Map(); // slug -> {key, vars}
let branch = null;
const branchStatus = new Map(); // advisor id -> {key, vars}
let branchInvite = null;
let slugTouched = false;

export function init() {
  $('org-create-form').addEventListener('submit', createOrg);
  $('org-create-name').addEventListener('input', () => {
    if (!slugTouched) $('org-create-slug').value = slugFrom($('org-create-name').value);
  });
  $('org-create-slug').addEventListener('input', () => { slugTouched = $('org-create-slug').value !== ''; });
  $('branch-invite').addEventListener('click', makeBranchInvite);
  $('instance-form').addEventListener('submit', saveInstance);
  onLanguageChange(() => {
    renderOrgs();
    renderBranch();
    if (branchInvite) advisorInviteOut($('branch-invite-out'), branchInvite);
  });
}

/** A slug suggested from a name: "Bakkerij De Zon B.V." → "bakkerij-de-zon-bv". */
export function slugFrom(name) {
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[.']/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');
}

// ---------- organisations

export async function openOrgs() {
  await guarded('orgs-error', async () => {
    orgs = await api('/api/v1/admin/orgs');
    renderOrgs();
  });
}

function orgCard(o) {
  const invite = adminInvites.get(o.slug);
  const status = el('p', { class: 'live', role: 'status', 'aria-live': 'polite' });
  const s = orgStatus.get(o.slug);
  if (s) msg(status, s.key, s.vars);
  let inviteBox = null;
  if (invite) {
    const link = `${location.origin}/admin/#invite=${invite.invite}`;
    const id = `invite-link-${o.slug}`;
    const copyStatus = el('p', { class: 'live', role: 'status', 'aria-live': 'polite' });
    const input = el('input', { id, type: 'text', readonly: true, spellcheck: 'false', value: link });
    inviteBox = el('div', { class: 'invite-out' },
      el('label', { for: id, class: 'label', text: t('admin.admin_invite_label', { org: o.name }) }),
      el('div', { class: 'copy-row' }, input,
        el('button', { type: 'button', class: 'button secondary', text: t('admin.copy'), onclick: () => copyFrom(input, copyStatus) })),
      copyStatus,
      el('p', { class: 'hint', text: t('admin.admin_invite_hint', { date: formatDay(invite.expires_at) }) }));
  }
  return el('li', { class: `card org-card ${o.suspended ? 'is-suspended' : ''}`, 'data-slug': o.slug },
    el('h3', { class: 'card-title', text: o.name }),
    el('p', { class: 'tags' },
      o.suspended ? el('span', { class: 'tag tag-suspended', text: t('admin.suspended') }) : el('span', { class: 'tag tag-active', text: t('admin.active') }),
      el('span', { class: 'tag-text' }, `${t('admin.org_page')}: `, el('code', { text: `/o/${o.slug}` }))),
    o.suspended ? el('p', { class: 'hint', text: t('admin.org_suspended_hint') }) : null,
    el('div', { class: 'card-actions' },
      namedButton('admin.admin_invite_button', o.name, { class: 'button secondary small', onclick: () => makeAdminInvite(o) }),
      namedButton(o.suspended ? 'admin.resume' : 'admin.suspend', o.name, {
        class: `button ${o.suspended ? 'primary' : 'secondary'} small`,
        onclick: () => setOrgSuspended(o, !o.suspended),
      })),
    status,
    inviteBox);
}

function renderOrgs() {
  if (!orgs) return;
  const list = [...orgs].sort((a, b) => a.name.localeCompare(b.name));
  $('org-list').replaceChildren(...list.map(orgCard));
  $('orgs-empty').hidden = list.length > 0;
}

function focusCardButton(listId, attr, value, cls) {
  const card = $(listId).querySelector(`[${attr}="${CSS.escape(value)}"]`);
  const button = card && card.querySelector(cls);
  if (button) button.focus();
}

async function makeAdminInvite(o) {
  orgStatus.delete(o.slug);
  try {
    const r = await api(`/api/v1/admin/orgs/${encodeURIComponent(o.slug)}/admin-invites`, { method: 'POST', json: {} });
    adminInvites.set(o.slug, r);
    orgStatus.set(o.slug, { key: 'admin.admin_invite_made', vars: { org: o.name } });
    renderOrgs();
    const input = $(`invite-link-${o.slug}`);
    if (input) { input.focus(); input.select(); }
  } catch (err) {
    orgStatus.set(o.slug, { key: errorKey(err), vars: { code: err.code || err.status } });
    renderOrgs();
    focusCardButton('org-list', 'data-slug', o.slug, '.card-actions button');
  }
}

async function setOrgSuspended(o, suspended) {
  try {
    await api(`/api/v1/admin/orgs/${encodeURIComponent(o.slug)}/suspended`, { method: 'PUT', json: { suspended } });
    o.suspended = suspended;
    orgStatus.set(o.slug, { key: suspended ? 'admin.org_suspended_done' : 'admin.org_resumed_done', vars: { org: o.name } });
  } catch (err) {
    orgStatus.set(o.slug, { key: errorKey(err), vars: { code: err.code || err.status } });
  }
  renderOrgs();
  focusCardButton('org-list', 'data-slug', o.slug, '.card-actions button:last-child');
}

async function createOrg(e) {
  e.preventDefault();
  const name = $('org-create-name').value.trim();
  const slug = $('org-create-slug').value.trim();
  const fields = { name: 'org-create-name', slug: 'org-create-slug' };
  for (const id of Object.values(fields)) { msg(`${id}-error`, null); $(id).removeAttribute('aria-invalid'); }
  msg('org-create-error', null);
  msg('org-create-status', null);
  const errors = [];
  if (!name) errors.push(['name', 'admin.error.name_empty']);
  if (!SLUG.test(slug)) errors.push(['slug', 'admin.error.bad_slug']);
  const fail = (list) => {
    for (const [f, key] of list) { msg(`${fields[f]}-error`, key, { slug }); $(fields[f]).setAttribute('aria-invalid', 'true'); }
    $(fields[list[0][0]]).focus();
  };
  if (errors.length) { fail(errors); return; }
  $('org-create-button').disabled = true;
  try {
    await api('/api/v1/admin/orgs', { method: 'POST', json: { slug, name } });
    $('org-create-name').value = '';
    $('org-create-slug').value = '';
    slugTouched = false;
    msg('org-create-status', 'admin.org_created', { org: name });
    await openOrgs();
  } catch (err) {
    const code = err instanceof ApiError ? err.code : '';
    const field = err.body && typeof err.body.field === 'string' ? err.body.field : (/slug/.test(code) ? 'slug' : (/name/.test(code) ? 'name' : null));
    if (code === 'slug_taken') fail([['slug', 'admin.error.slug_taken']]);
    else if (field && fields[field]) fail([[field, field === 'slug' ? 'admin.error.bad_slug' : 'admin.error.bad_name']]);
    else showError('org-create-error', err);
  } finally {
    $('org-create-button').disabled = false;
  }
}

// ---------- branch-wide advisors

export async function openBranch() {
  await guarded('branch-error', async () => {
    branch = await api('/api/v1/admin/branch/advisors');
    renderBranch();
  });
}

function renderBranch() {
  if (!branch) return;
  const list = branch.map((a) => ({ ...a, branch_wide: true }));
  renderAdvisorList('branch-list', 'branch-empty', list, (a) => ({
    status: branchStatus.get(a.id),
    onSuspend: (adv, suspended) => setBranchSuspended(adv, suspended),
  }));
}

async function setBranchSuspended(a, suspended) {
  const path = `/api/v1/admin/branch/advisors/${encodeURIComponent(a.id)}/suspended`;
  if (await setAdvisorSuspended(path, a, suspended, branchStatus)) {
    const stored = branch.find((x) => x.id === a.id);
    if (stored) stored.suspended = suspended;
  }
  renderBranch();
  focusCardButton('branch-list', 'data-id', a.id, '.card-actions button');
}

async function makeBranchInvite() {
  await guarded('branch-invite-error', async () => {
    branchInvite = await api('/api/v1/admin/branch/advisor-invites', { method: 'POST', json: {} });
    advisorInviteOut($('branch-invite-out'), branchInvite);
    $('branch-invite-out-code').focus();
  });
}

// ---------- instance

export async function openInstance() {
  msg('instance-error', null);
  msg('instance-status', null);
  try {
    const s = await api('/api/v1/admin/instance');
    $('instance-totp').checked = !!s.require_totp;
  } catch (err) {
    showError('instance-error', err);
  }
}

async function saveInstance(e) {
  e.preventDefault();
  msg('instance-error', null);
  msg('instance-status', null);
  $('instance-save').disabled = true;
  try {
    const s = await api('/api/v1/admin/instance', { method: 'PUT', json: { require_totp: $('instance-totp').checked } });
    if (s && 'require_totp' in s) $('instance-totp').checked = !!s.require_totp;
    msg('instance-status', 'admin.saved');
  } catch (err) {
    showError('instance-error', err);
  } finally {
    $('instance-save').disabled = false;
  }
}
