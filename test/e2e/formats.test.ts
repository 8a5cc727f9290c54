import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { analyze, sample, SAMPLES } from '../helpers/analyze.js';

// Everything but the capture metadata: connection order, verdicts, evidence, timings, counts.
function comparable(r: Report) {
  return {
    summary: r.summary,
    packets: r.packets,
    connections: r.connections.map(({ file: _f, start, ...c }) => ({ ...c, start: start.replace(/\.(\d{6})\d*Z$/, '.$1Z') })),
  };
}

const originals = readdirSync(SAMPLES).filter((n) => n.endsWith('.pcap'));

describe('the same capture in every format classifies identically', () => {
  for (const name of originals) {
    const base = name.replace(/\.pcap$/, '');
    it(base, async () => {
      const want = comparable(await analyze(sample(name)));
      expect(want.connections.length).toBeGreaterThan(0);
      const variants: [string, string, 'gzip' | null][] = [
        [`${base}.pcapng`, 'pcapng', null],
        [`${base}.ns.pcap`, 'pcap-ns', null],
        [`${base}.pcap.gz`, 'pcap', 'gzip'],
        [`${base}.pcapng.gz`, 'pcapng', 'gzip'],
      ];
      for (const [file, format, compressed] of variants) {
        const r = await analyze(join(SAMPLES, 'variants', file));
        expect(r.captures[0].format, file).toBe(format);
        expect(r.captures[0].compressed, file).toBe(compressed);
        expect(r.captures[0].error, file).toBeNull();
        expect(comparable(r), file).toEqual(want);
      }
    });
  }
});
