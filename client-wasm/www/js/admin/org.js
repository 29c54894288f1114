// An organisation admin's views: the settings (name, link, logo, texts in Markdown, categories,
// retention, languages, which advisors reporters are offered and in what order), the advisors
// (invite, key status, suspend), the reporting link with its QR code, and a printable A4 poster.
// An organisation admin sees configuration only: no case, no count.
import { t, tIn, msg, onLanguageChange, has, currentLang } from '/js/i18n.js';
import { $, el, svgSrc } from '/js/dom.js';
import { api, ApiError, showError, guarded } from '/js/admin/session.js';
import { advisorInviteOut, namedButton, showFieldErrors, pageStatusKey, copyFrom, setAdvisorSuspended, renderAdvisorList } from '/js/admin/parts.js';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const CATEGORY_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const LOGO_MAX = 256 * 1024;
const LOGO_TYPES = ['image/png', 'image/jpeg'];

// The form's fields, by the name the API gives them.
const FIELDS = {
  name: 'set-name',
  slug: 'set-slug',
  intro_nl: 'set-intro-nl',
  intro_en: 'set-intro-en',
  code_of_conduct_nl: 'set-conduct-nl',
  code_of_conduct_en: 'set-conduct-en',
  categories: 'category-list',
  retention_days: 'set-retention',
  languages: 'set-languages',
  advisor_order: 'offered-list',
};
const ERROR_TARGETS = {
  ...FIELDS,
  intro: 'set-intro-nl',
  code_of_conduct: 'set-conduct-nl',
};

let settings = null; // GET /api/v1/admin/org
let advisors = null; // GET /api/v1/admin/org/advisors
let categories = []; // [{uid, id, nl, en, saved}] being edited
let order = []; // the organisation's advisors in the order being edited
let shownErrors = [];
let uid = 0;
let logoVersion = 0;
let advisorInvite = null;
const advisorStatus = new Map();
let link = null;
let posterLang = 'nl';

let onOrgName = () => {};

export function init({ show, setOrgName }) {
  onOrgName = setOrgName;
  $('settings-form').addEventListener('submit', save);
  $('category-add').addEventListener('click', addCategory);
  $('logo-file').addEventListener('change', uploadLogo);
  $('logo-remove').addEventListener('click', removeLogo);
  $('advisor-invite').addEventListener('click', makeAdvisorInvite);
  $('link-copy').addEventListener('click', () => copyFrom($('link-url'), $('link-copy-status')));
  $('poster-open').addEventListener('click', () => {
    posterLang = $('poster-lang').value;
    renderPoster();
    show('view-poster');
  });
  $('poster-back').addEventListener('click', () => show('view-link'));
  $('poster-print').addEventListener('click', () => window.print());
  onLanguageChange(() => {
    if (settings) {
      syncCategories();
      renderCategories();
      renderOffered();
      if (shownErrors.length) shownErrors = showFieldErrors('settings-errors', Object.values(FIELDS), shownErrors, false);
    }
    renderAdvisors();
    if (advisorInvite) advisorInviteOut($('advisor-invite-out'), advisorInvite);
    renderLink();
    renderPoster();
  });
}

// ---------- settings

export async function openSettings() {
  msg('settings-status', null);
  shownErrors = showFieldErrors('settings-errors', Object.values(FIELDS), [], false);
  try {
    const [s, a] = await Promise.all([api('/api/v1/admin/org'), api('/api/v1/admin/org/advisors')]);
    advisors = a;
    fill(s);
  } catch (err) {
    shownErrors = [];
    const box = $('settings-errors');
    box.replaceChildren(el('p', {}));
    showError(box.firstChild, err);
    box.hidden = false;
  }
}

function texts(v) {
  return { nl: (v && v.nl) || '', en: (v && v.en) || '' };
}

