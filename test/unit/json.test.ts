import { describe, expect, it } from 'vitest';
import { jsonPieces, renderJson } from '../../src/report/json.js';
import { analyze, sample } from '../helpers/analyze.js';

describe('JSON report written in pieces', () => {
  for (const f of ['postmortem.pcap', 'mix.pcap', 'crafted/header-only.pcap']) {
    it(`${f}: the pieces join to exactly the one-string document`, async () => {
      const r = await analyze(sample(f));
      const pieces = [...jsonPieces(r)];
      expect(pieces.join('')).toBe(renderJson(r));
      if (r.connections.length > 1) expect(pieces.length).toBeGreaterThan(r.connections.length);
    });
  }
});
