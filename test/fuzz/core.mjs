// Fuzzing core shared by test/fuzz/fuzz.test.ts (vitest, imports src/ through TypeScript) and
// scripts/fuzz.mjs (soak mode, imports the compiled dist/). Plain JavaScript on purpose: the soak
// script runs under bare Node, which cannot load TypeScript. The code under test is injected as an
// `api` object, so this file never imports src/ or dist/ itself.
//
// Everything is deterministic: a case is a pure function of (seed, case index) and the seed corpus,
// so a failure printed as `seed=S case=I` reproduces with `node scripts/fuzz.mjs --seed S --case I`.

import { readFileSync, readdirSync, existsSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync, gunzipSync, constants as zc } from 'node:zlib';

// ---------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: 32-bit state, good enough for fuzzing and trivially reproducible. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** murmur3 fmix32: spreads (seed, index) so neighbouring cases get unrelated streams. */
function fmix32(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function caseSeed(seed, index) {
  return fmix32((seed >>> 0) ^ fmix32((index + 0x9e3779b9) >>> 0));
}

export class Rng {
  constructor(seed) {
    this.f = mulberry32(seed);
  }
  float() {
    return this.f();
  }
  /** 0 <= x < n */
  int(n) {
    return n <= 0 ? 0 : Math.floor(this.f() * n);
  }
  /** a <= x <= b */
  range(a, b) {
    return a + this.int(b - a + 1);
  }
  chance(p) {
    return this.f() < p;
  }
  pick(a) {
    return a[this.int(a.length)];
  }
  u32() {
    return (this.int(65536) * 65536 + this.int(65536)) >>> 0;
  }
  /** [[weight, value], ...] */
  weighted(list) {
    let total = 0;
    for (const [w] of list) total += w;
    let x = this.float() * total;
    for (const [w, v] of list) {
      x -= w;
      if (x < 0) return v;
    }
    return list[list.length - 1][1];
  }
  bytes(n) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Small numbers most of the time, occasionally large: 1, 1, 2, 1, 5, 1, 30… */
  geometric(p = 0.5, max = 64) {
    let n = 1;
    while (n < max && this.chance(p)) n++;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// Seed corpus

const pad4 = (n) => (n + 3) & ~3;

/**
 * Captures directly in samples/ and samples/crafted/, committed ones only when git can say (files
 * other engineers are still adding would otherwise change what a seed means). Sorted: case
 * generation depends on the order.
 */
export function corpusFiles(root) {
  const ok = (rel) => /^samples\/(crafted\/)?[^/]+\.(pcap|pcapng|gz)$/.test(rel);
  try {
    const out = execFileSync('git', ['ls-files', '-z', 'samples'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = out.split('\0').filter(ok).sort();
    if (files.length > 0) return files;
  } catch {
    // not a git checkout: fall back to the directories
  }
  const files = [];
  for (const dir of ['samples', 'samples/crafted']) {
    if (!existsSync(join(root, dir))) continue;
    for (const n of readdirSync(join(root, dir))) if (ok(`${dir}/${n}`)) files.push(`${dir}/${n}`);
  }
  return files.sort();
}

/** The seed corpus: committed captures plus pcapng twins made from them. */
export function loadCorpus(root) {
  const seeds = [];
  for (const rel0 of corpusFiles(root)) {
    {
      const path = join(root, rel0);
      const bytes = readFileSync(path);
      const rel = rel0;
      const keysPath = path.replace(/\.pcap$/, '.keys');
      const keys = existsSync(keysPath) ? readFileSync(keysPath) : null;
      seeds.push({ name: rel, bytes, keys });
    }
  }
  // pcapng twins of every parseable pcap (little-endian; big-endian for the real-stack samples),
  // so the pcapng reader is fuzzed on the same real TLS bytes.
  const extra = [];
  for (const s of seeds) {
    if (sniff(s.bytes) !== 'pcap') continue;
    const ng = pcapToPcapng(s.bytes, { le: true, keys: s.keys });
    if (ng) extra.push({ name: `${s.name}=>pcapng`, bytes: ng, keys: null });
    if (!s.name.includes('crafted')) {
      const be = pcapToPcapng(s.bytes, { le: false, keys: s.keys });
      if (be) extra.push({ name: `${s.name}=>pcapng-be`, bytes: be, keys: null });
    }
  }
  const all = [...seeds, ...extra].map((s) => ({ ...s, layout: describe(s.bytes) }));
  return all;
}

export function sniff(b) {
  if (!b || b.length < 2) return 'unknown';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length < 4) return 'unknown';
  const m = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return 'pcap';
  if (m === 0x0a0d0d0a) return 'pcapng';
  return 'unknown';
}

// ---------------------------------------------------------------------------------------------
// pcap -> pcapng conversion (independent of src/: a second implementation of the format)

class W {
  constructor(le) {
    this.le = le;
    this.parts = [];
    this.len = 0;
  }
  u8(v) {
    return this.raw(Buffer.from([v & 0xff]));
  }
  u16(v) {
    const b = Buffer.alloc(2);
    this.le ? b.writeUInt16LE(v & 0xffff) : b.writeUInt16BE(v & 0xffff);
    return this.raw(b);
  }
  u32(v) {
    const b = Buffer.alloc(4);
    this.le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0);
    return this.raw(b);
  }
  u64(v) {
    const b = Buffer.alloc(8);
    this.le ? b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v))) : b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v)));
    return this.raw(b);
  }
  raw(b) {
    this.parts.push(b);
    this.len += b.length;
    return this;
  }
  padded(b) {
    this.raw(Buffer.from(b));
    const p = pad4(b.length) - b.length;
    if (p) this.raw(Buffer.alloc(p));
    return this;
  }
  opt(code, value) {
    this.u16(code).u16(value.length);
    return this.padded(value);
  }
  buf() {
    return Buffer.concat(this.parts);
  }
}

function block(le, type, body) {
  const total = 12 + body.length;
  const w = new W(le);
  w.u32(type).u32(total).raw(body).u32(total);
  return w.buf();
}

export function pcapToPcapng(pcap, { le = true, keys = null } = {}) {
  const L = describePcapHeader(pcap);
  if (!L) return null;
  const units = L.nanos ? 1_000_000_000n : 1_000_000n;
  const out = [];
  const shb = new W(le).u32(0x1a2b3c4d).u16(1).u16(0).u64(-1n).opt(4, Buffer.from('tlsflight-fuzz')).u32(0);
  out.push(block(le, 0x0a0d0d0a, shb.buf()));
  const idb = new W(le)
    .u16(L.linkType)
    .u16(0)
    .u32(L.snaplen)
    .opt(2, Buffer.from('lo'))
    .opt(9, Buffer.from([L.nanos ? 9 : 6]))
    .u32(0);
  out.push(block(le, 1, idb.buf()));
  if (keys && keys.length > 0) {
    const dsb = new W(le).u32(0x544c534b).u32(keys.length).padded(keys);
    out.push(block(le, 0x0a, dsb.buf()));
  }
  let p = 24;
  let i = 0;
  let lastTs = 0n;
  while (p + 16 <= pcap.length) {
    const sec = L.r32(p);
    const frac = L.r32(p + 4);
    const caplen = L.r32(p + 8);
    const orig = L.r32(p + 12);
    if (caplen > pcap.length - p - 16) break;
    const data = pcap.subarray(p + 16, p + 16 + caplen);
    const ts = BigInt(sec) * units + BigInt(frac);
    lastTs = ts;
    const epb = new W(le)
      .u32(0)
      .u32(Number(ts >> 32n))
      .u32(Number(ts & 0xffffffffn))
      .u32(caplen)
      .u32(orig)
      .padded(data);
    if (i % 5 === 4) epb.opt(2, Buffer.from(le ? [1, 0, 0, 0] : [0, 0, 0, 1])).u32(0); // epb_flags: inbound
    out.push(block(le, 6, epb.buf()));
    p += 16 + caplen;
    i++;
  }
  const isb = new W(le).u32(0).u32(Number(lastTs >> 32n)).u32(Number(lastTs & 0xffffffffn)).opt(5, Buffer.alloc(8)).u32(0);
  out.push(block(le, 5, isb.buf()));
  return Buffer.concat(out);
}

