// Helpers for the anonymity audit (anonymity.test.js): the real `meldpunt` server listening on
// 127.0.0.2 with the most verbose log it has, its log captured in a file; a small recording
// reverse proxy for the testkit's traffic; every spelling in which a secret or an address could
// end up in a file; the byte scanner; the features of a request for the linkability check.
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BIN, WWW, cleanEnv, createOperator, ROOM_LOGIN_PUBLIC, ROOM_ADVISOR } from './helpers-advisor.js';

/** A free TCP port on `host` (the listen address the server will get). */
export function freePortOn(host) {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once('error', rej);
    s.listen(0, host, () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

/**
 * The server under audit. `log` is the most verbose filter it accepts: `trace` for everything,
 * and trace again for actix's own crates, which `init_logging` caps at `warn` unless the
 * operator names them (the later directive for a target wins).
 */
export class AuditServer {
  constructor(dir, { host, port, trustedProxy }) {
    this.dir = dir;
    this.host = host;
    this.port = port;
    this.trustedProxy = trustedProxy;
    this.db = join(dir, 'meldpunt.db');
    this.logFile = join(dir, 'server.log');
    this.base = `http://${host}:${port}`;
    this.server = null;
    this.exited = null;
  }

  static LOG = 'trace,actix_server=trace,actix_http=trace,actix_web=trace,actix=trace,mio=trace';

  env() {
    return {
      ...cleanEnv(),
      MELDPUNT_DATABASE: this.db,
      MELDPUNT_METRICS__ENABLED: 'false',
      MELDPUNT_STATIC_DIR: WWW,
      MELDPUNT_POW__M_KIB: '64',
      MELDPUNT_POW__DIFFICULTY: '2',
      MELDPUNT_LOG: AuditServer.LOG,
      ...(this.trustedProxy ? { MELDPUNT_TRUSTED_PROXY: this.trustedProxy } : {}),
      // One machine plays every person here: room for that. The case-token guessing limit
      // keeps its default (5 failures): the address probe at the end relies on it.
      ...ROOM_LOGIN_PUBLIC,
      ...ROOM_ADVISOR,
    };
  }

  admin(...args) {
    return execFileSync(BIN, ['admin', ...args], { env: this.env(), encoding: 'utf8' }).trim();
  }

  /** `meldpunt admin operator create --username NAME --passphrase-fd 3`. */
  createOperator(username, passphrase) {
    return createOperator(this.dir, this.env(), username, passphrase);
  }

  async start() {
    const fd = openSync(this.logFile, 'w');
    this.server = spawn(BIN, ['serve', '--listen', `${this.host}:${this.port}`], { env: this.env(), stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((res) => this.server.once('exit', (code, signal) => res({ code, signal })));
    for (let i = 0; i < 300; i++) {
      if (this.server.exitCode !== null) break;
      try { if ((await fetch(`${this.base}/healthz`)).ok) return; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server did not start:\n${readFileSync(this.logFile, 'utf8').slice(-2000)}`);
  }

  /** SIGTERM and wait for the exit (a clean stop checkpoints the WAL). */
  async stop() {
    if (!this.server || this.server.exitCode !== null || this.server.signalCode !== null) return this.exited;
    this.server.kill('SIGTERM');
    const timeout = new Promise((res) => setTimeout(() => res(null), 30_000));
    const result = await Promise.race([this.exited, timeout]);
    if (result === null) {
      this.server.kill('SIGKILL');
      throw new Error('the server did not stop within 30 s of SIGTERM');
    }
    return result;
  }

  /** The database files as they are now: main file, -wal, -shm (each may be absent). */
  files(label) {
    return ['', '-wal', '-shm'].map((suffix) => {
      const path = `${this.db}${suffix}`;
      return { name: `${label} meldpunt.db${suffix}`, path, buf: existsSync(path) ? readFileSync(path) : null };
    });
  }
}

/**
 * A reverse proxy that records every request and response (headers and bodies) and forwards
 * it unchanged (except Host) to `target`. It adds no X-Forwarded-For: its peer address,
 * 127.0.0.1, is what the server keys these requests by.
 */
export function recordingProxy(target) {
  const records = [];
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: t.host };
      const rec = { who: 'testkit', method: req.method, url: `${target}${req.url}`, headers, body, response: null };
      records.push(rec);
      const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers, agent: false }, (ur) => {
        const out = [];
        ur.on('data', (c) => out.push(c));
        ur.on('end', () => {
          const rbody = Buffer.concat(out);
          rec.response = { status: ur.statusCode, headers: ur.rawHeaders, body: rbody };
          const h = { ...ur.headers };
          delete h['transfer-encoding'];
          h['content-length'] = String(rbody.length);
          res.writeHead(ur.statusCode, h);
          res.end(rbody);
        });
      });
      up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      up.end(body);
    });
  });
  return new Promise((res) => {
    server.listen(0, '127.0.0.1', () => {
      res({ url: `http://127.0.0.1:${server.address().port}`, records, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** One HTTP request from node, optionally from a chosen local address. */
export function rawRequest(base, { method = 'GET', path, headers = {}, localAddress, body }) {
  const u = new URL(base);
  return new Promise((res, rej) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers, localAddress, agent: false }, (r) => {
      const out = [];
      r.on('data', (c) => out.push(c));
      r.on('end', () => res({ status: r.statusCode, headers: r.rawHeaders, body: Buffer.concat(out), local: req.socket ? req.socket.localAddress : null, localSeen: r.socket.localAddress }));
    });
    req.on('error', rej);
    req.end(body);
  });
}

// ---- Spellings.

const utf16be = (s) => { const b = Buffer.from(s, 'utf16le'); for (let i = 0; i + 1 < b.length; i += 2) { const x = b[i]; b[i] = b[i + 1]; b[i + 1] = x; } return b; };

/**
 * Every encoding in which `value` could be written: UTF-8, UTF-16LE/BE, base64 and base64url
 * at each of the three byte alignments (the exact characters every base64 of a stream that
 * holds the value contains), hex in both cases. Only needles of at least 6 bytes get the
 * base64/hex forms (shorter ones would match by chance).
 */
export function spellings(label, value) {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
  const out = [{ label: `${label} (raw)`, bytes }];
  if (!Buffer.isBuffer(value)) {
    out.push({ label: `${label} (UTF-16LE)`, bytes: Buffer.from(value, 'utf16le') });
    out.push({ label: `${label} (UTF-16BE)`, bytes: utf16be(value) });
  }
  if (bytes.length >= 6) {
    for (let s = 0; s < 3; s++) {
      const n = Math.floor((bytes.length - s) / 3) * 3;
      if (n < 6) continue;
      const chunk = bytes.subarray(s, s + n);
      out.push({ label: `${label} (base64, alignment ${s})`, bytes: Buffer.from(chunk.toString('base64')) });
      const url = chunk.toString('base64url');
      if (url !== chunk.toString('base64')) out.push({ label: `${label} (base64url, alignment ${s})`, bytes: Buffer.from(url) });
    }
    out.push({ label: `${label} (hex)`, bytes: Buffer.from(bytes.toString('hex')) });
    out.push({ label: `${label} (HEX)`, bytes: Buffer.from(bytes.toString('hex').toUpperCase()) });
  }
  return out;
}

/** An IPv4 address as text (also v4-mapped v6 and UTF-16), as a decimal and hex number, and as 4 raw bytes. */
export function ipSpellings(ip) {
  const parts = ip.split('.').map(Number);
  const raw = Buffer.from(parts);
  const n = raw.readUInt32BE(0);
  return [
    { label: `${ip} (text)`, bytes: Buffer.from(ip) },
    { label: `${ip} (UTF-16LE)`, bytes: Buffer.from(ip, 'utf16le') },
    { label: `${ip} (UTF-16BE)`, bytes: utf16be(ip) },
    { label: `${ip} (v4-mapped hex text)`, bytes: Buffer.from(`::ffff:${raw.subarray(0, 2).toString('hex')}:${raw.subarray(2).toString('hex')}`) },
    { label: `${ip} (decimal ${n})`, bytes: Buffer.from(String(n)) },
    { label: `${ip} (hex text)`, bytes: Buffer.from(raw.toString('hex')) },
    { label: `${ip} (4 raw bytes, network order)`, bytes: raw, raw: true },
    { label: `${ip} (4 raw bytes, little-endian)`, bytes: Buffer.from([...raw].reverse()), raw: true },
  ];
}

/** Every occurrence of every needle in every haystack. */
export function scan(haystacks, needles) {
  const hits = [];
  for (const h of haystacks) {
    if (!h.buf || h.buf.length === 0) continue;
    for (const n of needles) {
      let at = h.buf.indexOf(n.bytes);
      while (at >= 0) {
        hits.push({ where: h.name, what: n.label, needle: n, offset: at, buf: h.buf });
        at = h.buf.indexOf(n.bytes, at + 1);
      }
    }
  }
  return hits;
}

/** A short printable view of the bytes around a hit. */
export function around(hit, before = 40, after = 60) {
  const from = Math.max(0, hit.offset - before);
  const slice = hit.buf.subarray(from, Math.min(hit.buf.length, hit.offset + hit.needle.bytes.length + after));
  return `${hit.where} @${hit.offset}: ${JSON.stringify(slice.toString('latin1').replace(/[^\x20-\x7e]/g, '.'))} [hex ${slice.toString('hex').slice(0, 160)}]`;
}

/**
 * Random bytes (ciphertext, random ids) contain any 4-byte pattern by chance once in 2^32
 * bytes. A raw-byte hit is explained when the 16 bytes before or after it (together with the
 * hit) occur in data a client sent: then the bytes came from that client's ciphertext, not
 * from the server writing an address.
 */
export function explainedByClientData(hit, clientBlobs) {
  const { buf, offset } = hit;
  const windows = [];
  if (offset >= 12) windows.push(buf.subarray(offset - 12, offset + 4));
  if (offset + 16 <= buf.length) windows.push(buf.subarray(offset, offset + 16));
  return windows.some((w) => w.length === 16 && clientBlobs.some((b) => b.includes(w)));
}

/** The binary forms of a request body: raw, and every base64/base64url string value of its JSON. */
export function clientBlobsOf(body) {
  const out = [];
  if (!body || body.length === 0) return out;
  out.push(body);
  let json;
  try { json = JSON.parse(body.toString('utf8')); } catch { return out; }
  const walk = (v) => {
    if (typeof v === 'string' && v.length >= 16 && /^[A-Za-z0-9+/_-]+=*$/.test(v)) {
      out.push(Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(json);
  return out;
}

// ---- Linkability.

/**
 * What a request tells the server, as a set of strings: method and path, every header (name and
 * value), every query parameter, every JSON leaf (path with array indices dropped, and value),
 * and the SHA-256 of a body that is not JSON.
 */
export function features(req) {
  const f = new Set();
  const u = new URL(req.url);
  f.add(`path ${req.method} ${u.pathname}`);
  for (const [k, v] of u.searchParams) f.add(`query ${k}=${v}`);
  for (const { name, value } of req.headersArray) f.add(`header ${name.toLowerCase()}: ${value}`);
  if (req.body && req.body.length) {
    let json;
    try { json = JSON.parse(req.body.toString('utf8')); } catch { json = undefined; }
    if (json === undefined) f.add(`body sha256 ${createHash('sha256').update(req.body).digest('hex')}`);
    else {
      const walk = (v, path) => {
        if (Array.isArray(v)) v.forEach((x) => walk(x, `${path}[]`));
        else if (v && typeof v === 'object') {
          if (Object.keys(v).length === 0) f.add(`json ${path || '.'}={}`);
          for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
        } else f.add(`json ${path || '.'}=${JSON.stringify(v)}`);
      };
      walk(json, '');
    }
  }
  return f;
}

/**
 * Logical contents of a SQLite file (every table, every cell) via python3's sqlite3 module;
 * null without python3. `rw`: open it normally (a scratch copy with its -wal, which SQLite
 * then reads); otherwise immutable (the file alone, nothing written).
 */
export function sqliteDump(path, rw = false) {
  const script = `
import sqlite3, sys, json, base64
con = sqlite3.connect(sys.argv[1]) if sys.argv[2] == 'rw' else sqlite3.connect('file:' + sys.argv[1] + '?immutable=1', uri=True)
out = {'tables': [], 'cells': []}
for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
    cols = [r[1] + ' ' + (r[2] or '') for r in con.execute('PRAGMA table_info("%s")' % name)]
    rows = con.execute('SELECT * FROM "%s"' % name).fetchall()
    out['tables'].append({'name': name, 'columns': cols, 'rows': len(rows)})
    for row in rows:
        for v in row:
            if isinstance(v, bytes): out['cells'].append(base64.b64encode(v).decode())
            elif v is not None: out['cells'].append(base64.b64encode(str(v).encode()).decode())
print(json.dumps(out))
`;
  const r = spawnSync('python3', ['-c', script, path, rw ? 'rw' : 'immutable'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.error || r.status !== 0) return null;
  const out = JSON.parse(r.stdout);
  const cells = out.cells.map((c) => Buffer.from(c, 'base64'));
  // One cell per line so that no needle spans two cells.
  return { tables: out.tables, buf: Buffer.concat(cells.flatMap((c) => [c, Buffer.from([0x0a, 0x00, 0x0a])])) };
}
