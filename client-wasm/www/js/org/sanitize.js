// Re-sanitising the organisation's texts (introduction, code of conduct) on the reporter page.
// The organisation's texts come as HTML that the server rendered from the admin's Markdown and
// sanitised. They are sanitised again here, from the DOM: parsed into an inert document (no
// script runs, nothing loads), then rebuilt with an allow-list of elements and attributes. Only
// text, these elements and a link's http(s)/mailto/tel address get through; everything else is
// dropped (script-like elements with their content, other elements keeping their text).

const ALLOWED_TAGS = new Set(['P', 'BR', 'STRONG', 'EM', 'UL', 'OL', 'LI', 'A', 'H3', 'H4', 'BLOCKQUOTE', 'CODE']);
const RENAMED_TAGS = { H1: 'H3', H2: 'H3', H5: 'H4', H6: 'H4', B: 'STRONG', I: 'EM' };
const DROPPED_WITH_CONTENT = new Set([
  'SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT', 'IFRAME', 'FRAME', 'FRAMESET', 'OBJECT', 'EMBED', 'SVG', 'MATH',
  'TEXTAREA', 'SELECT', 'OPTION', 'TITLE', 'HEAD', 'META', 'LINK', 'BASE', 'FORM', 'INPUT', 'BUTTON', 'IMG',
  'VIDEO', 'AUDIO', 'SOURCE', 'CANVAS', 'PICTURE', 'XMP', 'PLAINTEXT', 'NOEMBED', 'NOFRAMES',
]);
const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:', 'tel:']);

function safeHref(raw) {
  try {
    const url = new URL(String(raw || '').trim());
    return LINK_SCHEMES.has(url.protocol) ? url.href : null;
  } catch {
    return null; // relative or malformed: not a link
  }
}

function cleanChildren(from, into, depth) {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      into.append(document.createTextNode(node.nodeValue));
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE || depth > 20) continue;
    const tag = RENAMED_TAGS[node.tagName] || node.tagName;
    if (DROPPED_WITH_CONTENT.has(tag)) continue;
    if (!ALLOWED_TAGS.has(tag)) {
      cleanChildren(node, into, depth + 1);
      continue;
    }
    if (tag === 'A') {
      const href = safeHref(node.getAttribute('href'));
      if (!href) {
        cleanChildren(node, into, depth + 1);
        continue;
      }
      const a = document.createElement('a');
      a.setAttribute('href', href);
      a.setAttribute('rel', 'noopener noreferrer');
      cleanChildren(node, a, depth + 1);
      into.append(a);
      continue;
    }
    const copy = document.createElement(tag.toLowerCase());
    cleanChildren(node, copy, depth + 1);
    into.append(copy);
  }
}

/** A fragment of the live document holding only allowed elements, built from untrusted HTML. */
export function sanitizedHtml(html) {
  const inert = new DOMParser().parseFromString(`<!doctype html><html><body>${String(html || '')}</body></html>`, 'text/html');
  const out = document.createDocumentFragment();
  cleanChildren(inert.body, out, 0);
  return out;
}