function describePcapHeader(b) {
  if (b.length < 24) return null;
  const m = b.readUInt32BE(0);
  let le;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) le = false;
  else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) le = true;
  else return null;
  const r32 = (o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  return { le, nanos: m === 0xa1b23c4d || m === 0x4d3cb2a1, r32, snaplen: r32(16), linkType: r32(20) & 0xffff };
}

// ---------------------------------------------------------------------------------------------
// Structure walker: finds the units (pcap records / pcapng blocks) and the fields that matter
// (length fields at every layer, timestamps) at their absolute file offsets. Independent of src/.
//
// A field is { off, w, le, kind }: w = 1, 2, 3, 4 or 8 bytes, or -1 / -2 for the low / high nibble
// of one byte (IPv4 IHL, TCP data offset).

export function describe(b) {
  const fmt = sniff(b);
  const L = { format: fmt, headerEnd: 0, units: [], fields: [], packets: [] };
  // The walker reads mutated bytes: on anything it did not expect it keeps what it found so far.
  try {
    if (fmt === 'pcap') describePcap(b, L);
    else if (fmt === 'pcapng') describePcapng(b, L);
  } catch {
    L.fields = L.fields.filter((f) => f.off >= 0 && f.off + Math.max(1, f.w) <= b.length);
  }
  return L;
}

function describePcap(b, L) {
  L.headerEnd = Math.min(24, b.length);
  const H = describePcapHeader(b);
  if (!H) return L;
  const le = H.le;
  L.le = le;
  L.fields.push(
    { off: 4, w: 2, le, kind: 'pcap-version' },
    { off: 16, w: 4, le, kind: 'pcap-snaplen' },
    { off: 20, w: 4, le, kind: 'pcap-linktype' },
  );
  let p = 24;
  while (p + 16 <= b.length) {
    const caplen = H.r32(p + 8);
    const have = Math.min(caplen, b.length - p - 16);
    L.units.push({ start: p, end: p + 16 + have, packet: true });
    L.fields.push(
      { off: p, w: 4, le, kind: 'ts-sec' },
      { off: p + 4, w: 4, le, kind: 'ts-frac' },
      { off: p + 8, w: 4, le, kind: 'pcap-caplen' },
      { off: p + 12, w: 4, le, kind: 'pcap-origlen' },
    );
    L.packets.push({ off: p + 16, len: have, linkType: H.linkType });
    walkPacket(b, H.linkType, p + 16, have, L.fields);
    if (have < caplen) break;
    p += 16 + caplen;
  }
  if (p < b.length && (L.units.length === 0 || L.units[L.units.length - 1].end < b.length)) {
    L.units.push({ start: p, end: b.length, packet: false, tail: true });
  }
  return L;
}

