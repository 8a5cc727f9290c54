import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { CaptureDecoder, CaptureInfo, CaptureProblem, Frame, FrameSink } from './types.js';
import { emptyCaptureInfo } from './types.js';

const require = createRequire(import.meta.url);
// pcap-parser is CommonJS without types; it only needs an EventEmitter with pause/resume.
const pcapParser: { parse(input: EventEmitter): EventEmitter } = require('pcap-parser');

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Larger than any real link MTU or snaplen (tcpdump's maximum is 262144). */
const MAX_RECORD = 262_144 * 4;

const MAGIC_US_BE = 0xa1b2c3d4;
const MAGIC_US_LE = 0xd4c3b2a1;
const MAGIC_NS_BE = 0xa1b23c4d;
const MAGIC_NS_LE = 0x4d3cb2a1;

interface ParsedPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}

/**
 * Classic pcap through pcap-parser. pcap-parser is wrapped so that nothing downstream sees its
 * limits: the global header is checked here (and the nanosecond magic rewritten to the one it
 * knows), every record header is validated before pcap-parser sees it, and only whole records are
 * forwarded, so its internal backlog stays empty and a corrupt length cannot make it re-copy a
 * growing buffer.
 */
export class PcapDecoder implements CaptureDecoder {
  readonly info: CaptureInfo = emptyCaptureInfo();
  problem: CaptureProblem | null = null;

  private readonly feed = new EventEmitter() as EventEmitter & { pause(): void; resume(): void };
  private readonly frame: Frame = { index: 0, tsSec: 0, tsNsec: 0, linkType: 0, data: new Uint8Array(0), origLen: 0, iface: 0 };
  private header: Buffer | null = null;
  private little = true;
  private nanos = false;
  private snaplen = 0;
  /** Bytes of an incomplete record carried to the next chunk. */
  private pending: Buffer | null = null;
  /** Absolute offset of the first byte of `pending` (or of the next chunk when none). */
  private offset = 0;
  private stopped = false;
  private readonly parser: EventEmitter & { buffer: Buffer | null };

  constructor(private readonly sink: FrameSink) {
    this.feed.pause = () => undefined;
    this.feed.resume = () => undefined;
    const parser = pcapParser.parse(this.feed);
    this.parser = parser as EventEmitter & { buffer: Buffer | null };
    parser.on('packet', (p: ParsedPacket) => this.onPacket(p));
    // Errors cannot come from pcap-parser for input validated here; keep the listener so an
    // unexpected one does not become an uncaught exception.
    parser.on('error', (err: Error) => this.stop(false, `pcap reader: ${err.message}`));
  }

  write(chunk: Uint8Array): boolean {
    if (this.stopped) return false;
    const buf: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    // Finish the header or record carried over from the last chunk, copying only the bytes it
    // needs: the chunk itself is never copied.
    while (this.pending && pos < buf.length) {
      const p = this.pending;
      const headerPhase = this.header !== null && p.length < RECORD_HEADER;
      const want = !this.header ? GLOBAL_HEADER : headerPhase ? RECORD_HEADER : RECORD_HEADER + this.caplen(p, 0);
      const take = Math.min(want - p.length, buf.length - pos);
      if (take > 0) {
        this.pending = Buffer.concat([p, buf.subarray(pos, pos + take)]);
        pos += take;
      }
      if (this.pending.length < want) break;
      if (!this.header) {
        const h = this.pending;
        this.pending = null;
        if (!this.startCapture(h)) return false;
      } else if (headerPhase) {
        // The record header just became whole: check it before waiting for its body.
        if (!this.checkRecord(this.pending, 0)) return false;
        if (this.caplen(this.pending, 0) > 0) continue;
      }
      if (this.header && this.pending && this.pending.length === RECORD_HEADER + this.caplen(this.pending, 0)) {
        const rec = this.pending;
        this.pending = null;
        this.forward(rec, 0, rec.length);
      }
    }
    if (this.pending) return true;
    if (!this.header) {
      if (buf.length - pos < GLOBAL_HEADER) {
        this.pending = Buffer.from(buf.subarray(pos));
        return true;
      }
      if (!this.startCapture(buf.subarray(pos, pos + GLOBAL_HEADER))) return false;
      pos += GLOBAL_HEADER;
    }
    // Walk record headers to find the last whole record in this chunk.
    const start = pos;
    const little = this.little;
    const maxCap = this.maxCaplen();
    const maxFrac = this.nanos ? 999_999_999 : 999_999;
    while (buf.length - pos >= RECORD_HEADER) {
      const caplen = little ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
      const frac = little ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
      if (caplen > maxCap || frac > maxFrac) {
        this.forward(buf, start, pos);
        return this.corrupt(caplen, frac);
      }
      if (buf.length - pos - RECORD_HEADER < caplen) break;
      pos += RECORD_HEADER + caplen;
    }
    this.forward(buf, start, pos);
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    return !this.stopped;
  }

