import { describe, expect, it } from 'vitest';
import { MAX_PENDING_BYTES, ReassemblyBudget, TcpStream, type StreamConsumer } from '../../src/net/tcp-stream.js';

type Ev = { kind: 'data'; bytes: Buffer; start: boolean } | { kind: 'gap'; n: number };

/** Records what the stream hands on, copying data (the stream may pass views). */
class Recorder implements StreamConsumer {
  events: Ev[] = [];
  onData(data: Uint8Array, segmentStart: boolean): void {
    this.events.push({ kind: 'data', bytes: Buffer.from(data), start: segmentStart });
  }
  onGap(bytes: number): void {
    this.events.push({ kind: 'gap', n: bytes });
  }
  get bytes(): Buffer {
    return Buffer.concat(this.events.flatMap((e) => (e.kind === 'data' ? [e.bytes] : [])));
  }
  get gaps(): number[] {
    return this.events.flatMap((e) => (e.kind === 'gap' ? [e.n] : []));
  }
  get starts(): boolean[] {
    return this.events.flatMap((e) => (e.kind === 'data' ? [e.start] : []));
  }
  /** Data and gaps as one string, gaps as `<gap n>`, for order-sensitive comparisons. */
  get transcript(): string {
    return this.events.map((e) => (e.kind === 'data' ? e.bytes.toString('latin1') : `<gap ${e.n}>`)).join('');
  }
}

function make(): { s: TcpStream; r: Recorder } {
  const r = new Recorder();
  return { s: new TcpStream(r), r };
}

/** `n` bytes whose values identify their position (mod 251), so misplaced bytes show. */
function pattern(n: number, from = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) % 251;
  return b;
}