function describePcapng(b, L) {
  let p = 0;
  let le = true;
  let ifaces = [];
  while (p + 12 <= b.length) {
    const isShb = b[p] === 0x0a && b[p + 1] === 0x0d && b[p + 2] === 0x0d && b[p + 3] === 0x0a;
    if (isShb && p + 12 <= b.length) {
      const bom = b.readUInt32LE(p + 8);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      ifaces = [];
    }
    const r32 = (o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const r16 = (o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const type = r32(p);
    const blen = r32(p + 4);
    L.fields.push({ off: p + 4, w: 4, le, kind: 'block-len' });
    if (blen < 12 || p + blen > b.length) {
      L.units.push({ start: p, end: b.length, packet: false, tail: true });
      return L;
    }
    L.fields.push({ off: p + blen - 4, w: 4, le, kind: 'block-len-trail' });
    const unit = { start: p, end: p + blen, packet: type === 6 || type === 3 || type === 2, type };
    L.units.push(unit);
    const end = p + blen - 4;
    const opts = (at) => {
      if (at < p || at > end) return;
      let q = at;
      while (q + 4 <= end) {
        const code = r16(q);
        const olen = r16(q + 2);
        L.fields.push({ off: q + 2, w: 2, le, kind: 'opt-len' });
        if (code === 9 && olen >= 1 && q + 5 <= end) L.fields.push({ off: q + 4, w: 1, le, kind: 'if-tsresol' });
        if (code === 14 && olen >= 8 && q + 12 <= end) L.fields.push({ off: q + 4, w: 8, le, kind: 'if-tsoffset' });
        if (code === 0) return;
        q += 4 + pad4(olen);
      }
    };
    if (type === 0x0a0d0d0a && blen >= 28) {
      L.fields.push({ off: p + 12, w: 2, le, kind: 'shb-version' }, { off: p + 16, w: 8, le, kind: 'shb-seclen' });
      opts(p + 24);
    } else if (type === 1 && blen >= 20) {
      ifaces.push(r16(p + 8));
      L.fields.push({ off: p + 8, w: 2, le, kind: 'idb-linktype' }, { off: p + 12, w: 4, le, kind: 'idb-snaplen' });
      opts(p + 16);
    } else if ((type === 6 || type === 2) && blen >= 32) {
      const id = type === 6 ? r32(p + 8) : r16(p + 8);
      const caplen = r32(p + 20);
      L.fields.push(
        { off: p + 8, w: type === 6 ? 4 : 2, le, kind: 'epb-iface' },
        { off: p + 12, w: 4, le, kind: 'ts-hi' },
        { off: p + 16, w: 4, le, kind: 'ts-lo' },
        { off: p + 20, w: 4, le, kind: 'epb-caplen' },
        { off: p + 24, w: 4, le, kind: 'epb-origlen' },
      );
      const have = Math.min(caplen, end - (p + 28));
      if (have > 0) {
        L.packets.push({ off: p + 28, len: have, linkType: ifaces[id] ?? 1 });
        walkPacket(b, ifaces[id] ?? 1, p + 28, have, L.fields);
        opts(p + 28 + pad4(caplen));
      }
    } else if (type === 3 && blen >= 16) {
      L.fields.push({ off: p + 8, w: 4, le, kind: 'spb-origlen' });
      L.packets.push({ off: p + 12, len: blen - 16, linkType: ifaces[0] ?? 1 });
      walkPacket(b, ifaces[0] ?? 1, p + 12, blen - 16, L.fields);
    } else if (type === 5 && blen >= 24) {
      L.fields.push({ off: p + 8, w: 4, le, kind: 'isb-iface' });
      opts(p + 20);
    } else if (type === 0x0a && blen >= 20) {
      L.fields.push({ off: p + 12, w: 4, le, kind: 'dsb-len' });
    }
    p += blen;
  }
  if (p < b.length) L.units.push({ start: p, end: b.length, packet: false, tail: true });
  return L;
}

function u16be(b, o) {
  return (b[o] << 8) | b[o + 1];
}

/** Link, IP and TCP headers of one packet at b[base, base+n), then the TLS inside. */
function walkPacket(b, linkType, base, n, fields, out) {
  let off = 0;
  let ipv = 0;
  const at = (o) => base + o;
  switch (linkType) {
    case 1: {
      if (n < 14) return;
      let type = u16be(b, at(12));
      off = 14;
      while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && off + 4 <= n) {
        type = u16be(b, at(off + 2));
        off += 4;
      }
      ipv = type === 0x0800 ? 4 : type === 0x86dd ? 6 : 0;
      break;
    }
    case 0:
    case 108: {
      if (n < 4) return;
      const v = b[at(0)] | b[at(3)];
      ipv = v === 2 ? 4 : 6;
      off = 4;
      break;
    }
    case 12:
    case 14:
    case 101:
      if (n < 1) return;
      ipv = b[at(0)] >> 4;
      break;
    case 228:
      ipv = 4;
      break;
    case 229:
      ipv = 6;
      break;
    case 113:
      if (n < 16) return;
      ipv = u16be(b, at(14)) === 0x0800 ? 4 : 6;
      off = 16;
      break;
    case 276:
      if (n < 20) return;
      ipv = u16be(b, at(0)) === 0x0800 ? 4 : 6;
      off = 20;
      break;
    default:
      return;
  }
  let proto = 0;
  let l4 = 0;
  let ipEnd = n;
  let ipLenField = null;
  if (ipv === 4) {
    if (off + 20 > n) return;
    const ihl = (b[at(off)] & 15) * 4;
    const total = u16be(b, at(off + 2));
    fields?.push(
      { off: at(off), w: -1, le: false, kind: 'ipv4-ihl' },
      { off: at(off + 2), w: 2, le: false, kind: 'ipv4-totlen' },
      { off: at(off + 6), w: 2, le: false, kind: 'ipv4-frag' },
      { off: at(off + 9), w: 1, le: false, kind: 'ip-proto' },
    );
    ipLenField = { off: at(off + 2), hdr: 0 };
    proto = b[at(off + 9)];
    l4 = off + ihl;
    if (total >= ihl && total !== 0) ipEnd = Math.min(n, off + total);
    if (ihl < 20) return;
  } else if (ipv === 6) {
    if (off + 40 > n) return;
    const plen = u16be(b, at(off + 4));
    fields?.push({ off: at(off + 4), w: 2, le: false, kind: 'ipv6-plen' }, { off: at(off + 6), w: 1, le: false, kind: 'ip-proto' });
    ipLenField = { off: at(off + 4), hdr: 40 };
    if (plen !== 0) ipEnd = Math.min(n, off + 40 + plen);
    proto = b[at(off + 6)];
    l4 = off + 40;
    for (let i = 0; i < 8 && (proto === 0 || proto === 43 || proto === 60) && l4 + 2 <= n; i++) {
      fields?.push({ off: at(l4 + 1), w: 1, le: false, kind: 'ipv6-extlen' });
      proto = b[at(l4)];
      l4 += (b[at(l4 + 1)] + 1) * 8;
    }
  } else return;
  if (proto !== 6 || l4 + 20 > n) return;
  const hl = (b[at(l4 + 12)] >> 4) * 4;
  fields?.push(
    { off: at(l4 + 4), w: 4, le: false, kind: 'tcp-seq' },
    { off: at(l4 + 12), w: -2, le: false, kind: 'tcp-doff' },
    { off: at(l4 + 13), w: 1, le: false, kind: 'tcp-flags' },
  );
  if (hl < 20 || l4 + hl > ipEnd) return;
  const payOff = l4 + hl;
  const payLen = Math.max(0, ipEnd - payOff);
  if (out) {
    out.ipLenField = ipLenField;
    out.ipHdrStart = off;
    out.tcpOff = l4;
    out.payOff = payOff;
    out.payLen = payLen;
    out.seq = b.readUInt32BE(at(l4 + 4));
    out.flags = b[at(l4 + 13)];
  }
  if (fields && payLen > 0) walkTls(b, at(payOff), payLen, fields);
}

function walkTls(b, s, n, fields) {
  if (n >= 3 && (b[s] & 0x80) !== 0 && b[s + 2] === 1) {
    fields.push({ off: s, w: 2, le: false, kind: 'sslv2-len' });
    if (n >= 11) {
      fields.push(
        { off: s + 5, w: 2, le: false, kind: 'sslv2-speclen' },
        { off: s + 7, w: 2, le: false, kind: 'sslv2-sidlen' },
        { off: s + 9, w: 2, le: false, kind: 'sslv2-challen' },
      );
    }
    return;
  }
  let p = 0;
  while (p + 5 <= n) {
    const t = b[s + p];
    if (t < 20 || t > 24 || b[s + p + 1] !== 3) return;
    const len = u16be(b, s + p + 3);
    fields.push({ off: s + p + 3, w: 2, le: false, kind: 'tls-rec-len' });
    if (t === 22) walkHandshakes(b, s + p + 5, Math.min(len, n - p - 5), fields);
    p += 5 + len;
  }
}

function walkHandshakes(b, s, n, fields) {
  let q = 0;
  while (q + 4 <= n) {
    const type = b[s + q];
    const len = (b[s + q + 1] << 16) | (b[s + q + 2] << 8) | b[s + q + 3];
    fields.push({ off: s + q + 1, w: 3, le: false, kind: 'hs-len' });
    const body = s + q + 4;
    const bl = Math.min(len, n - q - 4);
    if (type === 1 || type === 2) walkHello(b, body, bl, type === 1, fields);
    else if (type === 11) walkCert(b, body, bl, fields);
    else if (type === 4 && bl >= 6) fields.push({ off: body + 4, w: 2, le: false, kind: 'nst-ticket-len' });
    q += 4 + len;
  }
}

function walkHello(b, s, n, client, fields) {
  const f = (o, w, kind) => {
    if (o + (w < 0 ? 1 : w) <= n) fields.push({ off: s + o, w, le: false, kind });
  };
  let p = 34;
  if (p + 1 > n) return;
  f(p, 1, 'sid-len');
  p += 1 + b[s + p];
  if (client) {
    if (p + 2 > n) return;
    f(p, 2, 'suites-len');
    p += 2 + u16be(b, s + p);
    if (p + 1 > n) return;
    f(p, 1, 'comp-len');
    p += 1 + b[s + p];
  } else {
    p += 3;
  }
  if (p + 2 > n) return;
  f(p, 2, 'exts-len');
  const extEnd = Math.min(n, p + 2 + u16be(b, s + p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = u16be(b, s + p);
    const elen = u16be(b, s + p + 2);
    f(p + 2, 2, 'ext-len');
    const d = p + 4;
    const dl = Math.min(elen, extEnd - d);
    const inner = (o, w, kind) => {
      if (o + w <= dl) f(d + o, w, kind);
    };
    switch (type) {
      case 0:
        inner(0, 2, 'sni-list-len');
        inner(3, 2, 'sni-name-len');
        break;
      case 16: {
        inner(0, 2, 'alpn-list-len');
        let q = 2;
        while (q < dl) {
          inner(q, 1, 'alpn-proto-len');
          q += 1 + b[s + d + q];
        }
        break;
      }
      case 43:
        if (client) inner(0, 1, 'versions-len');
        break;
      case 10:
      case 13:
        inner(0, 2, 'list-len');
        break;
      case 51:
        if (client) {
          inner(0, 2, 'keyshare-list-len');
          let q = 2;
          while (q + 4 <= dl) {
            inner(q + 2, 2, 'keyshare-len');
            q += 4 + u16be(b, s + d + q + 2);
          }
        } else inner(2, 2, 'keyshare-len');
        break;
      case 41:
        if (client) {
          inner(0, 2, 'psk-ids-len');
          const idsEnd = 2 + (dl >= 2 ? u16be(b, s + d) : 0);
          let q = 2;
          while (q + 2 <= Math.min(dl, idsEnd)) {
            inner(q, 2, 'psk-id-len');
            q += 2 + u16be(b, s + d + q) + 4;
          }
          inner(idsEnd, 2, 'psk-binders-len');
        }
        break;
      case 45:
        inner(0, 1, 'pskmodes-len');
        break;
    }
    p = d + elen;
  }
}

function walkCert(b, s, n, fields) {
  if (n < 3) return;
  fields.push({ off: s, w: 3, le: false, kind: 'cert-list-len' });
  let p = 3;
  while (p + 3 <= n) {
    fields.push({ off: s + p, w: 3, le: false, kind: 'cert-len' });
    p += 3 + ((b[s + p] << 16) | (b[s + p + 1] << 8) | b[s + p + 2]);
  }
}

function readField(b, f) {
  switch (f.w) {
    case -1:
      return b[f.off] & 0x0f;
    case -2:
      return b[f.off] >> 4;
    case 1:
      return b[f.off];
    case 2:
      return f.le ? b.readUInt16LE(f.off) : b.readUInt16BE(f.off);
    case 3:
      return (b[f.off] << 16) | (b[f.off + 1] << 8) | b[f.off + 2];
    case 4:
      return f.le ? b.readUInt32LE(f.off) : b.readUInt32BE(f.off);
    case 8:
      return Number(f.le ? b.readBigUInt64LE(f.off) : b.readBigUInt64BE(f.off));
  }
  return 0;
}

function fieldMax(f) {
  return f.w === -1 || f.w === -2 ? 15 : f.w === 8 ? 2 ** 64 - 1 : 2 ** (8 * f.w) - 1;
}

function writeField(b, f, v) {
  const max = fieldMax(f);
  if (f.w === 8) {
    const big = BigInt.asUintN(64, BigInt(Math.max(0, Math.floor(v))) );
    f.le ? b.writeBigUInt64LE(big, f.off) : b.writeBigUInt64BE(big, f.off);
    return;
  }
  let x = Math.floor(v);
  if (x < 0) x = (x % (max + 1)) + max + 1;
  x = x % (max + 1);
  switch (f.w) {
    case -1:
      b[f.off] = (b[f.off] & 0xf0) | x;
      break;
    case -2:
      b[f.off] = (b[f.off] & 0x0f) | (x << 4);
      break;
    case 1:
      b[f.off] = x;
      break;
    case 2:
      f.le ? b.writeUInt16LE(x, f.off) : b.writeUInt16BE(x, f.off);
      break;
    case 3:
      b[f.off] = (x >> 16) & 0xff;
      b[f.off + 1] = (x >> 8) & 0xff;
      b[f.off + 2] = x & 0xff;
      break;
    case 4:
      f.le ? b.writeUInt32LE(x >>> 0, f.off) : b.writeUInt32BE(x >>> 0, f.off);
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Strategies. Each takes (rng, ctx) and returns { bytes, note } (note: what it did, for the report).

const LENGTH_KINDS = new Set([
  'pcap-caplen', 'pcap-origlen', 'pcap-snaplen', 'block-len', 'block-len-trail', 'opt-len', 'epb-caplen', 'epb-origlen',
  'spb-origlen', 'dsb-len', 'shb-seclen', 'idb-snaplen', 'ipv4-ihl', 'ipv4-totlen', 'ipv6-plen', 'ipv6-extlen', 'tcp-doff',
  'sslv2-len', 'sslv2-speclen', 'sslv2-sidlen', 'sslv2-challen', 'tls-rec-len', 'hs-len', 'sid-len', 'suites-len',
  'comp-len', 'exts-len', 'ext-len', 'sni-list-len', 'sni-name-len', 'alpn-list-len', 'alpn-proto-len', 'versions-len',
  'list-len', 'keyshare-list-len', 'keyshare-len', 'psk-ids-len', 'psk-id-len', 'psk-binders-len', 'pskmodes-len',
  'cert-list-len', 'cert-len', 'nst-ticket-len',
]);
const LAYER = (k) =>
  /^(pcap|block|opt|epb|spb|dsb|shb|idb|isb)/.test(k) ? 'capture' : /^(ipv|ip-|tcp)/.test(k) ? 'net' : /^(ts|if-ts)/.test(k) ? 'time' : 'tls';

function pickField(rng, layout, filter) {
  const fs = layout.fields.filter(filter);
  if (fs.length === 0) return null;
  // Even spread over layers, then over fields: TLS fields vastly outnumber framing ones.
  const byLayer = new Map();
  for (const f of fs) {
    const l = LAYER(f.kind);
    if (!byLayer.has(l)) byLayer.set(l, []);
    byLayer.get(l).push(f);
  }
  return rng.pick(rng.pick([...byLayer.values()]));
}

/** A new value for a length field: near the old one, at a boundary, or arbitrary. */
function lengthValue(rng, f, v, size) {
  const max = fieldMax(f);
  return rng.weighted([
    [3, () => v + 1],
    [3, () => v - 1],
    [2, () => v + rng.range(2, 64)],
    [2, () => v - rng.range(2, 64)],
    [2, () => 0],
    [1, () => 1],
    [1, () => 4],
    [2, () => max],
    [1, () => v * 2],
    [1, () => v >> 1],
    [2, () => size - f.off + rng.range(-8, 8)],
    [2, () => rng.int(Math.min(max, 2 ** 32 - 1) + 1)],
    [1, () => v ^ (1 << rng.int(f.w > 0 ? Math.min(8 * f.w, 31) : 4))],
  ])();
}

function hugeValue(rng, f, layout) {
  const k = f.kind;
  const max = fieldMax(f);
  const common = [max, max - 1, max - 3, Math.floor(max / 2), Math.floor(max / 2) + 1];
  const special = {
    'pcap-caplen': [262144 * 4, 262144 * 4 + 1, 131070, 131071, 65535 * 2, 65535 * 2 + 1, 0x7fffffff, 0x80000000],
    'pcap-snaplen': [0, 0xffffffff, 0x7fffffff, 262144 * 4 + 1],
    'block-len': [16 * 1024 * 1024 + 64 * 1024, 16 * 1024 * 1024 + 64 * 1024 + 4, 16 * 1024 * 1024 + 64 * 1024 - 4, 0x7ffffffc, 0xfffffffc, 16, 8],
    'epb-caplen': [0x7fffffff, 0xffffffff, 0xfffffff0, 65536],
    'dsb-len': [0xffffffff, 0xfffffff0, 16 * 1024 * 1024],
    'tls-rec-len': [16384 + 2048, 16384 + 2049, 16384, 0xffff],
    'hs-len': [256 * 1024, 256 * 1024 + 1, 0xffffff, 0x10000],
    'cert-len': [0xffffff, 0x10000],
    'cert-list-len': [0xffffff],
    'sslv2-len': [0x7fff, 0xffff],
  };
  void layout;
  return rng.pick(special[k] ?? common);
}

function copy(b) {
  return Buffer.from(b);
}

function nearField(rng, layout, size) {
  if (layout.fields.length > 0 && rng.chance(0.5)) {
    const f = rng.pick(layout.fields);
    return Math.min(size - 1, Math.max(0, f.off + rng.range(-2, 3)));
  }
  return rng.int(size);
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x16, 0x03, 0x14, 0x15, 0x17, 0x0a, 0x0d, 0xfe];

function bitflip(rng, { a }) {
  const b = copy(a.bytes);
  if (b.length === 0) return { bytes: b, note: 'empty' };
  const n = rng.geometric(0.5, 32);
  for (let i = 0; i < n; i++) b[nearField(rng, a.layout, b.length)] ^= 1 << rng.int(8);
  return { bytes: b, note: `${n} bit(s)` };
}

function byteset(rng, { a }) {
  const b = copy(a.bytes);
  if (b.length === 0) return { bytes: b, note: 'empty' };
  const n = rng.geometric(0.5, 32);
  for (let i = 0; i < n; i++) {
    const o = nearField(rng, a.layout, b.length);
    b[o] = rng.chance(0.6) ? rng.pick(INTERESTING) : rng.chance(0.5) ? (b[o] + rng.range(-3, 3)) & 0xff : rng.int(256);
  }
  return { bytes: b, note: `${n} byte(s)` };
}

function truncate(rng, { a }) {
  const L = a.layout;
  let at;
  if (L.units.length > 0 && rng.chance(0.4)) {
    const u = rng.pick(L.units);
    at = rng.pick([u.start, u.end, u.start + rng.range(1, 20), u.end - rng.range(1, 4)]);
  } else at = rng.int(a.bytes.length + 1);
  at = Math.max(0, Math.min(a.bytes.length, at));
  return { bytes: Buffer.from(a.bytes.subarray(0, at)), note: `at ${at}/${a.bytes.length}` };
}

function lenfield(rng, { a }) {
  const b = copy(a.bytes);
  const n = rng.geometric(0.35, 4);
  const notes = [];
  for (let i = 0; i < n; i++) {
    const f = pickField(rng, a.layout, (x) => LENGTH_KINDS.has(x.kind));
    if (!f) break;
    const v = readField(b, f);
    const nv = lengthValue(rng, f, v, b.length);
    writeField(b, f, nv);
    notes.push(`${f.kind}@${f.off}:${v}->${readField(b, f)}`);
  }
  return { bytes: b, note: notes.join(' ') };
}

function hugelen(rng, { a }) {
  const b = copy(a.bytes);
  const f = pickField(rng, a.layout, (x) => LENGTH_KINDS.has(x.kind));
  if (!f) return { bytes: b, note: 'no length field' };
  const v = readField(b, f);
  writeField(b, f, hugeValue(rng, f, a.layout));
  return { bytes: b, note: `${f.kind}@${f.off}:${v}->${readField(b, f)}` };
}

function timefield(rng, { a }) {
  const b = copy(a.bytes);
  const f = pickField(rng, a.layout, (x) => LAYER(x.kind) === 'time');
  if (!f) return { bytes: b, note: 'no time field' };
  const v = readField(b, f);
  const nv =
    f.kind === 'if-tsresol'
      ? rng.pick([0, 1, 3, 9, 12, 19, 20, 63, 64, 127, 0x80, 0x80 | 10, 0x80 | 30, 0x80 | 31, 0x80 | 32, 0x80 | 63, 0xff, rng.int(256)])
      : f.kind === 'if-tsoffset'
        ? rng.pick([0, 1, -1, 2 ** 40, -(2 ** 40), 2 ** 53, 2 ** 63, rng.u32()])
        : rng.pick([0, 1, 999_999, 1_000_000, 999_999_999, 1_000_000_000, 0x7fffffff, 0x80000000, 0xffffffff, rng.u32(), v + 1, v - 1]);
  if (f.w === 8 && nv < 0) {
    const big = BigInt.asUintN(64, BigInt(nv));
    f.le ? b.writeBigUInt64LE(big, f.off) : b.writeBigUInt64BE(big, f.off);
  } else writeField(b, f, nv);
  return { bytes: b, note: `${f.kind}@${f.off}:${v}->${readField(b, f)}` };
}

function insdel(rng, { a }) {
  const b = a.bytes;
  const at = nearField(rng, a.layout, b.length + 1);
  if (rng.chance(0.5) && b.length > 0) {
    const n = rng.geometric(0.6, 256);
    return { bytes: Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + n))]), note: `delete ${n}@${at}` };
  }
  const n = rng.geometric(0.6, 256);
  const ins = rng.chance(0.5) ? rng.bytes(n) : Buffer.from(b.subarray(Math.max(0, at - n), at));
  return { bytes: Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]), note: `insert ${n}@${at}` };
}

