import type { Frame, FrameSink } from './types.js';

/*
 * A single-producer, single-consumer byte ring in a SharedArrayBuffer, carrying decoded frames
 * (and the odd capture-info update) from the reader thread to the analysis thread.
 *
 * Layout: a 64-byte control area (Int32 slots, plus one BigInt64 for the progress counter), then
 * the data area, whose size is a power of two. Read and write positions are free-running 32-bit
 * counters: their difference is the fill level even after they wrap past 2^31, and a position
 * modulo the data size is an offset, because the size divides 2^32.
 *
 * Records start on 8-byte boundaries with a 40-byte header; a record never wraps: when the tail of
 * the data area is too short the writer leaves a WRAP marker there and starts again at offset 0.
 * Payloads too big for one record (more than half the ring) travel as a BIG_* header followed by
 * PART records, reassembled by the reader, so no frame size can deadlock the ring.
 */

export const CTL_BYTES = 64;
const CTL_WRITE = 0;
const CTL_READ = 1;
const CTL_READER_WAITING = 2;
const CTL_WRITER_WAITING = 3;
const CTL_DONE = 4;
const CTL_ABORT = 5;
/** Set by the worker once its code runs: before that, a failure means "could not start". */
const CTL_STARTED = 6;
/** Index of the progress counter in a BigInt64Array over the control area (byte offset 32). */
const PROGRESS_SLOT = 4;

export const MIN_RING_BYTES = 4096;
export const MAX_RING_BYTES = 1 << 30;
export const DEFAULT_RING_BYTES = 8 << 20;

const HEADER = 40;
const KIND_FRAME = 1;
const KIND_WRAP = 2;
const KIND_START = 3;
const KIND_INFO = 4;
const KIND_BIG_FRAME = 5;
const KIND_BIG_INFO = 6;
const KIND_PART = 7;

// Header fields, in 32-bit words (u32) or 64-bit words (f64) from the record start.
const W_KIND = 0;
const W_LEN = 1;
const D_TS_SEC = 1;
const D_INDEX = 2;
const W_TS_NSEC = 6;
const W_ORIG_LEN = 7;
const W_LINK_TYPE = 8;
const W_IFACE = 9;

/** Thrown inside the worker's sink once the reader gave up, to unwind the decoder quickly. */
export class RingAborted extends Error {
  constructor() {
    super('frame ring abandoned by its consumer');
  }
}

/** Data-area size for a requested ring size: a power of two within the limits. */
export function ringDataBytes(requested: number): number {
  const want = Number.isFinite(requested) ? Math.min(Math.max(requested, MIN_RING_BYTES), MAX_RING_BYTES) : DEFAULT_RING_BYTES;
  let size = MIN_RING_BYTES;
  while (size < want) size *= 2;
  return size;
}

export function createRing(requested: number = DEFAULT_RING_BYTES): SharedArrayBuffer {
  return new SharedArrayBuffer(CTL_BYTES + ringDataBytes(requested));
}

class RingView {
  protected readonly ctl: Int32Array;
  protected readonly progressSlot: BigInt64Array;
  protected readonly u8: Uint8Array;
  protected readonly u32: Uint32Array;
  protected readonly f64: Float64Array;
  protected readonly size: number;
  protected readonly mask: number;
  /** Largest record written in one piece: half the ring, so one always fits once the ring drains. */
  protected readonly maxRecord: number;
  /** Payload bytes per PART record. */
  protected readonly partBytes: number;

  constructor(protected readonly sab: SharedArrayBuffer) {
    this.size = sab.byteLength - CTL_BYTES;
    if (this.size < MIN_RING_BYTES || (this.size & (this.size - 1)) !== 0) throw new RangeError(`bad ring size ${this.size}`);
    this.mask = this.size - 1;
    this.ctl = new Int32Array(sab, 0, 8);
    this.progressSlot = new BigInt64Array(sab, 0, CTL_BYTES / 8);
    this.u8 = new Uint8Array(sab, CTL_BYTES, this.size);
    this.u32 = new Uint32Array(sab, CTL_BYTES, this.size / 4);
    this.f64 = new Float64Array(sab, CTL_BYTES, this.size / 8);
    this.maxRecord = this.size / 2;
    this.partBytes = this.size / 4;
  }
}

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Worker side. Blocks (Atomics.wait) when the ring is full; publishes its position every `batch`
 * bytes and at the end of each synchronous run of the decoder (a microtask), so the reader sees
 * frames without an atomic operation per frame and without waiting for the next read from disk.
 */
