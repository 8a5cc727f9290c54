import { describe, expect, it } from 'vitest';
import { formatEta, Progress } from '../../src/progress.js';

const MB = 1e6;

/** A stand-in terminal and clock: what the bar wrote, at times the test sets. */
function harness(files: string[]) {
  const out: string[] = [];
  let t = 1_000_000;
  const p = new Progress({ write: (s: string) => out.push(s), columns: 200 }, files, () => t);
  return { p, out, advance: (ms: number) => (t += ms), last: () => out[out.length - 1] };
}

describe('Progress', () => {
  it('one file: bytes of the total, rate from the start, ETA; redrawn at most every 100 ms', () => {
    const h = harness(['/nowhere/capture.pcap']);
    h.advance(2000);
    h.p.update(0, 100 * MB, 400 * MB);
    expect(h.last()).toBe('\rcapture.pcap [######------------------]  25% 100.0/400.0 MB 50.0 MB/s ETA 6s\x1b[K');
    h.advance(50);
    h.p.update(0, 110 * MB, 400 * MB);
    expect(h.out).toHaveLength(1);
    h.advance(1950);
    h.p.update(0, 200 * MB, 400 * MB);
    expect(h.last()).toContain(' 50% 200.0/400.0 MB 50.0 MB/s ETA 4s');
    h.p.done();
    expect(h.last()).toBe('\r\x1b[K');
  });

  it('several files are one bar: reports of interleaved workers add up by position, a path given twice counts twice', () => {
    const files = ['/nowhere/a.pcap', '/nowhere/a.pcap', '/nowhere/b.pcap'];
    const h = harness(files);
    h.p.update(0, 10 * MB, 100 * MB);
    h.advance(200);
    h.p.update(1, 30 * MB, 100 * MB);
    // b's size is not known yet: no total, so no percentage.
    expect(h.last()).toBe('\r3 files 40.0 MB read, 200.0 MB/s\x1b[K');
    h.advance(200);
    h.p.update(2, 60 * MB, 200 * MB);
    expect(h.last()).toContain(' 25% 100.0/400.0 MB 250.0 MB/s');
    h.advance(200);
    h.p.update(0, 100 * MB, 100 * MB);
    expect(h.last()).toBe('\r3 files [###########-------------]  48% 190.0/400.0 MB 316.7 MB/s ETA 1s\x1b[K');
    // A report for a position that does not exist is ignored.
    h.advance(200);
    h.p.update(7, 1e12, null);
    expect(h.out).toHaveLength(4);
  });

  it('stays silent below a few megabytes, and done() writes nothing when nothing was drawn', () => {
    const h = harness(['/nowhere/small.pcap']);
    h.advance(1000);
    h.p.update(0, 1 * MB, 2 * MB);
    h.p.done();
    expect(h.out).toEqual([]);
  });

  it('stdin has no size: bytes read and rate only', () => {
    const h = harness(['-']);
    h.advance(4000);
    h.p.update(0, 20 * MB, null);
    expect(h.last()).toBe('\rstdin 20.0 MB read, 5.0 MB/s\x1b[K');
  });

  it('formats ETAs without a 60th second', () => {
    expect(formatEta(0)).toBe('0s');
    expect(formatEta(5.2)).toBe('6s');
    expect(formatEta(59.5)).toBe('1m00s');
    expect(formatEta(119.5)).toBe('2m00s');
    expect(formatEta(3725)).toBe('62m05s');
  });
});
