import { basename } from 'node:path';

/** Inputs smaller than this finish before a bar would be worth drawing. */
const MIN_BYTES = 4 * 1024 * 1024;
const REDRAW_MS = 100;

/**
 * A one-line progress bar on stderr for long inputs: bytes read of the total when the size is
 * known, rate, ETA. Only on a terminal; callers skip it for --quiet.
 */
export class Progress {
  private last = 0;
  private start = Date.now();
  private file = '';
  private shown = false;

  private constructor(private readonly stream: NodeJS.WriteStream) {}

  static forStderr(_files: string[]): Progress | null {
    return process.stderr.isTTY ? new Progress(process.stderr) : null;
  }

  update(file: string, bytes: number, total: number | null): void {
    if (file !== this.file) {
      this.file = file;
      this.start = Date.now();
    }
    const now = Date.now();
    if (now - this.last < REDRAW_MS) return;
    if (bytes < MIN_BYTES && (total === null || total < MIN_BYTES)) return;
    this.last = now;
    const secs = Math.max((now - this.start) / 1000, 0.001);
    const rate = bytes / secs;
    const mb = (x: number) => (x / 1e6).toFixed(1);
    const name = basename(file === '-' ? 'stdin' : file).slice(0, 30);
    let line: string;
    if (total !== null && total > 0) {
      const frac = Math.min(bytes / total, 1);
      const width = 24;
      const fill = Math.round(frac * width);
      const eta = rate > 0 ? Math.max(0, (total - bytes) / rate) : 0;
      line = `${name} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(bytes)}/${mb(total)} MB ${mb(rate)} MB/s ETA ${formatEta(eta)}`;
    } else {
      line = `${name} ${mb(bytes)} MB read, ${mb(rate)} MB/s`;
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

function formatEta(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
}
