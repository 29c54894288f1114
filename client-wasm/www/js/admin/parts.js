// Pieces shared by the operator's and the organisation admin's views: an advisor's card (status,
// fingerprint, key validity, suspend/resume), an advisor invite code with its instructions, and
// per-field errors of a form, copying a code, and the passphrase strength hint.
import { t, msg, formatDay } from '/js/i18n.js';
import { $, el } from '/js/dom.js';
import { api, errorKey } from '/js/admin/session.js';

const DAY = 86400;
const EXPIRY_WARNING_DAYS = 30;

function hiddenName(name) {
  return el('span', { class: 'visually-hidden', text: ` (${name})` });
}

/** A labelled button whose visible text is short; the hidden part names what it acts on. */
export function namedButton(key, name, attrs) {
  return el('button', { type: 'button', ...attrs }, t(key), hiddenName(name));
}

/** Whether reporters see and can choose an advisor. */
export function pageStatusKey(a) {
  if (a.suspended || a.listed === false) return 'admin.page_hidden';
  if (a.offered === false) return 'admin.page_no_key';
  return 'admin.page_shown';
}

function keyStatus(a, now) {
  const keys = Array.isArray(a.keys) ? a.keys : [];
  const lines = [];
  const current = keys.find((k) => k.current && !k.revoked_at && k.not_after > now)
    || keys.filter((k) => !k.revoked_at && k.not_before <= now && k.not_after > now).sort((x, y) => y.not_after - x.not_after)[0];
  if (!current) {
    lines.push(el('p', { class: 'key-line key-bad', text: t('admin.key_none') }));
  } else {
    const soon = current.not_after - now < EXPIRY_WARNING_DAYS * DAY;
    lines.push(el('p', { class: `key-line ${soon ? 'key-warn' : 'key-ok'}`,
      text: t(soon ? 'admin.key_valid_until_soon' : 'admin.key_valid_until', { date: formatDay(current.not_after) }) }));
    if (keys.length > 1) {
      lines.push(el('p', { class: 'key-line', text: t('admin.key_rotated', { date: formatDay(current.not_before) }) }));
    } else {
      lines.push(el('p', { class: 'key-line', text: t('admin.key_since', { date: formatDay(current.not_before) }) }));
    }
  }
  const revoked = keys.filter((k) => k.revoked_at);
  if (revoked.length) {
    const last = Math.max(...revoked.map((k) => k.revoked_at));
    lines.push(el('p', { class: 'key-line', text: t('admin.key_revoked', { n: revoked.length, date: formatDay(last) }) }));
  }
  return lines;
}

/**
 * An advisor's card. `onSuspend(advisor, suspended)` changes the status (and redraws);
 * `showOffered` adds whether the organisation offers this advisor to reporters.
 */
export function advisorCard(a, { onSuspend, showOffered = false, manageable = true, status = null }) {
  const now = Date.now() / 1000;
  const kind = a.branch_wide ? 'admin.advisor_branch' : (a.external ? 'admin.advisor_external' : 'admin.advisor_internal');
  const tags = el('p', { class: 'tags' },
    el('span', { class: `tag ${a.external || a.branch_wide ? 'tag-external' : 'tag-internal'}`, text: t(kind) }),
    a.suspended ? el('span', { class: 'tag tag-suspended', text: t('admin.suspended') }) : el('span', { class: 'tag tag-active', text: t('admin.active') }),
    showOffered ? el('span', { class: 'tag-text', text: t(pageStatusKey(a)) }) : null);
  const statusNode = el('p', { class: 'live', role: 'status', 'aria-live': 'polite' });
  if (status) msg(statusNode, status.key, status.vars);
  return el('li', { class: `card advisor-card ${a.suspended ? 'is-suspended' : ''}`, 'data-id': a.id },
    el('h3', { class: 'card-title', text: a.display_name }),
    tags,
    el('p', { class: 'fingerprint' }, el('span', { text: `${t('admin.fingerprint')}: ` }), el('code', { text: a.fingerprint || '—' })),
    ...keyStatus(a, now),
    manageable
      ? el('div', { class: 'card-actions' },
        namedButton(a.suspended ? 'admin.resume' : 'admin.suspend', a.display_name, {
          class: `button ${a.suspended ? 'primary' : 'secondary'} small`,
          onclick: () => onSuspend(a, !a.suspended, statusNode),
        }))
      : el('p', { class: 'hint', text: t('admin.advisor_branch_managed') }),
    statusNode);
}

