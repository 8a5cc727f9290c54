import { closeSync, openSync, readSync, unlinkSync, writeSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes up to three strings one after the other as UTF-8 into `buf` at `at` (which has room for
 * 3 bytes per character) and returns the bytes written: a line given in pieces, not joined first.
 */
export function writePieces(buf: Buffer, at: number, a: string, b: string, c: string): number {
  let n = buf.write(a, at, 'utf8');
  if (b.length > 0) n += buf.write(b, at + n, 'utf8');
  if (c.length > 0) n += buf.write(c, at + n, 'utf8');
  return n;
}

/** Bytes kept in memory before the spool moves to a temporary file. */
const DEFAULT_MEMORY_BYTES = 4 * 1024 * 1024;
const BLOCK = 1024 * 1024;
/** Bytes read at a time when the spool is read back from its file. */
const WINDOW = 4 * 1024 * 1024;

/**
 * Report lines of finished connections, kept in the order connections end and read back in id
 * order. A JSON report lists connections by id, but its summary comes first and needs every
 * connection: holding the results (or their JSON) in memory grew with the capture, ~10 KB per
 * connection. The spool keeps a few bytes of index per connection; the lines themselves stay in
 * memory up to a budget and go to a temporary file beyond it, deleted when the spool is closed.
 */
export class LineSpool {
  private ids = new Int32Array(1024);
  private offsets = new Float64Array(1024);
  private lengths = new Int32Array(1024);
  private count = 0;
  /** Bytes of lines so far (the offset of the next line). */
  private size = 0;
  private blocks: Buffer[] = [];
  private block = Buffer.allocUnsafe(BLOCK);
  private used = 0;
  private inMemory = 0;
  private fd = -1;
  private dir: string | null = null;
  private file: string | null = null;
  /** Where the file's contents end: blocks before this were written to it. */
  private fileBytes = 0;

  /**
   * `prefix` goes before every line (the JSON document's indentation): written here rather than
   * concatenated, because a concatenated string must be flattened, a copy of the whole line.
   */
  constructor(
    private readonly memoryBytes = DEFAULT_MEMORY_BYTES,
    private readonly prefix = '',
  ) {}

  get lines(): number {
    return this.count;
  }

  /** Whether the lines went to a temporary file. */
  get spilled(): boolean {
    return this.fd >= 0;
  }

  /** Adds a line, given as one string or as pieces written one after the other. */
  add(id: number, line: string, more1 = '', more2 = ''): void {
    if (this.count === this.ids.length) this.grow();
    // A line larger than the free space starts a new block, sized for it when it alone is bigger.
    const max = (this.prefix.length + line.length + more1.length + more2.length) * 3;
    if (this.block.length - this.used < max) {
      this.sealBlock();
      if (max > this.block.length) this.block = Buffer.allocUnsafe(max);
    }
    const p = this.prefix.length > 0 ? this.block.write(this.prefix, this.used, 'utf8') : 0;
    const n = p + writePieces(this.block, this.used + p, line, more1, more2);
    this.ids[this.count] = id;
    this.offsets[this.count] = this.size;
    this.lengths[this.count] = n;
    this.count++;
    this.used += n;
    this.size += n;
  }

  /**
   * The lines in ascending id order, as byte chunks of about `chunk` bytes, each line followed by
   * `sep` except the last, which is followed by `last`. A chunk is valid until the next is asked
   * for: one buffer serves them all (a fresh one each was 75 MB of short-lived memory on a report
   * of 50,000 connections).
   */
  *inIdOrder(sep: string, last: string, chunk = BLOCK): Generator<Buffer> {
    this.sealBlock();
    const order = this.order();
    const out = Buffer.allocUnsafe(chunk);
    let o = 0;
    const reader = this.fd >= 0 ? new WindowReader(this.fd) : null;
    const mem = this.fd >= 0 ? null : Buffer.concat(this.blocks);
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const off = this.offsets[i];
      const len = this.lengths[i];
      const tail = k === order.length - 1 ? last : sep;
      if (o + len + tail.length > out.length && o > 0) {
        yield out.subarray(0, o);
        o = 0;
      }
      const bytes = reader ? reader.read(off, len) : mem!.subarray(off, off + len);
      if (len + tail.length > out.length) {
        yield Buffer.concat([bytes, Buffer.from(tail)]);
        continue;
      }
      bytes.copy(out, o);
      o += len;
      o += out.write(tail, o, 'latin1');
    }
    if (o > 0) yield out.subarray(0, o);
  }

  /** Deletes the temporary file, if any. Safe to call more than once. */
  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    if (this.file) {
      try {
        unlinkSync(this.file);
        rmdirSync(this.dir!);
      } catch {
        // Already gone: nothing to clean.
      }
      this.file = null;
    }
    this.blocks = [];
  }

  /** Indexes of the lines sorted by id; lines mostly end in id order, which the sort is quick on. */
  private order(): Int32Array {
    const order = new Int32Array(this.count);
    let sorted = true;
    for (let i = 0; i < this.count; i++) {
      order[i] = i;
      if (i > 0 && this.ids[i] < this.ids[i - 1]) sorted = false;
    }
    if (sorted) return order;
    if (this.count >= 2 ** 21) return Int32Array.from([...order].sort((a, b) => this.ids[a] - this.ids[b]));
    // id × 2^21 + index sorts by id and keeps the index recoverable, in one numeric sort.
    const keys = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) keys[i] = this.ids[i] * 2 ** 21 + i;
    keys.sort();
    for (let i = 0; i < this.count; i++) order[i] = keys[i] % 2 ** 21;
    return order;
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const ids = new Int32Array(n);
    ids.set(this.ids);
    const offsets = new Float64Array(n);
    offsets.set(this.offsets);
    const lengths = new Int32Array(n);
    lengths.set(this.lengths);
    this.ids = ids;
    this.offsets = offsets;
    this.lengths = lengths;
  }

  private sealBlock(): void {
    if (this.used === 0) return;
    const full = this.block.subarray(0, this.used);
    if (this.fd >= 0 || this.inMemory + this.used > this.memoryBytes) {
      this.spill(full);
      this.used = 0;
      return;
    }
    this.blocks.push(full);
    this.inMemory += this.used;
    this.block = Buffer.allocUnsafe(BLOCK);
    this.used = 0;
  }

  /** Writes `bytes` (and, the first time, everything kept in memory) to the temporary file. */
  private spill(bytes: Buffer): void {
    if (this.fd < 0) {
      this.dir = mkdtempSync(join(tmpdir(), 'tlsflight-'));
      this.file = join(this.dir, 'connections.jsonl');
      this.fd = openSync(this.file, 'w+', 0o600);
      // Unlinked at once where the system allows it, so not even a crash leaves the file behind.
      try {
        unlinkSync(this.file);
        rmdirSync(this.dir);
        this.file = null;
      } catch {
        // Windows keeps open files: close() deletes it.
      }
      for (const b of this.blocks) this.writeAll(b);
      this.blocks = [];
      this.inMemory = 0;
    }
    this.writeAll(bytes);
  }

  private writeAll(b: Buffer): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done, this.fileBytes + done);
    this.fileBytes += b.length;
  }
}

