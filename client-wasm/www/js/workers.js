// Web Workers for the slow steps, so the page never freezes: Argon2id over the pickup code and
// the proof of work (/js/worker.js, reporter pages), and Argon2id over the advisor's keyring
// passphrase (/js/advisor-worker.js). One worker per task; it is terminated after.

import { api } from '/js/api.js';

/** The error of a worker (or of the WASM module in it) that could not be loaded. */
export const CRYPTO_UNAVAILABLE = 'crypto_unavailable';

/**
 * Starts `url` with `request`; `onProgress` gets the worker's `{progress}` messages. Resolves
 * with its answer, rejects with its `{error}` or with `failure` when it cannot start or crashes.
 */
function runIn(url, request, { transfer = [], onProgress = () => {}, failure, onEnd = () => {} }) {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker(url, { type: 'module' });
    } catch {
      onEnd();
      reject(new Error(failure));
      return;
    }
    const done = () => { onEnd(); worker.terminate(); };
    worker.onmessage = (e) => {
      const m = e.data;
      if (m.progress !== undefined) { onProgress(m.progress); return; }
      done();
      if (m.error) reject(new Error(m.error)); else resolve(m);
    };
    // The script or the module could not be loaded (or crashed): never a reason to go on
    // without encryption; the caller shows that nothing was sent.
    worker.onerror = (e) => { if (e && e.preventDefault) e.preventDefault(); done(); reject(new Error(failure)); };
    worker.onmessageerror = worker.onerror;
    worker.postMessage(request, transfer);
  });
}

export function runWorker(request, onProgress = () => {}) {
  return runIn('/js/worker.js', request, { onProgress, failure: CRYPTO_UNAVAILABLE });
}

/**
 * Runs a keyring step in /js/advisor-worker.js. The worker reports no progress, so the bar
 * follows the time it is expected to take (`expectedMs`) without claiming the end.
 */
export function runAdvisorWorker(request, transfer, onProgress, expectedMs) {
  const started = performance.now();
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    onProgress(Math.min(0.95, 1 - Math.exp(-elapsed / expectedMs)));
  }, 100);
  return runIn('/js/advisor-worker.js', request, { transfer, failure: 'worker', onEnd: () => clearInterval(timer) })
    .then((m) => { onProgress(1); return m; });
}

/** Fetches a proof-of-work challenge and solves it in the worker. Returns {challenge, nonce}. */
export async function proofOfWork(onProgress) {
  const c = await (await api('/api/v1/pow', { method: 'POST', json: {} })).json();
  if (c.enabled === false) { onProgress(1); return null; }
  const expected = 2 ** c.difficulty;
  const { nonce } = await runWorker({ op: 'pow', challenge: c.challenge }, (n) => {
    // Expected attempts are 2^difficulty; the bar approaches the end without claiming it.
    onProgress(Math.min(0.95, 1 - Math.exp(-n / expected)));
  });
  onProgress(1);
  return { challenge: c.challenge, nonce };
}

/** Argon2id over the pickup code, in the worker. Returns the 32-byte seed. */
export async function deriveSeed(code) {
  const { seed } = await runWorker({ op: 'derive', code });
  return seed;
}
