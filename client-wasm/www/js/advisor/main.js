// The confidential advisor's pages: unlock the keyring file in this tab, log in by signing the
// server's challenge, read and answer cases, change their status, share them with a colleague,
// rotate keys and print a poster. All cryptography runs in WASM; Argon2id runs in a Web Worker.
// The keyring, the session token and everything decrypted live only in this tab's memory and
// are forgotten on Lock, after 10 minutes without activity, or when the tab closes. Nothing is
// written to cookies or any browser storage. Only relative /api/v1 URLs are used, so these pages
// work on the instance (/advisor) and from `meldpunt advisor app` on localhost alike.
import { boot } from '/js/boot.js';
import { t, currentLang, onLanguageChange } from '/js/i18n.js';
import { $, setText } from '/js/dom.js';
import { fragmentParams } from '/js/fragment.js';
import { app } from '/js/advisor/state.js';
import { unlock, lock, renderWhoami } from '/js/advisor/lock.js';
import { goInbox, loadInbox } from '/js/advisor/inbox.js';
import { sendReply, saveStatus } from '/js/advisor/case.js';
import { share, saveKeyring } from '/js/advisor/share.js';
import { goKeys, rotate, goPoster, renderPoster } from '/js/advisor/keys.js';

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
  $('rotate-download').addEventListener('click', () => { if (app.S) app.S.unsaved = false; });
  $('open-poster').addEventListener('click', goPoster);
  $('back-to-keys').addEventListener('click', goKeys);
  $('poster-link').addEventListener('change', renderPoster);
  $('poster-print').addEventListener('click', () => window.print());
  onLanguageChange(() => { renderWhoami(); app.rerender(); });
  window.addEventListener('beforeunload', () => {
    if (app.S) { try { app.S.keyring.free(); } catch { /* freed */ } }
  });
}

start();
