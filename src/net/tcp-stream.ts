/** Receives one direction's bytes in sequence order. */
export interface StreamConsumer {
  /**
   * In-order bytes. `segmentStart` is true when `data` begins where a TCP segment began: record
   * boundaries usually coincide with those, which is what lets a reader find TLS again after a gap.
   */
  onData(data: Uint8Array, segmentStart: boolean): void;
  /** `bytes` bytes of the stream are missing (lost segment, snaplen, capture started late…). */
  onGap(bytes: number): void;
}

interface Pending {
  seq: number;
  data: Uint8Array;
  /** Bytes the segment covered on the wire (≥ data.length when the snaplen cut it). */
  wire: number;
}

/** Out-of-order data held per direction before declaring a gap. */
export const MAX_PENDING_BYTES = 512 * 1024;

/**
 * Out-of-order bytes held by all streams together. Thousands of connections each holding their
 * own maximum would add up; past this budget a stream gives up on its hole at once.
 */
export class ReassemblyBudget {
  used = 0;
  constructor(readonly max = 32 * 1024 * 1024) {}
}

const UNLIMITED = new ReassemblyBudget(Number.POSITIVE_INFINITY);
/** A sequence number further ahead than this is not part of this stream. */
const MAX_AHEAD = 1 << 30;

/**
 * One direction of a TCP connection: puts segments back in order, drops retransmitted and
 * overlapping bytes, and reports holes. Sequence arithmetic is modulo 2^32.
 */
export class TcpStream {
  started = false;
  /** Next expected sequence number (uint32). */
  next = 0;
  synSeen = false;
  /** Initial sequence number from the SYN, when seen. */
  isn = 0;
  /** Other ISNs seen in SYNs (rare: null until one is). */
  private otherIsns: number[] | null = null;
  finSeen = false;
  /** Bytes delivered in order. */
  delivered = 0;
  gapBytes = 0;
  retransmitted = 0;
  /** Segments held behind a hole, in sequence order; null while none ever was (most streams). */
  private pending: Pending[] | null = null;
  private pendingBytes = 0;

  constructor(
    private readonly consumer: StreamConsumer,
    private readonly budget: ReassemblyBudget = UNLIMITED,
  ) {}

  get hasPending(): boolean {
    return this.pending !== null && this.pending.length > 0;
  }

  syn(seq: number): void {
    if (!this.started) {
      this.started = true;
      this.isn = seq;
      this.next = (seq + 1) >>> 0;
    } else if (seq !== this.isn) {
      // Servers answering retransmitted SYNs sometimes pick a fresh ISN; data may follow either.
      const other = (this.otherIsns ??= []);
      if (other.length < 4 && !other.includes(seq)) other.push(seq);
    }
    this.synSeen = true;
  }

  /**
   * A segment with payload. `seq` is the sequence number of the first payload byte (for a SYN
   * carrying data, the caller passes seq + 1).
   */
  segment(seq: number, data: Uint8Array, wire: number): void {
    if (wire === 0) return;
    if (!this.started) {
      this.started = true;
      this.next = seq;
    }
    let rel = (seq - this.next) | 0;
    if (rel !== 0 && this.delivered === 0 && !this.hasPending && this.otherIsns !== null && this.otherIsns.includes((seq - 1) >>> 0)) {
      this.isn = (seq - 1) >>> 0;
      this.next = seq;
      rel = 0;
    }
    if (rel + wire <= 0) {
      this.retransmitted += wire;
      return;
    }
    if (rel > 0) {
      if (rel > MAX_AHEAD) return;
      this.hold(seq, data, wire);
      return;
    }
    this.deliver(data, wire, -rel);
    this.drain();
  }

  /** Gives up on missing bytes: everything held is delivered, holes reported as gaps. */
  flush(): void {
    // Re-read each time: delivering can make the reader discard the stream (pending becomes null).
    while (this.pending !== null && this.pending.length > 0) {
      const p = this.pending[0];
      const rel = (p.seq - this.next) | 0;
      if (rel > 0) {
        this.gapBytes += rel;
        this.consumer.onGap(rel);
        this.next = p.seq;
      }
      this.drain();
    }
  }

  /** Drops held segments: the reader no longer cares about this direction's bytes. */
  discard(): void {
    this.budget.used -= this.pendingBytes;
    this.pending = null;
    this.pendingBytes = 0;
  }

  private hold(seq: number, data: Uint8Array, wire: number): void {
    if (this.pendingBytes + data.length > MAX_PENDING_BYTES || this.budget.used + data.length > this.budget.max) {
      // Too much waiting behind a hole: the hole is a loss, not a reordering.
      this.flush();
      const rel = (seq - this.next) | 0;
      if (rel > 0) {
        this.gapBytes += rel;
        this.consumer.onGap(rel);
        this.next = seq;
      }
      this.segment(seq, data, wire);
      return;
    }
    const pending = (this.pending ??= []);
    // A retransmission of a segment already held adds nothing.
    if (pending.some((q) => q.seq === seq && q.wire >= wire)) {
      this.retransmitted += wire;
      return;
    }
    const copy = Uint8Array.prototype.slice.call(data) as Uint8Array;
    const p: Pending = { seq, data: copy, wire };
    let i = pending.length;
    while (i > 0 && ((pending[i - 1].seq - seq) | 0) > 0) i--;
    pending.splice(i, 0, p);
    this.pendingBytes += copy.length;
    this.budget.used += copy.length;
  }

  private drain(): void {
    // Re-read each time: delivering can make the reader discard the stream (pending becomes null).
    while (this.pending !== null && this.pending.length > 0) {
      const p = this.pending[0];
      const rel = (p.seq - this.next) | 0;
      if (rel > 0) return;
      this.pending.shift();
      this.pendingBytes -= p.data.length;
      this.budget.used -= p.data.length;
      if (rel + p.wire <= 0) {
        this.retransmitted += p.wire;
        continue;
      }
      this.deliver(p.data, p.wire, -rel);
    }
  }

  /** Delivers the part of a segment from `skip` bytes in; the snaplen-cut tail becomes a gap. */
  private deliver(data: Uint8Array, wire: number, skip: number): void {
    if (skip > 0) this.retransmitted += Math.min(skip, wire);
    if (skip < data.length) {
      this.consumer.onData(skip === 0 ? data : data.subarray(skip), skip === 0);
      this.delivered += data.length - skip;
    }
    const missing = wire - Math.max(skip, data.length);
    if (missing > 0) {
      this.gapBytes += missing;
      this.consumer.onGap(missing);
    }
    this.next = (this.next + (wire - skip)) >>> 0;
  }
}
