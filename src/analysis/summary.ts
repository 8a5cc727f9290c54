import type { ConnectionResult, Summary } from '../report/model.js';

export function summarize(conns: ConnectionResult[], udpPackets: number): Summary {
  const s: Summary = {
    connections: conns.length,
    tlsConnections: 0,
    nonTlsConnections: 0,
    byKind: { full: 0, 'resumed-session-id': 0, 'resumed-ticket': 0, 'resumed-psk': 0, unknown: 0 },
    offeredResumption: 0,
    resumed: 0,
    rejected: 0,
    resumptionRateOffered: null,
    resumptionRateAll: null,
    complete: 0,
    incomplete: 0,
    helloRetry: 0,
    earlyDataOffered: 0,
    alerts: 0,
    versions: {},
    udpPackets,
  };
  let known = 0;
  let resumedOfOffered = 0;
  for (const c of conns) {
    if (!c.tls) {
      s.nonTlsConnections++;
      continue;
    }
    s.tlsConnections++;
    s.byKind[c.kind]++;
    const resumed = c.kind === 'resumed-session-id' || c.kind === 'resumed-ticket' || c.kind === 'resumed-psk' || c.resumed === true;
    if (resumed) s.resumed++;
    if (c.kind !== 'unknown' || c.resumed !== null) known++;
    if (c.offered && c.offered.length > 0) {
      s.offeredResumption++;
      if (resumed) resumedOfOffered++;
    }
    if (c.rejected === true) s.rejected++;
    if (c.complete === true) s.complete++;
    else if (c.complete === false) s.incomplete++;
    if (c.helloRetry) s.helloRetry++;
    if (c.earlyData !== null) s.earlyDataOffered++;
    if (c.alert) s.alerts++;
    const v = c.version ?? 'unknown';
    s.versions[v] = (s.versions[v] ?? 0) + 1;
  }
  s.resumptionRateOffered = s.offeredResumption > 0 ? round4(resumedOfOffered / s.offeredResumption) : null;
  s.resumptionRateAll = known > 0 ? round4(s.resumed / known) : null;
  return s;
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
