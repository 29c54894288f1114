// The admin pages (/admin/): login (with a second factor), accepting an organisation admin
// invite (/admin/#invite=CODE), setting up two-step verification, changing the passphrase, and
// the views of the instance operator (admin/operator.js), of an organisation's admin
// (admin/org.js) and the audit log (admin/audit.js). The session token lives in memory only
// (admin/session.js); logging out, 30 minutes without activity or closing the tab forgets it. A
// logout reloads the page, so that nothing the session showed stays in the tab's memory.
import { t, msg, onLanguageChange, has, LANGS, loadTable, initialLanguage, setLanguage, setUpLanguageSwitch } from '/js/i18n.js';
import { $, el, svgSrc } from '/js/dom.js';
import { fragmentParams, setFragment } from '/js/fragment.js';
import { api, ApiError, showError, setToken, hasSession, onSession } from '/js/admin/session.js';
import { showStrength, clearFieldErrors, fieldError } from '/js/admin/parts.js';
import * as operator from '/js/admin/operator.js';
import * as orgAdmin from '/js/admin/org.js';
import { openAudit, renderAudit, init as initAudit } from '/js/admin/audit.js';

const IDLE_LIMIT_MS = 30 * 60 * 1000;
const IDLE_CHECK_MS = 15 * 1000;

let me = null; // GET /api/v1/admin/me, or what the login said
let current = null; // the view shown
let lastActivity = Date.now();
let loggingOut = false;

// What each view loads when it is opened.
const openers = {
  'view-orgs': () => operator.openOrgs(),
  'view-branch': () => operator.openBranch(),
  'view-instance': () => operator.openInstance(),
  'view-settings': () => orgAdmin.openSettings(),
  'view-advisors': () => orgAdmin.openAdvisors(),
  'view-link': () => orgAdmin.openLink(),
  'view-audit': () => openAudit(),
  'view-account': () => openAccount(),
};

// ---------------------------------------------------------------------------------------------
// Views and navigation.

function show(id, { focus = true } = {}) {
  current = id;
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id;
  for (const b of document.querySelectorAll('.nav-link')) {
    if (b.dataset.view === id) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
  }
  const heading = $(id).querySelector('h1');
  if (focus && heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
  window.scrollTo(0, 0);
}

function open(id) {
  show(id);
  const fn = openers[id];
  if (fn) fn();
}

function homeView() {
  return me.role === 'operator' ? 'view-orgs' : 'view-settings';
}

function setUpNav() {
  const nav = $('admin-nav');
  for (const li of nav.querySelectorAll('li[data-role]')) {
    li.hidden = !(li.dataset.role === 'any' || li.dataset.role === me.role);
  }
  nav.hidden = false;
  $('logout').hidden = false;
  renderWhoami();
}

function renderWhoami() {
  if (!me) return;
  const role = t(me.role === 'operator' ? 'admin.role_operator' : 'admin.role_org_admin');
  const org = me.role === 'org_admin' && me.org ? orgName() : '';
  $('whoami').textContent = org
    ? t('admin.whoami_org', { user: me.username, role, org })
    : t('admin.whoami', { user: me.username, role });
}

function orgName() {
  return me.orgName || me.org || '';
}

/** Remembers the organisation's name (the login gives its slug) for the page's header. */
function setOrgName(name) {
  if (!me) return;
  me.orgName = name;
  renderWhoami();
  renderAccount();
}

// ---------------------------------------------------------------------------------------------
// Login.

function showLogin(noticeKey, vars) {
  $('admin-nav').hidden = true;
  $('logout').hidden = true;
  msg('login-notice', noticeKey || null, vars);
  show('view-login', { focus: false });
  (($('login-username').value ? $('login-passphrase') : $('login-username'))).focus();
}

function showTotpField(show) {
  $('login-totp-group').hidden = !show;
  if (!show) $('login-totp').value = '';
}

async function login(e) {
  e.preventDefault();
  const username = $('login-username').value.trim();
  const passphrase = $('login-passphrase').value;
  const askingTotp = !$('login-totp-group').hidden;
  const totp = $('login-totp').value.replace(/\s+/g, '');
  const fields = ['login-username', 'login-passphrase', 'login-totp'];
  for (const id of fields) $(id).removeAttribute('aria-invalid');
  if (!username || !passphrase) {
    const field = username ? 'login-passphrase' : 'login-username';
    msg('login-error', 'admin.error.login_empty');
    $(field).setAttribute('aria-invalid', 'true');
    $(field).focus();
    return;
  }
  if (askingTotp && !/^\d{6,8}$/.test(totp)) {
    msg('login-error', 'admin.error.totp_format');
    $('login-totp').setAttribute('aria-invalid', 'true');
    $('login-totp').focus();
    return;
  }
  msg('login-error', null);
  const body = { username, passphrase };
  if (askingTotp) body.totp = totp;
  const button = $('login-button');
  button.disabled = true;
  try {
    const r = await api('/api/v1/admin/login', { method: 'POST', json: body, auth: false });
    $('login-passphrase').value = '';
    showTotpField(false);
    msg('login-notice', null);
    await startSession(r, username);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'totp_required' && !askingTotp) {
      showTotpField(true);
      msg('login-error', 'admin.error.totp_required');
      $('login-totp').focus();
    } else if (err instanceof ApiError && (err.code === 'bad_login' || err.code === 'totp_required')) {
      msg('login-error', askingTotp ? 'admin.error.bad_login_totp' : 'admin.error.bad_login');
      if (askingTotp) {
        $('login-totp').value = '';
        $('login-totp').setAttribute('aria-invalid', 'true');
        $('login-totp').focus();
      } else {
        $('login-passphrase').setAttribute('aria-invalid', 'true');
        $('login-passphrase').select();
        $('login-passphrase').focus();
      }
    } else {
      showError('login-error', err);
    }
  } finally {
    button.disabled = false;
  }
}