export class RingWriter extends RingView {
  private w = 0;
  private published = 0;
  /** Last read position seen; only ever behind the real one, so free space is never overestimated. */
  private r = 0;
  private readonly batch: number;
  private flushQueued = false;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    if (this.w !== this.published) this.publish();
  };

  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.batch = Math.min(this.size / 4, 2 << 20);
    Atomics.store(this.ctl, CTL_STARTED, 1);
  }

  frame(f: Frame): void {
    const data = f.data;
    const len = data.length;
    const size = align8(HEADER + len);
    if (size > this.maxRecord) {
      this.big(KIND_BIG_FRAME, data, f);
      return;
    }
    const off = this.reserve(size);
    this.frameHeader(off, KIND_FRAME, len, f);
    this.u8.set(data, off + HEADER);
    this.advance(size);
  }

  /** The decoder started: the reader creates its live CaptureInfo. */
  start(): void {
    const off = this.reserve(HEADER);
    this.u32[off >> 2] = KIND_START;
    this.u32[(off >> 2) + W_LEN] = 0;
    this.advance(HEADER);
  }

  /** A capture-info snapshot (JSON), taking effect before the frames written after it. */
  info(payload: Uint8Array): void {
    const size = align8(HEADER + payload.length);
    if (size > this.maxRecord) {
      this.big(KIND_BIG_INFO, payload, null);
      return;
    }
    const off = this.reserve(size);
    this.u32[off >> 2] = KIND_INFO;
    this.u32[(off >> 2) + W_LEN] = payload.length;
    this.u8.set(payload, off + HEADER);
    this.advance(size);
  }

  progress(bytes: number): void {
    Atomics.store(this.progressSlot, PROGRESS_SLOT, BigInt(bytes));
  }

  /** Everything is written: publish it and tell the reader no more is coming. */
  finish(): void {
    this.publish();
    Atomics.store(this.ctl, CTL_DONE, 1);
    Atomics.notify(this.ctl, CTL_WRITE);
  }

  private frameHeader(off: number, kind: number, len: number, f: Frame): void {
    const h = off >> 2;
    const d = off >> 3;
    const u32 = this.u32;
    u32[h + W_KIND] = kind;
    u32[h + W_LEN] = len;
    this.f64[d + D_TS_SEC] = f.tsSec;
    this.f64[d + D_INDEX] = f.index;
    u32[h + W_TS_NSEC] = f.tsNsec;
    u32[h + W_ORIG_LEN] = f.origLen;
    u32[h + W_LINK_TYPE] = f.linkType;
    u32[h + W_IFACE] = f.iface;
  }

  private big(kind: number, payload: Uint8Array, f: Frame | null): void {
    const off = this.reserve(HEADER);
    if (f) this.frameHeader(off, kind, payload.length, f);
    else {
      this.u32[off >> 2] = kind;
      this.u32[(off >> 2) + W_LEN] = payload.length;
    }
    this.advance(HEADER);
    for (let pos = 0; pos < payload.length; pos += this.partBytes) {
      const part = payload.subarray(pos, Math.min(pos + this.partBytes, payload.length));
      const size = align8(HEADER + part.length);
      const at = this.reserve(size);
      this.u32[at >> 2] = KIND_PART;
      this.u32[(at >> 2) + W_LEN] = part.length;
      this.u8.set(part, at + HEADER);
      this.advance(size);
    }
  }

  private advance(size: number): void {
    this.w = (this.w + size) | 0;
    if (((this.w - this.published) | 0) >= this.batch) this.publish();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
  }

  private publish(): void {
    Atomics.store(this.ctl, CTL_WRITE, this.w);
    this.published = this.w;
    if (Atomics.load(this.ctl, CTL_READER_WAITING) !== 0) Atomics.notify(this.ctl, CTL_WRITE);
  }

  /** Offset of `size` contiguous free bytes (size <= maxRecord), after a WRAP marker if needed. */
  private reserve(size: number): number {
    const off = this.w & this.mask;
    const tail = this.size - off;
    if (size <= tail) {
      this.waitForSpace(size);
      return off;
    }
    this.waitForSpace(tail + size);
    this.u32[off >> 2] = KIND_WRAP;
    this.w = (this.w + tail) | 0;
    return 0;
  }

  private waitForSpace(need: number): void {
    if (this.size - ((this.w - this.r) | 0) >= need) return;
    // Could only come from a bug in the record sizing; failing beats waiting forever.
    if (need > this.size) throw new Error(`frame ring: ${need} bytes requested from a ${this.size}-byte ring`);
    const ctl = this.ctl;
    this.r = Atomics.load(ctl, CTL_READ);
    while (this.size - ((this.w - this.r) | 0) < need) {
      // The reader may be waiting for exactly what is unpublished: hand it over before sleeping.
      if (this.w !== this.published) this.publish();
      // Flag first, then look again: the reader stores its position before it reads the flag, so
      // either we see its new position here or it sees the flag and wakes us (seq-cst atomics).
      Atomics.store(ctl, CTL_WRITER_WAITING, 1);
      const r = Atomics.load(ctl, CTL_READ);
      if (r === this.r) Atomics.wait(ctl, CTL_READ, r, 1000);
      Atomics.store(ctl, CTL_WRITER_WAITING, 0);
      if (Atomics.load(ctl, CTL_ABORT) !== 0) throw new RingAborted();
      this.r = Atomics.load(ctl, CTL_READ);
    }
  }
}