/** Packet-level: reorder, duplicate (optionally with different bytes), drop pcap records / pcapng blocks. */
function records(rng, { a }) {
  const L = a.layout;
  const units = L.units.map((u) => Buffer.from(a.bytes.subarray(u.start, u.end)));
  const head = Buffer.from(a.bytes.subarray(0, L.units.length > 0 ? L.units[0].start : a.bytes.length));
  // pcapng: keep the first SHB and IDB in place (moving them is the 'blocks' op below).
  let fixed = 0;
  if (L.format === 'pcapng') while (fixed < L.units.length && !L.units[fixed].packet && fixed < 2) fixed++;
  const movable = units.length - fixed;
  if (movable < 1) return { bytes: copy(a.bytes), note: 'no records' };
  const idx = () => fixed + rng.int(units.length - fixed);
  const n = rng.geometric(0.5, 8);
  const notes = [];
  for (let k = 0; k < n; k++) {
    const op = rng.weighted([
      [3, 'swap'],
      [2, 'move'],
      [3, 'dup'],
      [2, 'dup-mutated'],
      [3, 'drop'],
      [2, 'shuffle'],
      [1, 'reverse'],
      [1, 'move-any'],
    ]);
    if (units.length - fixed < 1) break;
    const i = idx();
    if (op === 'swap') {
      const j = Math.min(units.length - 1, i + rng.range(1, 3));
      [units[i], units[j]] = [units[j], units[i]];
    } else if (op === 'move') {
      const [u] = units.splice(i, 1);
      units.splice(fixed + rng.int(units.length - fixed + 1), 0, u);
    } else if (op === 'move-any') {
      const [u] = units.splice(rng.int(units.length), 1);
      units.splice(rng.int(units.length + 1), 0, u);
    } else if (op === 'dup' || op === 'dup-mutated') {
      const u = Buffer.from(units[i]);
      if (op === 'dup-mutated' && u.length > 16) {
        // A retransmission with different bytes: flip a few in the second half (usually the payload).
        for (let m = rng.geometric(0.5, 8); m > 0; m--) u[rng.range(u.length >> 1, u.length - 1)] ^= 1 << rng.int(8);
      }
      units.splice(Math.min(units.length, i + rng.range(0, 6)), 0, u);
    } else if (op === 'drop') {
      units.splice(i, 1);
    } else if (op === 'shuffle' || op === 'reverse') {
      const w = rng.range(2, 8);
      const win = units.splice(i, w);
      if (op === 'reverse') win.reverse();
      else for (let x = win.length - 1; x > 0; x--) {
        const y = rng.int(x + 1);
        [win[x], win[y]] = [win[y], win[x]];
      }
      units.splice(i, 0, ...win);
    }
    notes.push(`${op}@${i}`);
  }
  return { bytes: Buffer.concat([head, ...units]), note: notes.join(' ') };
}

