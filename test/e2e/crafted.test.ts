import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, readJson, sample } from '../helpers/analyze.js';

interface CraftedConn {
  clientPort: number;
  serverPort: number;
  clientIp: string;
  serverIp: string;
  version: string | null;
  sni: string | null;
  kind: string;
  offered: string[] | null;
  rejected: boolean | null;
  complete: boolean | null;
  note?: string;
}
interface CraftedFile {
  file: string;
  linkType: number;
  expectError: null | 'fatal' | 'stopped-early';
  warnings?: string[];
  packets?: number;
  truncatedPackets?: number;
  ipFragments?: number;
  connections: CraftedConn[];
}

// Hand-built captures around real TLS bytes: each exercises one reassembly, link-layer or
// file-format trap; the crafting script states what each must yield.
const manifest = readJson<CraftedFile[]>(sample(join('crafted', 'manifest.json')));

describe('crafted trap captures', () => {
  for (const f of manifest) {
    it(f.file, async () => {
      const r = await analyze(sample(join('crafted', f.file)));
      const cap = r.captures[0];
      if (f.expectError === 'fatal') {
        expect(cap.error).not.toBeNull();
        expect(cap.packets).toBe(0);
        expect(r.connections).toEqual([]);
        return;
      }
      if (f.expectError === 'stopped-early') {
        expect(cap.error).toMatch(/corrupt/);
        expect(cap.packets).toBeGreaterThan(0);
      } else {
        expect(cap.error).toBeNull();
      }
      if (f.packets !== undefined) expect(cap.packets).toBe(f.packets);
      if (f.truncatedPackets !== undefined) expect(cap.truncatedPackets).toBe(f.truncatedPackets);
      if (f.ipFragments !== undefined) expect(r.packets.ipFragments).toBe(f.ipFragments);
      if (f.warnings?.includes('truncated')) {
        expect(cap.truncatedPackets > 0 || cap.warnings.some((w) => /truncated/.test(w))).toBe(true);
      }
      const tls = r.connections.filter((c) => c.tls);
      expect(tls.length, 'TLS connections').toBe(f.connections.length);
      // Port reuse gives several connections with one 4-tuple: match them in order.
      const used = new Set<number>();
      for (const e of f.connections) {
        const c = tls.find((x) => !used.has(x.id) && x.client.port === e.clientPort && x.server.port === e.serverPort);
        expect(c, `connection ${e.clientPort} → ${e.serverPort}`).toBeDefined();
        if (!c) continue;
        used.add(c.id);
        const label = `${f.file} ${e.clientPort}: ${e.note ?? ''}`;
        expect(
          {
            client: c.client.ip,
            server: c.server.ip,
            version: c.version,
            sni: c.sni,
            kind: c.kind,
            offered: c.offered,
            rejected: c.rejected,
            complete: c.complete,
          },
          label,
        ).toEqual({
          client: e.clientIp,
          server: e.serverIp,
          version: e.version,
          sni: e.sni,
          kind: e.kind,
          offered: e.offered,
          rejected: e.rejected,
          complete: e.complete,
        });
      }
    });
  }

  it('a classic capture in big-endian and nanosecond variants classifies like the original', async () => {
    // The nanosecond file carries sub-microsecond times, so only timings may differ.
    const strip = (r: Awaited<ReturnType<typeof analyze>>) =>
      r.connections.map(({ start: _s, file: _f, durationMs: _d, handshakeMs: _h, flights, ...rest }) => ({
        ...rest,
        flights: flights.map(({ atMs: _a, ...f }) => f),
      }));
    const base = await analyze(sample('crafted/be.pcap'));
    const ns = await analyze(sample('crafted/nanosecond.pcap'));
    expect(strip(ns)).toEqual(strip(base));
    expect(ns.captures[0].format).toBe('pcap-ns');
    expect(base.captures[0].byteOrder).toBe('big');
  });

  it('keeps nanosecond timestamps exact', async () => {
    const r = await analyze(sample('crafted/nanosecond.pcap'));
    expect(r.connections[0].start).toMatch(/\.\d{9}Z$/);
    expect(r.captures[0].firstTime).toMatch(/\.\d{9}Z$/);
  });
});
