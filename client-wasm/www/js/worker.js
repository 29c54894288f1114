// Module worker: the two slow steps (Argon2id over the pickup code, and the proof of work)
// run here so that the page stays responsive. One worker per task; it is terminated after.
import init, { deriveSeed, solvePow } from '/pkg/meldpunt_client_wasm.js';

const ready = init({ module_or_path: '/pkg/meldpunt_client_wasm_bg.wasm' });
ready.catch(() => {}); // reported per request below

self.onmessage = async (e) => {
  const req = e.data;
  try {
    await ready;
  } catch {
    self.postMessage({ error: 'crypto_unavailable' });
    return;
  }
  try {
    if (req.op === 'derive') {
      const seed = deriveSeed(req.code);
      self.postMessage({ seed }, [seed.buffer]);
    } else if (req.op === 'pow') {
      let last = 0;
      const nonce = solvePow(req.challenge, (n) => {
        const now = performance.now();
        if (now - last > 80) {
          last = now;
          self.postMessage({ progress: n });
        }
      });
      self.postMessage({ nonce });
    } else {
      self.postMessage({ error: 'unknown_op' });
    }
  } catch (err) {
    self.postMessage({ error: String((err && err.message) || err) });
  }
};