/** TCP-level: cut every payload into random segments (seq adjusted), optionally overlapping, then maybe shuffle. */
function resegment(rng, { a }) {
  const L = a.layout;
  if (L.format !== 'pcap' || !a.bytes.length) return records(rng, { a });
  const H = describePcapHeader(a.bytes);
  const out = [Buffer.from(a.bytes.subarray(0, 24))];
  const maxSeg = rng.pick([1, 2, 3, 7, 16, 100, 300]);
  const overlap = rng.chance(0.3);
  const lie = rng.chance(0.15); // overlapping retransmissions carry different bytes
  let segs = 0;
  let size = 24;
  for (const u of L.units) {
    const rec = a.bytes.subarray(u.start, u.end);
    size += rec.length;
    if (!u.packet || rec.length < 16 || size > MAX_CASE_BYTES / 2) {
      out.push(Buffer.from(rec));
      continue;
    }
    const data = rec.subarray(16);
    const info = {};
    walkPacket(a.bytes, H.linkType, u.start + 16, data.length, null, info);
    if (info.payOff === undefined || info.payLen <= 1 || info.payOff + info.payLen > data.length || !rng.chance(0.8)) {
      out.push(Buffer.from(rec));
      continue;
    }
    const hdr = data.subarray(0, info.payOff);
    const pay = data.subarray(info.payOff, info.payOff + info.payLen);
    let p = 0;
    while (p < pay.length) {
      let start = p;
      if (overlap && p > 0 && rng.chance(0.3)) start = Math.max(0, p - rng.range(1, 8));
      const len = Math.min(pay.length - start, rng.range(1, maxSeg));
      const piece = Buffer.from(pay.subarray(start, start + len));
      if (lie && start < p) piece[0] ^= 0x55;
      const h = Buffer.from(hdr);
      const ipLenOff = info.ipLenField.off - (u.start + 16);
      const ipTotal = info.ipLenField.hdr === 0 ? info.payOff - info.ipHdrStart + len : info.payOff - info.ipHdrStart - 40 + len;
      h.writeUInt16BE(ipTotal & 0xffff, ipLenOff);
      // A SYN's payload starts at seq + 1: pieces after the first lose the SYN, so they say so in seq.
      h.writeUInt32BE((info.seq + start + ((info.flags & 2) !== 0 && start > 0 ? 1 : 0)) >>> 0, info.tcpOff + 4);
      if (start > 0) h[info.tcpOff + 13] &= ~0x03; // SYN/FIN only on the first/last piece
      if (start + len < pay.length) h[info.tcpOff + 13] &= ~0x01;
      const rh = Buffer.from(rec.subarray(0, 16));
      const plen = h.length + piece.length;
      H.le ? rh.writeUInt32LE(plen, 8) : rh.writeUInt32BE(plen, 8);
      H.le ? rh.writeUInt32LE(plen, 12) : rh.writeUInt32BE(plen, 12);
      out.push(rh, h, piece);
      size += rh.length + h.length;
      segs++;
      p = Math.max(p, start + len);
    }
  }
  let bytes = Buffer.concat(out);
  let note = `max ${maxSeg}${overlap ? ' overlap' : ''}${lie ? ' lying' : ''} -> ${segs} segments`;
  if (rng.chance(0.4)) {
    const r = records(rng, { a: { bytes, layout: describe(bytes) } });
    bytes = r.bytes;
    note += `; ${r.note}`;
  }
  return { bytes, note };
}

function splice(rng, { a, b }) {
  const mode = rng.weighted([
    [3, 'bytes'],
    [3, 'interleave'],
    [2, 'append'],
    [1, 'concat'],
  ]);
  if (mode === 'bytes' || a.layout.units.length === 0 || b.layout.units.length === 0) {
    const i = rng.int(a.bytes.length + 1);
    const j = rng.int(b.bytes.length + 1);
    return { bytes: Buffer.concat([a.bytes.subarray(0, i), b.bytes.subarray(j)]), note: `bytes a[0:${i}] + b[${j}:]` };
  }
  if (mode === 'concat') return { bytes: Buffer.concat([a.bytes, b.bytes]), note: 'concat' };
  const head = a.bytes.subarray(0, a.layout.units[0].start);
  const ua = a.layout.units.map((u) => a.bytes.subarray(u.start, u.end));
  // pcapng: B's packet blocks refer to B's interfaces; bring B's whole body (IDBs included) along.
  const ub = b.layout.units.filter((u, i) => b.layout.format !== 'pcapng' || i > 0).map((u) => b.bytes.subarray(u.start, u.end));
  if (mode === 'append') return { bytes: Buffer.concat([head, ...ua, ...ub]), note: 'append records' };
  const out = [head];
  let i = 0;
  let j = 0;
  while (i < ua.length || j < ub.length) {
    if (j >= ub.length || (i < ua.length && rng.chance(0.5))) out.push(ua[i++]);
    else out.push(ub[j++]);
  }
  return { bytes: Buffer.concat(out), note: 'interleave records' };
}

