#!/usr/bin/env node
// Synthetic classic-pcap generator for benchmarking tlsflight.
//
//   node bench/generate.mjs --profile bulk --size 1G [--seed 1] [--out FILE] [--concurrency 64]
//   node bench/generate.mjs --profile handshake [--size 200M] [--out FILE]
//   node bench/generate.mjs --record            # re-record bench/transcripts.json (needs `openssl`)
//
// TLS bytes are REAL: handshakes recorded from node:tls client and server talking over an in-memory
// duplex pair (nothing touches the network), kept in bench/transcripts.json so that a given seed gives a
// byte-for-byte identical file. Everything below TLS is synthesized: Ethernet + IPv4 (10 % IPv6),
// SYN / SYN-ACK / ACK, 1448-byte segments with correct seq/ack, a pure ACK every second segment, FIN
// close, correct IPv4 header and TCP/UDP checksums. Each connection gets its own addresses, ports, ISNs
// and ClientHello/ServerHello randoms; application data is type-23 records (16 KiB in bulk) whose bodies
// are slices of one pre-filled pseudo-random buffer.
//
// Profiles:
//   bulk       ~--size bytes (default 1G): ~64 concurrently open connections, each a handshake followed by
//              megabytes of application data both ways; ~4 % plain TCP (HTTP on :80) and DNS-like UDP.
//   handshake  ~--size bytes (default 200M, ~49,000 handshakes): short connections (handshake, a few KB
//              of data, FIN), ~256 open at once.
//
// Writes FILE and FILE.expected.json (expected counts per kind, as tlsflight's JSON `summary` names them).
// Streams through three reused 8 MiB buffers (one being filled while the others are written): constant
// memory whatever the size.
// Node.js 20+, built-in modules only.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TRANSCRIPTS = path.join(HERE, 'transcripts.json');
const SNI = 'bench.tlsflight.test';

// ---------------------------------------------------------------------------------------------
// Sizes, PRNG
// ---------------------------------------------------------------------------------------------

/** "250M", "1G", "4G", "1.5G", "200MiB", "123456" -> bytes (binary units). */
export function parseSize(s) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(String(s));
  if (!m) throw new Error(`bad size: ${s}`);
  const mul = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase()];
  return Math.round(Number(m[1]) * mul);
}

/** sfc32: small, fast, good enough, and deterministic. */
export function makeRng(seed) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  let ctr = 1;
  const u32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + ctr) | 0;
    ctr = (ctr + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 20; i++) u32();
  return {
    u32,
    /** integer in [0, n) */
    int: (n) => Math.floor((u32() / 4294967296) * n),
    /** integer in [lo, hi] */
    range: (lo, hi) => lo + Math.floor((u32() / 4294967296) * (hi - lo + 1)),
    float: () => u32() / 4294967296,
    fill(buf) {
      let i = 0;
      for (; i + 4 <= buf.length; i += 4) buf.writeUInt32LE(u32(), i);
      for (; i < buf.length; i++) buf[i] = u32() & 0xff;
      return buf;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Recording real TLS handshakes (only with --record, or when bench/transcripts.json is missing)
// ---------------------------------------------------------------------------------------------

function makeCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlsflight-bench-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '3650', '-subj', `/CN=${SNI}`,
      '-addext', `subjectAltName=DNS:${SNI}`,
    ], { stdio: 'pipe' });
    return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Two Duplex streams wired to each other; every write is logged as {dir, bytes} in order. */
function duplexPair(log) {
  let client = null;
  let server = null;
  const side = (dir, peer) => new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      const b = Buffer.from(chunk);
      log.push({ dir, bytes: b });
      setImmediate(() => { const p = peer(); if (!p.destroyed) p.push(b); });
      cb();
    },
    final(cb) { setImmediate(() => { const p = peer(); if (!p.destroyed) p.push(null); }); cb(); },
  });
  client = side('c2s', () => server);
  server = side('s2c', () => client);
  return [client, server];
}

function makeServer(creds, opts, { sessionStore = false } = {}) {
  const srv = tls.createServer({ ...creds, ...opts });
  if (sessionStore) {
    // node:tls has no internal server session cache: session-ID resumption needs these hooks.
    const store = new Map();
    srv.on('newSession', (id, data, cb) => { store.set(id.toString('hex'), data); cb(); });
    srv.on('resumeSession', (id, cb) => cb(null, store.get(id.toString('hex')) ?? null));
  }
  srv.on('secureConnection', (s) => s.on('error', () => {}));
  srv.on('tlsClientError', () => {});
  return srv;
}