function fill(s) {
  settings = s;
  onOrgName(s.name);
  $('set-name').value = s.name || '';
  $('set-slug').value = s.slug || '';
  $('set-intro-nl').value = texts(s.intro).nl;
  $('set-intro-en').value = texts(s.intro).en;
  $('set-conduct-nl').value = texts(s.code_of_conduct).nl;
  $('set-conduct-en').value = texts(s.code_of_conduct).en;
  $('set-retention').value = s.retention_days ?? '';
  const langs = new Set(s.languages || []);
  for (const box of document.querySelectorAll('input[name="languages"]')) box.checked = langs.has(box.value);
  categories = (s.categories || []).map((c) => ({ uid: ++uid, id: c.id, nl: c.nl || '', en: c.en || '', saved: true }));
  renderCategories();
  // GET /org/advisors lists them in the public page's order already; advisor_order first.
  const saved = s.advisor_order || [];
  const byId = new Map((advisors || []).map((a) => [a.id, a]));
  order = [
    ...saved.filter((id) => byId.has(id)).map((id) => byId.get(id)),
    ...(advisors || []).filter((a) => !saved.includes(a.id)),
  ];
  renderOffered();
  renderLogo();
  $('settings-preview').href = `/o/${encodeURIComponent(s.slug)}`;
}

// Categories: the id of a saved category stays as it is (cases and the yearly overview refer to
// it); new ones get an id suggested from their Dutch name until it is edited.

function syncCategories() {
  for (const c of categories) {
    for (const f of ['id', 'nl', 'en']) {
      const input = $(`cat-${c.uid}-${f}`);
      if (input) c[f] = input.value;
    }
  }
}

function categoryRow(c, i) {
  const field = (f, attrs = {}) => {
    const id = `cat-${c.uid}-${f}`;
    const described = [attrs.describedby, `${id}-error`].filter(Boolean).join(' ');
    const { describedby, ...rest } = attrs;
    return el('div', { class: 'cat-field' },
      el('label', { for: id, class: 'label', text: t(`admin.category_${f}`) }),
      el('input', { id, type: 'text', value: c[f], maxlength: f === 'id' ? 64 : 100, autocomplete: 'off', spellcheck: f === 'id' ? 'false' : null, 'aria-describedby': described, ...rest }),
      el('p', { id: `${id}-error`, class: 'error', hidden: true }));
  };
  const idAttrs = c.saved
    ? { readonly: true, describedby: 'categories-hint' }
    : { describedby: `cat-${c.uid}-id-hint`, autocapitalize: 'none' };
  const nlInput = field('nl', { lang: 'nl' });
  if (!c.saved) {
    nlInput.querySelector('input').addEventListener('input', (e) => {
      if (!c.idTouched) {
        const suggestion = e.target.value.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
          .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');
        $(`cat-${c.uid}-id`).value = suggestion;
        c.id = suggestion;
      }
    });
  }
  const idField = field('id', idAttrs);
  if (!c.saved) idField.querySelector('input').addEventListener('input', () => { c.idTouched = true; });
  const name = c.nl || c.id || t('admin.category_new');
  return el('li', { class: 'category', 'data-uid': c.uid },
    el('fieldset', {},
      el('legend', { class: 'cat-legend', text: t('admin.category_n', { n: i + 1 }) }),
      el('div', { class: 'cat-fields' }, nlInput, field('en', { lang: 'en' }), idField,
        el('div', { class: 'cat-remove' },
          namedButton('admin.category_remove', name, { class: 'button secondary small', onclick: () => removeCategory(c) }))),
      c.saved ? null : el('p', { id: `cat-${c.uid}-id-hint`, class: 'hint', text: t('admin.category_id_hint') })));
}

function renderCategories() {
  $('category-list').replaceChildren(...categories.map(categoryRow));
}

function addCategory() {
  syncCategories();
  const c = { uid: ++uid, id: '', nl: '', en: '', saved: false };
  categories.push(c);
  renderCategories();
  $(`cat-${c.uid}-nl`).focus();
  msg('category-status', 'admin.category_added', { n: categories.length });
}

function removeCategory(c) {
  syncCategories();
  const i = categories.indexOf(c);
  categories.splice(i, 1);
  renderCategories();
  msg('category-status', 'admin.category_removed', { name: c.nl || c.id || t('admin.category_new') });
  const next = categories[Math.min(i, categories.length - 1)];
  (next ? $(`cat-${next.uid}-nl`) : $('category-add')).focus();
}

// The order in which reporters see the advisors. Who is on the page is decided elsewhere: a
// suspended advisor is not shown, and one without a valid key cannot be chosen.

function pageStatus(a) {
  const key = pageStatusKey(a);
  return [{ 'admin.page_hidden': 'status-off', 'admin.page_no_key': 'status-warn' }[key] || 'status-on', key];
}