async function startSession(r, username) {
  setToken(r.token);
  me = {
    username: r.username || username,
    role: r.role,
    org: r.org,
    totp_enabled: !!r.totp_enabled,
    must_enable_totp: !!r.must_enable_totp,
    require_totp: false,
  };
  lastActivity = Date.now();
  if (me.must_enable_totp) {
    openTotp(true);
    return;
  }
  await refreshMe();
  setUpNav();
  open(homeView());
}

async function refreshMe() {
  try {
    const m = await api('/api/v1/admin/me');
    me = { ...me, ...m };
  } catch { /* the login's answer is enough to go on */ }
  if (me.role === 'org_admin' && !me.orgName) {
    try { setOrgName((await api('/api/v1/admin/org')).name); } catch { /* the slug will do */ }
  }
}

/** Ends the session: tells the server, then reloads the page with a notice in the fragment. */
async function logout(reason = 'manual') {
  if (loggingOut) return;
  loggingOut = true;
  if (hasSession()) {
    const done = api('/api/v1/admin/logout', { method: 'POST', json: {} }).catch(() => {});
    await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
  }
  setToken(null);
  setFragment({ out: reason, invite: null });
  location.reload();
}

function trackIdle() {
  const touch = () => { lastActivity = Date.now(); };
  for (const type of ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart']) {
    document.addEventListener(type, touch, { passive: true, capture: true });
  }
  setInterval(() => {
    if (hasSession() && Date.now() - lastActivity >= IDLE_LIMIT_MS) logout('idle');
  }, IDLE_CHECK_MS);
}

// ---------------------------------------------------------------------------------------------
// Accepting an invite.

