import { existsSync, readdirSync, readFileSync, openSync, readSync, closeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it, expect } from 'vitest';
import { PcapngDecoder, DEFAULT_MAX_BLOCK_BYTES } from '../../src/capture/pcapng.js';
import type { CaptureInfo, CaptureProblem, Frame } from '../../src/capture/types.js';

// ---------------------------------------------------------------------------------------------
// Block builder: writes pcapng blocks field by field in either byte order.

type Field = ['u8' | 'u16' | 'u32', number] | ['u64', bigint] | Uint8Array;

const pad4 = (n: number): number => (n + 3) & ~3;

function fields(le: boolean, list: Field[]): Uint8Array {
  const size = list.reduce((s, f) => s + (f instanceof Uint8Array ? pad4(f.length) : { u8: 1, u16: 2, u32: 4, u64: 8 }[f[0]]), 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const f of list) {
    if (f instanceof Uint8Array) {
      out.set(f, p);
      p += pad4(f.length);
    } else if (f[0] === 'u8') dv.setUint8(p++, f[1]);
    else if (f[0] === 'u16') (dv.setUint16(p, f[1], le), (p += 2));
    else if (f[0] === 'u32') (dv.setUint32(p, f[1], le), (p += 4));
    else (dv.setBigUint64(p, BigInt.asUintN(64, BigInt(f[1])), le), (p += 8));
  }
  return out;
}

/** A block of `type` around `body` (padded to 4), with both length fields; `len` overrides them. */
function blk(le: boolean, type: number, body: Uint8Array, len?: { lead?: number; trail?: number }): Uint8Array {
  const total = 12 + pad4(body.length);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len?.lead ?? total, le);
  out.set(body, 8);
  dv.setUint32(total - 4, len?.trail ?? total, le);
  return out;
}

function opts(le: boolean, list: [number, Uint8Array][]): Uint8Array {
  const parts: Field[] = [];
  for (const [code, value] of list) parts.push(['u16', code], ['u16', value.length], value);
  parts.push(['u16', 0], ['u16', 0]);
  return fields(le, parts);
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);
const i64 = (le: boolean, v: bigint): Uint8Array => fields(le, [['u64', v]]);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let p = 0;
  for (const part of parts) (out.set(part, p), (p += part.length));
  return out;
};
/** Recognisable packet bytes: seed, seed+1, ... */
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed + i) & 0xff);

const shb = (le: boolean, o: [number, Uint8Array][] = [], major = 1): Uint8Array =>
  blk(le, 0x0a0d0d0a, cat(fields(le, [['u32', 0x1a2b3c4d], ['u16', major], ['u16', 0], ['u64', -1n]]), o.length ? opts(le, o) : new Uint8Array(0)));
const idb = (le: boolean, linkType: number, snaplen: number, o: [number, Uint8Array][] = []): Uint8Array =>
  blk(le, 1, cat(fields(le, [['u16', linkType], ['u16', 0], ['u32', snaplen]]), o.length ? opts(le, o) : new Uint8Array(0)));