function renderOffered() {
  const n = order.length;
  $('offered-list').replaceChildren(...order.map((a, i) => {
    const kind = a.branch_wide ? 'admin.advisor_branch' : (a.external ? 'admin.advisor_external' : 'admin.advisor_internal');
    const [cls, key] = pageStatus(a);
    return el('li', { class: `offered ${a.suspended ? 'is-suspended' : ''}`, 'data-id': a.id },
      el('div', { class: 'offered-main' },
        el('p', { class: 'offered-head' },
          el('span', { class: 'offered-pos', text: `${i + 1}.` }), ' ',
          el('span', { class: 'offered-name', text: a.display_name }),
          el('span', { class: 'offered-kind', text: ` · ${t(kind)}` })),
        el('p', { class: `page-status ${cls}`, text: t(key) }),
        el('p', { class: 'fingerprint' }, `${t('admin.fingerprint')}: `, el('code', { text: a.fingerprint || '—' }))),
      el('div', { class: 'move' },
        namedButton('admin.move_up', a.display_name, { class: 'button secondary small move-up', disabled: i === 0, onclick: () => move(i, -1, 'up') }),
        namedButton('admin.move_down', a.display_name, { class: 'button secondary small move-down', disabled: i === n - 1, onclick: () => move(i, 1, 'down') })));
  }));
  $('offered-empty').hidden = n > 0;
}

function move(i, delta, dir) {
  const j = i + delta;
  if (j < 0 || j >= order.length) return;
  [order[i], order[j]] = [order[j], order[i]];
  renderOffered();
  const row = $('offered-list').children[j];
  const same = row.querySelector(dir === 'up' ? '.move-up' : '.move-down');
  (same.disabled ? row.querySelector(dir === 'up' ? '.move-down' : '.move-up') : same).focus();
  msg('offered-status', 'admin.moved', { name: order[j].display_name, n: j + 1, total: order.length });
}

// Saving: only what changed is sent; the server checks everything again.

function collect() {
  syncCategories();
  const langs = [...document.querySelectorAll('input[name="languages"]:checked')].map((b) => b.value);
  return {
    name: $('set-name').value.trim(),
    slug: $('set-slug').value.trim(),
    intro: { nl: $('set-intro-nl').value, en: $('set-intro-en').value },
    code_of_conduct: { nl: $('set-conduct-nl').value, en: $('set-conduct-en').value },
    categories: categories.map((c) => ({ id: c.id.trim(), nl: c.nl.trim(), en: c.en.trim() })),
    retention_days: $('set-retention').value.trim() === '' ? null : Number($('set-retention').value),
    languages: langs,
    advisor_order: order.map((a) => a.id),
  };
}

function validate(d) {
  const errors = [];
  if (!d.name) errors.push([FIELDS.name, 'admin.error.name_empty']);
  if (!SLUG.test(d.slug)) errors.push([FIELDS.slug, 'admin.error.bad_slug']);
  if (!d.categories.length) errors.push([FIELDS.categories, 'admin.error.categories_empty']);
  const seen = new Set();
  d.categories.forEach((c, i) => {
    const n = i + 1;
    if (!c.nl || !c.en) errors.push([`cat-${categories[i].uid}-${c.nl ? 'en' : 'nl'}`, 'admin.error.category_names', { n }]);
    else if (!CATEGORY_ID.test(c.id)) errors.push([`cat-${categories[i].uid}-id`, 'admin.error.category_id', { n }]);
    else if (seen.has(c.id)) errors.push([`cat-${categories[i].uid}-id`, 'admin.error.category_duplicate', { n, id: c.id }]);
    seen.add(c.id);
  });
  if (!Number.isInteger(d.retention_days) || d.retention_days < 1) errors.push([FIELDS.retention_days, 'admin.error.retention']);
  if (!d.languages.length) errors.push([FIELDS.languages, 'admin.error.languages_empty']);
  return errors;
}

function changes(d) {
  const s = settings;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const out = {};
  if (d.name !== s.name) out.name = d.name;
  if (d.slug !== s.slug) out.slug = d.slug;
  if (!same(d.intro, texts(s.intro))) out.intro = d.intro;
  if (!same(d.code_of_conduct, texts(s.code_of_conduct))) out.code_of_conduct = d.code_of_conduct;
  if (!same(d.categories, (s.categories || []).map((c) => ({ id: c.id, nl: c.nl, en: c.en })))) out.categories = d.categories;
  if (d.retention_days !== s.retention_days) out.retention_days = d.retention_days;
  if (!same([...d.languages].sort(), [...(s.languages || [])].sort())) out.languages = d.languages;
  // The saved order may name only some advisors (the others follow): compare what is shown.
  const shown = [...(s.advisor_order || []), ...(advisors || []).map((a) => a.id).filter((id) => !(s.advisor_order || []).includes(id))];
  if (!same(d.advisor_order, shown)) out.advisor_order = d.advisor_order;
  return out;
}

