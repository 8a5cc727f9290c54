import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, CORPUS, corpusFiles, ROOT } from '../helpers/analyze.js';

const present = existsSync(CORPUS);
if (!present) console.warn(`corpus tests skipped: ${CORPUS} not found`);

describe.skipIf(!present)('real public captures (../shared/corpus)', () => {
  it('the CLI runner reads every file without a crash or a hang', () => {
    // A separate process with a deadline: a parser stuck in a loop cannot be interrupted in-process.
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'corpus.mjs'), CORPUS], { encoding: 'utf8', timeout: 120_000 });
    expect(r.signal, 'corpus run killed (hang)').toBeNull();
    expect(r.stdout).toMatch(/\d+ files, 0 crashed/);
    expect(r.status).toBe(0);
  });

  it('every file gives a report with sane numbers', async () => {
    for (const file of corpusFiles()) {
      const r = await analyze(file);
      const s = r.summary;
      expect(s.tlsConnections + s.nonTlsConnections, file).toBe(s.connections);
      expect(Object.values(s.byKind).reduce((a, b) => a + b, 0), file).toBe(s.tlsConnections);
      for (const c of r.connections) {
        if (c.kind === 'unknown' && c.tls) expect(c.reason, `${file} #${c.id}`).toBeTruthy();
        if (c.kind !== 'unknown') expect(c.evidence.length, `${file} #${c.id}`).toBeGreaterThan(0);
        if (c.rejected) expect(c.offered?.length, `${file} #${c.id}`).toBeGreaterThan(0);
      }
    }
  });

  // Outcomes SOURCES.md documents for these files, checked against the bytes by hand.
  const known: [string, (r: Awaited<ReturnType<typeof analyze>>) => void][] = [
    ['ndpi/safari.pcap', (r) => {
      expect(r.summary.byKind.full).toBe(2);
      expect(r.summary.byKind['resumed-session-id']).toBe(5);
    }],
    ['ndpi/firefox.pcap', (r) => {
      expect(r.summary.byKind.full).toBe(1);
      expect(r.summary.byKind['resumed-psk']).toBe(5);
    }],
    ['ndpi/facebook.pcap', (r) => {
      expect(r.summary.byKind.full).toBe(1);
      expect(r.summary.byKind['resumed-ticket']).toBe(1);
      const resumed = r.connections.find((c) => c.kind === 'resumed-ticket')!;
      const full = r.connections.find((c) => c.kind === 'full')!;
      expect(full.ticketIssued).toBe(true);
      // The resumed connection presents a different ticket (bytes differ from frame 14's), so it
      // is not linked, and with a session ID also offered the choice is marked ambiguous.
      expect(resumed.ticketOffered!.hash).not.toBe(full.tickets[0].hash);
      expect(resumed.resumedFrom).toBeNull();
      expect(resumed.ambiguous).toBe(true);
    }],
    ['arkime/https-generalizedtime.pcap', (r) => {
      const c = r.connections[0];
      expect(c.kind).toBe('full');
      expect(c.offered).toContain('ticket');
      expect(c.rejected).toBe(true);
    }],
    ['ndpi/salesforce.pcap', (r) => {
      const c = r.connections[0];
      expect(c.kind).toBe('full');
      expect(c.offered).toEqual(['session-id']);
      expect(c.rejected).toBe(true);
    }],
    ['s2n-tls/alpns.pcap', (r) => {
      expect(r.summary.byKind['resumed-ticket']).toBe(11);
    }],
    ['zeek/tls13_psk_succesfull.pcap', (r) => {
      expect(r.connections[0].kind).toBe('resumed-psk');
    }],
    ['ndpi/tls_1.3_unidirectional_server.pcapng', (r) => {
      // Only the server side was captured, yet its ServerHello alone proves PSK resumption.
      expect(r.connections[0].kind).toBe('resumed-psk');
      expect(r.connections[0].offered).toBeNull();
    }],
    ['ndpi/tls_1.2_unidirectional_server_no_cert.pcapng', (r) => {
      const c = r.connections[0];
      expect(c.kind).toBe('unknown');
      expect(c.resumed).toBe(true);
      expect(c.reason).toMatch(/ClientHello is not in the capture/);
    }],
    ['arkime/ssl-selfsign.pcap', (r) => {
      // SSLv3 with mutual certificate authentication: the server's CertificateRequest.
      expect(r.connections[0].version).toBe('SSL3.0');
      expect(r.connections[0].clientCertRequested).toBe(true);
    }],
    ['zeek/hrr.pcap', (r) => {
      expect(r.connections[0].helloRetry).toBe(true);
      expect(r.connections[0].version).toBe('TLS1.3');
    }],
    ['ndpi/pgsql2.pcapng', (r) => {
      // PostgreSQL SSLRequest first, then TLS on the same connection.
      expect(r.summary.tlsConnections).toBe(1);
      expect(r.connections.find((c) => c.tls)!.helloRetry).toBe(true);
    }],
    ['ndpi/smtp-starttls.pcap', (r) => {
      expect(r.summary.tlsConnections).toBe(2);
    }],
    ['suricata-verify/tls_DER-incomplete-header.pcap', (r) => {
      expect(r.captures[0].error).toMatch(/corrupt packet record/);
      expect(r.captures[0].packets).toBe(6);
    }],
    ['zeek/gtp6_gtp_0x32.pcap', (r) => {
      // TCP inside GTP-U (UDP 2152): a TLS 1.0 session-ID resumption, frames 5 and 7.
      expect(r.connections).toHaveLength(1);
      expect(r.connections[0].kind).toBe('resumed-session-id');
      expect(r.connections[0].server).toEqual({ ip: '173.194.69.188', port: 5228 });
    }],
    ['zeek/chrome-63.0.3211.0-canary-tls_experiment.pcap', (r) => {
      // Version 0x7e01 is Chrome's 2017 TLS 1.3 experiment: the echoed session ID is compatibility mode.
      expect(r.connections[0].version).toBe('TLS1.3');
      expect(r.connections[0].kind).toBe('full');
      expect(r.connections[0].offered).toEqual([]);
    }],
    ['zeek/tls-fragmented-handshake.pcap.gz', (r) => {
      expect(r.captures[0].compressed).toBe('gzip');
      expect(r.connections[0].kind).toBe('full');
    }],
  ];
  for (const [file, check] of known) {
    it(file, async () => {
      check(await analyze(join(CORPUS, file)));
    });
  }
});
