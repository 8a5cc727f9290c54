import type { ConnectionResult, Summary } from '../report/model.js';

/** Builds the summary one connection at a time, so streamed reports need not keep connections. */
export class SummaryBuilder {
  private readonly s: Summary = {
    connections: 0,
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
    udpPackets: 0,
  };
  private known = 0;
  private resumedOfOffered = 0;

  add(c: ConnectionResult): void {
    const s = this.s;
    s.connections++;
    if (!c.tls) {
      s.nonTlsConnections++;
      return;
    }
    s.tlsConnections++;
    s.byKind[c.kind]++;
    const resumed = c.kind === 'resumed-session-id' || c.kind === 'resumed-ticket' || c.kind === 'resumed-psk' || c.resumed === true;
    if (resumed) s.resumed++;
    if (c.kind !== 'unknown' || c.resumed !== null) this.known++;
    if (c.offered && c.offered.length > 0) {
      s.offeredResumption++;
      if (resumed) this.resumedOfOffered++;
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

  result(udpPackets: number): Summary {
    const s = { ...this.s, byKind: { ...this.s.byKind }, versions: { ...this.s.versions }, udpPackets };
    s.resumptionRateOffered = s.offeredResumption > 0 ? round4(this.resumedOfOffered / s.offeredResumption) : null;
    s.resumptionRateAll = this.known > 0 ? round4(s.resumed / this.known) : null;
    return s;
  }
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