function garbage(rng) {
  const kind = rng.weighted([
    [2, 'random'],
    [2, 'magic'],
    [2, 'pcap-frames'],
    [2, 'pcapng-blocks'],
    [2, 'tls-ish'],
  ]);
  if (kind === 'random') return { bytes: rng.bytes(rng.int(rng.pick([4, 64, 4096]))), note: kind };
  if (kind === 'magic') {
    const magic = rng.pick([
      [0xd4, 0xc3, 0xb2, 0xa1],
      [0xa1, 0xb2, 0xc3, 0xd4],
      [0x4d, 0x3c, 0xb2, 0xa1],
      [0x0a, 0x0d, 0x0d, 0x0a],
      [0x1f, 0x8b],
    ]);
    return { bytes: Buffer.concat([Buffer.from(magic), rng.bytes(rng.int(rng.pick([8, 64, 2048])))]), note: kind };
  }
  const lt = rng.pick([0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, rng.int(65536)]);
  const n = rng.range(1, 40);
  if (kind === 'pcap-frames' || kind === 'tls-ish') {
    const recs = [];
    for (let i = 0; i < n; i++) {
      const data = kind === 'tls-ish' ? synthPacket(rng, i) : rng.bytes(rng.int(rng.pick([16, 80, 600])));
      recs.push({ sec: 1700000000 + i, frac: rng.int(1_000_000), data });
    }
    return { bytes: pcapFile(recs, { linkType: kind === 'tls-ish' ? 1 : lt, le: rng.chance(0.7) }), note: `${kind} lt=${lt}` };
  }
  const le = rng.chance(0.6);
  const parts = [
    block(le, 0x0a0d0d0a, new W(le).u32(0x1a2b3c4d).u16(1).u16(0).u64(-1n).buf()),
    block(le, 1, new W(le).u16(lt).u16(0).u32(rng.pick([0, 65535, 96])).buf()),
  ];
  for (let i = 0; i < n; i++) {
    const t = rng.weighted([
      [6, 6],
      [1, 3],
      [1, 2],
      [1, 1],
      [1, 5],
      [1, 0x0a],
      [1, 4],
      [1, rng.u32()],
    ]);
    parts.push(block(le, t, new W(le).padded(rng.bytes(rng.int(rng.pick([8, 40, 300])))).buf()));
  }
  return { bytes: Buffer.concat(parts), note: `${kind} lt=${lt}` };
}

