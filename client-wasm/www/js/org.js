// The organisation page (/o/{slug}): landing, the guided report, sending, the pickup code.
import { wasm, boot } from '/js/boot.js';
import { t, currentLang, onLanguageChange, formatDay } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { el, show, paragraphs } from '/js/dom.js';
import { navigate, linkTo, fragmentParams } from '/js/fragment.js';
import { proofOfWork, deriveSeed, CRYPTO_UNAVAILABLE } from '/js/workers.js';
import { FilePicker, sendAttachments } from '/js/files.js';
import { sanitizedHtml } from '/js/org/sanitize.js';

// The slug in the address; after loading, the organisation's current one (an old link keeps
// working after a rename, and the report is sealed for the current slug).
let slug = decodeURIComponent(location.pathname.split('/')[2] || '');
const STEPS = 6;
let org = null;
let pins = null;
let advisors = null; // wasm.Advisors
let checks = new Map(); // id -> AdvisorCheck
let step = 1;
let picker = null;
let code = null; // the pickup code, only while the done screen is shown
let confirmed = false;
let shownErrors = []; // [fieldId, key] of the error summary, redrawn on a language change
let lastAnnounce = null; // [key, vars] of the sending screen's live region
let submitError = null; // the error of the last failed send

let failed = null;

function fail(key) {
  failed = key;
  document.getElementById('error-text').textContent = t(key);
  show('view-error');
}

// ---------- landing

function localText(texts) {
  if (!texts) return '';
  return texts[currentLang()] || texts.nl || texts.en || '';
}

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

function languageNames(list) {
  return list.map((l) => t(`language.${l}`) .startsWith('⟦') ? l : t(`language.${l}`)).join(', ');
}

/** Who appointed the advisor and since when (`appointed_by`, `appointed_since` of the org page). */
function appointedText(a) {
  const by = a.appointed_by === 'organisation' || a.appointed_by === 'branch' ? a.appointed_by : null;
  if (!by) return '';
  const since = typeof a.appointed_since === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(a.appointed_since) ? a.appointed_since : '';
  return since ? t(`advisor.appointed_${by}_since`, { date: formatDay(Date.parse(`${since}T00:00:00Z`) / 1000) }) : t(`advisor.appointed_${by}`);
}

function advisorDetails(a, check, headingTag) {
  const photo = a.photo && /^data:image\/(jpeg|png|webp);base64,/.test(a.photo)
    ? el('img', { class: 'avatar', src: a.photo, alt: '', width: 72, height: 72 })
    : el('span', { class: 'avatar initials', 'aria-hidden': 'true', text: initials(a.display_name) });
  const kind = a.branch_wide ? t('advisor.branch') : (a.external ? t('advisor.external') : t('advisor.internal'));
  const body = el('div', { class: 'advisor-body' },
    el(headingTag, { class: 'advisor-name', text: a.display_name }),
    el('p', { class: 'tags' },
      el('span', { class: `tag ${a.branch_wide || a.external ? 'tag-external' : 'tag-internal'}`, text: kind }),
      a.languages && a.languages.length ? el('span', { class: 'tag-text', text: `${t('advisor.languages')}: ${languageNames(a.languages)}` }) : null),
    a.bio ? el('p', { class: 'bio', text: a.bio }) : null,
    a.branch_wide ? el('p', { class: 'branch-note', text: t('advisor.branch_note') }) : null,
    appointedText(a) ? el('p', { class: 'appointed', text: appointedText(a) }) : null,
    el('p', { class: 'fingerprint' },
      el('span', { text: `${t('advisor.fingerprint')}: ` }),
      el('code', { text: check.fingerprint || '—' })),
    check.usable ? null : el('p', { class: 'refused', text: t(`refused.${check.problem}`) }));
  return [photo, body];
}

/** The organisation's text in the page's language: rendered HTML if the server sent it, else plain text. */
function orgText(html, plain) {
  const h = localText(html);
  if (h && h.trim()) {
    const frag = sanitizedHtml(h);
    if (frag.textContent.trim()) return frag;
  }
  const p = localText(plain);
  return p ? paragraphs(p) : null;
}

