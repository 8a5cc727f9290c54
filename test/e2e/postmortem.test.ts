import { describe, expect, it } from 'vitest';
import type { ConnectionResult, Report } from '../../src/report/model.js';
import { analyze, readJson, sample } from '../helpers/analyze.js';

interface Expected {
  connections: { clientPort: number; serverIp: string; serverPort: number; sni: string; version: string; kind: string; offered: string[]; rejected: boolean }[];
  findings: { type: string; sni: string; issuer?: string; rejectedBy?: string; server?: string; clientPorts: number[]; rejectedClientPorts?: number[]; lifetimeHint?: number; ageSeconds?: number }[];
  healthy: { sni: string; server: string; clientPorts: number[] }[];
}

// The generator's names for findings, and the analyzer's. "Never issues" shows on the wire as
// session IDs that are handed out and never honoured, which the analyzer names for what it sees.
const TYPE: Record<string, string> = {
  'ticket-not-shared-across-backends': 'ticket-keys-not-shared',
  'session-cache-not-shared': 'session-cache-not-shared',
  'expired-ticket': 'expired-ticket',
  'client-never-offers': 'client-never-offers',
  'server-never-issues': 'server-never-resumes',
  'tls13-ticket-reuse': 'tls13-ticket-reuse',
};

const want = readJson<Expected>(sample('postmortem.json'));
const ep = (e: { ip: string; port: number }) => `${e.ip}:${e.port}`;

describe('postmortem sample: findings with the right evidence', async () => {
  const r: Report = await analyze(sample('postmortem.pcap'));
  const byPort = new Map<number, ConnectionResult>(r.connections.map((c) => [c.client.port, c]));
  const ids = (ports: number[]) => ports.map((p) => byPort.get(p)!.id).sort((a, b) => a - b);

  it('classifies every connection as generated', () => {
    expect(r.connections.length).toBe(want.connections.length);
    for (const e of want.connections) {
      const c = byPort.get(e.clientPort)!;
      expect({ server: ep(c.server), sni: c.sni, version: c.version, kind: c.kind, offered: [...(c.offered ?? [])].sort(), rejected: c.rejected }, `port ${e.clientPort}`).toEqual({
        server: `${e.serverIp}:${e.serverPort}`,
        sni: e.sni,
        version: e.version,
        kind: e.kind,
        offered: [...e.offered].sort(),
        rejected: e.rejected,
      });
    }
  });

  for (const f of want.findings) {
    it(`${f.type} (${f.sni})`, () => {
      const type = TYPE[f.type];
      const server = f.rejectedBy ?? f.server;
      const evidence = f.type === 'server-never-issues' ? f.rejectedClientPorts! : f.clientPorts;
      const match = r.findings.filter((x) => x.type === type && (!server || ep(x.server!) === server));
      expect(match.length, `${type} at ${server}`).toBe(1);
      const got = match[0];
      expect([...got.connections].sort((a, b) => a - b)).toEqual(ids(evidence));
      expect(got.count).toBe(evidence.length);
      expect(got.sni).toBe(f.sni);
      expect(got.explanation.length).toBeGreaterThan(40);
      if (f.issuer) expect(got.title).toContain(f.issuer);
      if (f.lifetimeHint !== undefined) expect(got.explanation).toContain(`lifetime hint of ${f.lifetimeHint} s`);
      if (type === 'ticket-keys-not-shared') expect(got.hints.join(' ')).toMatch(/ssl_session_ticket_key.*SSLSessionTicketKeyFile.*tls-ticket-keys/);
      if (type === 'session-cache-not-shared') expect(got.hints.join(' ')).toMatch(/ssl_session_cache.*SSLSessionCache/);
    });
  }

  it('names no finding for the healthy server and nothing beyond the expected ones', () => {
    for (const h of want.healthy) expect(r.findings.filter((x) => x.server && ep(x.server) === h.server)).toEqual([]);
    expect(r.findings.length).toBe(want.findings.length);
  });

  it('the expired ticket is linked to its origin with its age and lifetime', () => {
    const f = want.findings.find((x) => x.type === 'expired-ticket')!;
    const c = byPort.get(f.clientPorts[0])!;
    expect(c.origin?.via).toBe('ticket');
    expect(c.origin?.lifetimeHint).toBe(f.lifetimeHint);
    expect(c.origin!.ageS).toBeGreaterThan(f.lifetimeHint!);
    expect(Math.abs(c.origin!.ageS - f.ageSeconds!)).toBeLessThan(0.5);
    expect(c.origin?.sameServer).toBe(true);
  });

  it('per-server statistics add up and show the saving of resumption', () => {
    const tls = r.connections.filter((c) => c.tls).length;
    expect(r.servers.reduce((n, s) => n + s.connections, 0)).toBe(tls);
    const shopA = r.servers.find((s) => ep(s.server) === '127.0.0.2:8443' && s.sni === 'shop.tlsflight.test')!;
    expect(shopA.resumed.ticket).toBeGreaterThan(0);
    expect(shopA.rejected).toBeGreaterThan(0);
    expect(shopA.ticketsIssued).toBeGreaterThan(0);
    expect(shopA.savingRoundTrips).toBe(1);
    expect(shopA.handshake.full.medianMs).not.toBeNull();
    expect(r.headline).toMatch(/resumption offers accepted/);
  });
});
