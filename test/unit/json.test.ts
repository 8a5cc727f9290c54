import { describe, expect, it } from 'vitest';
import { connectionJsonPieces, jsonPieces, renderJson } from '../../src/report/json.js';
import { LineSpool } from '../../src/report/spool.js';
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

describe('a connection as JSON pieces', () => {
  it('the pieces are JSON.stringify of the connection, whatever its strings hold, and the line stays one-byte', async () => {
    const r = await analyze(sample('mix.pcap'));
    expect(r.connections.length).toBeGreaterThan(3);
    const tricky = [
      ...r.connections,
      // Text that looks like the key in places a capture controls: it is escaped there, so only the real key matches.
      { ...r.connections[0], sni: '"flightSummary":"" ▸ \\"flightSummary\\":\\"\\"', evidence: ['x"flightSummary":""', 'ü€𝄞'] },
      { ...r.connections[1], flightSummary: '', flights: [] },
      { ...r.connections[2], flightSummary: 'C:CH ▸ S:SH,Enc×3 ▸ C:Alert(handshake_failure)' },
    ];
    const spool = new LineSpool();
    for (const c of tricky) {
      const before = JSON.stringify(c);
      const pieces = connectionJsonPieces(c);
      expect(pieces.join('')).toBe(before);
      // The object is left as it was.
      expect(JSON.stringify(c)).toBe(before);
      spool.add(c.id, ...pieces);
    }
    // Written piece by piece, the bytes are those of the whole line.
    const back = Buffer.concat([...spool.inIdOrder('\n', '\n')].map((b) => Buffer.from(b))).toString('utf8').trim().split('\n');
    expect(back.sort()).toEqual(tricky.map((c) => JSON.stringify(c)).sort());
    spool.close();
    // The head piece of an ordinary connection carries no character beyond Latin-1.
    expect(/[^\u0000-\u00ff]/.test(connectionJsonPieces(r.connections[0])[0])).toBe(false);
  });
});
