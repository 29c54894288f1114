// Small DOM helpers shared by every page. Text is always set as text, never as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** Plain text with blank-line paragraphs, never HTML. */
export function paragraphs(text) {
  const frag = document.createDocumentFragment();
  for (const p of String(text || '').split(/\n\s*\n/)) {
    if (p.trim()) frag.append(el('p', { text: p.trim() }));
  }
  return frag;
}

/** Shows one `main > section` (hiding the others) and moves the focus to its heading. */
export function show(id) {
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id;
  const section = document.getElementById(id);
  const heading = section && section.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
  window.scrollTo(0, 0);
}

/** Sets the text of the element with this id; returns the element. */
export function setText(id, text) {
  const node = $(id);
  node.textContent = text;
  return node;
}

/** The `src` of an <img> showing an SVG the server made (a QR code): as an image, it can run nothing. */
export function svgSrc(svg) {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg || '')}`;
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