function renderLanding() {
  document.getElementById('org-name').textContent = org.name;
  document.title = `${org.name} – ${t('org.page_title')}`;
  const logo = document.getElementById('org-logo');
  if (org.has_logo && !logo.getAttribute('src')) logo.src = `/api/v1/orgs/${encodeURIComponent(slug)}/logo`;
  logo.hidden = !org.has_logo;
  const intro = orgText(org.intro_html, org.intro);
  document.getElementById('org-intro').replaceChildren(...(intro ? [intro] : []));
  document.getElementById('org-intro-block').hidden = !intro;
  const conduct = orgText(org.code_of_conduct_html, org.code_of_conduct);
  document.getElementById('org-conduct').replaceChildren(...(conduct ? [conduct] : []));
  document.getElementById('org-conduct-block').hidden = !conduct;
  const status = document.getElementById('pin-status');
  status.hidden = !pins.active;
  if (pins.active) status.textContent = t('pins.active', { n: pins.count });
  document.getElementById('advisor-list').replaceChildren(...org.advisors.map((a) => {
    const check = checks.get(a.id);
    return el('li', { class: `advisor ${check.usable ? '' : 'advisor-refused'}` }, ...advisorDetails(a, check, 'h3'));
  }));
  document.getElementById('link-case').href = linkTo(`/o/${encodeURIComponent(slug)}/case`);
  document.getElementById('start-report').disabled = !org.advisors.some((a) => checks.get(a.id).usable);
}

// ---------- the report form

function setupForm() {
  const month = document.getElementById('when-month');
  const year = document.getElementById('when-year');
  const now = new Date();
  year.replaceChildren(...Array.from({ length: 11 }, (_, i) => {
    const y = now.getFullYear() - i;
    return el('option', { value: y, text: y });
  }));
  month.dataset.default = String(now.getMonth() + 1);
  renderFormTexts();
  picker = new FilePicker(document.getElementById('files'), document.getElementById('file-list'));
  document.getElementById('report-form').addEventListener('submit', (e) => { e.preventDefault(); next(); });
  document.getElementById('step-back').addEventListener('click', back);
}

function renderFormTexts() {
  const month = document.getElementById('when-month');
  const selected = month.value || month.dataset.default;
  month.replaceChildren(...Array.from({ length: 12 }, (_, i) =>
    el('option', { value: i + 1, text: t(`month.${i + 1}`), selected: String(i + 1) === selected })));
  const cats = document.getElementById('categories');
  const checked = new Set([...cats.querySelectorAll('input:checked')].map((i) => i.value));
  const list = org.categories && org.categories.length ? org.categories
    : ['sexual_harassment', 'bullying', 'discrimination', 'aggression', 'other'].map((id) => ({ id, nl: null, en: null }));
  cats.replaceChildren(...list.map((c) => el('label', { class: 'choice' },
    el('input', { type: 'checkbox', name: 'categories', value: c.id, checked: checked.has(c.id) }),
    ' ', el('span', { text: c[currentLang()] || c.nl || t(`category.${c.id}`) }))));
  const box = document.getElementById('advisor-choices');
  const chosen = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  const usable = org.advisors.filter((a) => checks.get(a.id).usable);
  box.replaceChildren(...org.advisors.map((a) => {
    const check = checks.get(a.id);
    const input = el('input', {
      type: 'checkbox', name: 'advisor', value: a.id, disabled: !check.usable,
      checked: chosen.has(a.id) || (usable.length === 1 && check.usable),
    });
    return el('label', { class: `choice advisor advisor-choice ${check.usable ? '' : 'advisor-refused'}` },
      input, ...advisorDetails(a, check, 'span'));
  }));
  picker && picker.render();
  updateStep();
}