function seg(s: TcpStream, seq: number, data: Uint8Array | string, wire?: number): void {
  const d = typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'latin1')) : data;
  s.segment(seq >>> 0, d, wire ?? d.length);
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('TcpStream ordering', () => {
  it('delivers in-order segments immediately, each as a segment start', () => {
    const { s, r } = make();
    s.syn(999);
    seg(s, 1000, 'hello ');
    expect(r.bytes.toString()).toBe('hello ');
    seg(s, 1006, 'tls ');
    seg(s, 1010, 'world');
    expect(r.transcript).toBe('hello tls world');
    expect(r.starts).toEqual([true, true, true]);
    expect(s.delivered).toBe(15);
    expect(s.next).toBe(1015);
    expect(s.gapBytes).toBe(0);
    expect(s.retransmitted).toBe(0);
    expect(s.hasPending).toBe(false);
  });

  it('gives the same byte stream for every permutation of 4 segments', () => {
    const whole = pattern(40);
    const parts = [
      { seq: 5000, data: whole.subarray(0, 7) },
      { seq: 5007, data: whole.subarray(7, 19) },
      { seq: 5019, data: whole.subarray(19, 20) },
      { seq: 5020, data: whole.subarray(20, 40) },
    ];
    const perms = permutations(parts);
    expect(perms).toHaveLength(24);
    for (const p of perms) {
      const { s, r } = make();
      s.syn(4999);
      for (const x of p) s.segment(x.seq, x.data, x.data.length);
      const order = p.map((x) => x.seq).join(',');
      expect(Buffer.compare(r.bytes, Buffer.from(whole)), order).toBe(0);
      expect(r.gaps, order).toEqual([]);
      expect(s.hasPending, order).toBe(false);
      expect(s.delivered, order).toBe(40);
      expect(s.next, order).toBe(5040);
      // Every delivery is a whole segment here, never a remainder.
      expect(r.starts.every((b) => b), order).toBe(true);
      expect(r.starts.length, order).toBe(4);
    }
  });

  it('drops an exact retransmission and counts it', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, 'abcdef');
    seg(s, 1, 'abcdef');
    seg(s, 7, 'gh');
    seg(s, 7, 'gh');
    expect(r.transcript).toBe('abcdefgh');
    expect(s.retransmitted).toBe(8);
    expect(s.delivered).toBe(8);
  });

  it('delivers the new part of a partially overlapping segment once, not as a segment start', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, 'abcdefghij'); // 1..10
    seg(s, 6, 'fghijKLMNO'); // 6..15: 5 old, 5 new
    expect(r.transcript).toBe('abcdefghijKLMNO');
    expect(r.starts).toEqual([true, false]);
    expect(s.retransmitted).toBe(5);
    expect(s.delivered).toBe(15);
  });

  it('resolves overlaps between held segments when the hole fills', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 11, 'KLMNOPQRST'); // 11..20, held
    seg(s, 16, 'PQRSTuvwxy'); // 16..25, held, overlaps the previous one by 5
    seg(s, 11, 'KLMNOPQRST'); // duplicate of a held one
    expect(r.events).toEqual([]);
    seg(s, 1, 'abcdefghij'); // fills 1..10
    expect(r.transcript).toBe('abcdefghijKLMNOPQRSTuvwxy');
    expect(r.starts).toEqual([true, true, false]);
    expect(s.hasPending).toBe(false);
    expect(s.next).toBe(26);
  });

  it('handles the sequence wrap at 2^32 (ISN 0xffffff00), in order and out of order', () => {
    const whole = pattern(0x300);
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      const { s, r } = make();
      s.syn(0xffffff00);
      expect(s.next).toBe(0xffffff01);
      // Segments of 0x100 bytes from 0xffffff01: the second one starts at 0x00000001 after wrap.
      const parts = [0, 1, 2].map((i) => ({ seq: (0xffffff01 + i * 0x100) >>> 0, data: whole.subarray(i * 0x100, (i + 1) * 0x100) }));
      expect(parts[1].seq).toBe(0x00000001);
      for (const i of order) s.segment(parts[i].seq, parts[i].data, 0x100);
      expect(Buffer.compare(r.bytes, Buffer.from(whole)), order.join()).toBe(0);
      expect(r.gaps).toEqual([]);
      expect(s.next).toBe(0x201);
      expect(s.retransmitted).toBe(0);
    }
  });

  it('wraps inside one segment', () => {
    const { s, r } = make();
    s.syn(0xfffffff0);
    seg(s, 0xfffffff1, pattern(32));
    expect(s.next).toBe(0x11);
    seg(s, 0x11, pattern(3, 32));
    expect(Buffer.compare(r.bytes, Buffer.from(pattern(35)))).toBe(0);
    // A retransmission of the wrapped segment is recognised as old.
    seg(s, 0xfffffff1, pattern(32));
    expect(r.bytes.length).toBe(35);
    expect(s.retransmitted).toBe(32);
  });

  it('ignores segments implausibly far ahead (more than 2^30)', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1 + 2 ** 30 + 10, 'far');
    expect(s.hasPending).toBe(false);
    seg(s, 1, 'ok');
    expect(r.transcript).toBe('ok');
  });
});

describe('TcpStream SYN', () => {
  it('SYN consumes one sequence number: first data byte is ISN+1', () => {
    const { s, r } = make();
    s.syn(7777);
    expect(s.isn).toBe(7777);
    expect(s.next).toBe(7778);
    seg(s, 7778, 'x');
    expect(r.transcript).toBe('x');
    expect(r.gaps).toEqual([]);
  });

  it('data carried in the SYN (caller passes seq+1) is delivered, and its retransmission is not', () => {
    const { s, r } = make();
    s.syn(5000);
    seg(s, 5001, 'GET /'); // TCP Fast Open data in the SYN
    seg(s, 5006, ' HTTP');
    // The SYN is retransmitted with the same data.
    s.syn(5000);
    seg(s, 5001, 'GET /');
    expect(r.transcript).toBe('GET / HTTP');
    expect(s.retransmitted).toBe(5);
  });

  it('data from a fresh ISN (SYN-ACK answering a retransmitted SYN) is followed', () => {
    const { s, r } = make();
    s.syn(100);
    s.syn(90000); // second SYN-ACK with another ISN
    seg(s, 90001, 'server data');
    expect(r.transcript).toBe('server data');
    expect(s.isn).toBe(90000);
    expect(r.gaps).toEqual([]);
  });

  it('without a SYN the first segment seen starts the stream', () => {
    const { s, r } = make();
    seg(s, 123456, 'mid');
    seg(s, 123459, 'stream');
    expect(r.transcript).toBe('midstream');
    expect(s.synSeen).toBe(false);
  });
});