/** The invite code for a new advisor, with how to use it (`meldpunt advisor init`). */
export function advisorInviteOut(container, invite) {
  const command = `meldpunt advisor init --server ${location.origin} --invite ${invite.invite} --name "${t('admin.advisor_invite_name_placeholder')}"`;
  const status = el('p', { class: 'live', role: 'status', 'aria-live': 'polite' });
  const codeId = `${container.id}-code`;
  const input = el('input', { id: codeId, type: 'text', readonly: true, spellcheck: 'false', value: invite.invite, class: 'code-input-ro' });
  container.replaceChildren(
    el('label', { for: codeId, class: 'label', text: t('admin.advisor_invite_code') }),
    el('div', { class: 'copy-row' }, input,
      el('button', { type: 'button', class: 'button secondary', text: t('admin.copy'), onclick: () => copyFrom(input, status) })),
    status,
    el('p', { class: 'hint', text: t('admin.invite_valid_until', { date: formatDay(invite.expires_at) }) }),
    el('p', { text: t('admin.advisor_invite_how') }),
    el('pre', { class: 'command' }, el('code', { text: command })),
    el('p', { class: 'hint', text: t('admin.advisor_invite_after') }));
  container.hidden = false;
}

/** Fills the list `listId` with advisor cards (`cardOptions(a)` for each); `emptyId` says when there are none. */
export function renderAdvisorList(listId, emptyId, list, cardOptions) {
  $(listId).replaceChildren(...list.map((a) => advisorCard(a, cardOptions(a))));
  $(emptyId).hidden = list.length > 0;
}

/**
 * Suspends or resumes the advisor `a` at `path`. The outcome goes to `statuses` (by id), which
 * the advisor's card shows. Returns whether it worked.
 */
export async function setAdvisorSuspended(path, a, suspended, statuses) {
  try {
    await api(path, { method: 'PUT', json: { suspended } });
    statuses.set(a.id, { key: suspended ? 'admin.advisor_suspended_done' : 'admin.advisor_resumed_done', vars: { name: a.display_name } });
    return true;
  } catch (err) {
    statuses.set(a.id, { key: errorKey(err), vars: { code: err.code || err.status } });
    return false;
  }
}

// ---- Per-field errors with an error summary.

/** Clears the errors under these fields (each shown in `{id}-error`). */
export function clearFieldErrors(ids) {
  for (const id of ids) {
    msg(`${id}-error`, null);
    $(id).removeAttribute('aria-invalid');
  }
}

/** Shows an error under the field `id` (in `{id}-error`) and marks it invalid. */
export function fieldError(id, key, vars) {
  msg(`${id}-error`, key, vars);
  $(id).setAttribute('aria-invalid', 'true');
}

/**
 * Shows `errors` ([fieldId, key, vars]) next to their fields (`{fieldId}-error`) and in the summary
 * box `summaryId` with links to the fields. Returns the errors for a redraw.
 */
export function showFieldErrors(summaryId, fieldIds, errors, focus = true) {
  for (const id of fieldIds) {
    const node = $(`${id}-error`);
    if (node) msg(node, null);
    const field = $(id);
    if (field) field.removeAttribute('aria-invalid');
  }
  const box = $(summaryId);
  if (!errors.length) {
    box.hidden = true;
    box.replaceChildren();
    return errors;
  }
  for (const [id, key, vars] of errors) {
    const node = $(`${id}-error`);
    if (node) msg(node, key, vars);
    const field = $(id);
    if (field && field.matches('input, textarea, select, fieldset')) field.setAttribute('aria-invalid', 'true');
  }
  box.replaceChildren(el('h2', { text: t('admin.errors_title') }), el('ul', {}, ...errors.map(([id, key, vars]) =>
    el('li', {}, el('a', {
      href: `#${id}`,
      text: t(key, vars || {}),
      onclick: (e) => {
        e.preventDefault();
        const target = $(id);
        const focusable = target && (target.matches('input, textarea, select, button') ? target : target.querySelector('input, textarea, select, button'));
        if (focusable) focusable.focus();
      },
    })))));
  box.hidden = false;
  if (focus) box.focus();
  return errors;
}

// ---- Copying, and the strength hint under a new passphrase.

/** Copies the value of an input; says whether it worked in `status`. */
export async function copyFrom(input, status) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    input.focus();
    input.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  msg(status, ok ? 'admin.copied' : 'admin.copy_failed');
}

/** A rough strength estimate for the hint under a new passphrase. The server decides. */
export function passphraseStrength(p) {
  if (!p) return null;
  const words = p.trim().split(/[\s\-_.]+/).filter((w) => w.length >= 3).length;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  if (p.length >= 20 || (words >= 4 && p.length >= 16)) return 'strong';
  if (p.length >= 14 || (p.length >= 12 && classes >= 3)) return 'fair';
  return 'weak';
}

export function showStrength(node, passphrase) {
  const s = passphraseStrength(passphrase);
  node.className = `strength ${s ? `strength-${s}` : ''}`;
  return msg(node, s ? `admin.strength_${s}` : null);
}
