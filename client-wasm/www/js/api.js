// The API: same origin only, no cookies, no cache, no referrer. Every page calls it through
// `api()` (the advisor and admin pages add their session token in their own session module).

export function fetchDefaults(extra = {}) {
  return { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', redirect: 'error', ...extra };
}

/** An answer that is not 2xx (status 0: the network): the server's {error, message, ...} in `body`. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `http_${status}`);
    this.status = status;
    this.code = (body && body.error) || '';
    this.body = body || {};
  }
}

function parsed(text) {
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

/**
 * Calls the API and returns the Response (2xx only). `json` is sent as JSON, `body` as is (with
 * `type` as its Content-Type, if given). Throws an ApiError otherwise.
 */
export async function api(path, { method = 'GET', json, body, type, headers = {} } = {}) {
  const init = fetchDefaults({ method, headers: { ...headers } });
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    if (type !== undefined) init.headers['Content-Type'] = type;
    init.body = body;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { error: 'network' });
  }
  if (!res.ok) throw new ApiError(res.status, parsed(await res.text().catch(() => '')));
  return res;
}

/** The JSON of a 2xx answer, or null when there is none (204) or it is not JSON. */
export async function jsonOf(res) {
  return parsed(await res.text().catch(() => ''));
}

/** Uploads with progress (fetch cannot report upload progress). */
export function upload(path, bytes, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    xhr.withCredentials = false;
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new ApiError(xhr.status, parsed(xhr.responseText)));
    };
    xhr.onerror = () => reject(new ApiError(0, { error: 'network' }));
    xhr.send(bytes);
  });
}