describe('TcpStream holes', () => {
  it('flush() reports a gap of the hole size, then delivers the held data as a segment start', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, 'head'); // 1..4
    seg(s, 25, 'tail'); // hole 5..24 (20 bytes)
    seg(s, 40, 'more'); // hole 29..39 (11 bytes)
    expect(r.transcript).toBe('head');
    expect(s.hasPending).toBe(true);
    s.flush();
    expect(r.transcript).toBe('head<gap 20>tail<gap 11>more');
    expect(r.starts).toEqual([true, true, true]);
    expect(s.gapBytes).toBe(31);
    expect(s.hasPending).toBe(false);
    expect(s.next).toBe(44);
    // A late copy of the lost bytes is old news now.
    seg(s, 5, pattern(20));
    expect(r.transcript).toBe('head<gap 20>tail<gap 11>more');
  });

  it('flush() with nothing held does nothing', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, 'abc');
    s.flush();
    expect(r.transcript).toBe('abc');
  });

  it('a snaplen-cut segment (wire > data.length) reports the missing tail as a gap', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, pattern(60), 1448);
    expect(r.transcript).toBe(Buffer.from(pattern(60)).toString('latin1') + '<gap 1388>');
    expect(s.next).toBe(1449);
    expect(s.gapBytes).toBe(1388);
    expect(s.delivered).toBe(60);
    seg(s, 1449, 'next');
    expect(r.transcript.endsWith('<gap 1388>next')).toBe(true);
    expect(r.starts).toEqual([true, true]);
  });

  it('a snaplen-cut segment held out of order reports its tail when drained', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 11, 'KLM', 10); // 11..20 on the wire, 3 bytes captured
    seg(s, 21, 'uv');
    seg(s, 1, 'abcdefghij');
    expect(r.transcript).toBe('abcdefghijKLM<gap 7>uv');
    expect(s.next).toBe(23);
  });

  it('a retransmission overlapping a snaplen-cut segment only reports what is still missing', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, 'abcdefghij'); // 1..10
    seg(s, 6, 'fgh', 10); // 6..15 on the wire, only 6..8 captured: bytes 11..15 missing
    expect(r.transcript).toBe('abcdefghij<gap 5>');
    expect(s.next).toBe(16);
  });

  it('more than MAX_PENDING_BYTES behind a hole declares the hole a gap instead of buffering forever', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, pattern(100)); // 1..100
    // Hole of 50 bytes (101..150), then 64 KiB segments past the cap.
    const chunk = 64 * 1024;
    const count = Math.floor(MAX_PENDING_BYTES / chunk) + 2;
    let seq = 151;
    for (let i = 0; i < count; i++) {
      seg(s, seq, pattern(chunk, 150 + i * chunk));
      seq += chunk;
    }
    // The gap was declared once the cap was exceeded, and everything after it was delivered.
    expect(r.gaps).toEqual([50]);
    expect(s.hasPending).toBe(false);
    expect(s.delivered).toBe(100 + count * chunk);
    expect(s.next).toBe(seq);
    const all = r.bytes;
    expect(Buffer.compare(all.subarray(100), Buffer.from(pattern(count * chunk, 150)))).toBe(0);
    // The gap was reported before the held data, not after.
    expect(r.events[1]).toEqual({ kind: 'gap', n: 50 });
  });

  it('holds up to MAX_PENDING_BYTES without declaring a gap', () => {
    const { s, r } = make();
    s.syn(0);
    const chunk = 64 * 1024;
    const count = MAX_PENDING_BYTES / chunk;
    expect(Number.isInteger(count)).toBe(true);
    for (let i = 0; i < count; i++) seg(s, 11 + i * chunk, pattern(chunk));
    expect(r.events).toEqual([]);
    expect(s.hasPending).toBe(true);
    seg(s, 1, pattern(10));
    expect(r.gaps).toEqual([]);
    expect(s.delivered).toBe(10 + MAX_PENDING_BYTES);
  });

  // Was a stack overflow (hold() → flush() → segment() → hold() … with nothing pending); fixed in
  // dd4839f. Input: syn(0); segment(1, 10 bytes); segment(111, MAX_PENDING_BYTES + 1 bytes).
  it('a single out-of-order segment larger than MAX_PENDING_BYTES is a gap then data, not a stack overflow', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, pattern(10));
    const big = pattern(MAX_PENDING_BYTES + 1);
    expect(() => seg(s, 111, big)).not.toThrow();
    s.flush();
    expect(r.gaps).toEqual([100]);
    expect(s.delivered).toBe(10 + big.length);
    expect(s.next).toBe(111 + big.length);
  });

  it('a shared ReassemblyBudget: a stream over the global budget gives up its hole; draining and discard() return bytes', () => {
    const budget = new ReassemblyBudget(1000);
    const a = new Recorder();
    const b = new Recorder();
    const sa = new TcpStream(a, budget);
    const sb = new TcpStream(b, budget);
    sa.syn(0);
    sb.syn(0);
    seg(sa, 101, pattern(800)); // hole 1..100, 800 held
    expect(budget.used).toBe(800);
    seg(sb, 51, pattern(300)); // would take the total to 1100: B declares its hole at once
    expect(b.transcript).toBe(`<gap 50>${Buffer.from(pattern(300)).toString('latin1')}`);
    expect(sb.hasPending).toBe(false);
    expect(budget.used).toBe(800);
    // A is untouched and still fills its hole normally.
    expect(a.events).toEqual([]);
    seg(sa, 1, pattern(100));
    expect(a.gaps).toEqual([]);
    expect(a.bytes.length).toBe(900);
    expect(budget.used).toBe(0);
    seg(sa, 2000, pattern(200));
    expect(budget.used).toBe(200);
    sa.discard();
    expect(budget.used).toBe(0);
  });

  it('a keep-alive probe (seq = next-1, one byte) is ignored', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, 'abcdef'); // next = 7
    seg(s, 6, '\u0000'); // keep-alive: one garbage byte at next-1
    seg(s, 6, '\u0000');
    expect(r.transcript).toBe('abcdef');
    expect(s.next).toBe(7);
    expect(s.hasPending).toBe(false);
    seg(s, 7, 'g');
    expect(r.transcript).toBe('abcdefg');
    expect(r.gaps).toEqual([]);
  });

  it('a zero-length segment (pure ACK, zero-window probe) changes nothing', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, 'ab');
    s.segment(3, new Uint8Array(0), 0);
    s.segment(500, new Uint8Array(0), 0);
    expect(s.next).toBe(3);
    expect(s.hasPending).toBe(false);
    seg(s, 3, 'c');
    expect(r.transcript).toBe('abc');
  });

  it('segmentStart is true only when a delivery begins at the start of a segment', () => {
    const { s, r } = make();
    s.syn(0);
    seg(s, 1, 'aaaa'); // 1..4            → whole, start
    seg(s, 3, 'aaBB'); // 3..6 overlap    → 'BB', not a start
    seg(s, 9, 'DD'); // 9..10 held
    seg(s, 8, 'xDDE'); // 8..11 held (overlaps the held one)
    seg(s, 7, 'C'); // 7 → 'C' start; then held 8..11 drains whole (start) then 9..10 is old
    expect(r.transcript).toBe('aaaaBBCxDDE');
    expect(r.starts).toEqual([true, false, true, true]);
    seg(s, 10, 'DEFG'); // 10..13: 'FG' remainder
    expect(r.starts.at(-1)).toBe(false);
    s.segment(14, Uint8Array.from([1, 2, 3]), 3);
    expect(r.starts.at(-1)).toBe(true);
  });
});