/**
 * Where a server's field error belongs. The code names the field (`bad_slug`, `slug_taken`,
 * `bad_intro`, …); for the texts the message says which language (`intro.en`).
 */
function serverFieldError(err) {
  const code = err.code || '';
  const message = (err.body && typeof err.body.message === 'string') ? err.body.message : '';
  const field = code === 'slug_taken' ? 'slug'
    : Object.keys(ERROR_TARGETS).sort((a, b) => b.length - a.length).find((f) => code === `bad_${f}`);
  if (!field) return null;
  let target = ERROR_TARGETS[field];
  if (field === 'intro' && message.includes('intro.en')) target = FIELDS.intro_en;
  if (field === 'code_of_conduct' && message.includes('code_of_conduct.en')) target = FIELDS.code_of_conduct_en;
  const key = has(`admin.error.${code}`) ? `admin.error.${code}` : 'admin.error.field';
  return [target, key, { message: message || code }];
}

async function save(e) {
  e.preventDefault();
  msg('settings-status', null);
  const d = collect();
  const errors = validate(d);
  shownErrors = showFieldErrors('settings-errors', [...Object.values(FIELDS), ...categories.flatMap((c) => ['id', 'nl', 'en'].map((f) => `cat-${c.uid}-${f}`))], errors);
  if (errors.length) return;
  const patch = changes(d);
  if (!Object.keys(patch).length) {
    msg('settings-status', 'admin.settings_unchanged');
    return;
  }
  $('settings-save').disabled = true;
  try {
    const s = await api('/api/v1/admin/org', { method: 'PUT', json: patch });
    fill(s || { ...settings, ...patch });
    msg('settings-status', 'admin.settings_saved');
    link = null;
  } catch (err) {
    const placed = err instanceof ApiError ? serverFieldError(err) : null;
    if (placed) {
      shownErrors = showFieldErrors('settings-errors', Object.values(FIELDS), [placed]);
    } else {
      shownErrors = [];
      const box = $('settings-errors');
      box.replaceChildren(el('p', {}));
      showError(box.firstChild, err);
      box.hidden = false;
      box.focus();
    }
  } finally {
    $('settings-save').disabled = false;
  }
}

// The logo: uploaded or removed at once (it is shown to reporters from the next page load).

function renderLogo() {
  const img = $('logo-preview');
  if (settings && settings.has_logo) {
    img.src = `/api/v1/orgs/${encodeURIComponent(settings.slug)}/logo?v=${logoVersion}`;
    img.hidden = false;
    $('logo-none').hidden = true;
    $('logo-remove').hidden = false;
  } else {
    img.removeAttribute('src');
    img.hidden = true;
    $('logo-none').hidden = false;
    $('logo-remove').hidden = true;
  }
}

async function uploadLogo() {
  const input = $('logo-file');
  const file = input.files && input.files[0];
  input.value = '';
  msg('logo-error', null);
  msg('logo-status', null);
  if (!file) return;
  if (!LOGO_TYPES.includes(file.type)) { msg('logo-error', 'admin.error.logo_type'); return; }
  if (file.size > LOGO_MAX) { msg('logo-error', 'admin.error.logo_size', { size: Math.ceil(file.size / 1024) }); return; }
  const bytes = await file.arrayBuffer();
  try {
    await api('/api/v1/admin/org/logo', { method: 'PUT', body: bytes, type: file.type });
    settings.has_logo = true;
    logoVersion += 1;
    renderLogo();
    msg('logo-status', 'admin.logo_saved');
  } catch (err) {
    if (err instanceof ApiError && err.status === 413) msg('logo-error', 'admin.error.logo_size', { size: Math.ceil(file.size / 1024) });
    else if (err instanceof ApiError && err.status === 415) msg('logo-error', 'admin.error.logo_type');
    else showError('logo-error', err);
  }
}

async function removeLogo() {
  msg('logo-error', null);
  msg('logo-status', null);
  try {
    await api('/api/v1/admin/org/logo', { method: 'DELETE' });
    settings.has_logo = false;
    renderLogo();
    msg('logo-status', 'admin.logo_removed');
    $('logo-file').focus();
  } catch (err) {
    showError('logo-error', err);
  }
}