export interface RingHandlers {
  /** Called synchronously per frame; `frame.data` is a view into the ring, valid during the call. */
  frame: FrameSink;
  start(): void;
  info(json: string): void;
}

/**
 * Reader (main thread) side. `consume` is synchronous and bounded, so the caller decides when to
 * wait (asynchronously) and when to give the event loop a turn.
 */
export class RingReader extends RingView {
  private r = 0;
  private readonly frameObj: Frame = { index: 0, tsSec: 0, tsNsec: 0, linkType: 0, data: new Uint8Array(0), origLen: 0, iface: 0 };
  /** Reassembly of a payload that came in PART records. */
  private asm: Uint8Array | null = null;
  private asmFill = 0;
  private asmKind = 0;

  constructor(
    sab: SharedArrayBuffer,
    private readonly handlers: RingHandlers,
  ) {
    super(sab);
  }

  /** The worker's code ran (it may have failed since). */
  get started(): boolean {
    return Atomics.load(this.ctl, CTL_STARTED) !== 0;
  }

  /** The writer finished and everything it wrote was consumed. */
  get drained(): boolean {
    return Atomics.load(this.ctl, CTL_DONE) !== 0 && Atomics.load(this.ctl, CTL_WRITE) === this.r;
  }

  get progressBytes(): number {
    return Number(Atomics.load(this.progressSlot, PROGRESS_SLOT));
  }

  /**
   * Consumes published records until about `budget` bytes of ring were read or none are left,
   * then hands the space back to the writer. Returns the bytes consumed. Handler exceptions
   * propagate (the space of the record being handled is not handed back).
   */
  consume(budget: number): number {
    const w = Atomics.load(this.ctl, CTL_WRITE);
    const start = this.r;
    let r = start;
    const u32 = this.u32;
    const f64 = this.f64;
    const f = this.frameObj;
    const sink = this.handlers.frame;
    while (r !== w && ((r - start) | 0) < budget) {
      const off = r & this.mask;
      const h = off >> 2;
      const kind = u32[h + W_KIND];
      if (kind === KIND_FRAME) {
        const len = u32[h + W_LEN];
        const d = off >> 3;
        f.index = f64[d + D_INDEX];
        f.tsSec = f64[d + D_TS_SEC];
        f.tsNsec = u32[h + W_TS_NSEC];
        f.origLen = u32[h + W_ORIG_LEN];
        f.linkType = u32[h + W_LINK_TYPE];
        f.iface = u32[h + W_IFACE];
        f.data = new Uint8Array(this.sab, CTL_BYTES + off + HEADER, len);
        sink(f);
        r = (r + align8(HEADER + len)) | 0;
      } else if (kind === KIND_WRAP) {
        r = (r + this.size - off) | 0;
      } else {
        r = (r + this.special(kind, off)) | 0;
      }
    }
    if (r !== start) {
      this.r = r;
      Atomics.store(this.ctl, CTL_READ, r);
      if (Atomics.load(this.ctl, CTL_WRITER_WAITING) !== 0) Atomics.notify(this.ctl, CTL_READ);
    }
    return (r - start) | 0;
  }