function values(name) {
  return [...document.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

function formData() {
  const m = String(document.getElementById('when-month').value).padStart(2, '0');
  const where = document.getElementById('where').value.trim();
  const contact = document.getElementById('contact').value.trim();
  return {
    categories: values('categories'),
    role: values('role')[0],
    when: `${document.getElementById('when-year').value}-${m}`,
    where: where || undefined,
    story: document.getElementById('story').value.trim(),
    wishes: values('wishes'),
    contact: contact || undefined,
    lang: currentLang(),
    attachments: picker.describe(),
  };
}

function validate(n) {
  const d = formData();
  const errors = [];
  if (n === 1 && d.categories.length === 0) errors.push(['group-categories', 'report.error_categories']);
  if (n === 1 && !d.role) errors.push(['group-role', 'report.error_role']);
  if (n === 3 && !d.story) errors.push(['story', 'report.error_story']);
  if (n === 4 && d.wishes.length === 0) errors.push(['group-wishes', 'report.error_wishes']);
  if (n === 5 && values('advisor').length === 0) errors.push(['group-advisors', 'report.error_advisors']);
  return errors;
}

function showErrors(errors, focus = true) {
  shownErrors = errors;
  const box = document.getElementById('report-errors');
  for (const x of document.querySelectorAll('[aria-invalid]')) x.removeAttribute('aria-invalid');
  if (!errors.length) { box.hidden = true; box.replaceChildren(); return; }
  box.replaceChildren(el('h2', { text: t('report.errors_title') }), el('ul', {}, ...errors.map(([id, key]) =>
    el('li', {}, el('a', { href: `#${id}`, text: t(key), onclick: (e) => {
      e.preventDefault();
      const target = document.getElementById(id);
      (target.querySelector('input') || target).focus();
    } })))));
  for (const [id] of errors) document.getElementById(id).setAttribute('aria-invalid', 'true');
  box.hidden = false;
  if (focus) box.focus();
}

function renderReview() {
  const d = formData();
  const label = (id) => {
    const input = document.querySelector(`input[value="${CSS.escape(id)}"]`);
    return input ? input.closest('label').textContent.trim() : id;
  };
  const names = values('advisor').map((id) => org.advisors.find((a) => a.id === id).display_name);
  const rows = [
    ['review.categories', d.categories.map(label).join(', ')],
    ['review.role', t(`report.role_${d.role}`)],
    ['review.when', `${t(`month.${Number(d.when.slice(5))}`)} ${d.when.slice(0, 4)}`],
    ['review.where', d.where || t('review.none')],
    ['review.story', d.story],
    ['review.files', d.attachments.length ? d.attachments.map((a) => a.name).join(', ') : t('review.none')],
    ['review.wishes', d.wishes.map((w) => t(`wish.${w}`)).join(', ')],
    ['review.contact', d.contact || t('review.anonymous')],
    ['review.advisors', names.join(', ')],
  ];
  document.getElementById('review').replaceChildren(...rows.flatMap(([k, v]) =>
    [el('dt', { text: t(k) }), el('dd', { text: v })]));
}

function updateStep() {
  for (const s of document.querySelectorAll('.step')) s.hidden = Number(s.dataset.step) !== step;
  document.getElementById('step-count').textContent = t('report.step_of', { n: step, total: STEPS });
  document.getElementById('step-back').textContent = step === 1 ? t('report.cancel') : t('report.back');
  document.getElementById('step-next').textContent = step === STEPS ? t('report.send') : t('report.next');
  if (step === STEPS) renderReview();
}

function focusStep() {
  const legend = document.querySelector(`.step[data-step="${step}"] h2`);
  legend.tabIndex = -1;
  legend.focus();
  window.scrollTo(0, 0);
}

function next() {
  const errors = validate(step);
  showErrors(errors);
  if (errors.length) return;
  if (step === STEPS) { submit(); return; }
  step += 1;
  updateStep();
  focusStep();
}

function back() {
  showErrors([]);
  if (step === 1) { show('view-landing'); return; }
  step -= 1;
  updateStep();
  focusStep();
}

// ---------- sending

function progress(id, value, stateKey) {
  const li = document.getElementById(id);
  const bar = li.querySelector('progress');
  if (value === null) bar.removeAttribute('value'); else bar.value = value;
  if (stateKey) {
    li.querySelector('.ps-state').textContent = t(stateKey);
    li.dataset.state = stateKey.split('.').pop();
    li.dataset.stateKey = stateKey;
  }
}

function announce(key, vars) {
  lastAnnounce = [key, vars];
  document.getElementById('submit-live').textContent = t(key, vars);
}

/** Redraws the texts of the sending screen that are set while it runs. */
function renderSubmitTexts() {
  for (const li of document.querySelectorAll('.progress-steps li[data-state-key]')) {
    li.querySelector('.ps-state').textContent = t(li.dataset.stateKey);
  }
  if (lastAnnounce) document.getElementById('submit-live').textContent = t(...lastAnnounce);
  if (submitError) document.getElementById('submit-error-text').textContent = errorText(submitError);
}

// Timings of the last send, for docs/performance.md (read by the browser test): marks and
// measures named meldpunt:*, never anything secret.
function mark(name) {
  try { performance.mark(`meldpunt:${name}`); } catch { /* timing is optional */ }
}

function measure(name, from, to) {
  try { performance.measure(`meldpunt:${name}`, `meldpunt:${from}`, `meldpunt:${to}`); } catch { /* optional */ }
}

function errorText(err) {
  if (err && err.message === CRYPTO_UNAVAILABLE) return t('error.crypto_send');
  if (err instanceof ApiError) {
    if (err.status === 0) return t('error.network');
    if (err.status === 409) return t('error.stale_keys');
    if (err.status === 413) return t('error.too_large');
    if (err.status === 429) return t('error.rate_limited');
    return t('error.server', { status: err.status });
  }
  return t('error.generic');
}

async function submit() {
  show('view-submit');
  document.getElementById('submit-error').hidden = true;
  for (const id of ['ps-pow', 'ps-keys', 'ps-encrypt', 'ps-upload']) progress(id, 0, 'submit.waiting');
  const data = formData();
  const chosen = values('advisor');
  let reporter = null;
  let created = false;
  submitError = null;
  const newCode = wasm.makePickupCode();
  performance.clearMarks();
  performance.clearMeasures();
  mark('send');
  try {
    announce('submit.live_started');
    progress('ps-pow', 0, 'submit.running');
    progress('ps-keys', null, 'submit.running');
    // The proof of work and Argon2id run side by side, in two workers.
    const [pow, seed] = await Promise.all([
      proofOfWork((f) => progress('ps-pow', f)).then((p) => { mark('pow-done'); progress('ps-pow', 1, 'submit.done'); announce('submit.live_pow'); return p; }),
      deriveSeed(newCode).then((s) => { mark('argon2-done'); progress('ps-keys', 1, 'submit.done'); announce('submit.live_keys'); return s; }),
    ]);
    mark('encrypt-start');
    reporter = wasm.Reporter.fromSeed(seed);
    progress('ps-encrypt', 0.2, 'submit.running');
    // sealReport also writes the chosen advisors' identity keys into the body (§6).
    const envelope = reporter.sealReport(slug, advisors, chosen, JSON.stringify(data), Date.now() / 1000);
    mark('encrypt-done');
    progress('ps-encrypt', data.attachments.length ? 0.5 : 1, data.attachments.length ? 'submit.running' : 'submit.done');
    progress('ps-upload', 0, 'submit.running');
    const body = { org: slug, advisors: chosen, token_hash: reporter.tokenHash, envelope };
    if (pow) body.pow = pow;
    mark('upload-start');
    await api('/api/v1/cases', { method: 'POST', json: body });
    mark('upload-done');
    created = true;
    const files = picker.entries;
    if (files.length) {
      const share = 1 / files.length;
      // Each file: its own proof of work, encryption, upload (sendAttachments measures each).
      await sendAttachments(files, reporter, () => reporter.attachmentEncryptor(slug, advisors, chosen), (i, phase, f) => {
        if (phase === 'encrypt') progress('ps-encrypt', 0.5 + 0.5 * share * (i + f));
        if (phase === 'upload') progress('ps-upload', share * (i + f));
        announce('submit.live_file', { n: i + 1, total: files.length });
      });
      mark('files-done');
      progress('ps-encrypt', 1, 'submit.done');
    }
    progress('ps-upload', 1, 'submit.done');
    announce('submit.live_done');
    mark('code-shown');
    measure('pow', 'send', 'pow-done');
    measure('argon2id', 'send', 'argon2-done');
    measure('encrypt-report', 'encrypt-start', 'encrypt-done');
    measure('upload-report', 'upload-start', 'upload-done');
    if (files.length) measure('attachments', 'upload-done', 'files-done');
    measure('total', 'send', 'code-shown');
    showCode(newCode, null);
  } catch (err) {
    if (created) {
      // The report is in; only a file failed. The code must be shown now or it is lost.
      showCode(newCode, t('done.files_failed'));
    } else {
      submitError = err;
      document.getElementById('submit-error-text').textContent = errorText(err);
      document.getElementById('submit-error').hidden = false;
      announce('submit.live_failed');
    }
  } finally {
    if (reporter) reporter.free();
  }
}

// ---------- the pickup code

function showCode(c, warning) {
  code = c;
  const box = document.getElementById('pickup-code');
  // Shown in groups; read out one character at a time.
  box.replaceChildren(
    ...c.split('-').map((g) => el('span', { class: 'code-group', 'aria-hidden': 'true', text: g })),
    el('span', { class: 'visually-hidden', text: c.split('-').map((g) => g.split('').join(' ')).join(', ') }));
  const w = document.getElementById('done-warning');
  w.hidden = !warning;
  w.textContent = warning || '';
  show('view-done');
  window.addEventListener('beforeunload', guardLeave);
}

function guardLeave(e) {
  if (!confirmed) { e.preventDefault(); e.returnValue = ''; }
}

function updateConfirm() {
  const typed = document.getElementById('retype').value;
  const check = wasm.checkPickupCode(typed);
  const same = check.ok && typed.replace(/[\s-]/g, '').toUpperCase() === code.replace(/-/g, '');
  const status = document.getElementById('retype-status');
  status.textContent = typed.trim() === '' ? '' : (same ? t('done.retype_ok') : t('done.retype_wrong'));
  confirmed = same || document.getElementById('saved').checked;
  document.getElementById('finish').setAttribute('aria-disabled', String(!confirmed));
}

function setupConfirm() {
  document.getElementById('retype').addEventListener('input', updateConfirm);
  document.getElementById('saved').addEventListener('change', updateConfirm);
  document.getElementById('confirm-form').addEventListener('submit', (e) => {
    e.preventDefault();
    updateConfirm();
    if (!confirmed) {
      document.getElementById('finish-hint').textContent = t('done.confirm_first');
      return;
    }
    window.removeEventListener('beforeunload', guardLeave);
    code = null;
    document.getElementById('pickup-code').replaceChildren();
    navigate(`/o/${encodeURIComponent(slug)}/case`);
  });
}

// ---------- start

async function main() {
  if (!(await boot())) return; // no WASM: the page says so and offers nothing to send
  try {
    pins = wasm.Pins.fromFragment(fragmentParams().has('pin') ? `#pin=${fragmentParams().get('pin')}` : '');
  } catch {
    fail('error.bad_pin');
    return;
  }
  try {
    org = await (await api(`/api/v1/orgs/${encodeURIComponent(slug)}`)).json();
  } catch (err) {
    const status = err instanceof ApiError ? err.status : 0;
    fail(status === 404 ? 'error.no_org' : status === 410 ? 'error.org_suspended' : 'error.load');
    return;
  }
  if (typeof org.slug === 'string' && org.slug) slug = org.slug;
  advisors = new wasm.Advisors();
  const now = Date.now() / 1000;
  for (const a of org.advisors) {
    checks.set(a.id, advisors.add(a.id, a.identity, a.bundles, a.revocations, pins, now));
  }
  renderLanding();
  setupForm();
  setupConfirm();
  onLanguageChange(() => {
    renderLanding();
    renderFormTexts();
    if (shownErrors.length) showErrors(shownErrors, false);
    renderSubmitTexts();
    if (failed) document.getElementById('error-text').textContent = t(failed);
    if (code) updateConfirm();
  });
  document.getElementById('start-report').addEventListener('click', () => {
    step = 1;
    updateStep();
    show('view-report');
  });
  document.getElementById('submit-retry').addEventListener('click', submit);
  show('view-landing');
}

main();