  private caplen(b: Buffer, at: number): number {
    return this.little ? b.readUInt32LE(at + 8) : b.readUInt32BE(at + 8);
  }

  /** No capture has records longer than this; a longer one means the file is corrupt from here. */
  private maxCaplen(): number {
    return Math.min(MAX_RECORD, Math.max(this.snaplen, 65_535) * 2);
  }

  /** Checks the record header at `at` (also its fraction of a second, which must be in range). */
  private checkRecord(b: Buffer, at: number): boolean {
    const caplen = this.caplen(b, at);
    const frac = this.little ? b.readUInt32LE(at + 4) : b.readUInt32BE(at + 4);
    if (caplen <= this.maxCaplen() && frac <= (this.nanos ? 999_999_999 : 999_999)) return true;
    return this.corrupt(caplen, frac);
  }

  private corrupt(caplen: number, frac: number): false {
    return this.stop(false, `corrupt packet record at byte ${this.offset} (captured length ${caplen}, fraction ${frac}); stopped reading there`);
  }

  /** Reads the global header and hands pcap-parser the one it understands. */
  private startCapture(h: Buffer): boolean {
    if (!this.readGlobalHeader(h)) return false;
    this.header = Buffer.from(h.subarray(0, GLOBAL_HEADER));
    if (this.nanos) {
      // pcap-parser only knows the microsecond magic; the fraction field is just a number to it.
      this.header.writeUInt32BE(this.little ? MAGIC_US_LE : MAGIC_US_BE, 0);
    }
    this.forward(this.header, 0, GLOBAL_HEADER);
    return true;
  }

  end(): void {
    if (this.stopped) return;
    if (!this.header) {
      const n = this.pending ? this.pending.length : 0;
      this.stop(true, n === 0 ? 'empty file' : `file too short for a pcap header (${n} bytes)`);
      return;
    }
    if (this.pending && this.pending.length > 0) {
      this.info.warnings.push(
        `capture ends in the middle of packet ${this.info.packets + 1} (${this.pending.length} bytes at offset ${this.offset}): file truncated`,
      );
      this.pending = null;
    }
  }

  private forward(buf: Buffer, from: number, to: number): void {
    if (to > from) {
      this.feed.emit('data', buf.subarray(from, to));
      this.offset += to - from;
      // Only whole records are forwarded, so pcap-parser is left holding an empty slice; with
      // null instead it takes the next chunk as it is rather than copying it into a new Buffer
      // (pcap-parser 0.2.1 updateBuffer).
      this.parser.buffer = null;
    }
  }

  private readGlobalHeader(buf: Buffer): boolean {
    const magic = buf.readUInt32BE(0);
    if (magic === MAGIC_US_BE || magic === MAGIC_NS_BE) this.little = false;
    else if (magic === MAGIC_US_LE || magic === MAGIC_NS_LE) this.little = true;
    else return this.stop(true, 'not a pcap file (unknown magic number)');
    this.nanos = magic === MAGIC_NS_BE || magic === MAGIC_NS_LE;
    const major = this.little ? buf.readUInt16LE(4) : buf.readUInt16BE(4);
    if (major !== 2) return this.stop(true, `unsupported pcap version ${major}`);
    this.snaplen = this.little ? buf.readUInt32LE(16) : buf.readUInt32BE(16);
    const linkField = this.little ? buf.readUInt32LE(20) : buf.readUInt32BE(20);
    // The top bits of the link-type field carry FCS information (pcap spec); the type is the low 16 bits.
    this.frame.linkType = linkField & 0xffff;
    this.info.format = this.nanos ? 'pcap-ns' : 'pcap';
    this.info.byteOrder = this.little ? 'little' : 'big';
    this.info.interfaces.push({ linkType: this.frame.linkType, snaplen: this.snaplen, subMicrosecond: this.nanos });
    return true;
  }

  private onPacket(p: ParsedPacket): void {
    const f = this.frame;
    const info = this.info;
    f.index = ++info.packets;
    f.tsSec = p.header.timestampSeconds;
    f.tsNsec = this.nanos ? p.header.timestampMicroseconds : p.header.timestampMicroseconds * 1000;
    f.data = p.data;
    f.origLen = p.header.originalLength;
    if (p.header.capturedLength < p.header.originalLength) info.truncatedPackets++;
    info.bytes += p.header.capturedLength;
    if (!info.firstTs) info.firstTs = { sec: f.tsSec, nsec: f.tsNsec };
    if (!info.lastTs) info.lastTs = { sec: f.tsSec, nsec: f.tsNsec };
    else {
      info.lastTs.sec = f.tsSec;
      info.lastTs.nsec = f.tsNsec;
    }
    this.sink(f);
  }

  private stop(fatal: boolean, message: string): false {
    this.stopped = true;
    this.pending = null;
    this.problem = { fatal, message, offset: this.offset };
    return false;
  }
}