/**
 * Reads lines back from the spool file in id order. Lines of neighbouring ids are near each other
 * in the file, so a window read ahead serves most of them; a line far from the window (a
 * long-lived connection, which ended late) is read on its own without moving the window.
 */
class WindowReader {
  private buf = Buffer.allocUnsafe(WINDOW);
  private start = 0;
  private end = 0;
  private single = Buffer.allocUnsafe(64 * 1024);

  constructor(private readonly fd: number) {}

  read(off: number, len: number): Buffer {
    if (off >= this.start && off + len <= this.end) return this.buf.subarray(off - this.start, off - this.start + len);
    if (len <= WINDOW / 2 && off >= this.end && off < this.end + WINDOW) {
      // Lines of the next ids may have been written a little before this one (their connections
      // ended first): the new window starts a quarter of itself earlier.
      const start = Math.max(0, off - WINDOW / 4);
      this.fill(this.buf, start, WINDOW);
      this.start = start;
      this.end = start + this.filled;
      if (off + len <= this.end) return this.buf.subarray(off - start, off - start + len);
    }
    if (len > this.single.length) this.single = Buffer.allocUnsafe(len);
    this.fill(this.single, off, len);
    return this.single.subarray(0, len);
  }

  private filled = 0;

  private fill(into: Buffer, pos: number, want: number): void {
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, into, got, want - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    this.filled = got;
  }
}
