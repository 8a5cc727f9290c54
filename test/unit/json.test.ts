import { describe, expect, it } from 'vitest';
import { jsonPieces, renderJson } from '../../src/report/json.js';
import { analyze, sample } from '../helpers/analyze.js';

describe('JSON report written in pieces', () => {
  for (const f of ['postmortem.pcap', 'mix.pcap', 'crafted/header-only.pcap']) {
    it(`${f}: the pieces form the report as one JSON document, a line per connection`, async () => {
      const r = await analyze(sample(f));
      const pieces = [...jsonPieces(r)];
      const text = pieces.join('');
      expect(text).toBe(renderJson(r));
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(r)));
      if (r.connections.length > 1) expect(pieces.length).toBeGreaterThan(r.connections.length);
      const lines = text.split('\n');
      for (const c of r.connections) expect(lines).toContain(`    ${JSON.stringify(c)}${c === r.connections[r.connections.length - 1] ? '' : ','}`);
    });
  }
});