/** One handshake, nothing else: resolves once the wire has been quiet for a while after it. */
function recordHandshake(server, clientOpts) {
  return new Promise((resolve, reject) => {
    const log = [];
    const [cSide, sSide] = duplexPair(log);
    server.emit('connection', sSide);
    const cl = tls.connect({ socket: cSide, servername: SNI, rejectUnauthorized: false, ...clientOpts });
    let session = null;
    let protocol = null;
    let reused = null;
    let done = false;
    cl.on('session', (s) => { session = s; });
    cl.on('secureConnect', () => {
      protocol = cl.getProtocol();
      reused = cl.isSessionReused();
      done = true;
    });
    cl.on('error', reject);
    const deadline = Date.now() + 10_000;
    let last = -1;
    const timer = setInterval(() => {
      if (done && log.length === last) {
        clearInterval(timer);
        const writes = log.slice();
        session ??= cl.getSession();
        cl.destroy();
        sSide.destroy();
        resolve({ writes, session, protocol, reused });
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error('recording timed out'));
      }
      last = log.length;
    }, 100);
  });
}

export async function recordTranscripts() {
  const creds = makeCert();
  const k1 = crypto.randomBytes(48);
  const k2 = crypto.randomBytes(48);
  const tickets = makeServer(creds, { ticketKeys: k1 });
  const rotated = makeServer(creds, { ticketKeys: k2 }); // same host, new ticket keys: old tickets fail
  const noTickets = makeServer(creds, { secureOptions: crypto.constants.SSL_OP_NO_TICKET }, { sessionStore: true });
  const p256only = makeServer(creds, { minVersion: 'TLSv1.3', ecdhCurve: 'P-256' });
  const T12 = { maxVersion: 'TLSv1.2' };
  const T13 = { minVersion: 'TLSv1.3' };

  const r = {};
  r['tls12-full'] = await recordHandshake(tickets, T12);
  r['tls12-ticket-resumed'] = await recordHandshake(tickets, { ...T12, session: r['tls12-full'].session });
  r['tls12-ticket-rejected'] = await recordHandshake(rotated, { ...T12, session: r['tls12-full'].session });
  r['tls12-sid-first'] = await recordHandshake(noTickets, T12);
  r['tls12-sid-resumed'] = await recordHandshake(noTickets, { ...T12, session: r['tls12-sid-first'].session });
  r['tls13-full'] = await recordHandshake(tickets, T13);
  r['tls13-psk'] = await recordHandshake(tickets, { ...T13, session: r['tls13-full'].session });
  r['tls13-psk-rejected'] = await recordHandshake(rotated, { ...T13, session: r['tls13-full'].session });
  r['tls13-hrr'] = await recordHandshake(p256only, { ...T13, ecdhCurve: 'X25519:P-256' });

  // What each one is, by tlsflight's rules (README "How a handshake is classified").
  const meta = {
    'tls12-full': ['TLSv1.2', false, 'full', [], false, false, 'TLS 1.2 full handshake, server issues a NewSessionTicket'],
    'tls12-ticket-resumed': ['TLSv1.2', true, 'resumed-ticket', ['session-id', 'ticket'], false, false, 'TLS 1.2 abbreviated handshake resuming tls12-full by its ticket'],
    'tls12-ticket-rejected': ['TLSv1.2', false, 'full', ['session-id', 'ticket'], true, false, 'TLS 1.2: the ticket of tls12-full offered to a server with rotated ticket keys: full handshake'],
    'tls12-sid-first': ['TLSv1.2', false, 'full', [], false, false, 'TLS 1.2 full handshake, server with SSL_OP_NO_TICKET (session ID issued)'],
    'tls12-sid-resumed': ['TLSv1.2', true, 'resumed-session-id', ['session-id'], false, false, 'TLS 1.2 abbreviated handshake resuming tls12-sid-first by session ID'],
    'tls13-full': ['TLSv1.3', false, 'full', [], false, false, 'TLS 1.3 full handshake (no PSK offered), two NewSessionTickets'],
    'tls13-psk': ['TLSv1.3', true, 'resumed-psk', ['psk'], false, false, 'TLS 1.3 PSK resumption (psk_dhe_ke) of tls13-full'],
    'tls13-psk-rejected': ['TLSv1.3', false, 'full', ['psk'], true, false, 'TLS 1.3: the PSK of tls13-full offered to a server with rotated ticket keys: full handshake'],
    'tls13-hrr': ['TLSv1.3', false, 'full', [], false, true, 'TLS 1.3 full handshake with HelloRetryRequest (client key share X25519, server wants P-256)'],
  };
  const connections = {};
  for (const [name, rec] of Object.entries(r)) {
    const [protocol, reused, kind, offered, rejected, helloRetry, description] = meta[name];
    if (rec.protocol !== protocol || rec.reused !== reused) {
      throw new Error(`${name}: recorded ${rec.protocol} reused=${rec.reused}, wanted ${protocol} reused=${reused}`);
    }
    connections[name] = {
      description, protocol, kind, offered, rejected, helloRetry,
      writes: rec.writes.map((w) => ({ dir: w.dir, hex: w.bytes.toString('hex') })),
    };
  }
  for (const s of [tickets, rotated, noTickets, p256only]) s.close();
  return {
    comment: 'Recorded by bench/generate.mjs --record (node:tls over an in-memory duplex pair, handshake only). '
      + '`kind`/`offered`/`rejected`/`helloRetry` are what tlsflight must report for each.',
    recordedWith: { node: process.version, openssl: process.versions.openssl },
    connections,
  };
}

