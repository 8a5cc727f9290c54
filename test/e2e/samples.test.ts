import { describe, expect, it } from 'vitest';
import { analyze, readJson, sample } from '../helpers/analyze.js';

interface Expected {
  clientPort: number | null;
  serverPort: number;
  version: string | null;
  sni: string | null;
  kind: string | null;
  offered: string[];
  rejected: boolean;
  helloRetry: boolean;
  earlyData: null | string;
  alert: string | null;
  tls: boolean;
}

// The generator writes what it configured and what the TLS stacks reported (isSessionReused,
// s_client); these tests hold the analyzer to that, connection by connection.
const manifest = readJson<Record<string, Expected[]>>(sample('manifest.json'));

describe('samples from real TLS stacks classify as generated', () => {
  for (const [file, expected] of Object.entries(manifest)) {
    it(file, async () => {
      const r = await analyze(sample(file));
      expect(r.captures[0].error).toBeNull();
      expect(r.connections.length).toBe(expected.length);
      for (const e of expected) {
        const c = r.connections.find((x) => x.client.port === e.clientPort && x.server.port === e.serverPort);
        expect(c, `connection from port ${e.clientPort}`).toBeDefined();
        if (!c) continue;
        const got = {
          tls: c.tls,
          version: c.version,
          sni: c.sni,
          kind: c.tls ? c.kind : null,
          offered: c.tls ? [...(c.offered ?? [])].sort() : [],
          rejected: c.tls ? c.rejected : false,
          helloRetry: c.helloRetry,
          earlyData: c.earlyData,
          alert: c.alert?.description ?? null,
        };
        expect(got, `connection from port ${e.clientPort}`).toEqual({
          tls: e.tls,
          version: e.version,
          sni: e.sni,
          kind: e.kind,
          offered: [...e.offered].sort(),
          rejected: e.rejected,
          helloRetry: e.helloRetry,
          earlyData: e.earlyData,
          alert: e.alert,
        });
      }
    });
  }

  it('every TLS connection that completed has a handshake time and the evidence it rests on', async () => {
    for (const file of Object.keys(manifest)) {
      const r = await analyze(sample(file));
      for (const c of r.connections.filter((x) => x.tls && x.kind !== 'unknown')) {
        expect(c.complete, `${file} #${c.id}`).toBe(true);
        expect(c.handshakeMs, `${file} #${c.id}`).toBeGreaterThan(0);
        expect(c.evidence.length, `${file} #${c.id}`).toBeGreaterThan(0);
      }
    }
  });

  it('links a ticket resumption to the connection whose NewSessionTicket issued it', async () => {
    const r = await analyze(sample('tls12-ticket.pcap'));
    const [first, second] = r.connections;
    expect(first.ticketIssued).toBe(true);
    expect(second.kind).toBe('resumed-ticket');
    expect(second.ambiguous).toBe(false);
    expect(second.resumedFrom).toBe(first.id);
    expect(second.ticketOffered?.hash).toBe(first.tickets[0].hash);
  });

  it('links a session-ID resumption to the full handshake that issued the ID', async () => {
    const r = await analyze(sample('tls12-session-id.pcap'));
    const [first, second] = r.connections;
    expect(second.kind).toBe('resumed-session-id');
    expect(second.resumedFrom).toBe(first.id);
    expect(second.sessionId.client).toBe(first.sessionId.server);
    expect(second.evidence).toContain('ServerHello echoes client session ID');
    expect(second.evidence).toContain('server ChangeCipherSpec directly after ServerHello');
  });

  it('TLS 1.3 compatibility-mode session ID echo and dummy ChangeCipherSpec are not resumption', async () => {
    const r = await analyze(sample('tls13-psk.pcap'));
    const full = r.connections[0];
    expect(full.sessionId.client).not.toBeNull();
    expect(full.sessionId.server).toBe(full.sessionId.client);
    expect(full.flightSummary).toContain('CCS');
    expect(full.kind).toBe('full');
    expect(full.offered).toEqual([]);
    const psk = r.connections[1];
    expect(psk.evidence).toContain('ServerHello pre_shared_key selected_identity=0');
    expect(psk.pskMode).toBe('psk_dhe_ke');
  });

  it('names the key exchange group from ServerKeyExchange (TLS 1.2) and key_share (TLS 1.3)', async () => {
    const r = await analyze(sample('mix.pcap'));
    const full12 = r.connections.find((c) => c.version === 'TLS1.2' && c.kind === 'full')!;
    const full13 = r.connections.find((c) => c.version === 'TLS1.3' && c.kind === 'full')!;
    expect(full12.group).toBe('x25519');
    expect(full13.group).toBe('x25519');
    // An abbreviated TLS 1.2 handshake has no ServerKeyExchange.
    expect(r.connections.find((c) => c.kind === 'resumed-session-id')!.group).toBeNull();
  });

  it('the rejected ticket is reported with what was offered', async () => {
    const r = await analyze(sample('tls12-ticket-rejected.pcap'));
    const c = r.connections[1];
    expect(c.kind).toBe('full');
    expect(c.rejected).toBe(true);
    expect(c.ticketOffered?.hash).toBe(r.connections[0].tickets[0].hash);
    expect(r.summary.rejected).toBe(1);
    expect(r.summary.resumptionRateOffered).toBe(0);
  });
});
