import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/open.js';
import { pcapFile } from '../helpers/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'tlsflight-open-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readCapture from a file', () => {
  it('lets the event loop run and reports progress while a large file is decoded', async () => {
    // ~24 MiB of 1,500-byte records: many read chunks.
    const data = Uint8Array.from({ length: 1500 }, (_, i) => i & 0xff);
    const recs = Array.from({ length: 16_000 }, (_, i) => ({ sec: 1_700_000_000 + i, frac: i % 1_000_000, data }));
    const file = join(tmp, 'big.pcap');
    writeFileSync(file, pcapFile(recs));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const progress: number[] = [];
    let frames = 0;
    let checksum = 0;
    const started = performance.now();
    const r = await readCapture(
      file,
      (f) => {
        frames++;
        checksum = (checksum + f.data[0] + f.data[f.data.length - 1] + f.index) % 1_000_003;
        // Work per frame, as an analysis does: the whole read then takes a few hundred ms.
        const until = performance.now() + 0.02;
        while (performance.now() < until);
      },
      { onProgress: (n) => progress.push(n) },
    );
    clearInterval(timer);
    const elapsed = performance.now() - started;
    expect(r.problem).toBeNull();
    expect(frames).toBe(16_000);
    expect(checksum).toBe(recs.reduce((s, _, i) => (s + 0 + (1499 & 0xff) + i + 1) % 1_000_003, 0));
    expect(elapsed).toBeGreaterThan(200);
    // A 5 ms timer fires many times during the read, not once at its end.
    expect(ticks).toBeGreaterThan(elapsed / 5 / 10);
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.at(-1)).toBe(24 + 16_000 * (16 + 1500));
  });

  it('waits for what pause() returns before reading on, for a file and for gzip', async () => {
    const data = new Uint8Array(1000).fill(7);
    const recs = Array.from({ length: 6000 }, (_, i) => ({ sec: 1_700_000_000, frac: i, data }));
    const plain = join(tmp, 'paused.pcap');
    writeFileSync(plain, pcapFile(recs));
    const { gzipSync } = await import('node:zlib');
    const gz = join(tmp, 'paused.pcap.gz');
    writeFileSync(gz, gzipSync(pcapFile(recs)));
    for (const file of [plain, gz]) {
      let frames = 0;
      let release: (() => void) | null = null;
      const waits: number[] = [];
      const reading = readCapture(file, () => frames++, {
        // Hold the reading after the first chunk until the test lets it go.
        pause: () => (waits.length === 0 ? new Promise<void>((res) => { waits.push(frames); release = res; }) : null),
      });
      await new Promise((res) => setTimeout(res, 50));
      expect(waits).toHaveLength(1);
      expect(frames).toBe(waits[0]);
      expect(frames).toBeLessThan(6000);
      await new Promise((res) => setTimeout(res, 50));
      expect(frames).toBe(waits[0]);
      release!();
      const r = await reading;
      expect(r.problem).toBeNull();
      expect(frames).toBe(6000);
    }
  });
});

