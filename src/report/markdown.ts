import type { ConnectionResult, EndpointJson, Finding, Report, ServerStats } from './model.js';

export interface MarkdownOptions {
  /** Connections listed (0 = all). */
  limit: number;
  /** The command line that produced the report. */
  command: string;
}

/** Makes text safe inside a Markdown table cell or paragraph (GitHub, GitLab, Jira-flavoured renderers). */
export function mdText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/([*_`<>[\]])/g, '\\$1').replace(/\r?\n/g, ' ');
}

export function code(s: string): string {
  // A code span cannot contain its own fence; drop backticks rather than mangle the directive.
  return '`' + s.replace(/`/g, "'").replace(/\|/g, '\\|') + '`';
}

/** Configuration directives named in hints, set as code. */
const DIRECTIVE = /\b(ssl_[a-z_]+|SSL[A-Z][A-Za-z]+|tls-ticket-keys|tune\.ssl\.[a-z]+|no-tls-tickets|allow-0rtt|shared:[A-Za-z:0-9]+|shmcb:[^ ]+)/g;

function hint(h: string): string {
  return h
    .split(DIRECTIVE)
    .map((part, i) => (i % 2 === 1 ? code(part) : mdText(part)))
    .join('');
}

export function endpoint(e: EndpointJson): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

function pct(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(1)}%`;
}

function ms(x: number | null): string {
  return x === null ? '–' : x.toFixed(1);
}

const SEVERITY: Record<Finding['severity'], string> = { problem: '🔴 problem', warning: '🟠 warning', info: 'ℹ️ info' };

const KIND: Record<string, string> = {
  full: 'full',
  'resumed-session-id': 'resumed (session ID)',
  'resumed-ticket': 'resumed (ticket)',
  'resumed-psk': 'resumed (PSK)',
  unknown: 'unknown',
};

function offered(c: ConnectionResult): string {
  if (c.offered === null) return '?';
  if (c.offered.length === 0) return '–';
  const o = c.offered.join('+');
  return c.rejected === true ? `${o} **rejected**` : o;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function serverRow(s: ServerStats): string {
  const resumed = s.resumed['session-id'] + s.resumed.ticket + s.resumed.psk;
  return row([
    code(endpoint(s.server)),
    s.sni ? mdText(s.sni) : '–',
    String(s.connections),
    String(s.full),
    `${resumed} (${s.resumed['session-id']} ID / ${s.resumed.ticket} ticket / ${s.resumed.psk} PSK)`,
    String(s.offered),
    String(s.rejected),
    pct(s.resumptionRate),
    String(s.ticketsIssued),
    `${ms(s.handshake.full.medianMs)} / ${ms(s.handshake.full.p90Ms)}`,
    `${ms(s.handshake.resumed.medianMs)} / ${ms(s.handshake.resumed.p90Ms)}`,
    s.savingMs === null ? '–' : `${s.savingMs.toFixed(1)} ms${s.savingRoundTrips !== null ? `, ${s.savingRoundTrips} RTT` : ''}`,
  ]);
}

/** A report to paste into an incident ticket: verdict first, then findings, servers, connections. */
export function renderMarkdown(r: Report, o: MarkdownOptions): string {
  const L: string[] = [];
  const s = r.summary;
  L.push('## TLS handshake report');
  L.push('');
  L.push(`**${mdText(r.headline)}**`);
  L.push('');
  L.push(
    `${s.tlsConnections} TLS connections (of ${s.connections} TCP): ${s.byKind.full} full, ${s.byKind['resumed-session-id']} resumed by session ID, ` +
      `${s.byKind['resumed-ticket']} by ticket, ${s.byKind['resumed-psk']} by PSK, ${s.byKind.unknown} unknown. ` +
      `Resumption offered ${s.offeredResumption}, accepted ${s.resumed}, rejected ${s.rejected} — ${pct(s.resumptionRateOffered)} of offers.`,
  );
  L.push('');
  L.push('### Findings');
  L.push('');
  if (r.findings.length === 0) L.push('No resumption problems found.');
  for (const f of r.findings) {
    L.push(`#### ${SEVERITY[f.severity]}: ${mdText(f.title)}`);
    L.push('');
    L.push(mdText(f.explanation));
    L.push('');
    if (f.hints.length > 0) {
      L.push('Check:');
      for (const h of f.hints) L.push(`- ${hint(h)}`);
      L.push('');
    }
    if (f.count > 0 && f.connections.length > 0) {
      const more = f.count > f.connections.length ? ` and ${f.count - f.connections.length} more` : '';
      L.push(`Evidence: connections ${f.connections.map((id) => `#${id}`).join(', ')}${more}.`);
      L.push('');
    }
  }
  if (r.servers.length > 0) {
    L.push('### Servers');
    L.push('');
    L.push(row(['server', 'SNI', 'conns', 'full', 'resumed', 'offered', 'rejected', 'rate', 'tickets issued', 'full ms (median / p90)', 'resumed ms (median / p90)', 'saving']));
    L.push(row(['---', '---', '---:', '---:', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---']));
    for (const sv of r.servers) L.push(serverRow(sv));
    L.push('');
  }
  const tls = r.connections.filter((c) => c.tls);
  if (tls.length > 0) {
    const shown = o.limit > 0 ? tls.slice(0, o.limit) : tls;
    L.push('### Connections');
    L.push('');
    L.push(row(['#', 'start (UTC)', 'client → server', 'SNI', 'version', 'kind', 'offered', 'hs ms', 'flights']));
    L.push(row(['---:', '---', '---', '---', '---', '---', '---', '---:', '---']));
    for (const c of shown) {
      L.push(
        row([
          String(c.id),
          c.start.replace('T', ' ').replace(/Z$/, ''),
          `${code(endpoint(c.client))} → ${code(endpoint(c.server))}`,
          c.sni ? mdText(c.sni) : '–',
          c.version ?? '?',
          KIND[c.kind] + (c.ambiguous ? ' \\*' : '') + (c.kind === 'unknown' && c.reason ? `: ${mdText(c.reason)}` : ''),
          offered(c),
          ms(c.handshakeMs),
          code(c.flightSummary),
        ]),
      );
    }
    // The report may hold only the connections shown: the summary has the total.
    const total = Math.max(tls.length, r.summary.tlsConnections);
    if (shown.length < total) L.push(`\n_${total - shown.length} more connections not listed (use \`--limit 0\`)._`);
    if (shown.some((c) => c.ambiguous)) L.push('\n\\* both a session ID and a ticket were offered; the capture does not show which the server used.');
    L.push('');
  }
  L.push('### Capture');
  L.push('');
  for (const c of r.captures) {
    const parts = [`${c.format ?? 'unreadable'}${c.compressed ? ' (gzip)' : ''}`, `${c.packets} packets`];
    if (c.linkTypes.length > 0) parts.push(c.linkTypes.join(', '));
    if (c.firstTime) parts.push(`${c.firstTime} → ${c.lastTime} (${c.durationS} s)`);
    if (c.truncatedPackets > 0) parts.push(`${c.truncatedPackets} packets cut by snaplen`);
    if (c.droppedPackets) parts.push(`${c.droppedPackets} dropped by the capture`);
    L.push(`- ${code(c.file)}: ${parts.join('; ')}`);
    if (c.error) L.push(`  - error: ${mdText(c.error)}`);
    for (const w of c.warnings) L.push(`  - warning: ${mdText(w)}`);
  }
  for (const w of r.warnings) L.push(`- warning: ${mdText(w)}`);
  L.push('');
  L.push(`<sub>tlsflight ${mdText(r.tool.version)} · ${code(o.command)}</sub>`);
  L.push('');
  return L.join('\n');
}
