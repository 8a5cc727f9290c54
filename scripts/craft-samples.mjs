#!/usr/bin/env node
// Builds the hand-crafted captures in samples/crafted/ around real TLS bytes.
//
//   node scripts/craft-samples.mjs            # (re)build captures, manifest.json and README.md
//   node scripts/craft-samples.mjs --refresh  # re-record the TLS transcripts first (needs `openssl`)
//
// The TLS bytes come from node:tls client and server talking over an in-memory duplex pair
// (nothing touches the network). Every write is recorded per direction; TLS randoms and keys differ
// per run, so the transcripts are stored in samples/crafted/transcripts.json and reused when present:
// with that file in place the output is byte-for-byte deterministic.
//
// Everything below the TLS layer is synthesized here: classic pcap writer, link layers (Ethernet,
// 802.1Q, 802.1ad, Linux SLL/SLL2, BSD loopback, raw IP), IPv4 (with options and fragments), IPv6 (with
// extension headers), TCP with realistic SYN / SYN-ACK / ACK, seq/ack bookkeeping and FIN/RST teardown.
// IPv4 header, TCP and UDP checksums are all computed and correct (on the full packet, before any
// snaplen cut). Addresses: 10.0.0.1 -> 10.0.0.2:8443 for the TLS flows (as the brief asks),
// RFC 5737 192.0.2.0/24 for other IPv4 hosts, RFC 3849 2001:db8::/32 for IPv6, locally administered MACs.
//
// Node.js 20+, built-in modules only.

import { Duplex } from 'node:stream';
import tls from 'node:tls';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'samples', 'crafted');
const TRANSCRIPTS = path.join(OUT, 'transcripts.json');
const SNI = 'crafted.test';

// ---------------------------------------------------------------------------------------------
// 1. Recording real TLS transcripts
// ---------------------------------------------------------------------------------------------

function makeCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlsflight-craft-'));
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

/** Two Duplex streams wired to each other; every write is logged as [dir, bytes] in order. */
function duplexPair(log) {
  let client = null;
  let server = null;
  client = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      const b = Buffer.from(chunk);
      log.push({ dir: 'c2s', bytes: b });
      setImmediate(() => server.push(b));
      cb();
    },
    final(cb) { setImmediate(() => server.push(null)); cb(); },
  });
  server = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      const b = Buffer.from(chunk);
      log.push({ dir: 's2c', bytes: b });
      setImmediate(() => client.push(b));
      cb();
    },
    final(cb) { setImmediate(() => client.push(null)); cb(); },
  });
  return [client, server];
}

const HTTP_REQUEST = `GET / HTTP/1.1\r\nHost: ${SNI}\r\n\r\n`;
const HTTP_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye';

function makeServer(creds, extra) {
  const store = new Map();
  const srv = tls.createServer({ ...creds, ...extra });
  srv.on('newSession', (id, data, cb) => { store.set(id.toString('hex'), data); cb(); });
  srv.on('resumeSession', (id, cb) => cb(null, store.get(id.toString('hex')) ?? null));
  srv.on('secureConnection', (s) => {
    s.on('data', () => s.write(HTTP_RESPONSE));
    s.on('end', () => s.end()); // answer the client's close_notify with ours
    s.on('error', () => {});
  });
  return srv;
}

/** One connection: handshake, one request/response, client close_notify, server close_notify. */
function recordConnection(server, clientOpts) {
  return new Promise((resolve, reject) => {
    const log = [];
    const [cSide, sSide] = duplexPair(log);
    server.emit('connection', sSide);
    const cl = tls.connect({ socket: cSide, servername: SNI, rejectUnauthorized: false, ...clientOpts });
    let session = null;
    let protocol = null;
    let reused = null;
    let got = '';
    cl.on('session', (s) => { session = s; });
    cl.on('secureConnect', () => {
      protocol = cl.getProtocol();
      reused = cl.isSessionReused();
      cl.write(HTTP_REQUEST);
    });
    cl.on('data', (d) => { got += d; if (got.endsWith('bye')) cl.end(); });
    cl.on('error', reject);
    const deadline = Date.now() + 10_000;
    let last = -1;
    const timer = setInterval(() => {
      if (log.length === last && cl.destroyed) {
        clearInterval(timer);
        resolve({ writes: log, session, protocol, reused });
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error('recording timed out'));
      }
      last = log.length;
    }, 200);
  });
}

