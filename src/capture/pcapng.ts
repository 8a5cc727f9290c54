import type { CaptureDecoder, CaptureInfo, CaptureProblem, Frame, FrameSink, InterfaceInfo } from './types.js';
import { emptyCaptureInfo } from './types.js';

/*
 * Streaming pcapng reader (draft-ietf-opsawg-pcapng). Blocks are decoded straight out of the
 * caller's chunk when they fit in it; only a block that spans chunks is assembled in a buffer,
 * and that buffer is sized from the block's own (validated) length, so a corrupt length can never
 * make the reader hold more than one capped block.
 */

/** Large enough for a 16 MiB packet (the biggest snaplen Wireshark writes) plus block overhead. */
export const DEFAULT_MAX_BLOCK_BYTES = 16 * 1024 * 1024 + 64 * 1024;
/** Decryption secrets kept in memory; a key log bigger than this is not a real capture's. */
const MAX_SECRETS_BYTES = 16 * 1024 * 1024;
const MAX_WARNINGS = 20;

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_OPB = 0x00000002;
const BT_SPB = 0x00000003;
const BT_NRB = 0x00000004;
const BT_ISB = 0x00000005;
const BT_EPB = 0x00000006;
const BT_DSB = 0x0000000a;

/** Smallest possible block: type, length and the trailing copy of the length. */
const MIN_BLOCK = 12;
/** Header (12) + magic, version, section length. */
const MIN_SHB = 28;

const OPT_ENDOFOPT = 0;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const OPT_ISB_IFDROP = 5;
const OPT_ISB_OSDROP = 7;

const TWO_32 = 4294967296;
/** Divisors for which divmod64 is exact (covers 10^-9 and 2^-31; finer units go through BigInt). */
const FAST_DIVISOR_LIMIT = 2 ** 32;

interface Iface {
  info: InterfaceInfo;
  /** Index in info.interfaces, which is what frames carry. */
  global: number;
  snaplen: number;
  /** Timestamp units per second, when small enough for exact number arithmetic; else 0. */
  units: number;
  unitsBig: bigint;
  /** if_tsresol as given: power of ten (false) or of two (true), and the exponent. */
  pow2: boolean;
  exp: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offsetSec: number;
}

export interface PcapngOptions {
  /** Largest block accepted; a longer one is taken as corruption and stops the read. */
  maxBlockBytes?: number;
}

/**
 * Push decoder for pcapng. Frames carry a file-wide interface index (the position in
 * info.interfaces, which accumulates over all sections), not the section-local id the blocks use.
 * Packets of an undefined interface are skipped with a warning; structural damage (bad lengths,
 * a packet overflowing its block) stops the read with a non-fatal problem, keeping what came
 * before. An exception thrown by the sink propagates out of write() and leaves the decoder unusable.
 */
export class PcapngDecoder implements CaptureDecoder {
  readonly info: CaptureInfo = emptyCaptureInfo();
  /** Decryption Secrets Block payloads (type e.g. 0x544c534b 'TLSK' for a TLS key log), copied. */
  readonly secrets: { type: number; data: Uint8Array }[] = [];

  private readonly sink: FrameSink;
  private readonly maxBlock: number;
  private readonly frame: Frame = { index: 0, tsSec: 0, tsNsec: 0, linkType: 0, data: new Uint8Array(0), origLen: 0, iface: 0 };
  private prob: CaptureProblem | null = null;
  private stopped = false;
  private ended = false;
  private inputBytes = 0;
  /** File offset of the next block to start (of the pending one while one is being assembled). */
  private offset = 0;
  private le = true;
  private sawSection = false;
  /** Interfaces of the current section, by the section-local id that packets refer to. */
  private section: Iface[] = [];
  private secretsBytes = 0;
  private readonly warned = new Set<string>();

  /** The first 12 bytes of a block split across chunks: enough to learn its length. */
  private readonly head = new Uint8Array(MIN_BLOCK);
  private headFill = 0;
  private asm: Uint8Array | null = null;
  private asmNeed = 0;
  private asmFill = 0;

  // Results of the last timestamp conversion; fields rather than a returned object so the
  // per-packet path allocates nothing.
  private tsSec = 0;
  private tsNsec = 0;

  constructor(sink: FrameSink, opts: PcapngOptions = {}) {
    const max = opts.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
    if (!Number.isInteger(max) || max < MIN_SHB) {
      throw new RangeError(`maxBlockBytes must be an integer >= ${MIN_SHB}, got ${max}`);
    }
    this.sink = sink;
    this.maxBlock = max;
  }