const epb = (le: boolean, iface: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array =>
  blk(le, 6, fields(le, [['u32', iface], ['u32', Number(ts >> 32n)], ['u32', Number(ts & 0xffffffffn)], ['u32', data.length], ['u32', origLen], data]));
const opb = (le: boolean, iface: number, drops: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array =>
  blk(le, 2, fields(le, [['u16', iface], ['u16', drops], ['u32', Number(ts >> 32n)], ['u32', Number(ts & 0xffffffffn)], ['u32', data.length], ['u32', origLen], data]));
const spb = (le: boolean, origLen: number, data: Uint8Array): Uint8Array => blk(le, 3, fields(le, [['u32', origLen], data]));
const isb = (le: boolean, iface: number, o: [number, Uint8Array][]): Uint8Array =>
  blk(le, 5, cat(fields(le, [['u32', iface], ['u32', 0], ['u32', 0]]), opts(le, o)));
const dsb = (le: boolean, type: number, data: Uint8Array): Uint8Array =>
  blk(le, 0x0a, fields(le, [['u32', type], ['u32', data.length], data]));
// One IPv4 record (1.2.3.4 -> "host.example"), then nrb_record_end.
const nrb = (le: boolean): Uint8Array =>
  blk(le, 4, fields(le, [['u16', 1], ['u16', 17], cat(u8(1, 2, 3, 4), utf8('host.example\0')), ['u16', 0], ['u16', 0]]));

const tsresol = (v: number): [number, Uint8Array] => [9, u8(v)];
const ifName = (s: string): [number, Uint8Array] => [2, utf8(s)];
const tsoffset = (le: boolean, s: bigint): [number, Uint8Array] => [14, i64(le, s)];

// ---------------------------------------------------------------------------------------------
// The reference file: two sections of different byte orders, every block type.

const LE = true;
const BE = false;
const TLS_KEYLOG = 0x544c534b;
const keylog = utf8('CLIENT_RANDOM 00112233 aabbccdd\n');
const spbData = bytes(120, 7);

const sectionA = [
  shb(LE, [[4, utf8('tlsflight test')]]),
  idb(LE, 1, 96, [ifName('eth0')]), // default resolution: microseconds
  idb(LE, 113, 0, [ifName('any'), tsresol(9)]),
  epb(LE, 0, 1_700_000_001_654_321n, bytes(60, 1)),
  nrb(LE),
  epb(LE, 1, 1_700_000_002_123_456_789n, bytes(7, 2)), // ns: beyond 2^53
  spb(LE, 120, spbData), // cut to if0's snaplen 96, time of the previous packet
  blk(LE, 0x00000bad, fields(LE, [['u32', 32473], bytes(10, 0)])), // custom block
  blk(LE, 0x12345678, bytes(16, 0)), // unknown type
  epb(LE, 7, 1n, bytes(10, 3)), // interface 7 does not exist: skipped
  dsb(LE, TLS_KEYLOG, keylog),
  epb(LE, 1, 0xffff_ffff_ffff_ffffn, bytes(5, 4)), // largest 64-bit timestamp
  opb(LE, 0, 3, 1_700_000_003_000_001n, bytes(20, 5), 1500),
  isb(LE, 0, [[5, i64(LE, 5n)], [7, i64(LE, 2n)]]),
  isb(LE, 1, [[5, i64(LE, 3n)]]),
];
const sectionB = [
  shb(BE),
  idb(BE, 101, 65535, [ifName('raw0'), tsresol(0x80 | 20), tsoffset(BE, 1000n)]),
  idb(BE, 0, 65535, [tsresol(3), tsoffset(BE, -10n)]),
  idb(BE, 228, 65535, [tsresol(0x80 | 32)]),
  idb(BE, 1, 65535, [tsresol(12)]),
  epb(BE, 0, (1_600_000_000n << 20n) | 1n, bytes(40, 6)),
  epb(BE, 0, (5n << 20n) | ((1n << 20n) - 1n), bytes(41, 7)),
  epb(BE, 1, 1_600_000_000_123n, bytes(42, 8)),
  epb(BE, 2, (7n << 32n) | 0xffff_ffffn, bytes(43, 9)), // rounds up to a whole second
  epb(BE, 2, (9n << 32n) | (1n << 31n), bytes(44, 10)),
  epb(BE, 3, 12_345_678_901_234_567_891n, bytes(45, 11)), // picoseconds: truncated to ns
  epb(BE, 4, 0n, bytes(4, 12)), // undefined interface again: no second warning
];
const FILE = cat(...sectionA, ...sectionB);

interface Got {
  index: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  data: number[];
  origLen: number;
  iface: number;
}

const f = (index: number, tsSec: number, tsNsec: number, linkType: number, data: Uint8Array, origLen: number, iface: number): Got => ({
  index,
  tsSec,
  tsNsec,
  linkType,
  data: [...data],
  origLen,
  iface,
});

const EXPECTED: Got[] = [
  f(1, 1_700_000_001, 654_321_000, 1, bytes(60, 1), 60, 0),
  f(2, 1_700_000_002, 123_456_789, 113, bytes(7, 2), 7, 1),
  f(3, 1_700_000_002, 123_456_789, 1, spbData.subarray(0, 96), 120, 0),
  f(4, 18_446_744_073, 709_551_615, 113, bytes(5, 4), 5, 1),
  f(5, 1_700_000_003, 1_000, 1, bytes(20, 5), 1500, 0),
  f(6, 1_600_001_000, 954, 101, bytes(40, 6), 40, 2), // 1e9 / 2^20 = 953.67 ns
  f(7, 1_005, 999_999_046, 101, bytes(41, 7), 41, 2), // (2^20-1)/2^20 s = 0.99999904632 s
  f(8, 1_599_999_990, 123_000_000, 0, bytes(42, 8), 42, 3),
  f(9, 8, 0, 228, bytes(43, 9), 43, 4),
  f(10, 9, 500_000_000, 228, bytes(44, 10), 44, 4),
  f(11, 12_345_678, 901_234_567, 1, bytes(45, 11), 45, 5),
];

// ---------------------------------------------------------------------------------------------

interface Run {
  frames: Got[];
  info: CaptureInfo;
  problem: CaptureProblem | null;
  writes: boolean[];
  decoder: PcapngDecoder;
}

function capture(fr: Frame): Got {
  return { index: fr.index, tsSec: fr.tsSec, tsNsec: fr.tsNsec, linkType: fr.linkType, data: [...fr.data], origLen: fr.origLen, iface: fr.iface };
}

function decode(chunks: Uint8Array[], opts?: { maxBlockBytes?: number }): Run {
  const frames: Got[] = [];
  const decoder = new PcapngDecoder((fr) => frames.push(capture(fr)), opts);
  const writes = chunks.map((c) => decoder.write(c));
  decoder.end();
  return { frames, info: decoder.info, problem: decoder.problem, writes, decoder };
}

/** Deterministic PRNG so a failing chunking can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function split(buf: Uint8Array, sizes: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < buf.length; ) {
    const n = Math.max(1, Math.min(buf.length - p, sizes()));
    out.push(buf.subarray(p, p + n));
    p += n;
  }
  return out;
}

const oneByte = (buf: Uint8Array): Uint8Array[] => split(buf, () => 1);
const randomChunks = (buf: Uint8Array, seed: number, max = 300): Uint8Array[] => {
  const r = rng(seed);
  return split(buf, () => 1 + Math.floor(r() * max));
};

describe('PcapngDecoder on a synthetic two-section file', () => {
  it('decodes every packet block type with exact timestamps', () => {
    const run = decode([FILE]);
    expect(run.problem).toBeNull();
    expect(run.frames).toEqual(EXPECTED);
    expect(run.writes).toEqual([true]);
  });

  it('fills the capture info', () => {
    const { info, decoder } = decode([FILE]);
    expect(info.format).toBe('pcapng');
    expect(info.byteOrder).toBe('little');
    expect(info.interfaces).toMatchObject([
      { linkType: 1, snaplen: 96, name: 'eth0', dropped: 7 },
      { linkType: 113, snaplen: 0, name: 'any', dropped: 3 },
      { linkType: 101, snaplen: 65535, name: 'raw0' },
      { linkType: 0, snaplen: 65535 },
      { linkType: 228, snaplen: 65535 },
      { linkType: 1, snaplen: 65535 },
    ]);
    expect(info.packets).toBe(EXPECTED.length);
    expect(info.truncatedPackets).toBe(2);
    expect(info.bytes).toBe(EXPECTED.reduce((s, e) => s + e.data.length, 0));
    expect(info.firstTs).toEqual({ sec: 1_700_000_001, nsec: 654_321_000 });
    expect(info.lastTs).toEqual({ sec: 12_345_678, nsec: 901_234_567 });
    expect(info.secretsBlocks).toBe(1);
    expect(decoder.secrets).toEqual([{ type: TLS_KEYLOG, data: keylog }]);
    expect(info.warnings).toHaveLength(1);
    expect(info.warnings[0]).toMatch(/interface 7/);
  });

  it('gives identical results for every chunking', () => {
    const whole = decode([FILE]);
    const chunkings: [string, Uint8Array[]][] = [['1-byte', oneByte(FILE)]];
    for (let seed = 1; seed <= 30; seed++) chunkings.push([`random seed ${seed}`, randomChunks(FILE, seed, seed < 15 ? 40 : 400)]);
    for (const [name, chunks] of chunkings) {
      const run = decode(chunks);
      expect(run.frames, name).toEqual(whole.frames);
      expect(run.info, name).toEqual(whole.info);
      expect(run.decoder.secrets, name).toEqual(whole.decoder.secrets);
      expect(run.problem, name).toBeNull();
    }
  });

  it('gives identical results for every two-chunk split', () => {
    // Compared as JSON: a deep toEqual per split point would dominate the test's run time.
    const whole = JSON.stringify(decode([FILE]).frames);
    for (let cut = 1; cut < FILE.length; cut++) {
      const run = decode([FILE.subarray(0, cut), FILE.subarray(cut)]);
      expect(run.problem, `cut at ${cut}`).toBeNull();
      if (JSON.stringify(run.frames) !== whole) expect(run.frames, `cut at ${cut}`).toEqual(JSON.parse(whole));
    }
  });

  it('hands out views of the chunk for whole blocks and one reused Frame', () => {
    const seen: Frame[] = [];
    const buffers: ArrayBufferLike[] = [];
    const d = new PcapngDecoder((fr) => (seen.push(fr), buffers.push(fr.data.buffer)));
    d.write(FILE);
    expect(new Set(seen).size).toBe(1);
    expect(buffers.every((b) => b === FILE.buffer)).toBe(true);
  });

  it('reads a big-endian first section and reports its byte order', () => {
    const run = decode([cat(...sectionB)]);
    expect(run.info.byteOrder).toBe('big');
    expect(run.frames.map((g) => g.iface)).toEqual([0, 0, 1, 2, 2, 3]);
    expect(run.frames[0]).toEqual({ ...EXPECTED[5], index: 1, iface: 0 });
  });

  it('takes SPB timestamp 0 before any packet and the block room as a bound', () => {
    // snaplen 0 = unlimited; original length claims more than the block holds.
    const run = decode([cat(shb(LE), idb(LE, 1, 0), spb(LE, 5000, bytes(10, 1)))]);
    expect(run.frames).toEqual([f(1, 0, 0, 1, bytes(12, 1).map((v, i) => (i < 10 ? v : 0)), 5000, 0)]);
  });

  it('warns about malformed options but keeps the interface', () => {
    const bad = blk(LE, 1, fields(LE, [['u16', 1], ['u16', 0], ['u32', 0], ['u16', 2], ['u16', 200], bytes(8, 0)]));
    const run = decode([cat(shb(LE), bad, epb(LE, 0, 1_000_000n, bytes(3, 0)))]);
    expect(run.problem).toBeNull();
    expect(run.info.interfaces).toMatchObject([{ linkType: 1, snaplen: 0 }]);
    expect(run.frames).toEqual([f(1, 1, 0, 1, bytes(3, 0), 3, 0)]);
    expect(run.info.warnings).toHaveLength(1);
    expect(run.info.warnings[0]).toMatch(/malformed options/);
  });

  it('warns about SPBs in a section without interfaces, once', () => {
    const run = decode([cat(shb(LE), spb(LE, 4, bytes(4, 0)), spb(LE, 4, bytes(4, 0)))]);
    expect(run.frames).toEqual([]);
    expect(run.info.warnings).toHaveLength(1);
    expect(run.problem).toBeNull();
  });

  it('resets interfaces at a new section', () => {
    const run = decode([cat(shb(LE), idb(LE, 1, 0), shb(LE), epb(LE, 0, 0n, bytes(4, 0)), idb(LE, 113, 0), epb(LE, 0, 0n, bytes(4, 0)))]);
    expect(run.frames.map((g) => [g.index, g.iface, g.linkType])).toEqual([[1, 1, 113]]);
    expect(run.info.warnings).toHaveLength(1);
  });
});

describe('PcapngDecoder on malformed input', () => {
  const head = cat(shb(LE), idb(LE, 1, 0), epb(LE, 0, 2_000_000n, bytes(30, 0)));
  const headFrames = decode([head]).frames;
  const badAt = head.length;
  const hdr = (type: number, len: number): Uint8Array => fields(LE, [['u32', type], ['u32', len], ['u32', 0]]);

  const stopsAt = (run: Run, message: RegExp): void => {
    expect(run.frames).toEqual(headFrames);
    expect(run.problem).toMatchObject({ fatal: false, offset: badAt });
    expect(run.problem!.message).toMatch(message);
  };

  it('stops at a block length that is not a multiple of 4', () => {
    const run = decode([head, hdr(6, 30), bytes(100, 0), epb(LE, 0, 0n, bytes(4, 0))]);
    stopsAt(run, /multiple of 4/);
    expect(run.writes).toEqual([true, false, false, false]);
  });

  it('stops at a block length under 12', () => {
    stopsAt(decode([cat(head, hdr(6, 8), bytes(100, 0))]), /less than 12/);
  });

  it('stops at a huge block length without buffering what follows', () => {
    const d = new PcapngDecoder(() => undefined);
    expect(d.write(head)).toBe(true);
    expect(d.write(hdr(6, 0xfffffff0))).toBe(false);
    const big = new Uint8Array(4 << 20);
    for (let i = 0; i < 4; i++) expect(d.write(big)).toBe(false);
    expect(d.problem).toMatchObject({ fatal: false, offset: badAt });
    expect(d.problem!.message).toMatch(/exceeds/);
    d.end();
    expect(d.info.warnings).toEqual([]);
  });

  it('judges a length split across chunks as soon as its 12 header bytes are in', () => {
    const d = new PcapngDecoder(() => undefined);
    d.write(head);
    const h = hdr(6, 0x7ffffff0);
    for (let i = 0; i < 11; i++) expect(d.write(h.subarray(i, i + 1))).toBe(true);
    expect(d.write(h.subarray(11))).toBe(false);
  });

  it('honours maxBlockBytes', () => {
    const block = epb(LE, 0, 0n, bytes(1000, 0)); // 1032 bytes
    expect(decode([cat(head, block)], { maxBlockBytes: 1032 }).problem).toBeNull();
    stopsAt(decode([cat(head, block)], { maxBlockBytes: 1028 }), /exceeds the 1028-byte limit/);
    expect(DEFAULT_MAX_BLOCK_BYTES).toBeGreaterThan(16 << 20);
    expect(() => new PcapngDecoder(() => undefined, { maxBlockBytes: 3 })).toThrow(RangeError);
  });

  it('stops at a trailing length that does not match', () => {
    const bad = blk(LE, 6, fields(LE, [['u32', 0], ['u32', 0], ['u32', 0], ['u32', 4], ['u32', 4], bytes(4, 0)]), { trail: 40 });
    for (const chunks of [[head, bad], oneByte(cat(head, bad))]) stopsAt(decode(chunks), /trailing block length 40 does not match the leading 36/);
  });

  it('stops at a captured length that overflows its block', () => {
    const bad = blk(LE, 6, fields(LE, [['u32', 0], ['u32', 0], ['u32', 0], ['u32', 400], ['u32', 400], bytes(4, 0)]));
    stopsAt(decode([head, bad]), /does not fit/);
  });

  it('keeps the packets of a truncated file and warns', () => {
    const boundaries = new Set<number>();
    [...sectionA, ...sectionB].reduce((end, b) => (boundaries.add(end + b.length), end + b.length), 0);
    const all = EXPECTED.map((e) => JSON.stringify(e));
    for (let cut = sectionA[0].length + 1; cut < FILE.length; cut++) {
      const run = decode([FILE.subarray(0, cut)]);
      expect(run.problem, `cut at ${cut}`).toBeNull();
      expect(run.frames.map((g) => JSON.stringify(g)), `cut at ${cut}`).toEqual(all.slice(0, run.frames.length));
      const warned = run.info.warnings.some((w) => w.startsWith('capture ends in the middle of a block'));
      expect(warned, `cut at ${cut}`).toBe(!boundaries.has(cut));
    }
    // The last block is the packet for an undefined interface, so every packet survives the cut.
    const run = decode(oneByte(FILE.subarray(0, FILE.length - 5)));
    expect(run.frames).toEqual(EXPECTED);
    const last = sectionB[sectionB.length - 1].length;
    expect(run.info.warnings).toContain(`capture ends in the middle of a block (${last - 5} bytes): file truncated`);
  });

  it('reports an empty file', () => {
    expect(decode([]).problem).toEqual({ fatal: true, message: 'empty file', offset: 0 });
    expect(decode([new Uint8Array(0)]).problem).toMatchObject({ fatal: true, message: 'empty file' });
  });

  it('rejects a classic pcap file as not pcapng', () => {
    const pcap = cat(
      fields(LE, [['u32', 0xa1b2c3d4], ['u16', 2], ['u16', 4], ['u32', 0], ['u32', 0], ['u32', 65535], ['u32', 1]]),
      fields(LE, [['u32', 1], ['u32', 0], ['u32', 4], ['u32', 4], bytes(4, 0)]),
    );
    const run = decode([pcap]);
    expect(run.writes).toEqual([false]);
    expect(run.problem).toMatchObject({ fatal: true, offset: 0 });
    expect(run.problem!.message).toMatch(/not a pcapng file/);
    expect(run.info.format).toBeNull();
    expect(decode(oneByte(pcap)).problem).toEqual(run.problem);
  });

  it('rejects input too short to judge', () => {
    expect(decode([utf8('abc')]).problem).toMatchObject({ fatal: true, message: 'not a pcapng file' });
    expect(decode([shb(LE).subarray(0, 6)]).problem).toMatchObject({ fatal: true, message: 'truncated pcapng file (6 bytes)' });
  });

  it('rejects a section header without byte-order magic', () => {
    const bad = shb(LE);
    bad[8] = 0;
    expect(decode([bad]).problem).toMatchObject({ fatal: true, offset: 0 });
    stopsAt(decode([head, bad]), /byte-order magic/);
  });

  it('rejects an unknown major version', () => {
    expect(decode([shb(LE, [], 2)]).problem).toMatchObject({ fatal: true, message: 'unsupported pcapng version 2.0' });
  });

  it('never throws on random corruption', () => {
    const r = rng(99);
    for (let i = 0; i < 300; i++) {
      const bad = FILE.slice();
      for (let k = 0; k < 3; k++) bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
      const run = decode(randomChunks(bad, i));
      expect(run.info.packets).toBe(run.frames.length);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const CORPUS = '/work/shared/corpus';

/** Packet counts from `capinfos -c` for the pcapng files known to be there. */
const CAPINFOS_PACKETS: Record<string, number> = {
  'clipper/tls13-session-resumption.pcapng': 47,
  'ndpi/tls_1.2_unidirectional_client_no_cert.pcapng': 10,
  'ndpi/quic-forcing-vn-with-data.pcapng': 21,
  'ndpi/tls_invalid_reads.pcap': 12,
  'ndpi/dtls_old_version.pcapng': 7,
  'ndpi/quic_0RTT.pcap': 17,
  'ndpi/quic-v2.pcapng': 19,
  'ndpi/tls_1.2_unidirectional_server_no_cert.pcapng': 10,
  'ndpi/tls_2_reasms.pcapng': 14,
  'ndpi/steam.pcapng': 48,
  'ndpi/tls_1.3_unidirectional_server.pcapng': 9,
  'ndpi/pgsql2.pcapng': 19,
  'ndpi/tunnelbear.pcap': 433,
  'ndpi/tls_missing_ch_frag.pcap': 14,
  'ndpi/tls_1.3_unidirectional_client.pcapng': 9,
  'zeek/merlinc2_Zeek_example.pcapng': 100,
};

function pcapngFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...pcapngFiles(p));
    else if (e.isFile()) {
      const magic = Buffer.alloc(4);
      const fd = openSync(p, 'r');
      try {
        readSync(fd, magic, 0, 4, 0);
      } finally {
        closeSync(fd);
      }
      if (magic.readUInt32BE(0) === 0x0a0d0d0a) out.push(p);
    }
  }
  return out;
}

describe('PcapngDecoder on the shared corpus', () => {
  it.skipIf(!existsSync(CORPUS))('decodes every pcapng file, in any chunking', () => {
    const files = pcapngFiles(CORPUS);
    expect(files.length).toBeGreaterThan(0);
    for (const path of files) {
      const name = relative(CORPUS, path);
      const buf = new Uint8Array(readFileSync(path));
      const whole = decode([buf]);
      expect(whole.problem, name).toBeNull();
      expect(whole.info.packets, name).toBeGreaterThan(0);
      expect(whole.frames.length, name).toBe(whole.info.packets);
      if (name in CAPINFOS_PACKETS) expect(whole.info.packets, name).toBe(CAPINFOS_PACKETS[name]);
      for (const chunks of [randomChunks(buf, 7, 3000), randomChunks(buf, 8, 100)]) {
        const run = decode(chunks);
        expect(run.frames, name).toEqual(whole.frames);
        expect(run.info, name).toEqual(whole.info);
      }
    }
  });
});