// ---------- advisors

export async function openAdvisors() {
  await guarded('advisors-error', async () => {
    advisors = await api('/api/v1/admin/org/advisors');
    renderAdvisors();
  });
}

function renderAdvisors() {
  if (!advisors || $('view-advisors').hidden) return;
  renderAdvisorList('advisor-list', 'advisors-empty', advisors, (a) => ({
    showOffered: true,
    manageable: !a.branch_wide,
    status: advisorStatus.get(a.id),
    onSuspend: (adv, suspended) => setSuspended(adv, suspended),
  }));
}

async function setSuspended(a, suspended) {
  const path = `/api/v1/admin/org/advisors/${encodeURIComponent(a.id)}/suspended`;
  if (await setAdvisorSuspended(path, a, suspended, advisorStatus)) {
    a.suspended = suspended;
    link = null;
  }
  renderAdvisors();
  const card = $('advisor-list').querySelector(`[data-id="${CSS.escape(a.id)}"] .card-actions button`);
  if (card) card.focus();
}

async function makeAdvisorInvite() {
  await guarded('advisor-invite-error', async () => {
    // An organisation admin invites internal advisors only: who appoints an external
    // advisor is the branch organisation (the operator), never the employer (issue 11).
    advisorInvite = await api('/api/v1/admin/org/advisor-invites', { method: 'POST', json: { external: false } });
    advisorInviteOut($('advisor-invite-out'), advisorInvite);
    $('advisor-invite-out-code').focus();
  });
}

// ---------- the reporting link, the poster

export async function openLink() {
  msg('link-error', null);
  msg('link-copy-status', null);
  posterLang = currentLang();
  $('poster-lang').value = posterLang;
  try {
    const [l, s] = await Promise.all([api('/api/v1/admin/org/link'), settings ? settings : api('/api/v1/admin/org')]);
    link = l;
    settings = settings || s;
    renderLink();
  } catch (err) {
    showError('link-error', err);
  }
}

function renderLink() {
  if (!link) return;
  $('link-url').value = link.url;
  $('link-qr').src = svgSrc(link.qr_svg);
  $('link-open').href = link.url;
  const people = link.advisors || [];
  $('link-advisors').replaceChildren(...people.map((a) => el('li', { class: 'person' },
    el('span', { class: 'person-name', text: a.display_name }),
    el('span', { class: 'hint', text: t(a.external ? 'admin.advisor_external' : 'admin.advisor_internal') }),
    el('span', { class: 'fingerprint' }, `${t('admin.fingerprint')}: `, el('code', { text: a.fingerprint })))));
  $('link-advisors-empty').hidden = people.length > 0;
  $('link-body').hidden = false;
}

function renderPoster() {
  if (!link || !settings) return;
  const L = posterLang;
  const tp = (key, vars) => tIn(L, key, vars);
  $('poster').setAttribute('lang', L);
  const logo = $('poster-logo');
  if (settings.has_logo) {
    logo.src = `/api/v1/orgs/${encodeURIComponent(settings.slug)}/logo?v=${logoVersion}`;
    logo.alt = tp('admin.poster.logo_alt', { org: settings.name });
    logo.hidden = false;
  } else {
    logo.removeAttribute('src');
    logo.hidden = true;
  }
  $('poster-org').textContent = settings.name;
  $('poster-heading').textContent = tp('admin.poster.heading');
  $('poster-lead').textContent = tp('admin.poster.lead');
  const qr = $('poster-qr');
  qr.src = svgSrc(link.qr_svg);
  qr.alt = tp('admin.poster.qr_alt');
  $('poster-scan').textContent = tp('admin.poster.scan');
  $('poster-url').textContent = link.url;
  $('poster-anon').textContent = tp('admin.poster.anonymous');
  $('poster-advisors-title').textContent = tp('admin.poster.advisors');
  $('poster-advisors').replaceChildren(...(link.advisors || []).map((a) => el('li', { class: 'poster-advisor' },
    el('span', { class: 'poster-advisor-name', text: a.display_name }),
    el('span', { class: 'poster-advisor-kind', text: tp(a.external ? 'admin.poster.external' : 'admin.poster.internal') }),
    el('span', { class: 'poster-fp' }, `${tp('admin.poster.fingerprint')}: `, el('code', { text: a.fingerprint })))));
  $('poster-fp-note').textContent = tp('admin.poster.fp_note');
}