  /** Handles a record other than FRAME and WRAP; returns its size in the ring. */
  private special(kind: number, off: number): number {
    const h = off >> 2;
    const len = this.u32[h + W_LEN];
    switch (kind) {
      case KIND_START:
        this.handlers.start();
        return HEADER;
      case KIND_INFO:
        this.handlers.info(textDecoder.decode(this.u8.subarray(off + HEADER, off + HEADER + len)));
        return align8(HEADER + len);
      case KIND_BIG_FRAME:
      case KIND_BIG_INFO: {
        if (kind === KIND_BIG_FRAME) {
          const f = this.frameObj;
          const d = off >> 3;
          f.index = this.f64[d + D_INDEX];
          f.tsSec = this.f64[d + D_TS_SEC];
          f.tsNsec = this.u32[h + W_TS_NSEC];
          f.origLen = this.u32[h + W_ORIG_LEN];
          f.linkType = this.u32[h + W_LINK_TYPE];
          f.iface = this.u32[h + W_IFACE];
        }
        this.asm = new Uint8Array(len);
        this.asmFill = 0;
        this.asmKind = kind;
        return HEADER;
      }
      case KIND_PART: {
        const asm = this.asm;
        if (!asm || this.asmFill + len > asm.length) throw new Error('frame ring: part record without a matching header');
        asm.set(this.u8.subarray(off + HEADER, off + HEADER + len), this.asmFill);
        this.asmFill += len;
        if (this.asmFill === asm.length) {
          this.asm = null;
          if (this.asmKind === KIND_BIG_INFO) this.handlers.info(textDecoder.decode(asm));
          else {
            this.frameObj.data = asm;
            this.handlers.frame(this.frameObj);
          }
        }
        return align8(HEADER + len);
      }
      default:
        // Only a bug could get here; stopping beats reading garbage as frames.
        throw new Error(`frame ring: unknown record kind ${kind} at offset ${off}`);
    }
  }

  /**
   * Resolves when the writer publishes more, finishes, or `timeoutMs` passes: without blocking
   * the event loop (Atomics.waitAsync), or with a short timer where that does not exist.
   */
  async wait(timeoutMs: number): Promise<void> {
    const ctl = this.ctl;
    const seen = this.r;
    // Same handshake as the writer's: flag, then look again, then wait on the unchanged value.
    Atomics.store(ctl, CTL_READER_WAITING, 1);
    try {
      if (Atomics.load(ctl, CTL_WRITE) !== seen || Atomics.load(ctl, CTL_DONE) !== 0) return;
      const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
      if (!waitAsync) {
        await new Promise((res) => setTimeout(res, 1));
        return;
      }
      const res = waitAsync(ctl, CTL_WRITE, seen, timeoutMs);
      if (res.async) await res.value;
    } finally {
      Atomics.store(ctl, CTL_READER_WAITING, 0);
    }
  }

  /** Wakes a pending wait() early (the worker died, say). */
  wake(): void {
    Atomics.notify(this.ctl, CTL_WRITE);
  }

  /** Tells a writer blocked on a full ring to give up. */
  abort(): void {
    Atomics.store(this.ctl, CTL_ABORT, 1);
    Atomics.notify(this.ctl, CTL_READ);
  }
}

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

const textDecoder = new TextDecoder();