async function recordTranscripts() {
  const creds = makeCert();
  const withTickets = makeServer(creds, {});
  const noTickets = makeServer(creds, { secureOptions: crypto.constants.SSL_OP_NO_TICKET });
  const tls13 = makeServer(creds, {});

  const a = await recordConnection(withTickets, { maxVersion: 'TLSv1.2' });
  const b1 = await recordConnection(noTickets, { maxVersion: 'TLSv1.2' });
  const b2 = await recordConnection(noTickets, { maxVersion: 'TLSv1.2', session: b1.session });
  const c = await recordConnection(tls13, { minVersion: 'TLSv1.3' });

  const expect = (name, r, protocol, reused) => {
    if (r.protocol !== protocol || r.reused !== reused) {
      throw new Error(`${name}: got ${r.protocol} reused=${r.reused}, wanted ${protocol} reused=${reused}`);
    }
  };
  expect('tls12-full', a, 'TLSv1.2', false);
  expect('tls12-sid-first', b1, 'TLSv1.2', false);
  expect('tls12-sid-resumed', b2, 'TLSv1.2', true);
  expect('tls13-full', c, 'TLSv1.3', false);

  const conv = (r, description) => ({
    description,
    protocol: r.protocol,
    reused: r.reused,
    writes: r.writes.map((w) => ({ dir: w.dir, hex: w.bytes.toString('hex') })),
  });
  return {
    comment: 'Recorded by scripts/craft-samples.mjs (node:tls over an in-memory duplex pair). '
      + 'Delete or pass --refresh to re-record; captures are rebuilt from these bytes deterministically.',
    recordedWith: { node: process.version, openssl: process.versions.openssl },
    connections: {
      'tls12-full': conv(a, 'TLS 1.2 full handshake, SNI crafted.test, session tickets enabled (NewSessionTicket sent)'),
      'tls12-sid-first': conv(b1, 'TLS 1.2 full handshake to a server with SSL_OP_NO_TICKET (session ID issued)'),
      'tls12-sid-resumed': conv(b2, 'TLS 1.2 abbreviated handshake resuming tls12-sid-first by session ID'),
      'tls13-full': conv(c, 'TLS 1.3 full handshake (no PSK offered)'),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. TLS helpers (just enough parsing to place gaps and re-frame records)
// ---------------------------------------------------------------------------------------------

/** Merge consecutive writes in the same direction into flights: [{dir, bytes}]. */
function flightsOf(conn) {
  const out = [];
  for (const w of conn.writes) {
    const b = Buffer.from(w.hex, 'hex');
    const prev = out[out.length - 1];
    if (prev && prev.dir === w.dir) prev.bytes = Buffer.concat([prev.bytes, b]);
    else out.push({ dir: w.dir, bytes: b });
  }
  return out;
}

/** TLS records of a buffer: [{type, version, offset, length (body), body}]. */
function tlsRecords(buf) {
  const out = [];
  let off = 0;
  while (off + 5 <= buf.length) {
    const len = buf.readUInt16BE(off + 3);
    out.push({ type: buf[off], version: buf.readUInt16BE(off + 1), offset: off, length: len, body: buf.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  if (off !== buf.length) throw new Error('flight does not end on a record boundary');
  return out;
}

/** Plaintext handshake messages in a flight (only plaintext records before any CCS), with offsets into the flight. */
function handshakeMessages(buf) {
  const msgs = [];
  for (const r of tlsRecords(buf)) {
    if (r.type === 20) break; // after ChangeCipherSpec everything is encrypted
    if (r.type !== 22) continue;
    let o = 0;
    while (o + 4 <= r.body.length) {
      const len = r.body.readUIntBE(o + 1, 3);
      msgs.push({ type: r.body[o], start: r.offset + 5 + o, end: r.offset + 5 + o + 4 + len });
      o += 4 + len;
    }
  }
  return msgs;
}

const isHandshakeFlight = (f) => tlsRecords(f.bytes).some((r) => r.type === 20 || r.type === 22);

/** Offset (in the flight) of the SNI host name bytes inside a ClientHello flight. */
function sniOffset(chFlight) {
  const b = chFlight;
  let o = 5 + 4 + 2 + 32; // record hdr, handshake hdr, version, random
  o += 1 + b[o]; // session id
  o += 2 + b.readUInt16BE(o); // cipher suites
  o += 1 + b[o]; // compression methods
  const extEnd = o + 2 + b.readUInt16BE(o);
  o += 2;
  while (o < extEnd) {
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    if (type === 0) return { start: o + 4 + 5, end: o + 4 + len }; // list len(2) type(1) name len(2)
    o += 4 + len;
  }
  throw new Error('no SNI in ClientHello');
}

function record(type, version, body) {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt16BE(version, 1);
  h.writeUInt16BE(body.length, 3);
  return Buffer.concat([h, body]);
}

/** Re-frame a single-record ClientHello flight as `parts` records carrying fragments of the message. */
function splitClientHello(flight, parts) {
  const [rec] = tlsRecords(flight);
  const msg = rec.body;
  const out = [];
  const step = Math.ceil(msg.length / parts);
  for (let i = 0; i < msg.length; i += step) out.push(record(22, rec.version, msg.subarray(i, i + step)));
  if (out.length !== parts) throw new Error('ClientHello split went wrong');
  return Buffer.concat(out);
}

/** Re-frame all plaintext handshake records of a flight into one record (rest unchanged). */
function mergeHandshakeRecords(flight) {
  const recs = tlsRecords(flight);
  const hs = recs.filter((r) => r.type === 22);
  if (recs.some((r) => r.type !== 22)) throw new Error('server flight has non-handshake records');
  return record(22, hs[0].version, Buffer.concat(hs.map((r) => r.body)));
}

function sslv2ClientHello() {
  const specs = [
    [0x00, 0xc0, 0x14], [0x00, 0xc0, 0x13], [0x00, 0x00, 0x39], [0x00, 0x00, 0x35],
    [0x00, 0x00, 0x2f], [0x00, 0x00, 0x0a], [0x07, 0x00, 0xc0], [0x01, 0x00, 0x80],
    [0x00, 0x00, 0xff],
  ];
  const challenge = crypto.createHash('sha256').update('tlsflight sslv2 challenge').digest(); // 32 bytes
  const cs = Buffer.from(specs.flat());
  const body = Buffer.concat([
    Buffer.from([1, 0x03, 0x01]), // msg_type CLIENT-HELLO, version TLS 1.0
    be16(cs.length), be16(0), be16(challenge.length),
    cs, challenge,
  ]);
  return Buffer.concat([be16(0x8000 | body.length), body]);
}

// ---------------------------------------------------------------------------------------------
// 3. Byte helpers, checksums, IP/TCP/UDP builders
// ---------------------------------------------------------------------------------------------

const EMPTY = Buffer.alloc(0);
function be16(n) { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; }
function be32(n) { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; }
function le32(n) { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; }
const ip4 = (s) => Buffer.from(s.split('.').map(Number));
function ip6(s) {
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => be16(parseInt(g, 16))));
}
const mac = (s) => Buffer.from(s.split(':').map((x) => parseInt(x, 16)));

function inetChecksum(buf) {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length & 1) sum += buf[buf.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return (~sum) & 0xffff;
}

function pseudoHeader(v6, src, dst, proto, len) {
  return v6
    ? Buffer.concat([src, dst, be32(len), Buffer.from([0, 0, 0, proto])])
    : Buffer.concat([src, dst, Buffer.from([0, proto]), be16(len)]);
}

const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 };

function tcpSegment({ v6, src, dst, sport, dport, seq, ack, flags, win, options = EMPTY, data = EMPTY }) {
  const optLen = (options.length + 3) & ~3;
  const h = Buffer.alloc(20 + optLen);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = (h.length / 4) << 4;
  h[13] = flags;
  h.writeUInt16BE(win, 14);
  options.copy(h, 20);
  const seg = Buffer.concat([h, data]);
  seg.writeUInt16BE(inetChecksum(Buffer.concat([pseudoHeader(v6, src, dst, 6, seg.length), seg])), 16);
  return seg;
}

function udpDatagram({ v6 = false, src, dst, sport, dport, data }) {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + data.length, 4);
  const d = Buffer.concat([h, data]);
  let c = inetChecksum(Buffer.concat([pseudoHeader(v6, src, dst, 17, d.length), d]));
  if (c === 0) c = 0xffff;
  d.writeUInt16BE(c, 6);
  return d;
}

/** IPv4 packet. fragOffset is in bytes (multiple of 8). */
function ipv4Packet({ src, dst, proto, payload, id, ttl = 64, df = true, mf = false, fragOffset = 0, options = EMPTY }) {
  if (options.length % 4) throw new Error('IPv4 options must be padded to 4 bytes');
  const h = Buffer.alloc(20 + options.length);
  h[0] = 0x40 | (h.length / 4);
  h.writeUInt16BE(h.length + payload.length, 2);
  h.writeUInt16BE(id & 0xffff, 4);
  h.writeUInt16BE((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (fragOffset >> 3), 6);
  h[8] = ttl;
  h[9] = proto;
  src.copy(h, 12);
  dst.copy(h, 16);
  options.copy(h, 20);
  h.writeUInt16BE(inetChecksum(h), 10);
  return Buffer.concat([h, payload]);
}

/** IPv6 packet; ext = [{type, body}] extension headers in order (body without the 2-byte next/len prefix). */
function ipv6Packet({ src, dst, proto, payload, hop = 64, ext = [] }) {
  const exts = [];
  for (let i = 0; i < ext.length; i++) {
    const next = i + 1 < ext.length ? ext[i + 1].type : proto;
    const total = 2 + ext[i].body.length;
    if (total % 8) throw new Error('IPv6 extension header must be a multiple of 8 bytes');
    exts.push(Buffer.concat([Buffer.from([next, total / 8 - 1]), ext[i].body]));
  }
  const rest = Buffer.concat([...exts, payload]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(rest.length, 4);
  h[6] = ext.length ? ext[0].type : proto;
  h[7] = hop;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, rest]);
}

// ---------------------------------------------------------------------------------------------
// 4. TCP flows
// ---------------------------------------------------------------------------------------------

const HOSTS = {
  v4: { client: '10.0.0.1', server: '10.0.0.2' },
  v6: { client: '2001:db8::1', server: '2001:db8::2' },
  clientMac: '02:00:00:00:00:01',
  serverMac: '02:00:00:00:00:02',
};
const MSS = 1448;
const SERVER_PORT = 8443;

/** Deterministic 32-bit value from a label (ISNs, IP IDs). */
function h32(label) { return crypto.createHash('sha256').update(label).digest().readUInt32BE(0); }

const other = (d) => (d === 'c2s' ? 's2c' : 'c2s');

class Flow {
  constructor({ cport, sport = SERVER_PORT, v6 = false, cisn, sisn, ipv4Options = EMPTY, ipv6Ext = [], af6 = 24, label = '' }) {
    this.cport = cport;
    this.sport = sport;
    this.v6 = v6;
    const addrs = v6 ? HOSTS.v6 : HOSTS.v4;
    this.clientIp = addrs.client;
    this.serverIp = addrs.server;
    this.ip = { c2s: [v6 ? ip6(addrs.client) : ip4(addrs.client), v6 ? ip6(addrs.server) : ip4(addrs.server)] };
    this.ip.s2c = [this.ip.c2s[1], this.ip.c2s[0]];
    this.ipv4Options = ipv4Options;
    this.ipv6Ext = ipv6Ext;
    this.af6 = af6;
    const key = `${label}/${cport}/${v6}`;
    this.nxt = { c2s: cisn ?? h32(`cisn${key}`), s2c: sisn ?? h32(`sisn${key}`) };
    this.ipId = { c2s: h32(`ipid-c${key}`) & 0xffff, s2c: h32(`ipid-s${key}`) & 0xffff };
    this.packets = [];
  }

  /** Append one segment. seq defaults to the next sequence number (and advances it). */
  seg(dir, { flags = F.ACK, data = EMPTY, seq, options = EMPTY, win, delayMs = 0 } = {}) {
    const s = seq ?? this.nxt[dir];
    const p = {
      flow: this, dir, seq: s >>> 0,
      ack: flags & F.ACK ? this.nxt[other(dir)] >>> 0 : 0,
      flags, data, options, win: win ?? (flags & F.SYN ? 64240 : 502), delayMs,
    };
    if (seq === undefined) this.nxt[dir] = (s + data.length + (flags & F.SYN ? 1 : 0) + (flags & F.FIN ? 1 : 0)) >>> 0;
    this.packets.push(p);
    return p;
  }

  /** Three-way handshake; with tfoData the ClientHello rides in the SYN (TCP Fast Open, cookie option). */
  open({ tfoData } = {}) {
    const mssOpt = Buffer.from([2, 4, (MSS + 12) >> 8, (MSS + 12) & 0xff]);
    const common = Buffer.concat([mssOpt, Buffer.from([1, 3, 3, 7, 1, 1, 4, 2])]); // NOP WS=7 NOP NOP SACK_PERM
    if (tfoData) {
      const cookie = crypto.createHash('sha256').update('tfo cookie').digest().subarray(0, 8);
      const tfo = Buffer.concat([Buffer.from([34, 10]), cookie, Buffer.from([1, 1])]); // kind 34 + NOP NOP
      this.seg('c2s', { flags: F.SYN, options: Buffer.concat([common, tfo]), data: tfoData });
    } else {
      this.seg('c2s', { flags: F.SYN, options: common });
    }
    this.seg('s2c', { flags: F.SYN | F.ACK, options: common });
    this.seg('c2s');
  }

  /** Send bytes as segments of `segSize`; the receiver ACKs every `ackEvery` segments. */
  send(dir, bytes, { segSize = MSS, ackEvery = 2, finalAck = false, delayMs = 0 } = {}) {
    let n = 0;
    for (let off = 0; off < bytes.length; off += segSize) {
      const last = off + segSize >= bytes.length;
      this.seg(dir, { flags: F.ACK | (last ? F.PSH : 0), data: bytes.subarray(off, off + segSize), delayMs: n === 0 ? delayMs : 0 });
      n++;
      if (!last && ackEvery && n % ackEvery === 0) this.seg(other(dir));
    }
    if (finalAck) this.seg(other(dir));
  }

  /** Play flights in order; `segSize(flight, i)` picks the segment size. */
  play(flights, { segSize = () => MSS, ackEvery = 2, from = 0, to = flights.length } = {}) {
    for (let i = from; i < to; i++) {
      const f = flights[i];
      const nextSameOrEnd = i + 1 >= to || flights[i + 1].dir === f.dir;
      this.send(f.dir, f.bytes, { segSize: segSize(f, i), ackEvery, finalAck: nextSameOrEnd });
    }
  }

  /** Orderly close: `by` sends FIN, peer FIN-ACKs, `by` ACKs. */
  close(by = 'c2s') {
    this.seg(by, { flags: F.FIN | F.ACK });
    this.seg(other(by), { flags: F.FIN | F.ACK });
    this.seg(by);
  }

  rst(by = 'c2s') { this.seg(by, { flags: F.RST | F.ACK, win: 0 }); }

  /** IP bytes of one of this flow's packets. */
  ipBytes(p) {
    const [src, dst] = this.ip[p.dir];
    const [sport, dport] = p.dir === 'c2s' ? [this.cport, this.sport] : [this.sport, this.cport];
    const tcp = tcpSegment({ v6: this.v6, src, dst, sport, dport, seq: p.seq, ack: p.ack, flags: p.flags, win: p.win, options: p.options, data: p.data });
    if (this.v6) return ipv6Packet({ src, dst, proto: 6, payload: tcp, ext: this.ipv6Ext });
    const id = this.ipId[p.dir];
    this.ipId[p.dir] = (id + 1) & 0xffff;
    return ipv4Packet({ src, dst, proto: 6, payload: tcp, id, options: this.ipv4Options });
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Link layers and pcap writing
// ---------------------------------------------------------------------------------------------

const LINK = { null: 0, eth: 1, ppp: 9, dlt12: 12, ppphdlc: 50, raw: 101, chdlc: 104, sll: 113, raw4: 228, raw6: 229, sll2: 276 };

/** Wrap IP bytes in a link-layer header. pkt: {v6, dir, af6, srcMac, dstMac}. */
function linkWrap(kind, ipb, pkt) {
  const ethertype = be16(pkt.v6 ? 0x86dd : 0x0800);
  const src = mac(pkt.srcMac);
  const dst = mac(pkt.dstMac);
  const sllType = pkt.dir === 's2c' ? 0 : 4; // captured on the client: incoming = HOST (0), outgoing = OUTGOING (4)
  switch (kind) {
    case 'eth': return Buffer.concat([dst, src, ethertype, ipb]);
    case 'vlan': return Buffer.concat([dst, src, be16(0x8100), be16(100), ethertype, ipb]);
    case 'qinq': return Buffer.concat([dst, src, be16(0x88a8), be16(0x2000 | 200), be16(0x8100), be16(100), ethertype, ipb]);
    case 'sll': return Buffer.concat([be16(sllType), be16(1), be16(6), src, Buffer.alloc(2), ethertype, ipb]);
    case 'sll2': return Buffer.concat([ethertype, be16(0), be32(2), be16(1), Buffer.from([sllType, 6]), src, Buffer.alloc(2), ipb]);
    case 'null': return Buffer.concat([le32(pkt.v6 ? pkt.af6 : 2), ipb]); // host order of the (little-endian) writer
    case 'raw': case 'raw4': case 'raw6': case 'dlt12': return ipb;
    // PPP: the client's frames with address/control and a 2-byte protocol, the server's with both
    // compressed away (RFC 1661 §6.5-6.6), as a link that negotiated ACFC and PFC one way would show.
    case 'ppp': return pkt.dir === 'c2s' ? Buffer.concat([Buffer.from([0xff, 0x03]), be16(pkt.v6 ? 0x57 : 0x21), ipb]) : Buffer.concat([Buffer.from([pkt.v6 ? 0x57 : 0x21]), ipb]);
    case 'ppphdlc': return Buffer.concat([Buffer.from([0xff, 0x03]), be16(pkt.v6 ? 0x57 : 0x21), ipb]);
    case 'chdlc': return Buffer.concat([Buffer.from([pkt.dir === 'c2s' ? 0x0f : 0x8f, 0x00]), ethertype, ipb]);
    default: throw new Error(`unknown link ${kind}`);
  }
}

const BASE_SEC = 1_700_000_000; // 2023-11-14T22:13:20Z

/**
 * Turn a packet list (flow packets or {ip, v6, dir, srcMac, dstMac}) into pcap frames with
 * timestamps advancing 0.6..2.4 ms per packet (plus any delayMs), in file order.
 */
function frames(list, link) {
  let offNs = 0;
  return list.map((p, i) => {
    offNs += 600_000 + ((i * 7919) % 13) * 150_071 + Math.round((p.delayMs ?? 0) * 1e6);
    let ipb;
    let meta;
    if (p.flow) {
      ipb = p.flow.ipBytes(p);
      meta = {
        v6: p.flow.v6, dir: p.dir, af6: p.flow.af6,
        srcMac: p.dir === 'c2s' ? HOSTS.clientMac : HOSTS.serverMac,
        dstMac: p.dir === 'c2s' ? HOSTS.serverMac : HOSTS.clientMac,
      };
    } else {
      ipb = p.ip;
      meta = p;
    }
    const data = linkWrap(link, ipb, meta);
    return { sec: BASE_SEC + Math.floor(offNs / 1e9), nsec: offNs % 1e9, data };
  });
}

/** Classic pcap. opts: linkType, snaplen, bigEndian, nano. */
function pcap(frameList, { linkType, snaplen = 262144, bigEndian = false, nano = false }) {
  const w32 = (b, v, o) => (bigEndian ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const w16 = (b, v, o) => (bigEndian ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const gh = Buffer.alloc(24);
  w32(gh, nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(gh, 2, 4);
  w16(gh, 4, 6);
  w32(gh, 0, 8);
  w32(gh, 0, 12);
  w32(gh, snaplen, 16);
  w32(gh, linkType, 20);
  const parts = [gh];
  const offsets = [];
  let off = 24;
  for (const f of frameList) {
    const cap = Math.min(f.data.length, snaplen);
    const rh = Buffer.alloc(16);
    w32(rh, f.sec, 0);
    w32(rh, nano ? f.nsec : Math.floor(f.nsec / 1000), 4);
    w32(rh, cap, 8);
    w32(rh, f.data.length, 12);
    offsets.push(off);
    parts.push(rh, f.data.subarray(0, cap));
    off += 16 + cap;
  }
  const buf = Buffer.concat(parts);
  buf.recordOffsets = offsets;
  return buf;
}

// ---------------------------------------------------------------------------------------------
// 6. The captures
// ---------------------------------------------------------------------------------------------

function build(T) {
  const A = flightsOf(T.connections['tls12-full']);
  const B1 = flightsOf(T.connections['tls12-sid-first']);
  const B2 = flightsOf(T.connections['tls12-sid-resumed']);
  const C = flightsOf(T.connections['tls13-full']);
  for (const [name, fl] of [['A', A], ['B1', B1], ['B2', B2], ['C', C]]) {
    if (fl[0].dir !== 'c2s' || fl[1].dir !== 's2c') throw new Error(`${name}: unexpected flight order`);
  }

  const files = []; // {file, bytes, manifest}
  let nextPort = 50001;
  const port = () => nextPort++;

  const conn = (flow, expect) => ({
    clientPort: flow.cport, serverPort: flow.sport, clientIp: flow.clientIp, serverIp: flow.serverIp, ...expect,
  });
  const FULL12 = { version: 'TLS1.2', sni: SNI, kind: 'full', offered: [], rejected: false, complete: true };
  const FULL13 = { version: 'TLS1.3', sni: SNI, kind: 'full', offered: [], rejected: false, complete: true };
  const RESUMED = { version: 'TLS1.2', sni: SNI, kind: 'resumed-session-id', offered: ['session-id'], rejected: false, complete: true };
  const UNKNOWN = { version: null, sni: null, kind: 'unknown', offered: null, rejected: null, complete: null };

  function add(file, link, packetList, connections, { extra = {}, pcapOpts = {}, describe } = {}) {
    const fr = frames(packetList, link);
    const bytes = pcap(fr, { linkType: LINK[link], ...pcapOpts });
    files.push({
      file, bytes, describe,
      manifest: { file, linkType: LINK[link], expectError: null, packets: fr.length, ...extra, connections },
    });
    return { fr, bytes };
  }

  /** A plain connection: 3WHS, all flights, FIN close. */
  function plain(flights, opts = {}) {
    const f = new Flow({ cport: opts.cport ?? port(), label: opts.label ?? 'plain', ...opts.flow });
    f.open();
    f.play(flights, opts.play);
    if (opts.rst) f.rst(); else f.close();
    return f;
  }

  // --- one-byte-segments -------------------------------------------------------------------
  {
    const f = plain(A, { label: 'one-byte', play: { segSize: (fl) => (isHandshakeFlight(fl) ? 1 : MSS) } });
    add('one-byte-segments.pcap', 'eth', f.packets, [conn(f, { ...FULL12, note: 'every handshake-phase TCP segment (both directions) carries exactly one byte; the receiver ACKs every second segment' })],
      { describe: 'TLS 1.2 full handshake, every handshake TCP segment carries 1 byte (both directions)' });
  }

  // --- reordered-duplicated ----------------------------------------------------------------
  {
    const f = plain(A, { label: 'reorder', play: { segSize: () => 100 } });
    const pk = f.packets;
    const dataIdx = (dir) => pk.map((p, i) => [p, i]).filter(([p]) => p.dir === dir && p.data.length).map(([, i]) => i);
    const swap = (i, j) => { [pk[i], pk[j]] = [pk[j], pk[i]]; };
    // Work on a copy of positions taken before any edit, editing from the end so indexes stay valid.
    const c = dataIdx('c2s');
    const s = dataIdx('s2c');
    const clone = (p) => ({ ...p });
    // A retransmission of stream bytes [from, from+len) (relative to the first data byte of `dir`), taking the
    // bytes from the original segments so they are identical; ack/flags copied from the segment `like`.
    const streamOf = (dir) => {
      const segs = pk.filter((p) => p.dir === dir && p.data.length);
      return { base: segs[0].seq, bytes: Buffer.concat(segs.map((p) => p.data)) };
    };
    const S = { c2s: streamOf('c2s'), s2c: streamOf('s2c') };
    const retrans = (dir, from, len, like) => ({ ...like, flags: F.ACK, seq: (S[dir].base + from) >>> 0, data: S[dir].bytes.subarray(from, from + len) });
    const edits = [];
    // server: segments at stream bytes 200..299 / 300..399 swapped; 500..599 duplicated exactly;
    // after the segment 729..828 (2nd flight) a retransmission of 679..778 (overlaps two segments)
    const sAt = (rel) => s.find((i) => ((pk[i].seq - S.s2c.base) >>> 0) === rel);
    edits.push(['insert-after', sAt(729), retrans('s2c', 679, 100, pk[sAt(729)])]);
    edits.push(['insert-after', sAt(500), clone(pk[sAt(500)])]);
    edits.push(['swap', sAt(200), sAt(300)]);
    // client: ClientHello segments 0..99 / 100..199 swapped; after its last segment, a retransmission of
    // bytes 170..end (overlaps the second segment and repeats the third)
    edits.push(['insert-after', c[2], retrans('c2s', 170, A[0].bytes.length - 170, pk[c[2]])]);
    edits.push(['swap', c[0], c[1]]);
    // client CKE/CCS/Finished segment duplicated exactly one packet later
    const cke = c.find((i) => ((pk[i].seq - S.c2s.base) >>> 0) === A[0].bytes.length);
    edits.push(['insert-after', cke + 1, clone(pk[cke])]);
    edits.sort((x, y) => Math.max(y[1], y[2] ?? 0) - Math.max(x[1], x[2] ?? 0));
    for (const e of edits) {
      if (e[0] === 'swap') {
        if (e[2] !== e[1] + 1) throw new Error('swapped segments must be adjacent');
        swap(e[1], e[2]);
      } else {
        pk.splice(e[1] + 1, 0, e[2]);
      }
    }
    add('reordered-duplicated.pcap', 'eth', pk, [conn(f, { ...FULL12, note: `100-byte segments (offsets relative to each direction's first data byte). Client: ClientHello segments 0..99 and 100..199 swapped, then a retransmission of bytes 170..${A[0].bytes.length - 1} overlapping the second and repeating the third segment; the ClientKeyExchange/CCS/Finished segment duplicated exactly. Server: segments 200..299 and 300..399 (inside the Certificate) swapped, 500..599 duplicated exactly, a retransmission of 679..778 overlapping the two segments of the second flight. All retransmitted bytes are identical to the originals.` })],
      { describe: 'TLS 1.2 full, ~100-byte segments, some swapped, exact duplicates and overlapping partial retransmissions (same bytes)' });
  }

  // --- missing-segment ---------------------------------------------------------------------
  {
    // connection 1: a segment inside the server Certificate message is never captured
    const f1 = new Flow({ cport: port(), label: 'gap-cert' });
    f1.open();
    f1.play(A, { segSize: (fl, i) => (i === 1 ? 100 : MSS) });
    f1.close();
    const msgs = handshakeMessages(A[1].bytes);
    const cert = msgs.find((m) => m.type === 11);
    const s0 = f1.packets.find((p) => p.dir === 's2c' && p.data.length).seq;
    const certDrop = f1.packets.find((p) => p.dir === 's2c' && p.data.length
      && ((p.seq - s0) >>> 0) >= cert.start + 4 + 100 && ((p.seq - s0) >>> 0) + p.data.length <= cert.end);
    if (!certDrop) throw new Error('no segment inside the Certificate');
    const certGap = [(certDrop.seq - s0) >>> 0, ((certDrop.seq - s0) >>> 0) + certDrop.data.length];
    f1.packets.splice(f1.packets.indexOf(certDrop), 1);

    // connection 2: the segment holding the SNI (middle of the ClientHello) is never captured
    const f2 = new Flow({ cport: port(), label: 'gap-ch' });
    f2.open();
    f2.play(A, { segSize: (fl, i) => (i === 0 ? 64 : MSS) });
    f2.close();
    const sni = sniOffset(A[0].bytes);
    const chSegs = f2.packets.filter((p) => p.dir === 'c2s' && p.data.length).slice(0, Math.ceil(A[0].bytes.length / 64));
    const c0 = chSegs[0].seq;
    const chDrop = chSegs.find((p) => ((p.seq - c0) >>> 0) <= sni.start && ((p.seq - c0) >>> 0) + p.data.length > sni.start);
    if (chDrop === chSegs[0] || chDrop === chSegs[chSegs.length - 1]) throw new Error('SNI segment is not in the middle');
    const chGap = [(chDrop.seq - c0) >>> 0, ((chDrop.seq - c0) >>> 0) + chDrop.data.length];
    f2.packets.splice(f2.packets.indexOf(chDrop), 1);

    add('missing-segment.pcap', 'eth', [...f1.packets, ...f2.packets], [
      conn(f1, { ...FULL12, note: `server flight bytes ${certGap[0]}..${certGap[1] - 1} (inside the Certificate message, which spans ${cert.start}..${cert.end - 1}) were never captured. The ServerHello is intact and the Certificate handshake header (type 11) is seen before the gap, so "full" is decidable from ServerHello-then-Certificate; the record header gives the Certificate record's length, so a parser can resync at the next record (ServerKeyExchange/ServerHelloDone) and the later CCS/Finished of both sides are intact -> complete.` }),
      conn(f2, { version: 'TLS1.2', sni: null, kind: 'full', offered: null, rejected: null, complete: true, note: `ClientHello bytes ${chGap[0]}..${chGap[1] - 1} of ${A[0].bytes.length} (the segment carrying the server_name) were never captured, so the ClientHello cannot be parsed: sni and offered are unknown (null) and so is rejected. What decides full vs resumed in TLS 1.2 is the server's answer, and that side is intact: ServerHello (TLS 1.2, empty session ID) followed by Certificate -> "full". A stricter rule ("no parsed ClientHello -> unknown") would give kind "unknown" here. complete because both sides' CCS/Finished follow, and the CH record header (before the gap) gives the record length, so the client side resyncs at the next record.` }),
    ], { describe: 'two TLS 1.2 full connections: one loses a segment inside the server Certificate, the other a segment in the middle of the ClientHello (SNI bytes)' });
  }

  // --- no-syn ------------------------------------------------------------------------------
  {
    const f1 = new Flow({ cport: port(), label: 'nosyn1' });
    f1.nxt.c2s = (f1.nxt.c2s + 1) >>> 0; // as if the SYN had been sent
    f1.nxt.s2c = (f1.nxt.s2c + 1) >>> 0;
    f1.play(A);
    f1.close();
    const f2 = new Flow({ cport: port(), label: 'nosyn2' });
    f2.nxt.c2s = (f2.nxt.c2s + 1) >>> 0;
    f2.nxt.s2c = (f2.nxt.s2c + 1) >>> 0;
    f2.play(C);
    f2.close();
    // move the ClientHello packet after the server's first data packet
    const ch = f2.packets.shift();
    const firstSrv = f2.packets.findIndex((p) => p.dir === 's2c' && p.data.length);
    f2.packets.splice(firstSrv + 1, 0, ch);
    if (f2.packets[0].dir !== 's2c') throw new Error('no-syn: server packet is not first');
    add('no-syn.pcap', 'eth', [...f1.packets, ...f2.packets], [
      conn(f1, { ...FULL12, note: 'no SYN/SYN-ACK/ACK: the first packet of the file is the ClientHello' }),
      conn(f2, { ...FULL13, note: 'no SYN; the first packet of this connection is the SERVER\'s ServerHello flight (src port 8443), the ClientHello appears one packet later: the client must be identified by content, not by who sent first' }),
    ], { describe: 'captures start mid-connection: no SYN (TLS 1.2, CH first) and a TLS 1.3 connection whose ServerHello precedes the ClientHello in the file' });
  }

  // --- seq-wrap ----------------------------------------------------------------------------
  {
    const f = plain(A, { label: 'wrap', flow: { cisn: 2 ** 32 - 150 }, play: { segSize: (fl, i) => (i === 0 ? 100 : MSS) } });
    add('seq-wrap.pcap', 'eth', f.packets, [conn(f, { ...FULL12, note: 'client ISN 2^32-150: ClientHello segments at seq 4294967147 (100 bytes), 4294967247 (wraps inside the segment) and 51 (after the wrap)' })],
      { describe: 'TLS 1.2 full, client ISN 2^32-150 so the client sequence number wraps inside the ClientHello' });
  }

  // --- port-reuse --------------------------------------------------------------------------
  {
    const cport = port();
    const f1 = new Flow({ cport, label: 'reuse1' });
    f1.open();
    f1.play(B1);
    f1.close();
    const f2 = new Flow({ cport, label: 'reuse2', cisn: (f1.nxt.c2s + 1_000_000) >>> 0 });
    f2.open();
    f2.packets[0].delayMs = 2000;
    f2.play(B2);
    f2.rst('c2s');
    add('port-reuse.pcap', 'eth', [...f1.packets, ...f2.packets], [
      conn(f1, { ...FULL12, note: 'first use of the 4-tuple: full handshake, server issues a session ID (no tickets), closed by FIN' }),
      conn(f2, { ...RESUMED, note: 'same 4-tuple 2 s later with a new SYN/ISN: resumes the first connection\'s session ID (ServerHello echoes it, no Certificate), closed by the client\'s RST after the close_notify alerts' }),
    ], { describe: 'same 4-tuple used twice: TLS 1.2 full (FIN close) then TLS 1.2 session-ID resumption (RST close)' });
  }

  // --- tfo-data-in-syn ---------------------------------------------------------------------
  {
    const f = new Flow({ cport: port(), label: 'tfo' });
    f.open({ tfoData: A[0].bytes });
    f.play(A, { from: 1 });
    f.close();
    add('tfo-data-in-syn.pcap', 'eth', f.packets, [conn(f, { ...FULL12, note: 'ClientHello carried in the SYN (TCP Fast Open option kind 34 with an 8-byte cookie); the SYN-ACK acknowledges SYN + ClientHello' })],
      { describe: 'TLS 1.2 full handshake whose ClientHello is the payload of the SYN (TCP Fast Open)' });
  }

  // --- keepalive ---------------------------------------------------------------------------
  {
    const f = new Flow({ cport: port(), label: 'keepalive' });
    f.open();
    const appEnd = A.findIndex((fl, i) => i > 0 && fl.dir === 's2c' && !isHandshakeFlight(fl)) + 1; // through the HTTP response
    f.play(A, { to: appEnd });
    f.seg('c2s', { data: EMPTY, seq: (f.nxt.c2s - 1) >>> 0, delayMs: 45_000 }); // keep-alive, 0 bytes
    f.seg('s2c');
    f.seg('c2s', { data: Buffer.from([0]), seq: (f.nxt.c2s - 1) >>> 0, delayMs: 45_000 }); // keep-alive, 1 garbage byte
    f.seg('s2c');
    f.seg('s2c', { data: Buffer.from([0xa5]), seq: (f.nxt.s2c - 1) >>> 0, delayMs: 30_000 }); // server keep-alive, 1 garbage byte
    f.seg('c2s');
    f.play(A, { from: appEnd });
    f.close();
    add('keepalive.pcap', 'eth', f.packets, [conn(f, { ...FULL12, note: 'after the HTTP exchange: client keep-alives (seq = next-1) with 0 bytes and with 1 garbage byte 0x00, a server keep-alive with 1 garbage byte 0xa5, each answered by a duplicate ACK; the garbage bytes overlap already-delivered stream bytes with different content and must not be fed to the TLS parser' })],
      { describe: 'TLS 1.2 full with TCP keep-alive probes (seq = next-1, 0 or 1 garbage byte) in the application-data phase' });
  }

  // --- snaplen -----------------------------------------------------------------------------
  {
    // TLS 1.3: with the ServerHello cut inside its random, neither the version (supported_versions) nor
    // full-vs-PSK (pre_shared_key) is visible, and everything after it is encrypted anyway.
    const f = plain(C, { label: 'snaplen' });
    const { fr } = add('snaplen.pcap', 'eth', f.packets, [conn(f, { ...UNKNOWN, note: 'TLS 1.3 full handshake captured with snaplen 96 (Ethernet+IPv4+TCP = 54 header bytes, so at most 42 TLS bytes per packet): the ClientHello and ServerHello are cut inside their random, so SNI, session ID, cipher suite and extensions (supported_versions, pre_shared_key) are invisible and all later records are encrypted: nothing decidable' })],
      { pcapOpts: { snaplen: 96 }, extra: { warnings: ['truncated'] }, describe: 'TLS 1.3 full captured with snaplen 96: every packet carrying more than 42 TLS bytes is cut (caplen < origLen), nothing decidable' });
    const cut = fr.filter((x) => x.data.length > 96).length;
    const m = files[files.length - 1].manifest;
    m.truncatedPackets = cut;
    m.note = `${cut} of ${fr.length} packets are cut: every packet carrying handshake or application data; the SYN/SYN-ACK, pure ACKs, FINs and the two 24-byte close_notify records are shorter than 96 bytes and therefore complete`;
  }

  // --- multi-msg-records -------------------------------------------------------------------
  {
    const chSplit = splitClientHello(A[0].bytes, 3);
    const srvMerged = mergeHandshakeRecords(A[1].bytes);
    const A1 = [{ dir: 'c2s', bytes: chSplit }, { dir: 's2c', bytes: srvMerged }, ...A.slice(2)];
    const f1 = plain(A1, { label: 'multi1' });
    const A2 = [A[0], { dir: 's2c', bytes: srvMerged }, ...A.slice(2)];
    const fifth = Math.ceil(srvMerged.length / 5);
    const f2 = plain(A2, { label: 'multi2', play: { segSize: (fl, i) => (i === 1 ? fifth : MSS) } });
    add('multi-msg-records.pcap', 'eth', [...f1.packets, ...f2.packets], [
      conn(f1, { ...FULL12, note: `ClientHello handshake message fragmented across 3 TLS records; ServerHello+Certificate+ServerKeyExchange+ServerHelloDone re-framed into one ${srvMerged.length - 5}-byte record` }),
      conn(f2, { ...FULL12, note: `ClientHello as recorded; the single ServerHello..ServerHelloDone record (${srvMerged.length} bytes) split across 5 TCP segments of ${fifth} bytes` }),
    ], { describe: 'TLS 1.2 full with re-framed plaintext records: ClientHello fragmented over 3 records, server flight in one record (also split over 5 TCP segments)' });
  }

  // --- sslv2-hello -------------------------------------------------------------------------
  {
    const v2 = sslv2ClientHello();
    const f1 = new Flow({ cport: port(), label: 'sslv2a' });
    f1.open();
    f1.send('c2s', v2);
    f1.rst('s2c');
    const f2 = new Flow({ cport: port(), label: 'sslv2b' });
    f2.open();
    f2.send('c2s', v2, { finalAck: true });
    f2.seg('c2s', { flags: F.FIN | F.ACK, delayMs: 5000 });
    f2.seg('s2c', { flags: F.FIN | F.ACK });
    f2.seg('c2s');
    const V2 = { version: null, sni: null, kind: 'unknown', offered: [], rejected: false, complete: false };
    add('sslv2-hello.pcap', 'eth', [...f1.packets, ...f2.packets], [
      conn(f1, { ...V2, note: `SSLv2-compatible ClientHello (2-byte header 0x80${v2[1].toString(16)}, msg_type 1, client_version 0x0301, 9 three-byte cipher specs, 32-byte challenge, no session ID, no extensions) answered by a TCP RST. version is null: no ServerHello, so nothing was negotiated ("SSL2.0" would need an SSLv2 SERVER-HELLO; the CH itself offers TLS 1.0 in SSLv2 framing)` }),
      conn(f2, { ...V2, note: 'same SSLv2-compatible ClientHello, answered by nothing but a TCP ACK; the client gives up with FIN after 5 s' }),
    ], { describe: 'SSLv2-compatible ClientHello (RFC 5246 E.2) answered by a TCP RST, and again answered by nothing' });
  }

  // --- alert -------------------------------------------------------------------------------
  {
    const f = new Flow({ cport: port(), label: 'alert' });
    f.open();
    f.send('c2s', A[0].bytes);
    f.send('s2c', Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]));
    f.close('s2c');
    add('alert.pcap', 'eth', f.packets, [conn(f, { version: null, sni: SNI, kind: 'unknown', offered: [], rejected: false, complete: false, note: 'TLS 1.2 ClientHello answered by a plaintext fatal handshake_failure alert (15 03 03 00 02 02 28), then the server closes; no ServerHello so no version and no classification' })],
      { describe: 'ClientHello answered by a plaintext fatal handshake_failure alert' });
  }

  // --- link layers (TLS 1.3 full each) -----------------------------------------------------
  const tls13 = (label, flowOpts = {}) => plain(C, { label, flow: flowOpts });
  const LINKFILES = [
    ['vlan.pcap', 'eth', 'Ethernet + 802.1Q tag (VID 100)', 'vlan'],
    ['qinq.pcap', 'eth', 'Ethernet + 802.1ad outer tag 0x88a8 (VID 200) + 802.1Q inner tag (VID 100)', 'qinq'],
    ['sll.pcap', 'sll', 'LINKTYPE_LINUX_SLL (113), 16-byte cooked header'],
    ['sll2.pcap', 'sll2', 'LINKTYPE_LINUX_SLL2 (276), 20-byte cooked header'],
    ['raw-ipv4.pcap', 'raw4', 'LINKTYPE_IPV4 (228)'],
    ['raw-ipv6.pcap', 'raw6', 'LINKTYPE_IPV6 (229), IPv6 2001:db8::1 -> 2001:db8::2', null, { v6: true }],
  ];
  for (const [file, link, desc, wrapAs, flowOpts] of LINKFILES) {
    const f = tls13(file, flowOpts);
    const list = f.packets;
    if (wrapAs) {
      // VLAN variants: Ethernet link type, tags added per packet
      const fr = frames(list, wrapAs);
      const bytes = pcap(fr, { linkType: LINK.eth });
      files.push({ file, bytes, describe: `TLS 1.3 full, ${desc}`, manifest: { file, linkType: LINK.eth, expectError: null, packets: fr.length, connections: [conn(f, { ...FULL13, note: desc })] } });
    } else {
      add(file, link, list, [conn(f, { ...FULL13, note: desc })], { describe: `TLS 1.3 full, ${desc}` });
    }
  }
  {
    const f = tls13('null4');
    add('null-loopback.pcap', 'null', f.packets, [conn(f, { ...FULL13, note: 'LINKTYPE_NULL (0), 4-byte AF_INET=2 in host (little-endian) order' })],
      { describe: 'TLS 1.3 full, LINKTYPE_NULL (BSD loopback), AF_INET = 2 little-endian' });
  }
  {
    const fl = [24, 28, 30].map((af) => tls13(`null6-${af}`, { v6: true, af6: af }));
    add('null-loopback6.pcap', 'null', fl.flatMap((f) => f.packets), fl.map((f) => conn(f, { ...FULL13, note: `LINKTYPE_NULL IPv6, AF value ${f.af6} (${{ 24: 'NetBSD/OpenBSD', 28: 'FreeBSD', 30: 'macOS' }[f.af6]} AF_INET6), little-endian` })),
      { describe: 'TLS 1.3 full over IPv6 three times, LINKTYPE_NULL with AF_INET6 values 24, 28 and 30' });
  }
  for (const [file, link, desc] of [['raw-ip.pcap', 'raw', 'LINKTYPE_RAW (101)'], ['dlt-raw12.pcap', 'dlt12', 'DLT 12 (raw IP on most systems)']]) {
    const f4 = tls13(`${file}4`);
    const f6 = tls13(`${file}6`, { v6: true });
    add(file, link, [...f4.packets, ...f6.packets], [conn(f4, { ...FULL13, note: `${desc}, IPv4` }), conn(f6, { ...FULL13, note: `${desc}, IPv6 (version nibble decides)` })],
      { describe: `TLS 1.3 full twice (IPv4 then IPv6), ${desc}` });
  }
  {
    // Hop-by-Hop: PadN(4) -> 8 bytes; Destination Options: PadN(12) -> 16 bytes
    const hbh = { type: 0, body: Buffer.from([1, 4, 0, 0, 0, 0]) };
    const dst = { type: 60, body: Buffer.from([1, 12, ...Array(12).fill(0)]) };
    const f = tls13('ipv6ext', { v6: true, ipv6Ext: [hbh, dst] });
    add('ipv6-ext.pcap', 'eth', f.packets, [conn(f, { ...FULL13, note: 'IPv6 next header chain: Hop-by-Hop (8 bytes, PadN) -> Destination Options (16 bytes, PadN) -> TCP' })],
      { describe: 'TLS 1.3 full, Ethernet + IPv6 with Hop-by-Hop and Destination Options headers before TCP' });
  }
  {
    // Router Alert (4 bytes) + NOP NOP NOP + EOL -> 8 option bytes, IHL 7
    const f = tls13('ipv4opt', { ipv4Options: Buffer.from([0x94, 4, 0, 0, 1, 1, 1, 0]) });
    add('ipv4-options.pcap', 'eth', f.packets, [conn(f, { ...FULL13, note: 'every IPv4 header carries 8 option bytes (Router Alert, NOP x3, EOL): IHL = 7 (28-byte header)' })],
      { describe: 'TLS 1.3 full, IPv4 headers with options (IHL 7)' });
  }

  // --- ip-fragments ------------------------------------------------------------------------
  {
    const f = plain(A, { label: 'frag' });
    const udpHosts = { src: '192.0.2.10', dst: '192.0.2.20', srcMac: '02:00:00:00:00:0a', dstMac: '02:00:00:00:00:14' };
    const frag = (id, payloadLen, order, sport) => {
      const data = Buffer.alloc(payloadLen);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31 + id) & 0xff;
      const udp = udpDatagram({ src: ip4(udpHosts.src), dst: ip4(udpHosts.dst), sport, dport: 9999, data });
      const pieces = [];
      for (let off = 0; off < udp.length; off += 1480) {
        const chunk = udp.subarray(off, off + 1480);
        pieces.push({
          ip: ipv4Packet({ src: ip4(udpHosts.src), dst: ip4(udpHosts.dst), proto: 17, payload: chunk, id, df: false, mf: off + 1480 < udp.length, fragOffset: off }),
          v6: false, dir: 'c2s', srcMac: udpHosts.srcMac, dstMac: udpHosts.dstMac,
        });
      }
      return order.map((i) => pieces[i]);
    };
    const d1 = frag(0x1234, 3000, [0, 1, 2], 40000); // 3 fragments in order
    const d2 = frag(0x1235, 2000, [1, 0], 40001); // 2 fragments, last first
    const pk = [...f.packets];
    pk.splice(4, 0, ...d1);
    pk.splice(12, 0, d2[0]);
    pk.splice(16, 0, d2[1]);
    add('ip-fragments.pcap', 'eth', pk, [conn(f, { ...FULL12, note: 'TLS connection unaffected by the unrelated fragments' })],
      { extra: { ipFragments: 5, note: 'two UDP datagrams 192.0.2.10 -> 192.0.2.20:9999 sent as IPv4 fragments interleaved with the TLS connection: 3008 bytes in 3 fragments in order (IP ID 0x1234), 2008 bytes in 2 fragments with the last fragment first (IP ID 0x1235); fragments must be counted/skipped, not crash the reader' },
        describe: 'TLS 1.2 full interleaved with 5 IPv4 fragments of two UDP datagrams (one reassembles out of order)' });
  }

  // --- file-format variants of the same TLS 1.2 full handshake -----------------------------
  {
    const f = plain(A, { label: 'format' });
    const fr = frames(f.packets, 'eth');
    const c = [conn(f, { ...FULL12 })];
    const m = (file, extra) => ({ file, linkType: LINK.eth, expectError: null, packets: fr.length, ...extra });

    files.push({ file: 'be.pcap', bytes: pcap(fr, { linkType: LINK.eth, bigEndian: true }), describe: 'TLS 1.2 full, pcap written big-endian (magic bytes a1 b2 c3 d4)',
      manifest: m('be.pcap', { connections: [{ ...c[0], note: 'big-endian classic pcap, µs timestamps' }] }) });
    files.push({ file: 'nanosecond.pcap', bytes: pcap(fr, { linkType: LINK.eth, nano: true }), describe: 'TLS 1.2 full, nanosecond pcap (magic a1b23c4d, little-endian)',
      manifest: m('nanosecond.pcap', { connections: [{ ...c[0], note: 'nanosecond-resolution pcap; timestamps have sub-microsecond digits' }] }) });

    const full = pcap(fr, { linkType: LINK.eth });
    const lastOff = full.recordOffsets[full.recordOffsets.length - 1];
    const lastLen = full.length - lastOff - 16;
    const truncated = full.subarray(0, lastOff + 16 + Math.floor(lastLen / 2));
    files.push({ file: 'truncated-last.pcap', bytes: truncated, describe: 'TLS 1.2 full, file cut in the middle of the last packet\'s data',
      manifest: m('truncated-last.pcap', { packets: fr.length - 1, warnings: ['truncated'], note: `the last record header says ${lastLen} bytes but only ${Math.floor(lastLen / 2)} follow; the ${fr.length - 1} complete packets are valid, the cut one is the client's final ACK of the FIN exchange`, connections: [{ ...c[0], note: 'the cut packet is the final pure ACK, so the TLS result is unaffected' }] }) });

    const msgs = f.packets;
    const cutAt = msgs.findIndex((p, i) => i > 0 && p.dir === 'c2s' && p.data.length && msgs[i - 1].dir === 's2c' && p.data.length !== A[0].bytes.length);
    // cutAt: the client's CKE/CCS/Finished packet (first client data packet after the server flight)
    const corrupt = Buffer.from(full);
    const off = full.recordOffsets[cutAt];
    corrupt.writeUInt32LE(0x7fff0000, off + 8);
    files.push({ file: 'corrupt-length.pcap', bytes: corrupt, describe: 'TLS 1.2 full, a record header in the middle claims caplen 0x7fff0000 (the packets before it are valid)',
      manifest: m('corrupt-length.pcap', { expectError: 'stopped-early', packets: cutAt, note: `record ${cutAt + 1} (at file offset ${off}) claims caplen 0x7fff0000; ${cutAt} packets before it are valid (3-way handshake, ClientHello, ServerHello..ServerHelloDone flight)`, connections: [{ ...c[0], complete: false, note: 'only the ClientHello and the server\'s ServerHello/Certificate/ServerKeyExchange/ServerHelloDone are readable: full is decidable, the handshake is not seen to complete' }] }) });

    files.push({ file: 'header-only.pcap', bytes: pcap([], { linkType: LINK.eth }), describe: 'valid 24-byte pcap global header, no packets',
      manifest: { file: 'header-only.pcap', linkType: LINK.eth, expectError: null, packets: 0, connections: [] } });
    files.push({ file: 'empty.pcap', bytes: EMPTY, describe: 'zero-byte file',
      manifest: { file: 'empty.pcap', linkType: null, expectError: 'fatal', packets: 0, connections: [] } });
    files.push({ file: 'text.pcap', bytes: Buffer.from('This is not a packet capture.\nIt is a text file with a .pcap name, made by scripts/craft-samples.mjs.\n'), describe: 'a text file named .pcap',
      manifest: { file: 'text.pcap', linkType: null, expectError: 'fatal', packets: 0, connections: [] } });
  }

  // --- point-to-point link layers (added after the others, so their ports stay as they were) ---
  for (const [file, link, desc, flowOpts] of [
    ['ppp.pcap', 'ppp', 'LINKTYPE_PPP (9): client frames FF 03 00 21, server frames with address, control and protocol compressed to 21'],
    ['ppp-hdlc6.pcap', 'ppphdlc', 'LINKTYPE_PPP_HDLC (50), FF 03 00 57, IPv6', { v6: true }],
    ['chdlc.pcap', 'chdlc', 'LINKTYPE_C_HDLC (104), Cisco HDLC: address 0x0F / 0x8F, control 0, Ethernet type 0x0800'],
  ]) {
    const f = tls13(file, flowOpts);
    add(file, link, f.packets, [conn(f, { ...FULL13, note: desc })], { describe: `TLS 1.3 full, ${desc}` });
  }

  return files;
}

// ---------------------------------------------------------------------------------------------
// 7. Main
// ---------------------------------------------------------------------------------------------

function readme(files) {
  const lines = [
    '# Hand-crafted captures',
    '',
    'Generated by `node scripts/craft-samples.mjs` (re-record the TLS bytes with `--refresh`). Do not edit by hand.',
    '',
    'Real TLS bytes (node:tls client and server over an in-memory stream, self-signed P-256 certificate,',
    `SNI \`${SNI}\`) are stored in \`transcripts.json\`; everything below TLS is synthesized, and TLS records are`,
    're-framed or cut where a file says so. IPv4 header, TCP and UDP checksums are correct. Unless a line says',
    'otherwise: Ethernet, client 10.0.0.1:50xxx -> server 10.0.0.2:8443, 3-way handshake, FIN close.',
    '',
    '`manifest.json` gives the expected outcome per file. Conventions: `offered` lists what the client really',
    'offered for resumption (`session-id`, `ticket`, `psk`); an empty SessionTicket extension and the random',
    '32-byte TLS 1.3 middlebox-compatibility session ID are not offers; `null` = cannot be known from the capture.',
    '`rejected` is true only when an offer was answered with a full handshake (false when nothing was offered).',
    '`complete` = both sides\' ChangeCipherSpec/Finished (TLS 1.2) or the client\'s Finished flight and',
    'application data both ways (TLS 1.3) are visible. Keys beyond the agreed schema: `packets` (records a',
    'reader can read), `truncatedPackets`, `ipFragments`, file-level `note`, and `clientIp`/`serverIp` per connection.',
    '',
    'Viewing with tshark: port 8443 is not dissected as TLS by default, so use `-d tcp.port==8443,tls`; add',
    '`-o tcp.reassemble_out_of_order:TRUE` for `reordered-duplicated.pcap` and `no-syn.pcap`.',
    '',
  ];
  for (const f of files) lines.push(`- \`${f.file}\` — ${f.describe}`);
  lines.push('- `transcripts.json` — the recorded TLS writes (hex, per direction) the captures are built from', '');
  return lines.join('\n');
}

async function main() {
  const refresh = process.argv.includes('--refresh');
  fs.mkdirSync(OUT, { recursive: true });
  let T;
  if (!refresh && fs.existsSync(TRANSCRIPTS)) {
    T = JSON.parse(fs.readFileSync(TRANSCRIPTS, 'utf8'));
  } else {
    T = await recordTranscripts();
    fs.writeFileSync(TRANSCRIPTS, `${JSON.stringify(T, null, 2)}\n`);
    console.log(`recorded ${TRANSCRIPTS}`);
  }
  const files = build(T);
  for (const f of files) fs.writeFileSync(path.join(OUT, f.file), f.bytes);
  const manifest = files.map((f) => f.manifest);
  fs.writeFileSync(path.join(OUT, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(path.join(OUT, 'README.md'), readme(files));
  console.log(`wrote ${files.length} captures, manifest.json and README.md to ${path.relative(process.cwd(), OUT) || '.'}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
