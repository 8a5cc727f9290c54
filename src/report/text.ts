import type { ConnectionResult, Report } from './model.js';

export interface TextOptions {
  color: boolean;
  /** Show evidence, flights and details for every connection. */
  verbose: boolean;
  /** Connections shown in the table (0 = all). */
  limit: number;
}

const KIND_LABEL: Record<string, string> = {
  full: 'full',
  'resumed-session-id': 'resumed (session ID)',
  'resumed-ticket': 'resumed (ticket)',
  'resumed-psk': 'resumed (PSK)',
  unknown: 'unknown',
};

function paint(on: boolean, code: string, s: string): string {
  return on ? `\x1b[${code}m${s}\x1b[0m` : s;
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}

function endpoint(e: { ip: string; port: number }): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

function kindColor(c: ConnectionResult): string {
  if (c.kind === 'unknown') return '33';
  if (c.rejected) return '31';
  return c.kind === 'full' ? '0' : '32';
}

function offeredText(c: ConnectionResult): string {
  if (c.offered === null) return '?';
  if (c.offered.length === 0) return '-';
  const base = c.offered.join('+');
  return c.rejected === true ? `${base} REJECTED` : c.rejected === null ? `${base} (?)` : base;
}

/** Pads by visible width (colour codes excluded). */
function pad(s: string, w: number): string {
  // eslint-disable-next-line no-control-regex
  const visible = s.replace(/\x1b\[[0-9;]*m/g, '').length;
  return visible >= w ? s : s + ' '.repeat(w - visible);
}

export function renderText(r: Report, o: TextOptions): string {
  const L: string[] = [];
  const s = r.summary;
  const bold = (x: string) => paint(o.color, '1', x);
  for (const cap of r.captures) {
    const parts = [`${cap.format ?? 'unreadable'}${cap.compressed ? '+gzip' : ''}`, `${cap.packets} packets`];
    if (cap.linkTypes.length) parts.push(cap.linkTypes.join('/'));
    if (cap.firstTime) parts.push(`${cap.firstTime} +${cap.durationS}s`);
    if (cap.truncatedPackets) parts.push(`${cap.truncatedPackets} cut by snaplen`);
    if (cap.droppedPackets) parts.push(`${cap.droppedPackets} dropped by the capture`);
    L.push(`${bold(cap.file)}: ${parts.join(', ')}`);
    if (cap.error) L.push(paint(o.color, '31', `  error: ${cap.error}`));
    for (const w of cap.warnings) L.push(paint(o.color, '33', `  warning: ${w}`));
  }
  for (const w of r.warnings) L.push(paint(o.color, '33', `warning: ${w}`));
  L.push('');
  if (s.tlsConnections === 0) {
    const udp = s.udpPackets > 0 ? `, ${s.udpPackets} UDP packet${s.udpPackets === 1 ? '' : 's'}: QUIC and DTLS are not analyzed` : '';
    L.push(bold(`No TLS handshakes found`) + ` (${s.connections} TCP connection${s.connections === 1 ? '' : 's'}${udp}).`);
    return L.join('\n') + '\n';
  }
  L.push(
    bold(`${s.tlsConnections} TLS connection${s.tlsConnections === 1 ? '' : 's'}`) +
      ` (of ${s.connections} TCP): ` +
      [
        `${s.byKind.full} full`,
        `${s.byKind['resumed-session-id']} resumed by session ID`,
        `${s.byKind['resumed-ticket']} by ticket`,
        `${s.byKind['resumed-psk']} by PSK`,
        `${s.byKind.unknown} unknown`,
      ].join(', '),
  );
  L.push(
    `Resumption: ${s.offeredResumption} offered, ${s.resumed} resumed, ` +
      paint(o.color && s.rejected > 0, '31', `${s.rejected} rejected`) +
      ` — rate ${pct(s.resumptionRateOffered)} of offers, ${pct(s.resumptionRateAll)} of all`,
  );
  const extra: string[] = [];
  extra.push(Object.entries(s.versions).map(([v, n]) => `${v} ${n}`).join(', '));
  if (s.helloRetry) extra.push(`${s.helloRetry} HelloRetryRequest`);
  if (s.earlyDataOffered) extra.push(`${s.earlyDataOffered} 0-RTT offered`);
  if (s.alerts) extra.push(`${s.alerts} with alerts`);
  if (s.incomplete) extra.push(`${s.incomplete} incomplete`);
  L.push(`Versions: ${extra.join('; ')}`);
  L.push('');
  L.push(bold(r.headline));
  if (r.findings.length > 0) {
    L.push('');
    L.push(bold('Findings:'));
    const mark: Record<string, string> = { problem: paint(o.color, '31', 'PROBLEM'), warning: paint(o.color, '33', 'WARNING'), info: 'info' };
    for (const f of r.findings) {
      const ids = f.connections.length > 0 ? `  [#${f.connections.slice(0, 8).join(', #')}${f.count > 8 ? ', …' : ''}]` : '';
      L.push(`  ${mark[f.severity]}  ${f.title}${ids}`);
      if (o.verbose) {
        L.push(`           ${f.explanation}`);
        for (const h of f.hints) L.push(`           → ${h}`);
      }
    }
    if (!o.verbose) L.push('  (--verbose explains each finding and what to check)');
  }
  L.push('');

  const tls = r.connections.filter((c) => c.tls);
  const shown = o.limit > 0 ? tls.slice(0, o.limit) : tls;
  const header = ['#', 'start', 'client → server', 'SNI', 'ver', 'kind', 'offered', 'hs ms', 'flights'];
  const rows = shown.map((c) => [
    String(c.id),
    c.start.slice(11, 23),
    `${endpoint(c.client)} → ${endpoint(c.server)}`,
    c.sni ?? '-',
    c.version ?? '?',
    paint(o.color, kindColor(c), KIND_LABEL[c.kind] + (c.ambiguous ? '*' : '')),
    offeredText(c),
    c.handshakeMs === null ? '-' : c.handshakeMs.toFixed(1),
    c.flightSummary,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].replace(/\x1b\[[0-9;]*m/g, '').length)));
  widths[widths.length - 1] = 0;
  L.push(bold(header.map((h, i) => pad(h, widths[i])).join('  ').trimEnd()));
  for (const row of rows) L.push(row.map((x, i) => pad(x, widths[i])).join('  ').trimEnd());
  // The report may hold only the connections shown: the summary has the total.
  const total = Math.max(tls.length, s.tlsConnections);
  if (shown.length < total) L.push(`… ${total - shown.length} more (use --limit 0 or --format json)`);
  if (tls.some((c) => c.ambiguous)) L.push('* both a ticket and a session ID were offered; see --verbose for the evidence');
  const unknown = tls.filter((c) => c.kind === 'unknown' && c.reason);
  if (unknown.length > 0 && !o.verbose) {
    L.push('');
    L.push(bold('Unknown outcomes:'));
    for (const c of unknown.slice(0, 10)) L.push(`  #${c.id}: ${c.reason}`);
    if (unknown.length > 10) L.push(`  … ${unknown.length - 10} more`);
  }
  if (o.verbose) {
    for (const c of shown) {
      L.push('');
      L.push(bold(`#${c.id} ${endpoint(c.client)} → ${endpoint(c.server)}`) + `  ${c.start}  frames ${c.firstFrame}-${c.lastFrame}`);
      L.push(`  ${c.version ?? '?'} ${c.cipher ?? ''}  sni=${c.sni ?? '-'}  alpn=${c.alpn ?? '-'}  kind=${c.kind}${c.reason ? ` (${c.reason})` : ''}`);
      for (const f of c.flights) L.push(`  ${f.atMs.toFixed(3).padStart(10)} ms  ${f.from.padEnd(7)} ${f.messages.join(', ')}  [frames ${f.frames.join(',')}]`);
      for (const e of c.evidence) L.push(`  · ${e}`);
      if (c.certificate?.leaf) L.push(`  certificate: ${c.certificate.leaf.subject} (issuer ${c.certificate.leaf.issuer}, until ${c.certificate.leaf.validTo})`);
      for (const t of c.tickets) L.push(`  ticket issued: ${t.length} bytes, lifetime hint ${t.lifetimeHint}s, #${t.hash}`);
      for (const x of [...c.losses, ...c.problems]) L.push(paint(o.color, '33', `  ! ${x}`));
    }
  }
  return L.join('\n') + '\n';
}
