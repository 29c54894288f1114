// Start-up of the pages that use the WASM client (reporter pages and the advisor's): the quick
// exit, the translations and the WASM module. No framework, no third-party code, nothing stored
// but what the tab holds in memory.

import init, * as wasm from '/pkg/meldpunt_client_wasm.js';
import { el } from '/js/dom.js';
import { t, onLanguageChange, initialLanguage, setLanguage, setUpLanguageSwitch, useFallbackTable } from '/js/i18n.js';

export { wasm };

const EXIT_URL = 'https://www.nu.nl/';

// ---- Quick exit: leave at once, replacing this page in the history.

export function quickExit() {
  try {
    document.title = '';
    document.body.replaceChildren();
  } finally {
    location.replace(EXIT_URL);
  }
}

function setUpQuickExit() {
  const link = document.getElementById('quick-exit');
  if (link) {
    link.addEventListener('click', (e) => {
      e.preventDefault();
      quickExit();
    });
  }
  let presses = [];
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    const now = Date.now();
    presses = presses.filter((p) => now - p < 2000);
    presses.push(now);
    if (presses.length >= 3) quickExit();
  });
}

/** Replaces the page's content with a plain explanation that nothing can be sent. */
function showCryptoUnavailable() {
  const main = document.getElementById('main');
  const render = () => {
    const section = el('section', { id: 'view-crypto-error' },
      el('h1', { text: t('error.crypto_title') }),
      el('p', { class: 'warning', text: t('error.crypto') }),
      el('p', { text: t('error.crypto_what') }));
    main.replaceChildren(section);
  };
  render();
  onLanguageChange(render);
  const heading = main.querySelector('h1');
  heading.tabIndex = -1;
  heading.focus();
}

/**
 * Loads the translations and the WASM module. Returns false, after saying so on the page, if
 * the module cannot be loaded: the page must then do nothing else (there is no way to send
 * without encryption).
 */
export async function boot() {
  setUpQuickExit();
  const first = setLanguage(initialLanguage());
  // The switch works from the start (also while the WASM loads), after the first table.
  setUpLanguageSwitch(first);
  const [module, language] = await Promise.allSettled([
    init({ module_or_path: '/pkg/meldpunt_client_wasm_bg.wasm' }),
    first,
  ]);
  if (language.status === 'rejected') {
    // Without translations the page cannot explain anything: say so in both languages.
    useFallbackTable({
      'error.crypto_title': 'De pagina kon niet worden geladen / The page could not be loaded',
      'error.crypto': 'Er is niets verstuurd. Probeer het later opnieuw. / Nothing was sent. Please try again later.',
      'error.crypto_what': '',
    });
    showCryptoUnavailable();
    return false;
  }
  if (module.status === 'rejected') {
    showCryptoUnavailable();
    return false;
  }
  return true;
}