function pcapFile(recs, { linkType = 1, le = true, snaplen = 262144 } = {}) {
  const w = new W(le).u32(0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(snaplen).u32(linkType);
  for (const r of recs) w.u32(r.sec).u32(r.frac).u32(r.data.length).u32(r.origLen ?? r.data.length).raw(Buffer.from(r.data));
  return w.buf();
}

/** Ethernet/IPv4/TCP between two fixed endpoints, with TLS-shaped but random payloads. */
function synthPacket(rng, i) {
  const dir = rng.int(2);
  const payload = rng.weighted([
    [2, () => rng.bytes(rng.int(200))],
    [
      3,
      () => {
        const body = rng.bytes(rng.int(300));
        const len = rng.chance(0.7) ? body.length : rng.int(65536);
        return Buffer.concat([Buffer.from([rng.range(20, 24), 3, rng.int(5), len >> 8, len & 0xff]), body]);
      },
    ],
    [
      3,
      () => {
        const hb = rng.bytes(rng.int(300));
        const hl = rng.chance(0.7) ? hb.length : rng.int(1 << 24);
        const hs = Buffer.concat([Buffer.from([rng.pick([1, 2, 4, 11, 12, 14, 16, 20, rng.int(256)]), hl >> 16, (hl >> 8) & 0xff, hl & 0xff]), hb]);
        return Buffer.concat([Buffer.from([22, 3, rng.int(4), hs.length >> 8, hs.length & 0xff]), hs]);
      },
    ],
    [1, () => Buffer.from([0x80 | rng.int(128), rng.int(256), rng.pick([1, 4]), ...rng.bytes(rng.int(60))])],
    [1, () => Buffer.alloc(0)],
  ])();
  const b = Buffer.alloc(54 + payload.length);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(40 + payload.length, 16);
  b[23] = 6;
  Buffer.from(dir ? [10, 0, 0, 2, 10, 0, 0, 1] : [10, 0, 0, 1, 10, 0, 0, 2]).copy(b, 26);
  b.writeUInt16BE(dir ? 443 : 50000, 34);
  b.writeUInt16BE(dir ? 50000 : 443, 36);
  b.writeUInt32BE(rng.chance(0.8) ? (1000 * (dir + 1) + i * 97) >>> 0 : rng.u32(), 38);
  b[46] = 0x50;
  b[47] = i === 0 ? 0x02 : i === 1 ? 0x12 : rng.chance(0.1) ? rng.pick([0x01, 0x04, 0x02, 0x11]) : 0x18;
  payload.copy(b, 54);
  return b;
}

/** Inputs are cut to this size: bigger ones only cost time. */
const MAX_CASE_BYTES = 256 * 1024;

export const STRATEGIES = {
  bitflip,
  byteset,
  truncate,
  lenfield,
  hugelen,
  timefield,
  insdel,
  records,
  resegment,
  splice,
  garbage,
};

const STRATEGY_WEIGHTS = [
  [10, 'bitflip'],
  [8, 'byteset'],
  [6, 'truncate'],
  [16, 'lenfield'],
  [7, 'hugelen'],
  [4, 'timefield'],
  [4, 'insdel'],
  [10, 'records'],
  [8, 'resegment'],
  [6, 'splice'],
  [5, 'garbage'],
];

// ---------------------------------------------------------------------------------------------
// Cases

/**
 * Case `index` of `seed`: one or more stacked mutations of one or two seed captures, a chunk plan,
 * and a mode ('mem': push decoders + Analyzer; 'file': analyzeCaptures on a temp file; 'gzip': the
 * same, gzipped and possibly corrupted after compression). Sometimes a second capture follows in
 * the same run (multi-file: issued tickets/session IDs carry over).
 */
export function makeCase(corpus, seed, index, opts = {}) {
  const rng = new Rng(caseSeed(seed, index));
  const pickSeed = () => rng.pick(corpus);
  const strategies = [];
  const notes = [];
  const src = pickSeed();
  const sources = [src.name];
  let cur = { bytes: src.bytes, layout: src.layout };
  const depth = rng.weighted([
    [7, 1],
    [2, 2],
    [1, 3],
  ]);
  for (let d = 0; d < depth; d++) {
    const name = opts.strategy ?? rng.weighted(STRATEGY_WEIGHTS);
    const other = name === 'splice' ? pickSeed() : null;
    if (other) sources.push(other.name);
    const r = STRATEGIES[name](rng, { a: cur, b: other });
    strategies.push(name);
    notes.push(r.note);
    // Keep cases small: huge splices of splices buy nothing but time.
    const bytes = r.bytes.length > MAX_CASE_BYTES ? r.bytes.subarray(0, MAX_CASE_BYTES) : r.bytes;
    cur = { bytes, layout: d + 1 < depth ? describe(bytes) : null };
    if (name === 'garbage') break;
  }
  const files = [{ name: 'fuzz-0', bytes: cur.bytes }];
  if (rng.chance(0.12)) {
    const s2 = pickSeed();
    sources.push(s2.name);
    const m = rng.chance(0.5) ? STRATEGIES.lenfield(rng, { a: s2 }).bytes : s2.bytes;
    files.push({ name: 'fuzz-1', bytes: m });
  }
  const mode = opts.mode ?? rng.weighted([
    [84, 'mem'],
    [11, 'file'],
    [5, 'gzip'],
  ]);
  const plan = chunkPlan(rng, cur.bytes.length);
  const c = { seed: seed >>> 0, index, strategies, notes, sources, files, mode, plan };
  if (mode === 'gzip') c.gzip = { truncate: rng.chance(0.3) ? rng.float() : null, flip: rng.chance(0.2) ? rng.u32() : null };
  return c;
}

function chunkPlan(rng, size) {
  const kind = rng.weighted([
    [35, 'whole'],
    [12, 'fixed1'],
    [10, 'fixed7'],
    [43, 'random'],
  ]);
  // Tiny chunks cost a write() per byte or three: keep them to inputs where that stays fast.
  const big = size > 48 * 1024;
  if (kind === 'whole') return { kind: 'whole' };
  if (kind === 'fixed1') return { kind: 'fixed', n: big ? 61 : 1 };
  if (kind === 'fixed7') return { kind: 'fixed', n: big ? 67 : 7 };
  return { kind: 'random', max: rng.pick(big ? [256, 4096, 65536] : [3, 16, 256, 4096, 65536]), seed: rng.u32() };
}

export function describeCase(c) {
  const plan = c.plan.kind === 'whole' ? 'whole' : c.plan.kind === 'fixed' ? `${c.plan.n}-byte chunks` : `random chunks <= ${c.plan.max}`;
  return (
    `seed=${c.seed} case=${c.index} strategy=${c.strategies.join('+')} mode=${c.mode} chunks=${plan}` +
    ` sources=${c.sources.join(',')} size=${c.files.map((f) => f.bytes.length).join('+')}` +
    (c.notes.length ? `\n  mutations: ${c.notes.join(' | ').slice(0, 600)}` : '')
  );
}

// ---------------------------------------------------------------------------------------------
// Running a case

function* chunks(bytes, plan, scribble) {
  const emit = (a, b) => (scribble ? Buffer.from(bytes.subarray(a, b)) : bytes.subarray(a, b));
  if (plan.kind === 'whole') {
    yield emit(0, bytes.length);
    return;
  }
  if (plan.kind === 'cuts') {
    const at = [0, ...plan.at.filter((x) => x > 0 && x < bytes.length), bytes.length];
    for (let i = 1; i < at.length; i++) if (at[i] > at[i - 1]) yield emit(at[i - 1], at[i]);
    return;
  }
  if (plan.kind === 'fixed') {
    for (let p = 0; p < bytes.length; p += plan.n) yield emit(p, Math.min(bytes.length, p + plan.n));
    return;
  }
  const rng = new Rng(plan.seed ?? 1);
  let p = 0;
  while (p < bytes.length) {
    const n = 1 + rng.int(plan.max);
    yield emit(p, Math.min(bytes.length, p + n));
    p += n;
  }
}

/**
 * The in-memory pipeline, as src/analysis/run.ts drives it: decoder by magic number (gzip
 * inflated first), frames into one Analyzer across files. `scribble` overwrites each chunk after
 * write() returns, to catch a decoder or analyzer keeping a view of the caller's buffer.
 */
export function runMemory(api, files, plan, { scribble = false } = {}) {
  const connections = [];
  const summary = new api.SummaryBuilder();
  const analyzer = new api.Analyzer({
    onConnection: (c) => {
      summary.add(c);
      connections.push(c);
    },
  });
  const captures = [];
  let frames = 0;
  for (const f of files) {
    let bytes = f.bytes;
    let live = null;
    analyzer.startFile(f.name, () => live !== null && live.interfaces.some((i) => i.subMicrosecond === true));
    if (sniff(bytes) === 'gzip') {
      try {
        bytes = gunzipSync(bytes, { finishFlush: zc.Z_SYNC_FLUSH });
      } catch {
        bytes = Buffer.alloc(0);
      }
    }
    const kind = sniff(bytes);
    const decoders = kind === 'pcap' ? [api.PcapDecoder] : kind === 'pcapng' ? [api.PcapngDecoder] : [api.PcapDecoder, api.PcapngDecoder];
    for (const D of decoders) {
      const dec = new D((fr) => {
        frames++;
        analyzer.frame(fr);
      });
      live = dec.info;
      for (const c of chunks(bytes, plan, scribble)) {
        const more = dec.write(c);
        if (scribble) c.fill(0xa5);
        if (!more) break;
      }
      dec.end();
      captures.push({ info: dec.info, problem: dec.problem });
    }
    analyzer.endFile();
  }
  return { connections, summary: summary.result(analyzer.stats.udp), stats: { ...analyzer.stats }, captures, frames };
}

/** Through the real file path (src/capture/open.ts, src/analysis/run.ts) and both renderers. */
export async function runFiles(api, c, dir) {
  mkdirSync(dir, { recursive: true });
  const paths = c.files.map((f, i) => {
    let bytes = f.bytes;
    if (c.mode === 'gzip' && i === 0) {
      bytes = gzipSync(bytes);
      if (c.gzip?.flip != null && bytes.length > 10) {
        const o = 10 + (c.gzip.flip % (bytes.length - 10));
        bytes[o] ^= 1 << (c.gzip.flip % 8);
      }
      if (c.gzip?.truncate != null) bytes = bytes.subarray(0, Math.floor(bytes.length * c.gzip.truncate));
    }
    const p = join(dir, `w${process.pid}-${c.index}-${i}.bin`);
    writeFileSync(p, bytes);
    return p;
  });
  try {
    const report = await api.analyzeCaptures(paths);
    const text = api.renderText(report, { color: false, verbose: true, limit: 0 });
    const json = api.renderJson(report);
    return { report, text, json };
  } finally {
    for (const p of paths) rmSync(p, { force: true });
  }
}

/**
 * Lets the event loop turn. A loop of awaited, already-settled promises never does, and
 * process.nextTick callbacks then pile up: pcap-parser queues one per PcapDecoder (holding the
 * decoder, its sink and the Analyzer), which looks exactly like a leak after a few thousand cases.
 */
export function yieldToEventLoop() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs one case; returns { ms } or throws (the error names the broken invariant). */
export async function runCase(api, c, { tmpDir } = {}) {
  const t0 = performance.now();
  if (c.mode === 'mem') {
    const r = runMemory(api, c.files, c.plan);
    checkMemoryRun(r);
    if (c.plan.kind !== 'whole') {
      // Differential: mutated or not, an input must read the same whatever the chunking.
      const w = runMemory(api, c.files, { kind: 'whole' });
      const a = JSON.stringify(comparableRun(r));
      const b = JSON.stringify(comparableRun(w));
      if (a !== b) throw new InvariantError(`result depends on the chunking: ${firstDifference(comparableRun(w), comparableRun(r))}`);
    }
  } else {
    const { report, text, json } = await runFiles(api, c, tmpDir);
    checkReport(report, c.files.length);
    if (typeof text !== 'string' || typeof json !== 'string') throw new Error('renderer returned no string');
    JSON.parse(json);
  }
  return { ms: performance.now() - t0 };
}

/** What must not depend on the chunking: everything the pipeline reports. */
export function comparableRun(r) {
  return {
    connections: r.connections,
    stats: r.stats,
    frames: r.frames,
    captures: r.captures.map((c) => ({ info: c.info, problem: c.problem })),
  };
}

/** Path and values of the first difference between two JSON-like values (for failure messages). */
export function firstDifference(a, b, path = '') {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path || '(root)'}: whole ${JSON.stringify(a)?.slice(0, 120)} vs chunked ${JSON.stringify(b)?.slice(0, 120)}`;
}

// ---------------------------------------------------------------------------------------------
// Invariants

export class InvariantError extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvariantError';
  }
}

function must(cond, msg) {
  if (!cond) throw new InvariantError(msg);
}

const KINDS = ['full', 'resumed-session-id', 'resumed-ticket', 'resumed-psk', 'unknown'];

/** Every number in the structure is finite (NaN/Infinity turn into null in JSON silently). */
function finiteNumbers(x, path, depth = 0) {
  if (depth > 12) return;
  if (typeof x === 'number') must(Number.isFinite(x), `non-finite number at ${path}: ${x}`);
  else if (Array.isArray(x)) x.forEach((v, i) => finiteNumbers(v, `${path}[${i}]`, depth + 1));
  else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) finiteNumbers(v, `${path}.${k}`, depth + 1);
}

export function checkConnections(conns, summary) {
  must(summary.connections === conns.length, `summary.connections ${summary.connections} != ${conns.length} connections reported`);
  must(
    summary.tlsConnections + summary.nonTlsConnections === summary.connections,
    `tlsConnections ${summary.tlsConnections} + nonTlsConnections ${summary.nonTlsConnections} != connections ${summary.connections}`,
  );
  const byKind = KINDS.reduce((n, k) => n + (summary.byKind[k] ?? 0), 0);
  must(byKind === summary.tlsConnections, `byKind sums to ${byKind}, tlsConnections is ${summary.tlsConnections}`);
  must(summary.tlsConnections === conns.filter((c) => c.tls).length, 'tlsConnections does not match the connections');
  const ids = new Set();
  for (const c of conns) {
    must(!ids.has(c.id), `duplicate connection id ${c.id}`);
    ids.add(c.id);
    must(KINDS.includes(c.kind), `connection ${c.id}: kind ${c.kind}`);
    if (c.tls && c.kind === 'unknown') {
      must(typeof c.reason === 'string' && c.reason.length > 0, `connection ${c.id}: TLS kind unknown without a reason`);
    }
    must(c.firstFrame >= 1 && c.firstFrame <= c.lastFrame, `connection ${c.id}: frames ${c.firstFrame}..${c.lastFrame}`);
    // The verdict's fields agree with each other.
    if (c.kind === 'full') must(c.resumed === false, `connection ${c.id}: kind full but resumed=${c.resumed}`);
    if (c.kind.startsWith('resumed-')) must(c.resumed === true, `connection ${c.id}: kind ${c.kind} but resumed=${c.resumed}`);
    if (c.rejected === true) must(Array.isArray(c.offered) && c.offered.length > 0, `connection ${c.id}: rejected without an offer`);
    if (!c.tls) must(c.kind === 'unknown', `connection ${c.id}: not TLS but kind ${c.kind}`);
    must(c.packets.client + c.packets.server >= 1, `connection ${c.id}: no packets`);
    must(typeof c.start === 'string' && typeof c.flightSummary === 'string', `connection ${c.id}: start/flightSummary not strings`);
    must(Array.isArray(c.evidence) && c.evidence.every((e) => typeof e === 'string'), `connection ${c.id}: evidence`);
    must(c.problems.length <= 64 && c.losses.length <= 64, `connection ${c.id}: unbounded problems/losses`);
    must(c.flights.length <= 256, `connection ${c.id}: ${c.flights.length} flights`);
    finiteNumbers(c, `connection ${c.id}`);
  }
  finiteNumbers(summary, 'summary');
  for (const k of ['resumptionRateOffered', 'resumptionRateAll']) {
    const v = summary[k];
    must(v === null || v === undefined || (v >= 0 && v <= 1), `summary.${k} = ${v}`);
  }
  must(summary.resumed <= summary.tlsConnections, `summary.resumed ${summary.resumed} > tlsConnections`);
  must(summary.rejected <= summary.offeredResumption, `summary.rejected ${summary.rejected} > offeredResumption ${summary.offeredResumption}`);
  JSON.stringify(conns);
}

function checkCapture(cap, i) {
  const p = cap.problem;
  if (p !== null) {
    must(typeof p.fatal === 'boolean' && typeof p.message === 'string' && p.message.length > 0, `capture ${i}: malformed problem`);
  }
  must(cap.info.warnings.length <= 64, `capture ${i}: ${cap.info.warnings.length} warnings (unbounded)`);
  must(cap.info.packets >= 0 && cap.info.truncatedPackets <= cap.info.packets, `capture ${i}: packet counts`);
}

export function checkMemoryRun(r) {
  checkConnections(r.connections, r.summary);
  r.captures.forEach(checkCapture);
  const s = r.stats;
  const counted = s.tcp + s.udp + s.otherIp + s.notIp + s.ipFragments + s.malformed + s.truncated + s.unsupportedLink;
  must(counted === r.frames, `packet stats count ${counted} frames, decoders delivered ${r.frames}`);
  const delivered = r.captures.reduce((n, c) => n + c.info.packets, 0);
  must(delivered === r.frames, `capture info counts ${delivered} packets, sink saw ${r.frames}`);
}

export function checkReport(report, nfiles) {
  must(report.captures.length === nfiles, `${report.captures.length} capture summaries for ${nfiles} files`);
  checkConnections(report.connections, report.summary);
  for (const c of report.captures) {
    must(c.error === null || (typeof c.error === 'string' && c.error.length > 0), 'capture error not a string');
    must(c.warnings.length <= 64, `capture: ${c.warnings.length} warnings`);
    finiteNumbers(c, 'capture');
  }
  finiteNumbers(report.packets, 'packets');
}

// ---------------------------------------------------------------------------------------------
// Guards for open hang bugs

/**
 * An exception is caught and counted; a hang is not (the decoders never yield). known-bugs.json
 * entries for open hangs name one of these in "guard": cases it matches are skipped and counted as
 * known, so the rest of a run still means something. Remove the entry when the bug is fixed.
 */
export const GUARDS = {
  /** PcapDecoder (src/capture/pcap.ts) loops forever on a zero-length record whose header arrives split over write() calls. */
  pcapZeroLengthRecordSplit: (c) =>
    c.mode === 'mem' && c.plan.kind !== 'whole' && c.files.some((f) => hasZeroLengthPcapRecord(f.bytes)),
};

function hasZeroLengthPcapRecord(b) {
  if (sniff(b) !== 'pcap') return false;
  const L = describe(b);
  return L.fields.some((f) => f.kind === 'pcap-caplen' && readField(b, f) === 0);
}

/** The id of the known bug whose guard matches case `c`, or null. `known`: parsed known-bugs.json. */
export function guardedBy(known, c) {
  for (const k of known) if (k.guard && GUARDS[k.guard]?.(c)) return k.id;
  return null;
}

/**
 * The known bug a failure belongs to, or null: its signature matches the entry's "match" and, for an
 * entry with a guard, the case is one the guard describes (so a new hang is never taken for a known one).
 */
export function knownBugFor(known, sig, c) {
  for (const k of known) {
    if (k.match && !new RegExp(k.match).test(sig)) continue;
    if (k.guard && !(c && GUARDS[k.guard]?.(c))) continue;
    return k.id;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Failure handling

/** Groups failures: the message without numbers, plus the first stack frame inside the project. */
export function signature(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  const msg = `${e.name}: ${e.message}`.replace(/\d+/g, 'N').slice(0, 160);
  const frame = (e.stack ?? '').split('\n').find((l) => /\/(src|dist)\//.test(l)) ?? '';
  const where = frame.replace(/^.*\/((src|dist)\/[^):]+)(:\d+)?.*$/, '$1$3').trim();
  return `${msg} @ ${where}`;
}

/**
 * Shrinks a failing input while `fails(bytes)` keeps returning true: drops pcap records / pcapng
 * blocks (ddmin-style halving), then cuts the tail. Bounded by `budgetMs`.
 */
export async function minimize(bytes, fails, budgetMs = 10_000) {
  const t0 = performance.now();
  let best = Buffer.from(bytes);
  const timeLeft = () => performance.now() - t0 < budgetMs;
  let L = describe(best);
  let n = 2;
  while (timeLeft() && L.units.length >= 2) {
    const units = L.units;
    const head = best.subarray(0, units[0].start);
    const size = Math.ceil(units.length / n);
    let reduced = false;
    await yieldToEventLoop();
    for (let i = 0; i < units.length && timeLeft(); i += size) {
      // Keep pcapng section/interface blocks: dropping them only changes what fails.
      const keep = units.filter((u, j) => (j < i || j >= i + size) || (L.format === 'pcapng' && !u.packet && !u.tail));
      if (keep.length === units.length) continue;
      const cand = Buffer.concat([head, ...keep.map((u) => best.subarray(u.start, u.end))]);
      if (await fails(cand)) {
        best = cand;
        L = describe(best);
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size <= 1) break;
      n = Math.min(units.length, n * 2);
    }
  }
  // Tail: binary search for the shortest prefix that still fails.
  let lo = 0;
  let hi = best.length;
  while (timeLeft() && hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await fails(best.subarray(0, mid))) hi = mid;
    else lo = mid;
  }
  if (hi < best.length) best = Buffer.from(best.subarray(0, hi));
  return best;
}

/** Projection of a report compared across runs: no timestamps, no wording. */
export function project(conns) {
  return conns.map((c) => ({
    id: c.id,
    client: `${c.client.ip}:${c.client.port}`,
    server: `${c.server.ip}:${c.server.port}`,
    tls: c.tls,
    version: c.version,
    kind: c.kind,
    offered: c.offered,
    rejected: c.rejected,
    helloRetry: c.helloRetry,
    earlyData: c.earlyData,
  }));
}