export async function loadTranscripts({ record = false, file = TRANSCRIPTS, log = () => {} } = {}) {
  if (!record && fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  log(`recording TLS handshakes into ${path.relative(process.cwd(), file)}`);
  const t = await recordTranscripts();
  fs.writeFileSync(file, `${JSON.stringify(t, null, 1)}\n`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// 2. Templates: flights of each recorded handshake
// ---------------------------------------------------------------------------------------------

/** A plain Uint8Array view (its subarray() is cheaper than a Buffer's). */
const u8 = (b) => new Uint8Array(b.buffer, b.byteOffset, b.length);

const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

function templatesOf(transcripts) {
  const out = [];
  for (const [name, t] of Object.entries(transcripts.connections)) {
    const flights = [];
    for (const w of t.writes) {
      const dir = w.dir === 'c2s' ? 0 : 1;
      const b = Buffer.from(w.hex, 'hex');
      const prev = flights[flights.length - 1];
      if (prev && prev.dir === dir) prev.bytes = Buffer.concat([prev.bytes, b]);
      else flights.push({ dir, bytes: b });
    }
    for (const f of flights) {
      // Handshake record whose first message is ClientHello (1) / ServerHello (2): random at offset 11.
      const hs = f.bytes.length > 43 && f.bytes[0] === 22 ? f.bytes[5] : 0;
      f.patch = hs === 1 ? 'ch' : hs === 2 && !f.bytes.subarray(11, 43).equals(HRR_RANDOM) ? 'sh' : null;
      f.u8 = u8(f.bytes);
      f.ps = prefixSums(f.u8);
    }
    const hsBytes = flights.reduce((n, f) => n + f.bytes.length, 0);
    out.push({ name, ...t, tls13: t.protocol === 'TLSv1.3', flights, hsBytes });
  }
  return out;
}

// Weights of each template in the mix (plain TCP is separate).
const MIX = {
  'tls12-full': 14,
  'tls12-sid-first': 6,
  'tls12-sid-resumed': 10,
  'tls12-ticket-resumed': 12,
  'tls12-ticket-rejected': 4,
  'tls13-full': 20,
  'tls13-psk': 22,
  'tls13-psk-rejected': 4,
  'tls13-hrr': 8,
};

// ---------------------------------------------------------------------------------------------
// 3. Writer: a few big reused buffers, written asynchronously in large chunks
// ---------------------------------------------------------------------------------------------

const CHUNK = 8 * 2 ** 20; // a buffer is handed to the file system once it holds this much
const SLACK = 512 * 1024; // room for what one scheduling step can add past CHUNK
const BUFFERS = 3; // filled while earlier ones are being written (libuv thread pool)

class PcapWriter {
  constructor(file) {
    this.fd = fs.openSync(file, 'w');
    this.free = [];
    for (let i = 1; i < BUFFERS; i++) this.free.push(Buffer.allocUnsafe(CHUNK + SLACK));
    this.inflight = [];
    this.buf = Buffer.allocUnsafe(CHUNK + SLACK);
    this.pos = 0;
    this.flushed = 0;
    this.packets = 0;
    this.error = null;
    const h = this.buf;
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(262144, 16); // snaplen
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.pos = 24;
  }

  get size() { return this.flushed + this.pos; }

  /** Hand the current buffer to an asynchronous write and continue in a free one. */
  async rotate() {
    const buf = this.buf;
    const len = this.pos;
    const at = this.flushed; // explicit positions: writes in flight together may complete in any order
    const p = new Promise((resolve, reject) => {
      let off = 0;
      const more = () => fs.write(this.fd, buf, off, len - off, at + off, (err, n) => {
        if (err) return reject(err);
        off += n;
        if (off < len) return more();
        resolve(buf);
      });
      more();
    });
    this.inflight.push(p);
    this.flushed += len;
    this.pos = 0;
    if (this.free.length === 0) this.free.push(await this.inflight.shift());
    this.buf = this.free.pop();
  }

  async close() {
    if (this.pos) await this.rotate();
    while (this.inflight.length) await this.inflight.shift();
    fs.closeSync(this.fd);
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Packets
// ---------------------------------------------------------------------------------------------

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;
const MSS = 1448;
const EMPTY = Buffer.alloc(0);

const MAC_CLIENT_SIDE = Buffer.from('020000000001', 'hex');
const MAC_SERVER_SIDE = Buffer.from('020000000002', 'hex');

/** Ethernet + IP + 20-byte TCP (or 8-byte UDP) header template, variable fields zero. */
function headerTemplate(v6, srcIp, dstIp, sport, dport, proto, srcMac, dstMac) {
  const ipLen = v6 ? 40 : 20;
  const l4 = proto === 6 ? 20 : 8;
  const h = Buffer.alloc(14 + ipLen + l4);
  dstMac.copy(h, 0);
  srcMac.copy(h, 6);
  h.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  if (v6) {
    h.writeUInt32BE(0x60000000, 14);
    h[20] = proto;
    h[21] = 64;
    srcIp.copy(h, 22);
    dstIp.copy(h, 38);
  } else {
    h[14] = 0x45;
    h.writeUInt16BE(0x4000, 20); // DF
    h[22] = 64;
    h[23] = proto;
    srcIp.copy(h, 26);
    dstIp.copy(h, 30);
  }
  const t = 14 + ipLen;
  h.writeUInt16BE(sport, t);
  h.writeUInt16BE(dport, t + 2);
  if (proto === 6) {
    h[t + 12] = 0x50;
    h.writeUInt16BE(v6 ? 0x7fe0 : 0xfaf0, t + 14); // window
  }
  return h;
}

/** One's-complement partial sum (not folded) of the pseudo header's addresses + protocol. */
function pseudoSum(srcIp, dstIp, proto) {
  let s = proto;
  for (let i = 0; i < srcIp.length; i += 2) s += (srcIp[i] << 8) | srcIp[i + 1];
  for (let i = 0; i < dstIp.length; i += 2) s += (dstIp[i] << 8) | dstIp[i + 1];
  return s;
}

function sumBytes(b, s, e, sum) {
  let i = s;
  const last = e - 1;
  for (; i < last; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < e) sum += b[i] << 8;
  return sum;
}

/**
 * Prefix sums of buf's 16-bit big-endian words at even offsets, so that the one's-complement sum of
 * any slice costs two lookups: checksums of payload cut from the pre-filled buffers are O(1) per packet.
 */
function prefixSums(buf) {
  const n = buf.length >> 1;
  const p0 = new Float64Array(n + 1);
  let s = 0;
  for (let k = 0, i = 0; k < n; k++, i += 2) {
    s += (buf[i] << 8) | buf[i + 1];
    p0[k + 1] = s;
  }
  return p0;
}

/** Sum (unfolded, or folded for odd starts) of buf[s, e) as 16-bit words starting at s. */
function sliceSum(buf, p0, s, e) {
  if ((s & 1) === 0) {
    const len = e - s;
    let sum = p0[(s >> 1) + (len >> 1)] - p0[s >> 1];
    if (len & 1) sum += buf[e - 1] << 8;
    return sum;
  }
  // Odd start: the even-aligned sum of [s-1, e) with byte s-1 taken as zero is the byte-swapped sum we
  // want (RFC 1071: a leading zero byte multiplies the sum by 256, modulo 65535).
  const s0 = s - 1;
  const len = e - s0;
  let sum = p0[(s0 >> 1) + (len >> 1)] - p0[s0 >> 1] - (buf[s0] << 8);
  if (len & 1) sum += buf[e - 1] << 8;
  sum = fold(sum);
  return ((sum & 0xff) << 8) | (sum >> 8);
}

function fold(sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

// ---------------------------------------------------------------------------------------------
// 5. The generator
// ---------------------------------------------------------------------------------------------

export async function generate(opts) {
  const profile = opts.profile ?? 'bulk';
  if (profile !== 'bulk' && profile !== 'handshake') throw new Error(`unknown profile ${profile}`);
  const target = opts.size != null ? parseSize(opts.size) : profile === 'bulk' ? 2 ** 30 : 200 * 2 ** 20;
  const seed = opts.seed ?? 1;
  const concurrency = opts.concurrency ?? (profile === 'bulk' ? 64 : 256);
  const file = opts.out ?? path.join(os.tmpdir(), `tlsflight-bench-${profile}-${opts.size ?? 'default'}.pcap`);
  const log = opts.log ?? (() => {});
  const checksums = opts.checksums ?? true;

  const transcripts = await loadTranscripts({ record: opts.record, log });
  const started = process.hrtime.bigint();
  const rng = makeRng(seed);
  const templates = templatesOf(transcripts).filter((t) => MIX[t.name]);
  const weights = templates.map((t) => MIX[t.name]);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const pickTemplate = () => {
    let x = rng.float() * wsum;
    for (let i = 0; i < templates.length; i++) if ((x -= weights[i]) < 0) return templates[i];
    return templates[templates.length - 1];
  };

  // Application-data record streams (one per TLS version): 48 full 16 KiB records, then 96 small ones.
  // A burst is a run of consecutive records, i.e. one contiguous slice of this buffer.
  const FULL_RECORDS = 48;
  const SMALL_RECORDS = 96;
  const makeStream = (bodyLen) => {
    const lens = [];
    for (let i = 0; i < FULL_RECORDS; i++) lens.push(bodyLen);
    for (let i = 0; i < SMALL_RECORDS; i++) lens.push(rng.range(40, 1750));
    const offs = [0];
    for (const l of lens) offs.push(offs[offs.length - 1] + 5 + l);
    const buf = rng.fill(Buffer.allocUnsafe(offs[offs.length - 1]));
    for (let i = 0; i < lens.length; i++) {
      buf[offs[i]] = 23;
      buf.writeUInt16BE(0x0303, offs[i] + 1);
      buf.writeUInt16BE(lens[i], offs[i] + 3);
    }
    return { buf: u8(buf), offs, ps: checksums ? prefixSums(buf) : null };
  };
  const STREAM12 = makeStream(16384 + 8 + 16); // AES-GCM: explicit nonce + tag
  const STREAM13 = makeStream(16384 + 1 + 16); // inner content type + tag
  // Plain-text bytes for the non-TLS connections.
  const TEXT = new Uint8Array(2 ** 20);
  for (let i = 0; i < TEXT.length; i++) TEXT[i] = 0x61 + (rng.u32() % 26);
  for (let i = 79; i < TEXT.length; i += 80) TEXT[i] = 0x0a;
  const TEXT_PS = checksums ? prefixSums(TEXT) : null;

  const w = new PcapWriter(file);
  // Capture clock: starts 2025-01-01T00:00:00Z, advances a few microseconds per packet.
  let tsSec = 1735689600;
  let tsUsec = 0;
  const tick = () => {
    tsUsec += 1 + (rng.u32() & 31);
    if (tsUsec >= 1_000_000) { tsUsec -= 1_000_000; tsSec++; }
  };

  let tcpPackets = 0;
  let udpPackets = 0;

  /** Emit one TCP packet of connection c in direction dir (0 = client to server). */
  function emitTcp(c, dir, flags, src, off, len, ps, corr) {
    const h = c.hdr[dir];
    const hl = h.length;
    const optLen = flags & SYN ? 4 : 0;
    const tcpLen = 20 + optLen + len;
    const caplen = hl + optLen + len;
    const b = w.buf;
    let p = w.pos;
    if (p + 16 + caplen > b.length) throw new Error('internal: write buffer overrun');
    tick();
    b.writeUInt32LE(tsSec, p);
    b.writeUInt32LE(tsUsec, p + 4);
    b.writeUInt32LE(caplen, p + 8);
    b.writeUInt32LE(caplen, p + 12);
    p += 16;
    b.set(h, p);
    let t;
    if (c.v6) {
      b.writeUInt16BE(tcpLen, p + 18);
      t = p + 54;
    } else {
      b.writeUInt16BE(20 + tcpLen, p + 16);
      c.ipId[dir] = (c.ipId[dir] + 1) & 0xffff;
      b.writeUInt16BE(c.ipId[dir], p + 18);
      if (checksums) b.writeUInt16BE(~fold(sumBytes(b, p + 14, p + 34, 0)) & 0xffff, p + 24);
      t = p + 34;
    }
    b.writeUInt32BE(c.nxt[dir] >>> 0, t + 4);
    b.writeUInt32BE(flags & ACK ? c.nxt[1 - dir] >>> 0 : 0, t + 8);
    b[t + 13] = flags;
    if (optLen) {
      b[t + 12] = 0x60;
      b.writeUInt32BE(0x020405a8, t + 20); // MSS 1448
    }
    if (len) b.set(src.subarray(off, off + len), t + 20 + optLen);
    if (checksums) {
      let s = sumBytes(b, t, t + 20 + optLen, c.pseudo[dir] + tcpLen);
      if (len) s += ps ? sliceSum(src, ps, off, off + len) + corr : sumBytes(src, off, off + len, 0);
      b.writeUInt16BE(~fold(s) & 0xffff, t + 16);
    }
    w.pos = t + tcpLen;
    w.packets++;
    tcpPackets++;
    c.bytes += 16 + caplen;
    c.nxt[dir] = (c.nxt[dir] + len + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
  }

  // Addresses and ports.
  const serverIps4 = [];
  for (let i = 0; i < 16; i++) serverIps4.push(Buffer.from([192, 0, 2, 10 + i]));
  const plainIps4 = [];
  for (let i = 0; i < 4; i++) plainIps4.push(Buffer.from([198, 51, 100, 80 + i]));
  const v6addr = (a, b, c) => {
    const x = Buffer.alloc(16);
    x.writeUInt32BE(0x20010db8, 0);
    x.writeUInt16BE(a, 4);
    x.writeUInt32BE(b, 8);
    x.writeUInt32BE(c, 12);
    return x;
  };
  const open4 = new Set();

  function newTcpConn(serverIp4, serverIp6, sport) {
    const v6 = rng.int(10) === 0;
    let cip;
    let sip;
    let cport;
    let key;
    do {
      cip = v6 ? v6addr(1, rng.u32(), rng.u32()) : Buffer.from([10, rng.int(256), rng.int(256), 1 + rng.int(254)]);
      sip = v6 ? serverIp6 : serverIp4;
      cport = rng.range(32768, 60999);
      key = (v6 ? 2 ** 48 + cip.readUInt32BE(12) * 65536 : cip.readUInt32BE(0) * 65536) + cport;
    } while (open4.has(key));
    open4.add(key);
    return {
      key,
      v6,
      hdr: [
        headerTemplate(v6, cip, sip, cport, sport, 6, MAC_CLIENT_SIDE, MAC_SERVER_SIDE),
        headerTemplate(v6, sip, cip, sport, cport, 6, MAC_SERVER_SIDE, MAC_CLIENT_SIDE),
      ],
      pseudo: [pseudoSum(cip, sip, 6), pseudoSum(sip, cip, 6)],
      nxt: [rng.u32(), rng.u32()],
      ipId: [rng.int(65536), rng.int(65536)],
      gen: null,
      bytes: 0, // written so far
      est: 0, // planned size
    };
  }

  /** Segments [off, off+len) of src from dir; the receiver ACKs every second full segment. */
  // `corr` is added to the first segment's checksum sum: the patched randoms differ from the bytes
  // that `ps` (prefix sums of the template) was computed from.
  function* send(c, dir, src, off, len, ps = null, corr = 0) {
    let n = 0;
    while (len > 0) {
      const k = len < MSS ? len : MSS;
      len -= k;
      emitTcp(c, dir, len === 0 ? PSH | ACK : ACK, src, off, k, ps, corr);
      corr = 0;
      off += k;
      yield;
      if ((++n & 1) === 0 && len > 0) {
        emitTcp(c, 1 - dir, ACK, EMPTY, 0, 0);
        yield;
      }
    }
  }

  function* open(c) {
    emitTcp(c, 0, SYN, EMPTY, 0, 0);
    yield;
    emitTcp(c, 1, SYN | ACK, EMPTY, 0, 0);
    yield;
    emitTcp(c, 0, ACK, EMPTY, 0, 0);
    yield;
  }

  function* close(c, lastDir) {
    // The side that did not send last acknowledges and closes first.
    const a = 1 - lastDir;
    emitTcp(c, a, FIN | ACK, EMPTY, 0, 0);
    yield;
    emitTcp(c, 1 - a, FIN | ACK, EMPTY, 0, 0);
    yield;
    emitTcp(c, a, ACK, EMPTY, 0, 0);
    yield;
  }

  const bulk = profile === 'bulk';

  function* tlsFlow(c, tpl, dataBytes) {
    yield* open(c);
    const crand = rng.fill(Buffer.allocUnsafe(32));
    const srand = rng.fill(Buffer.allocUnsafe(20));
    // Checksums use the template's prefix sums plus a correction for the window [10, 44) that holds
    // the random (no segment boundary falls inside it: segments are 1448 bytes).
    let lastDir = 0;
    for (const f of tpl.flights) {
      let bytes = f.u8;
      let corr = 0;
      if (f.patch) {
        bytes = new Uint8Array(bytes);
        if (checksums) corr = -sumBytes(bytes, 10, 44, 0);
        bytes.set(f.patch === 'ch' ? crand : srand, 11);
        if (checksums) corr += sumBytes(bytes, 10, 44, 0);
      }
      yield* send(c, f.dir, bytes, 0, bytes.length, f.ps, corr);
      lastDir = f.dir;
    }
    const st = tpl.tls13 ? STREAM13 : STREAM12;
    // Application data, alternating client and server bursts, client first.
    let dir = 0;
    let left = dataBytes;
    let first = true;
    while (bulk ? left > 0 || first : first) {
      let r;
      let n;
      if (bulk) {
        n = dir === 0 ? rng.range(1, 16) : rng.range(1, FULL_RECORDS);
        r = rng.int(FULL_RECORDS - n + 1);
      } else {
        // One request record, one or two response records (a few KB in all).
        n = dir === 0 ? 1 : 1 + (rng.int(4) === 0 ? 1 : 0);
        r = FULL_RECORDS + rng.int(SMALL_RECORDS - n + 1);
      }
      const off = st.offs[r];
      let len = st.offs[r + n] - off;
      if (bulk && len > left) {
        // Trim the last burst to what is left (whole records, at least one).
        while (n > 1 && st.offs[r + n] - off > left) n--;
        len = st.offs[r + n] - off;
      }
      yield* send(c, dir, st.buf, off, len, st.ps);
      lastDir = dir;
      left -= len;
      if (dir === 1) first = false;
      dir = 1 - dir;
    }
    yield* close(c, lastDir);
  }

  function* plainFlow(c, bodyBytes) {
    yield* open(c);
    const req = u8(Buffer.from(`GET /obj/${rng.u32().toString(16)} HTTP/1.1\r\nHost: plain.bench.test\r\nAccept: */*\r\n\r\n`));
    yield* send(c, 0, req, 0, req.length);
    const head = u8(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${bodyBytes}\r\n\r\n`));
    yield* send(c, 1, head, 0, head.length);
    let left = bodyBytes;
    while (left > 0) {
      const k = Math.min(left, TEXT.length - 4096);
      const off = rng.int(4096);
      yield* send(c, 1, TEXT, off, k, TEXT_PS);
      left -= k;
    }
    yield* close(c, 1);
  }

  // DNS-like UDP query/response between a random host and 192.0.2.53.
  const DNS_SERVER = Buffer.from([192, 0, 2, 53]);
  const udpScratch = Buffer.alloc(512);
  function emitUdp() {
    const cip = Buffer.from([10, rng.int(256), rng.int(256), 1 + rng.int(254)]);
    const cport = rng.range(32768, 60999);
    const id = rng.int(65536);
    // 12-byte header (one question) + www.bench.test A IN
    const q = Buffer.from('000001000001000000000000037777770562656e636804746573740000010001', 'hex');
    q.writeUInt16BE(id, 0);
    for (const [dir, payloadLen] of [[0, q.length], [1, q.length + 16]]) {
      const src = dir === 0 ? cip : DNS_SERVER;
      const dst = dir === 0 ? DNS_SERVER : cip;
      const h = headerTemplate(false, src, dst, dir === 0 ? cport : 53, dir === 0 ? 53 : cport, 17,
        dir === 0 ? MAC_CLIENT_SIDE : MAC_SERVER_SIDE, dir === 0 ? MAC_SERVER_SIDE : MAC_CLIENT_SIDE);
      q.copy(udpScratch, 0);
      if (dir === 1) {
        udpScratch.writeUInt16BE(0x8180, 2);
        udpScratch.writeUInt16BE(1, 6);
        Buffer.from('c00c000100010000012c0004c0000264', 'hex').copy(udpScratch, q.length);
      }
      const caplen = h.length + payloadLen;
      const b = w.buf;
      let p = w.pos;
      tick();
      b.writeUInt32LE(tsSec, p);
      b.writeUInt32LE(tsUsec, p + 4);
      b.writeUInt32LE(caplen, p + 8);
      b.writeUInt32LE(caplen, p + 12);
      p += 16;
      h.copy(b, p);
      b.writeUInt16BE(28 + payloadLen, p + 16);
      b.writeUInt16BE(rng.int(65536), p + 18);
      b.writeUInt16BE(~fold(sumBytes(b, p + 14, p + 34, 0)) & 0xffff, p + 24);
      b.writeUInt16BE(8 + payloadLen, p + 38);
      udpScratch.copy(b, p + 42, 0, payloadLen);
      const s = sumBytes(b, p + 34, p + 42 + payloadLen, pseudoSum(src, dst, 17) + 8 + payloadLen);
      b.writeUInt16BE(~fold(s) & 0xffff || 0xffff, p + 40);
      w.pos = p + 42 + payloadLen;
      w.packets++;
      udpPackets++;
    }
  }

  // Counts tlsflight should report.
  const byKind = { full: 0, 'resumed-session-id': 0, 'resumed-ticket': 0, 'resumed-psk': 0, unknown: 0 };
  const byTemplate = {};
  let tlsConnections = 0;
  let plainConnections = 0;
  let rejected = 0;
  let offered = 0;
  let helloRetry = 0;
  const versions = { 'TLS1.2': 0, 'TLS1.3': 0 };

  // Size planning: no new connection once what is written plus what the open connections are still
  // expected to write reaches the target. Estimates are corrected by how the closed ones turned out.
  const perByte = 1 + (16 + 54 + 35) / MSS; // headers per full segment, plus half a pure ACK
  const estimate = (payload, packets) => Math.round(payload * perByte + packets * 80);
  const udpEvery = bulk ? 4000 : 400; // scheduling steps per DNS exchange
  const active = [];
  let closedBytes = 0;
  let closedEst = 0;
  const correction = () => (closedEst > 0 ? closedBytes / closedEst : 1);
  const remaining = () => {
    const k = correction();
    let pending = 0;
    for (const c of active) pending += Math.max(0, c.est * k - c.bytes);
    return target - w.size - pending;
  };

  function openConnection() {
    const left = remaining() / correction();
    if (left <= 0) return null;
    const plain = rng.int(bulk ? 25 : 20) === 0;
    if (plain) {
      let body = bulk ? rng.range(64 * 1024, 2 * 2 ** 20) : rng.range(500, 4000);
      const est0 = estimate(200, 12);
      if (left < est0 + 1000) return null;
      body = Math.max(1000, Math.min(body, Math.floor((left - est0) / perByte)));
      const c = newTcpConn(plainIps4[rng.int(plainIps4.length)], v6addr(0xffff, 0, 0x80 + rng.int(4)), 80);
      c.gen = plainFlow(c, body);
      c.est = est0 + estimate(body, 0);
      plainConnections++;
      return c;
    }
    const tpl = pickTemplate();
    let data = bulk ? rng.range(1 * 2 ** 20, 8 * 2 ** 20) : 1900;
    const est0 = estimate(tpl.hsBytes, 10 + tpl.flights.length * 2);
    if (left < est0 + (bulk ? 40_000 : 1000)) return null;
    if (bulk) data = Math.max(20_000, Math.min(data, Math.floor((left - est0) / perByte)));
    const si = rng.int(serverIps4.length);
    const c = newTcpConn(serverIps4[si], v6addr(0xffff, 0, 0x10 + si), 443);
    c.gen = tlsFlow(c, tpl, data);
    c.est = est0 + estimate(data, 3);
    tlsConnections++;
    byKind[tpl.kind]++;
    byTemplate[tpl.name] = (byTemplate[tpl.name] ?? 0) + 1;
    if (tpl.rejected) rejected++;
    if (tpl.offered.length) offered++;
    if (tpl.helloRetry) helloRetry++;
    versions[tpl.tls13 ? 'TLS1.3' : 'TLS1.2']++;
    return c;
  }

  let canOpen = true;
  let steps = 0;
  for (;;) {
    while (canOpen && active.length < concurrency) {
      const c = openConnection();
      if (!c) { canOpen = false; break; }
      active.push(c);
    }
    if (active.length === 0) break;
    const i = rng.int(active.length);
    const c = active[i];
    for (let k = 1 + (rng.u32() & 7); k > 0; k--) {
      if (c.gen.next().done) {
        open4.delete(c.key);
        closedBytes += c.bytes;
        closedEst += c.est;
        active[i] = active[active.length - 1];
        active.pop();
        break;
      }
    }
    if (++steps % udpEvery === 0) emitUdp();
    if (w.pos >= CHUNK) await w.rotate();
  }
  await w.close();

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = w.size;
  const expected = {
    generator: 'bench/generate.mjs',
    profile,
    seed,
    targetBytes: target,
    bytes,
    concurrency,
    packets: w.packets,
    tcpPackets,
    udpPackets,
    connections: tlsConnections + plainConnections,
    tlsConnections,
    nonTlsConnections: plainConnections,
    handshakes: tlsConnections,
    byKind,
    offeredResumption: offered,
    resumed: byKind['resumed-session-id'] + byKind['resumed-ticket'] + byKind['resumed-psk'],
    rejected,
    helloRetry,
    complete: tlsConnections,
    versions,
    byTemplate,
    generatorSeconds: Number(seconds.toFixed(3)),
    generatorMBps: Number((bytes / 1e6 / seconds).toFixed(1)),
  };
  fs.writeFileSync(`${file}.expected.json`, `${JSON.stringify(expected, null, 2)}\n`);
  return { file, expected };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--profile' || a === '-p') o.profile = val();
    else if (a === '--size' || a === '-s') o.size = val();
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--out' || a === '-o') o.out = val();
    else if (a === '--concurrency') o.concurrency = Number(val());
    else if (a === '--no-checksums') o.checksums = false;
    else if (a === '--record') o.record = true;
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`generate: ${e.message}\n`);
    process.exit(2);
  }
  if (o.help) {
    process.stdout.write('usage: node bench/generate.mjs [--profile bulk|handshake] [--size 250M|1G|4G] [--seed N]\n'
      + '                               [--out FILE] [--concurrency N] [--no-checksums] [--record]\n');
    process.exit(0);
  }
  if (o.record && !o.profile && !o.size && !o.out) {
    await loadTranscripts({ record: true, log: (m) => process.stderr.write(`${m}\n`) });
    process.exit(0);
  }
  const { file, expected } = await generate({ ...o, log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`${file}\n${JSON.stringify(expected)}\n`);
}
