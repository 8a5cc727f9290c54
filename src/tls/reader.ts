/**
 * Bounds-checked cursor over a byte range. Reading past the end never throws: it yields zeros or
 * empty slices and sets `bad`, so a parser can read a whole structure and check once at the end.
 */
export class ByteReader {
  pos: number;
  bad = false;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** Bytes left; 0 once a read has failed, so loops over malformed vectors always end. */
  get left(): number {
    return this.bad ? 0 : this.end - this.pos;
  }

  private need(n: number): boolean {
    if (this.bad || n > this.end - this.pos) {
      this.bad = true;
      return false;
    }
    return true;
  }

  u8(): number {
    if (!this.need(1)) return 0;
    return this.buf[this.pos++];
  }

  u16(): number {
    if (!this.need(2)) return 0;
    const b = this.buf;
    const v = (b[this.pos] << 8) | b[this.pos + 1];
    this.pos += 2;
    return v;
  }

  u24(): number {
    if (!this.need(3)) return 0;
    const b = this.buf;
    const v = (b[this.pos] << 16) | (b[this.pos + 1] << 8) | b[this.pos + 2];
    this.pos += 3;
    return v;
  }

  u32(): number {
    if (!this.need(4)) return 0;
    const b = this.buf;
    const v = ((b[this.pos] << 24) | (b[this.pos + 1] << 16) | (b[this.pos + 2] << 8) | b[this.pos + 3]) >>> 0;
    this.pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    if (!this.need(n)) return EMPTY;
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    if (this.need(n)) this.pos += n;
  }

  /** A vector with a length prefix of `lenBytes` bytes, as a sub-reader. */
  vec(lenBytes: 1 | 2 | 3): ByteReader {
    const n = lenBytes === 1 ? this.u8() : lenBytes === 2 ? this.u16() : this.u24();
    const start = this.pos;
    this.skip(n);
    const sub = new ByteReader(this.buf, start, this.bad ? start : start + n);
    sub.bad = this.bad;
    return sub;
  }
}

const EMPTY = new Uint8Array(0);

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
