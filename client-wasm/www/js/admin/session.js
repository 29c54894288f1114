// The admin pages' session and API calls: the token as a bearer, the answer as parsed JSON,
// what a lost session (401) or a required second factor (403) does, and how an API error is
// shown. The token lives in this module only (never in cookies or any browser storage), and is
// forgotten on logout, after 30 minutes without activity, or when the tab closes.
import { api as request, jsonOf, ApiError } from '/js/api.js';
import { has, msg } from '/js/i18n.js';

export { ApiError };

const session = { token: null };
const sessionHandlers = { lost: () => {}, totpRequired: () => {} };

export function setToken(token) {
  session.token = token;
}

export function hasSession() {
  return session.token !== null;
}

/**
 * What happens when the server no longer knows the session (401) or wants a second factor set up
 * first (403 totp_setup_required), on any call but the login.
 */
export function onSession({ lost, totpRequired }) {
  sessionHandlers.lost = lost;
  sessionHandlers.totpRequired = totpRequired;
}

/**
 * Calls the API. `json` is sent as JSON, `body` as is (with `type`). Returns the parsed JSON
 * answer (or null for 204). Throws an ApiError with the server's {error, message, ...}. With
 * `keep401`, a 401 is the caller's to explain (a wrong code or old passphrase), not a lost session.
 */
export async function api(path, { method = 'GET', json, body, type, auth = true, keep401 = false } = {}) {
  const headers = {};
  const withToken = auth && session.token;
  if (withToken) headers.Authorization = `Bearer ${session.token}`;
  let res;
  try {
    res = await request(path, { method, json, body, type, headers });
  } catch (err) {
    if (withToken && err instanceof ApiError) {
      if (err.status === 401 && !keep401) sessionHandlers.lost('expired');
      else if (err.status === 403 && err.code === 'totp_setup_required') sessionHandlers.totpRequired();
    }
    throw err;
  }
  return jsonOf(res);
}

/** The translation key for an error: `admin.error.{code}` if the page knows it. */
export function errorKey(err) {
  if (!(err instanceof ApiError)) return 'admin.error.generic';
  if (err.status === 0) return 'admin.error.network';
  if (err.code && has(`admin.error.${err.code}`)) return `admin.error.${err.code}`;
  if (err.status === 429) return 'admin.error.rate_limited';
  if (err.status === 403) return 'admin.error.forbidden';
  return 'admin.error.server';
}

/** Shows an API error in `node` (translated, redrawn on a language change). */
export function showError(node, err) {
  const vars = { code: (err && (err.code || `http_${err.status}`)) || '?' };
  if (err && err.body && err.body.retry_after !== undefined) vars.wait = { duration: err.body.retry_after };
  return msg(node, errorKey(err), vars);
}

/** Clears the error shown in `errorId`, runs `task`, and shows its error there if it fails. */
export async function guarded(errorId, task) {
  msg(errorId, null);
  try {
    await task();
  } catch (err) {
    showError(errorId, err);
  }
}
