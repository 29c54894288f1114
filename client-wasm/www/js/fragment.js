// The URL fragment: pins, invite codes, the language and lock reasons travel here, never to the
// server (browsers do not send the fragment).

export function fragmentParams() {
  let raw = location.hash.replace(/^#/, '');
  try { raw = decodeURIComponent(raw); } catch { /* keep it as it is */ }
  const out = new Map();
  for (const part of raw.split('&')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i), part.slice(i + 1));
  }
  return out;
}

/** The current fragment with `changes` applied (`null` removes a parameter), with its '#'. */
export function fragmentWith(changes) {
  const params = fragmentParams();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) params.delete(k); else params.set(k, v);
  }
  const parts = [...params].map(([k, v]) => `${k}=${v}`);
  return parts.length ? `#${parts.join('&')}` : '';
}

/** Rewrites the fragment (without a history entry): `null` removes a parameter. */
export function setFragment(changes) {
  history.replaceState(null, '', location.pathname + fragmentWith(changes));
}

/** Goes to another page of the service without adding a history entry, keeping pins and language. */
export function navigate(path) {
  location.replace(path + fragmentWith({}));
}

export function linkTo(path) {
  return path + fragmentWith({});
}