async function acceptInvite(e) {
  e.preventDefault();
  const ids = ['invite-username', 'invite-passphrase', 'invite-repeat'];
  clearFieldErrors(ids);
  msg('invite-error', null);
  const username = $('invite-username').value.trim();
  const passphrase = $('invite-passphrase').value;
  const repeat = $('invite-repeat').value;
  if (!username) fieldError('invite-username', 'admin.error.username_empty');
  if (!passphrase) fieldError('invite-passphrase', 'admin.error.passphrase_empty');
  else if (repeat !== passphrase) fieldError('invite-repeat', 'admin.error.passphrase_mismatch');
  const bad = ids.find((id) => $(id).getAttribute('aria-invalid') === 'true');
  if (bad) { $(bad).focus(); return; }
  const invite = fragmentParams().get('invite') || '';
  const button = $('invite-button');
  button.disabled = true;
  try {
    const r = await api('/api/v1/admin/accept-invite', { method: 'POST', json: { invite, username, passphrase }, auth: false });
    for (const id of ids) $(id).value = '';
    showStrength($('invite-strength'), '');
    setFragment({ invite: null });
    $('login-username').value = r.username || username;
    showLogin('admin.invite_done', { org: (r.org && (r.org.name || r.org.slug)) || r.org || '' });
  } catch (err) {
    const code = err instanceof ApiError ? err.code : '';
    if (code === 'weak_passphrase') {
      fieldError('invite-passphrase', 'admin.error.weak_passphrase');
      $('invite-passphrase').focus();
    } else if (code === 'username_taken' || /username/.test(code)) {
      fieldError('invite-username', has(`admin.error.${code}`) ? `admin.error.${code}` : 'admin.error.bad_username');
      $('invite-username').focus();
    } else if (/invite/.test(code) || (err instanceof ApiError && [404, 410].includes(err.status))) {
      msg('invite-error', 'admin.error.bad_invite');
    } else {
      showError('invite-error', err);
    }
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Two-step verification.

let totpForced = false;

async function openTotp(forced) {
  totpForced = forced;
  $('totp-forced').hidden = !forced;
  $('totp-cancel').hidden = forced;
  $('totp-unlock-cancel').hidden = forced;
  if (forced) {
    $('admin-nav').hidden = true;
    $('logout').hidden = false;
  }
  $('totp-setup').hidden = true;
  $('totp-form').hidden = true;
  $('totp-unlock').hidden = false;
  $('totp-passphrase').value = '';
  $('totp-current').value = '';
  $('totp-current-group').hidden = !(me && me.totp_enabled);
  $('totp-code').value = '';
  msg('totp-error', null);
  msg('totp-unlock-error', null);
  msg('totp-load-error', null);
  show('view-totp');
  $('totp-passphrase').focus();
}

/** A failed TOTP step that the form does not explain: a lost session logs out, else the error. */
function totpFailed(err, errorId) {
  if (err instanceof ApiError && err.status === 401) logout('expired');
  else showError(errorId, err);
}

// A new key needs the passphrase (and the current code when TOTP is on), not just the session.
async function startTotp(e) {
  e.preventDefault();
  const passphrase = $('totp-passphrase').value;
  const code = $('totp-current').value.replace(/\s+/g, '');
  if (!passphrase) {
    msg('totp-unlock-error', 'admin.error.passphrase_empty');
    $('totp-passphrase').focus();
    return;
  }
  msg('totp-unlock-error', null);
  $('totp-start').disabled = true;
  try {
    const json = me && me.totp_enabled ? { passphrase, code } : { passphrase };
    const s = await api('/api/v1/admin/totp/setup', { method: 'POST', json, keep401: true });
    $('totp-passphrase').value = '';
    $('totp-current').value = '';
    $('totp-unlock').hidden = true;
    $('totp-qr').src = svgSrc(s.qr_svg);
    $('totp-secret').textContent = String(s.secret || '').replace(/(.{4})(?=.)/g, '$1 ');
    $('totp-uri').href = s.otpauth_uri || '#';
    $('totp-setup').hidden = false;
    $('totp-form').hidden = false;
    $('totp-code').focus();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'bad_passphrase') {
      msg('totp-unlock-error', 'admin.error.bad_old_passphrase');
      $('totp-passphrase').focus();
    } else if (err instanceof ApiError && err.code === 'totp_required') {
      msg('totp-unlock-error', 'admin.error.bad_totp');
      $('totp-current').value = '';
      $('totp-current').focus();
    } else {
      totpFailed(err, 'totp-unlock-error');
    }
  } finally {
    $('totp-start').disabled = false;
  }
}

async function confirmTotp(e) {
  e.preventDefault();
  const code = $('totp-code').value.replace(/\s+/g, '');
  $('totp-code').removeAttribute('aria-invalid');
  if (!/^\d{6,8}$/.test(code)) {
    msg('totp-error', 'admin.error.totp_format');
    $('totp-code').setAttribute('aria-invalid', 'true');
    $('totp-code').focus();
    return;
  }
  msg('totp-error', null);
  $('totp-confirm').disabled = true;
  try {
    await api('/api/v1/admin/totp/confirm', { method: 'POST', json: { code }, keep401: true });
    $('totp-secret').textContent = '';
    $('totp-qr').removeAttribute('src');
    $('totp-uri').href = '#';
    me.totp_enabled = true;
    me.must_enable_totp = false;
    if (totpForced) {
      await refreshMe();
      setUpNav();
    }
    open('view-account');
    msg('acct-totp-done', 'admin.totp_done');
  } catch (err) {
    if (err instanceof ApiError && (err.status === 400 || err.status === 401 || err.status === 422)
      && !['too_many_attempts', 'unauthorized', 'session_expired', 'bad_session'].includes(err.code)) {
      msg('totp-error', 'admin.error.bad_totp');
      $('totp-code').value = '';
      $('totp-code').setAttribute('aria-invalid', 'true');
      $('totp-code').focus();
    } else {
      totpFailed(err, 'totp-error');
    }
  } finally {
    $('totp-confirm').disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Account.

function renderAccount() {
  if (!me) return;
  $('acct-username').textContent = me.username || '';
  $('acct-role').textContent = t(me.role === 'operator' ? 'admin.role_operator' : 'admin.role_org_admin')
    + (me.role === 'org_admin' && orgName() ? ` – ${orgName()}` : '');
  $('acct-totp').textContent = t(me.totp_enabled ? 'admin.totp_on' : 'admin.totp_off');
  $('acct-totp-setup').hidden = !!me.totp_enabled;
}

function openAccount() {
  msg('acct-totp-done', null);
  renderAccount();
}

async function changePassphrase(e) {
  e.preventDefault();
  const ids = ['pass-old', 'pass-new', 'pass-repeat'];
  clearFieldErrors(ids);
  msg('pass-error', null);
  msg('pass-status', null);
  const old = $('pass-old').value;
  const next = $('pass-new').value;
  if (!old) fieldError('pass-old', 'admin.error.passphrase_empty');
  if (!next) fieldError('pass-new', 'admin.error.passphrase_empty');
  else if ($('pass-repeat').value !== next) fieldError('pass-repeat', 'admin.error.passphrase_mismatch');
  const bad = ids.find((id) => $(id).getAttribute('aria-invalid') === 'true');
  if (bad) { $(bad).focus(); return; }
  $('pass-button').disabled = true;
  try {
    await api('/api/v1/admin/passphrase', { method: 'POST', json: { old, new: next }, keep401: true });
    for (const id of ids) $(id).value = '';
    showStrength($('pass-strength'), '');
    msg('pass-status', 'admin.pass_changed');
  } catch (err) {
    const code = err instanceof ApiError ? err.code : '';
    if (code === 'weak_passphrase') {
      fieldError('pass-new', 'admin.error.weak_passphrase');
      $('pass-new').focus();
    } else if (['bad_login', 'bad_passphrase', 'wrong_passphrase'].includes(code)
      || (err instanceof ApiError && err.status === 403 && code !== 'totp_setup_required')) {
      fieldError('pass-old', 'admin.error.bad_old_passphrase');
      $('pass-old').focus();
    } else if (err instanceof ApiError && err.status === 401) {
      logout('expired');
    } else {
      showError('pass-error', err);
    }
  } finally {
    $('pass-button').disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Start.

function wire() {
  $('login-form').addEventListener('submit', login);
  $('invite-form').addEventListener('submit', acceptInvite);
  $('invite-to-login').addEventListener('click', () => { setFragment({ invite: null }); showLogin(); });
  $('invite-passphrase').addEventListener('input', () => showStrength($('invite-strength'), $('invite-passphrase').value));
  $('pass-new').addEventListener('input', () => showStrength($('pass-strength'), $('pass-new').value));
  $('totp-unlock').addEventListener('submit', startTotp);
  $('totp-form').addEventListener('submit', confirmTotp);
  $('totp-cancel').addEventListener('click', () => open('view-account'));
  $('totp-unlock-cancel').addEventListener('click', () => open('view-account'));
  $('acct-totp-setup').addEventListener('click', () => openTotp(false));
  $('pass-form').addEventListener('submit', changePassphrase);
  $('audit-refresh').addEventListener('click', openAudit);
  $('logout').addEventListener('click', () => logout('manual'));
  for (const b of document.querySelectorAll('.nav-link')) b.addEventListener('click', () => open(b.dataset.view));
  onSession({
    lost: () => logout('expired'),
    totpRequired: () => { if (me) { me.must_enable_totp = true; openTotp(true); } },
  });
  onLanguageChange(() => {
    renderWhoami();
    renderAccount();
    renderAudit();
  });
}

/**
 * Loads both translation tables (the poster can be printed in the other language than the one
 * the page is shown in) and sets up the language switch. Returns false if they cannot be loaded.
 */
async function bootI18n() {
  try {
    await Promise.all(LANGS.map(loadTable));
  } catch {
    const main = document.getElementById('main');
    main.replaceChildren(el('section', {},
      el('h1', { text: 'De pagina kon niet worden geladen / The page could not be loaded' }),
      el('p', { text: 'Probeer het later opnieuw. / Please try again later.' })));
    return false;
  }
  await setLanguage(initialLanguage());
  setUpLanguageSwitch();
  return true;
}

async function main() {
  if (!(await bootI18n())) return;
  wire();
  operator.init({ show, open });
  orgAdmin.init({ show, open, setOrgName });
  initAudit({ role: () => (me ? me.role : null) });
  trackIdle();
  const params = fragmentParams();
  const out = params.get('out');
  if (out) setFragment({ out: null });
  if (params.get('invite')) {
    show('view-invite', { focus: false });
    $('invite-username').focus();
    return;
  }
  const notices = { idle: 'admin.logged_out_idle', expired: 'admin.logged_out_expired', manual: 'admin.logged_out' };
  showLogin(notices[out] || null);
}

main();