  get problem(): CaptureProblem | null {
    return this.prob;
  }

  write(chunk: Uint8Array): boolean {
    if (this.ended) throw new Error('PcapngDecoder.write() called after end()');
    if (this.stopped) return false;
    this.inputBytes += chunk.length;
    const n = chunk.length;
    let pos = 0;

    if (this.headFill > 0) {
      const take = Math.min(MIN_BLOCK - this.headFill, n);
      this.head.set(chunk.subarray(0, take), this.headFill);
      this.headFill += take;
      pos = take;
      if (this.headFill < MIN_BLOCK) return true;
      this.headFill = 0;
      const len = this.blockLength(this.head, 0);
      if (len < 0) return false;
      this.startAssembly(this.head, len);
    }

    if (this.asmNeed > 0) {
      const asm = this.asm!;
      const take = Math.min(this.asmNeed - this.asmFill, n - pos);
      asm.set(chunk.subarray(pos, pos + take), this.asmFill);
      this.asmFill += take;
      pos += take;
      if (this.asmFill < this.asmNeed) return true;
      const len = this.asmNeed;
      this.asmNeed = 0;
      this.asmFill = 0;
      if (!this.block(asm.subarray(0, len))) return false;
    }

    while (pos < n) {
      const rest = n - pos;
      if (rest < MIN_BLOCK) {
        this.head.set(chunk.subarray(pos), 0);
        this.headFill = rest;
        break;
      }
      const len = this.blockLength(chunk, pos);
      if (len < 0) return false;
      if (len > rest) {
        this.startAssembly(chunk.subarray(pos), len);
        break;
      }
      if (!this.block(chunk.subarray(pos, pos + len))) return false;
      pos += len;
    }
    return true;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.stopped) return;
    if (this.inputBytes === 0) {
      this.stop(true, 'empty file', 0);
      return;
    }
    const pending = this.headFill + this.asmFill;
    if (!this.sawSection) {
      // Fewer than 12 bytes, too few for blockLength() to have judged them.
      const h = this.head;
      const shbPrefix = [0x0a, 0x0d, 0x0d, 0x0a].every((v, i) => i >= pending || h[i] === v);
      this.stop(true, shbPrefix ? `truncated pcapng file (${pending} bytes)` : 'not a pcapng file', 0);
      return;
    }
    if (pending > 0) {
      this.warn('truncated', `capture ends in the middle of a block (${pending} bytes): file truncated`);
    }
    this.asm = null;
  }

  /**
   * Validates a block header (12 bytes at `at`) and returns the block's total length, or -1 after
   * recording the problem. Section headers switch the byte order here, because their own length
   * field is written in the order they announce.
   */
  private blockLength(b: Uint8Array, at: number): number {
    // 0x0A0D0D0A reads the same in both byte orders, so the type needs no byte order yet.
    const isShb = b[at] === 0x0a && b[at + 1] === 0x0d && b[at + 2] === 0x0d && b[at + 3] === 0x0a;
    if (isShb) {
      const m0 = b[at + 8], m1 = b[at + 9], m2 = b[at + 10], m3 = b[at + 11];
      if (m0 === 0x4d && m1 === 0x3c && m2 === 0x2b && m3 === 0x1a) this.le = true;
      else if (m0 === 0x1a && m1 === 0x2b && m2 === 0x3c && m3 === 0x4d) this.le = false;
      else {
        if (!this.sawSection) return this.badHeader(true, 'not a pcapng file (section header has no byte-order magic)');
        return this.badHeader(false, 'section header block with an invalid byte-order magic');
      }
      if (!this.sawSection) {
        this.sawSection = true;
        this.info.format = 'pcapng';
        this.info.byteOrder = this.le ? 'little' : 'big';
      }
    } else if (!this.sawSection) {
      return this.badHeader(true, 'not a pcapng file (does not start with a section header block)');
    }
    const len = this.u32(b, at + 4);
    if (len < MIN_BLOCK) return this.badHeader(false, `block length ${len} is less than ${MIN_BLOCK}`);
    if (len % 4 !== 0) return this.badHeader(false, `block length ${len} is not a multiple of 4`);
    if (len > this.maxBlock) return this.badHeader(false, `block length ${len} exceeds the ${this.maxBlock}-byte limit`);
    if (isShb && len < MIN_SHB) return this.badHeader(false, `section header block length ${len} is less than ${MIN_SHB}`);
    return len;
  }

  private startAssembly(first: Uint8Array, len: number): void {
    // Reuse the buffer across blocks, but let go of one a rare huge block left behind.
    let asm = this.asm;
    if (!asm || asm.length < len || (asm.length > 1 << 20 && len < asm.length >>> 2)) {
      asm = new Uint8Array(Math.min(Math.max(len, 1 << 13), this.maxBlock));
      this.asm = asm;
    }
    asm.set(first, 0);
    this.asmFill = first.length;
    this.asmNeed = len;
  }

  /** Decodes one complete block; false when it stopped the read. */
  private block(b: Uint8Array): boolean {
    const len = b.length;
    const trailer = this.u32(b, len - 4);
    if (trailer !== len) return this.fail(false, `trailing block length ${trailer} does not match the leading ${len}`);
    const type = this.u32(b, 0);
    let ok = true;
    switch (type) {
      case BT_EPB:
        ok = this.packetBlock(b, this.u32(b, 8), 12, 28);
        break;
      case BT_OPB:
        // Obsolete Packet Block: 16-bit interface id and 16-bit drop count, then EPB's layout.
        ok = this.packetBlock(b, this.u16(b, 8), 12, 28);
        break;
      case BT_SPB:
        ok = this.simplePacket(b);
        break;
      case BT_IDB:
        ok = this.interfaceDescription(b);
        break;
      case BT_SHB:
        ok = this.sectionHeader(b);
        break;
      case BT_ISB:
        this.interfaceStatistics(b);
        break;
      case BT_DSB:
        this.decryptionSecrets(b);
        break;
      // Name resolution, custom (0x00000BAD/0x40000BAD), systemd journal and unknown blocks carry
      // nothing a TLS analysis needs; their framing was checked, so skipping them is safe.
      default:
        break;
    }
    if (ok) this.offset += len;
    return ok;
  }

  private sectionHeader(b: Uint8Array): boolean {
    const major = this.u16(b, 12);
    const minor = this.u16(b, 14);
    if (major !== 1) {
      // Only major version 1 exists; a reader must not guess at another one's layout.
      const first = this.info.packets === 0 && this.info.interfaces.length === 0;
      return this.fail(first, `unsupported pcapng version ${major}.${minor}`);
    }
    this.section = [];
    return true;
  }

  private interfaceDescription(b: Uint8Array): boolean {
    if (b.length < 20) return this.fail(false, `interface description block too short (${b.length} bytes)`);
    const linkType = this.u16(b, 8);
    const snaplen = this.u32(b, 12);
    const info: InterfaceInfo = { linkType, snaplen };
    const iface: Iface = {
      info,
      global: this.info.interfaces.length,
      snaplen,
      units: 1e6,
      unitsBig: 1000000n,
      pow2: false,
      exp: 6,
      offsetSec: 0,
    };
    this.options(b, 16, (code, at, olen) => {
      if (code === OPT_IF_NAME) {
        info.name = textDecoder.decode(b.subarray(at, at + olen));
      } else if (code === OPT_IF_TSRESOL && olen >= 1) {
        const v = b[at];
        iface.pow2 = (v & 0x80) !== 0;
        iface.exp = v & 0x7f;
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        iface.offsetSec = this.i64(b, at);
      }
    });
    const units = iface.pow2 ? 2n ** BigInt(iface.exp) : 10n ** BigInt(iface.exp);
    iface.unitsBig = units;
    iface.units = units < BigInt(FAST_DIVISOR_LIMIT) ? Number(units) : 0;
    info.subMicrosecond = units > 1000000n;
    this.info.interfaces.push(info);
    this.section.push(iface);
    return true;
  }

  /** EPB and OPB: timestamp at `tsAt`, then captured length, original length and the data. */
  private packetBlock(b: Uint8Array, id: number, tsAt: number, dataAt: number): boolean {
    if (b.length < dataAt + 4) return this.fail(false, `packet block too short (${b.length} bytes)`);
    const capLen = this.u32(b, tsAt + 8);
    const origLen = this.u32(b, tsAt + 12);
    if (capLen > b.length - dataAt - 4) {
      return this.fail(false, `packet captured length ${capLen} does not fit in its ${b.length}-byte block`);
    }
    const iface = this.section[id];
    if (iface === undefined) {
      this.warn('iface', `packet refers to interface ${id}, which its section does not define: such packets are skipped`);
      return true;
    }
    this.timestamp(iface, this.u32(b, tsAt), this.u32(b, tsAt + 4));
    this.deliver(iface, b.subarray(dataAt, dataAt + capLen), origLen);
    return true;
  }

  private simplePacket(b: Uint8Array): boolean {
    if (b.length < 16) return this.fail(false, `simple packet block too short (${b.length} bytes)`);
    const iface = this.section[0];
    if (iface === undefined) {
      this.warn('iface', 'simple packet block in a section without interfaces: such packets are skipped');
      return true;
    }
    const origLen = this.u32(b, 8);
    // The SPB has no captured-length field: the snaplen (0 = unlimited) and the block size bound it.
    let capLen = Math.min(origLen, b.length - 16);
    if (iface.snaplen !== 0) capLen = Math.min(capLen, iface.snaplen);
    // No timestamp of its own: repeat the previous packet's so time never runs backwards.
    const last = this.info.lastTs;
    this.tsSec = last ? last.sec : 0;
    this.tsNsec = last ? last.nsec : 0;
    this.deliver(iface, b.subarray(12, 12 + capLen), origLen);
    return true;
  }

  private interfaceStatistics(b: Uint8Array): void {
    if (b.length < 24) {
      this.warn('isb', `interface statistics block too short (${b.length} bytes): ignored`);
      return;
    }
    const id = this.u32(b, 8);
    const iface = this.section[id];
    if (iface === undefined) {
      this.warn('isb-iface', `interface statistics for interface ${id}, which its section does not define: ignored`);
      return;
    }
    const drops = { ifdrop: -1, osdrop: -1 };
    this.options(b, 20, (code, at, olen) => {
      if (olen < 8) return;
      if (code === OPT_ISB_IFDROP) drops.ifdrop = this.u64(b, at);
      else if (code === OPT_ISB_OSDROP) drops.osdrop = this.u64(b, at);
    });
    // isb_ifdrop counts what the interface/driver lost, isb_osdrop what the OS (capture buffer)
    // lost: both are packets missing from the file, so `dropped` is their sum. Counters are
    // cumulative, so a later ISB for the same interface replaces an earlier one.
    if (drops.ifdrop >= 0 || drops.osdrop >= 0) {
      iface.info.dropped = Math.max(drops.ifdrop, 0) + Math.max(drops.osdrop, 0);
    }
  }

  private decryptionSecrets(b: Uint8Array): void {
    this.info.secretsBlocks++;
    if (b.length < 20) {
      this.warn('dsb', `decryption secrets block too short (${b.length} bytes): ignored`);
      return;
    }
    const type = this.u32(b, 8);
    const slen = this.u32(b, 12);
    if (slen > b.length - 20) {
      this.warn('dsb', `decryption secrets length ${slen} does not fit in its ${b.length}-byte block: ignored`);
      return;
    }
    if (this.secretsBytes + slen > MAX_SECRETS_BYTES) {
      this.warn('dsb-cap', `decryption secrets beyond ${MAX_SECRETS_BYTES} bytes are not kept`);
      return;
    }
    this.secretsBytes += slen;
    // slice(): the block may live in the caller's chunk or the reused assembly buffer.
    this.secrets.push({ type, data: b.slice(16, 16 + slen) });
  }

  private deliver(iface: Iface, data: Uint8Array, origLen: number): void {
    const info = this.info;
    const f = this.frame;
    f.index = ++info.packets;
    f.tsSec = this.tsSec;
    f.tsNsec = this.tsNsec;
    f.linkType = iface.info.linkType;
    f.data = data;
    f.origLen = origLen;
    f.iface = iface.global;
    info.bytes += data.length;
    if (data.length < origLen) info.truncatedPackets++;
    if (info.firstTs === null) info.firstTs = { sec: this.tsSec, nsec: this.tsNsec };
    if (info.lastTs === null) info.lastTs = { sec: this.tsSec, nsec: this.tsNsec };
    else {
      info.lastTs.sec = this.tsSec;
      info.lastTs.nsec = this.tsNsec;
    }
    this.sink(f);
  }

  /** Sets tsSec/tsNsec from a 64-bit timestamp in the interface's units. */
  private timestamp(iface: Iface, hi: number, lo: number): void {
    let sec: number;
    let rem: number;
    let ns: number;
    const units = iface.units;
    if (units !== 0) {
      sec = divmod64(hi, lo, units);
      rem = divRem;
      if (!iface.pow2) {
        // units < 2^32 means at most 10^9 here, so this product is exact.
        ns = rem * 10 ** (9 - iface.exp);
      } else if (iface.exp <= 23) {
        // rem * 1e9 < 2^53 here, and dividing by a power of two is exact.
        ns = Math.round((rem * 1e9) / units);
      } else {
        ns = Number((BigInt(rem) * 1000000000n + (1n << BigInt(iface.exp - 1))) >> BigInt(iface.exp));
      }
    } else {
      const t = (BigInt(hi) << 32n) | BigInt(lo);
      const u = iface.unitsBig;
      sec = Number(t / u);
      const r = t % u;
      if (iface.pow2) ns = Number((r * 1000000000n + (u >> 1n)) / u);
      else ns = Number((r * 1000000000n) / u);
    }
    if (ns >= 1e9) {
      // A power-of-two fraction can round up to a whole second.
      sec += 1;
      ns -= 1e9;
    }
    this.tsSec = sec + iface.offsetSec;
    this.tsNsec = ns;
  }

  /** Calls `fn` for each option in b[start, length-4); malformed options end the list with a warning. */
  private options(b: Uint8Array, start: number, fn: (code: number, at: number, len: number) => void): void {
    const end = b.length - 4;
    let p = start;
    while (p + 4 <= end) {
      const code = this.u16(b, p);
      const olen = this.u16(b, p + 2);
      p += 4;
      if (code === OPT_ENDOFOPT) return;
      if (olen > end - p) {
        this.warn('options', `malformed options at offset ${this.offset + p - 4}: the rest of the block's options are ignored`);
        return;
      }
      fn(code, p, olen);
      p += (olen + 3) & ~3;
    }
  }

  /** Records a problem at the current block and stops the decoder; false for `return this.fail(...)`. */
  private fail(fatal: boolean, message: string): false {
    this.stop(fatal, message, this.offset);
    return false;
  }

  private badHeader(fatal: boolean, message: string): number {
    this.fail(fatal, message);
    return -1;
  }

  private stop(fatal: boolean, message: string, offset: number): void {
    this.prob = { fatal, message, offset };
    this.stopped = true;
    this.asm = null;
    this.asmNeed = 0;
    this.asmFill = 0;
    this.headFill = 0;
  }

  /** Once per kind, and a bounded list: a corrupt file could otherwise repeat one for every block. */
  private warn(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    const w = this.info.warnings;
    if (w.length < MAX_WARNINGS - 1) w.push(message);
    else if (w.length === MAX_WARNINGS - 1) w.push('… more warnings not shown');
  }

  private u16(b: Uint8Array, at: number): number {
    return this.le ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1];
  }

  private u32(b: Uint8Array, at: number): number {
    return this.le
      ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
      : ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  }

  /** Unsigned 64-bit; exact below 2^53, which any real counter is. */
  private u64(b: Uint8Array, at: number): number {
    const first = this.u32(b, at);
    const second = this.u32(b, at + 4);
    return this.le ? second * TWO_32 + first : first * TWO_32 + second;
  }

  private i64(b: Uint8Array, at: number): number {
    const first = this.u32(b, at);
    const second = this.u32(b, at + 4);
    return this.le ? (second | 0) * TWO_32 + first : (first | 0) * TWO_32 + second;
  }
}

