// Module worker for the advisor pages: the slow steps that run Argon2id over the keyring
// passphrase (unlocking, rewriting the file after a key rotation or with a remembered colleague), so that the page stays
// responsive. One worker per task; the page terminates it afterwards. Nothing is stored.
import init, { unlockKeyring, rotateKeyring, rewriteKeyring } from '/pkg/meldpunt_client_wasm.js';

const ready = init({ module_or_path: '/pkg/meldpunt_client_wasm_bg.wasm' });

self.onmessage = async (e) => {
  const req = e.data;
  try {
    await ready;
    if (req.op === 'unlock') {
      const parts = unlockKeyring(req.file, req.passphrase);
      self.postMessage({ parts }, [parts.buffer]);
    } else if (req.op === 'rotate') {
      const out = rotateKeyring(req.file, req.passphrase, req.now, req.validityDays);
      self.postMessage({ file: out.file, bundle: out.bundle, keyId: out.keyId, parts: out.parts }, [out.parts.buffer]);
    } else if (req.op === 'rewrite') {
      // The same keys, with new metadata (a colleague the core remembered).
      const file = rewriteKeyring(req.file, req.passphrase, req.identity, req.meta);
      self.postMessage({ file });
    } else {
      self.postMessage({ error: 'unknown_op' });
    }
  } catch (err) {
    self.postMessage({ error: String((err && err.message) || err) });
  }
};
