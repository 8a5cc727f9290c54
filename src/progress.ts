import { basename } from 'node:path';
import { sourceSize } from './capture/open.js';

/** Inputs smaller than this finish before a bar would be worth drawing. */
const MIN_BYTES = 4 * 1024 * 1024;
const REDRAW_MS = 100;

/** What the bar writes to: stderr, or a stand-in in tests. */
export interface ProgressStream {
  write(s: string): unknown;
  columns?: number;
}

/**
 * A one-line progress bar on stderr for long inputs: bytes read of the total when the size is
 * known, rate, ETA. Only on a terminal; callers skip it for --quiet.
 *
 * Several files are one bar over all of them: with worker threads their reports interleave, and
 * a bar per file jumped between files and restarted its rate at every jump.
 */
export class Progress {
  private last = -Infinity;
  private readonly start: number;
  private shown = false;
  /** Bytes read of each input, by its position on the command line (a path may be given twice). */
  private readonly read: number[];
  /** Size of each input; null for stdin and pipes until a report says otherwise. */
  private readonly sizes: (number | null)[];

  constructor(
    private readonly stream: ProgressStream,
    private readonly files: string[],
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
    this.read = files.map(() => 0);
    this.sizes = files.map((f) => sourceSize(f));
  }

  static forStderr(files: string[]): Progress | null {
    return process.stderr.isTTY ? new Progress(process.stderr, files) : null;
  }

  /** `bytes` of input `index` read so far, of `size` when known. */
  update(index: number, bytes: number, size: number | null): void {
    if (index < 0 || index >= this.read.length) return;
    this.read[index] = bytes;
    if (size !== null) this.sizes[index] = size;
    const now = this.now();
    if (now - this.last < REDRAW_MS) return;
    let done = 0;
    for (const n of this.read) done += n;
    const total = this.sizes.every((s) => s !== null) ? this.sizes.reduce<number>((a, s) => a + (s ?? 0), 0) : null;
    if (done < MIN_BYTES && (total === null || total < MIN_BYTES)) return;
    this.last = now;
    const secs = Math.max((now - this.start) / 1000, 0.001);
    const rate = done / secs;
    const file = this.files[0];
    const name = this.files.length === 1 ? basename(file === '-' ? 'stdin' : file).slice(0, 30) : `${this.files.length} files`;
    let line: string;
    if (total !== null && total > 0) {
      const frac = Math.min(done / total, 1);
      const width = 24;
      const fill = Math.round(frac * width);
      const eta = rate > 0 ? Math.max(0, (total - done) / rate) : 0;
      const [unit, div] = total >= 1e10 ? ['GB', 1e9] : ['MB', 1e6];
      const amount = (x: number) => (x / div).toFixed(1);
      line = `${name} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${amount(done)}/${amount(total)} ${unit} ${(rate / 1e6).toFixed(1)} MB/s ETA ${formatEta(eta)}`;
    } else {
      line = `${name} ${(done / 1e6).toFixed(1)} MB read, ${(rate / 1e6).toFixed(1)} MB/s`;
    }
    const cols = this.stream.columns || 80;
    this.stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

export function formatEta(s: number): string {
  const whole = Math.ceil(s);
  if (whole < 60) return `${whole}s`;
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}