const textDecoder = new TextDecoder('utf-8');

/** Remainder of the last divmod64 call (module-level so the hot path allocates nothing). */
let divRem = 0;

/**
 * floor((hi * 2^32 + lo) / d) for d < 2^32, exactly, with plain numbers: schoolbook division in
 * 16-bit digits keeps every partial dividend below d * 2^16 < 2^48, and each digit quotient is
 * below 2^16 yet at least 1/d away from the next integer, so the rounded double division floors
 * to the right digit. Nanosecond timestamps (~2^61)
 * are far beyond what a double holds exactly, and this is several times faster than BigInt.
 * The quotient is exact while below 2^53 (any timestamp with a resolution finer than 1 ms).
 */
function divmod64(hi: number, lo: number, d: number): number {
  let r = 0;
  let q = 0;
  let cur = hi >>> 16;
  let digit = Math.floor(cur / d);
  r = cur - digit * d;
  q = digit;
  cur = r * 65536 + (hi & 0xffff);
  digit = Math.floor(cur / d);
  r = cur - digit * d;
  q = q * 65536 + digit;
  cur = r * 65536 + (lo >>> 16);
  digit = Math.floor(cur / d);
  r = cur - digit * d;
  q = q * 65536 + digit;
  cur = r * 65536 + (lo & 0xffff);
  digit = Math.floor(cur / d);
  r = cur - digit * d;
  q = q * 65536 + digit;
  divRem = r;
  return q;
}
