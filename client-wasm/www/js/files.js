// Attachments: metadata is removed in WASM when a file is chosen (JPEG, PNG), and each file is
// encrypted in 64 KiB pieces and uploaded with its own proof of work.
import { wasm } from '/js/boot.js';
import { t } from '/js/i18n.js';
import { el, formatBytes } from '/js/dom.js';
import { upload } from '/js/api.js';
import { proofOfWork } from '/js/workers.js';

const PIECE = 256 * 1024;

export class FilePicker {
  constructor(input, list) {
    this.input = input;
    this.list = list;
    this.entries = [];
    input.addEventListener('change', () => this.add([...input.files]));
  }

  async add(files) {
    for (const file of files) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      let result;
      try {
        result = wasm.stripMetadata(bytes);
      } catch {
        this.list.append(el('li', { class: 'file refused', role: 'status' },
          el('span', { class: 'file-name', text: file.name }),
          el('span', { class: 'file-note', text: t('files.damaged') })));
        continue;
      }
      const entry = {
        id: wasm.makeId(),
        name: file.name,
        type: file.type || 'application/octet-stream',
        bytes: result.bytes,
        supported: result.supported,
        removed: result.removed,
      };
      this.entries.push(entry);
      this.render();
    }
    this.input.value = '';
  }

  render() {
    this.list.replaceChildren(...this.entries.map((e) => {
      const note = e.supported ? t('files.cleaned') : t('files.not_cleaned');
      const remove = el('button', {
        type: 'button', class: 'link-button', text: t('files.remove'),
        'aria-label': t('files.remove_named', { name: wasm.safeFileName(e.name) }),
        onclick: () => { this.entries = this.entries.filter((x) => x !== e); this.render(); },
      });
      return el('li', { class: `file ${e.supported ? 'cleaned' : 'plain'}` },
        el('span', { class: 'file-name', text: `${wasm.safeFileName(e.name)} (${formatBytes(e.bytes.length)})` }),
        el('span', { class: 'file-note', text: note }), remove);
    }));
  }

  /** What goes into the message body (§6). */
  describe() {
    return this.entries.map((e) => ({ id: e.id, name: e.name, type: e.type, size: e.bytes.length }));
  }

  clear() {
    this.entries = [];
    this.render();
  }
}

/** Timing of each phase, as performance measures `meldpunt:file{i}-{phase}` (nothing secret). */
function timed(name, start) {
  try { performance.measure(`meldpunt:${name}`, { start, end: performance.now() }); } catch { /* optional */ }
  return performance.now();
}

function tick() {
  return new Promise((r) => setTimeout(r, 0));
}

/**
 * Encrypts and uploads every entry. `makeEncryptor()` gives the core's sealer (to the chosen
 * advisors for a report, to the case's members for a follow-up). `onProgress(index, phase,
 * fraction)`; phase is pow|encrypt|upload.
 */
export async function sendAttachments(entries, reporter, makeEncryptor, onProgress) {
  for (const [i, entry] of entries.entries()) {
    let t0 = performance.now();
    const pow = await proofOfWork((f) => onProgress(i, 'pow', f));
    t0 = timed(`file${i}-pow`, t0);
    const enc = makeEncryptor();
    const parts = [enc.header()];
    for (let at = 0; at < entry.bytes.length; at += PIECE) {
      parts.push(enc.push(entry.bytes.subarray(at, at + PIECE)));
      onProgress(i, 'encrypt', Math.min(1, (at + PIECE) / entry.bytes.length));
      await tick();
    }
    parts.push(enc.finish());
    enc.free();
    const total = parts.reduce((n, p) => n + p.length, 0);
    const body = new Uint8Array(total);
    let at = 0;
    for (const p of parts) { body.set(p, at); at += p.length; }
    t0 = timed(`file${i}-encrypt`, t0);
    const headers = { Authorization: `CaseToken ${reporter.caseToken}` };
    if (pow) headers['Meldpunt-Pow'] = `${pow.challenge}.${pow.nonce}`;
    await upload(`/api/v1/case/attachments/${entry.id}`, body, headers, (f) => onProgress(i, 'upload', f));
    timed(`file${i}-upload`, t0);
  }
}
