/**
 * The report as one self-contained HTML page, to attach to an incident ticket: no network fetches,
 * no external scripts, fonts, images or stylesheets (a Content-Security-Policy says so too), inline
 * SVG charts, `<details>` for per-connection detail. A tiny inline script opens a connection's
 * details when it is linked to; everything works with scripting disabled.
 *
 * Every string from the report is escaped: SNI, certificate subjects and file names come from the
 * capture, which an attacker may have written.
 */
import { createHash } from 'node:crypto';
import type { CaptureSummary, ConnectionResult, EndpointJson, Finding, FlightJson, Report, ServerStats } from './model.js';
import type { Kind } from '../analysis/types.js';

/** What the charts read of a connection: kept for every connection, where full results are not. */
export type ChartConnection = Pick<
  ConnectionResult,
  'id' | 'tls' | 'kind' | 'rejected' | 'resumed' | 'handshakeMs' | 'durationMs' | 'start' | 'server' | 'sni' | 'client'
>;

export function chartConnection(c: ConnectionResult): ChartConnection {
  return {
    id: c.id,
    tls: c.tls,
    kind: c.kind,
    rejected: c.rejected,
    resumed: c.resumed,
    handshakeMs: c.handshakeMs,
    durationMs: c.durationMs,
    start: c.start,
    server: c.server,
    sni: c.sni,
    client: c.client,
  };
}

export interface HtmlOptions {
  /** Connections listed in the table (0 = all); ladder diagrams are drawn for these only. */
  limit: number;
  /**
   * Every connection, as the charts need it, in id order. Without it the charts and counts use
   * `report.connections`, which then must hold every connection.
   */
  all?: ChartConnection[];
  /** The command line that produced the report, shown as is. */
  command: string;
  /** ISO time the page was generated (default: now). */
  generatedAt?: string;
}

// ---------------------------------------------------------------------------------------------
// Escaping and formatting

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML/SVG content and double- or single-quoted attributes. Control characters
 * and bidirectional overrides (which could make a name read as another) are shown as `\uXXXX`.
 */
export function esc(s: string | number | null | undefined): string {
  if (s === null || s === undefined) return '';
  return String(s)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/[&<>"']/g, (c) => ESC[c]);
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  if (n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(x === 0 || x === 1 ? 0 : 1)}%`;
}

function endpoint(e: EndpointJson): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/** Milliseconds since the epoch, with the sub-millisecond digits ISO strings from the capture carry. */
function isoMs(s: string | null): number | null {
  if (!s) return null;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) {
    const t = Date.parse(s);
    return Number.isFinite(t) ? t : null;
  }
  const base = Date.parse(`${m[1]}Z`);
  if (!Number.isFinite(base)) return null;
  return base + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

/** Rounds for SVG coordinates (keeps the file small). */
function r1(n: number): string {
  return String(Math.round(n * 10) / 10);
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

interface KindStyle {
  label: string;
  short: string;
  color: string;
}

const KIND: Record<Kind, KindStyle> = {
  full: { label: 'full handshake', short: 'full', color: '#9aa3b2' },
  'resumed-session-id': { label: 'resumed (session ID)', short: 'session ID', color: '#2f6fd6' },
  'resumed-ticket': { label: 'resumed (ticket)', short: 'ticket', color: '#1b9e5a' },
  'resumed-psk': { label: 'resumed (TLS 1.3 PSK)', short: 'PSK', color: '#8a4fc4' },
  unknown: { label: 'unknown outcome', short: 'unknown', color: '#e0a100' },
};
const REJECTED_COLOR = '#d2372b';
const NON_TLS_COLOR = '#d7dbe2';
const KINDS: Kind[] = ['full', 'resumed-session-id', 'resumed-ticket', 'resumed-psk', 'unknown'];

const MESSAGE_NAMES: Record<string, string> = {
  HelloReq: 'HelloRequest',
  CH: 'ClientHello',
  'CH?': 'ClientHello (unreadable)',
  SH: 'ServerHello',
  'SH?': 'ServerHello (unreadable)',
  'SSLv2-SH': 'SSLv2 ServerHello',
  HRR: 'HelloRetryRequest',
  HVR: 'HelloVerifyRequest',
  NST: 'NewSessionTicket',
  EOED: 'EndOfEarlyData',
  EE: 'EncryptedExtensions',
  Cert: 'Certificate',
  SKE: 'ServerKeyExchange',
  CertReq: 'CertificateRequest',
  SHD: 'ServerHelloDone',
  CV: 'CertificateVerify',
  CKE: 'ClientKeyExchange',
  Fin: 'Finished',
  CertURL: 'CertificateURL',
  CertStatus: 'CertificateStatus',
  KeyUpdate: 'KeyUpdate',
  CCS: 'ChangeCipherSpec',
  Enc: 'encrypted handshake record',
  EncAlert: 'encrypted alert',
  App: 'application data',
  Early: '0-RTT early data',
};

function messageName(m: string): string {
  const counted = /^(.*)×(\d+)$/.exec(m);
  if (counted) return `${messageName(counted[1])} ×${counted[2]}`;
  const alert = /^Alert\((.*)\)$/.exec(m);
  if (alert) return `Alert: ${alert[1]}`;
  return MESSAGE_NAMES[m] ?? m;
}

function kindLabel(c: Pick<ConnectionResult, 'tls' | 'kind'>): string {
  if (!c.tls) return 'not TLS';
  return KIND[c.kind].label;
}

function offeredText(c: ConnectionResult): string {
  if (c.offered === null) return '?';
  if (c.offered.length === 0) return 'nothing';
  return c.offered.join(' + ');
}

// ---------------------------------------------------------------------------------------------
// Page

const STYLE = `
:root{color-scheme:light;--fg:#1d2330;--muted:#5b6474;--line:#d9dee7;--bg:#fff;--soft:#f4f6fa;--bad:${REJECTED_COLOR};--warn:#9a6a00;--ok:#17824c;--link:#1f5fbf}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:34px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:0 0 4px}
a{color:var(--link)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.muted{color:var(--muted)}
.small{font-size:12px}
nav.toc{font-size:13px;margin:8px 0 0;color:var(--muted)}
nav.toc a{margin-right:12px}
.verdict{margin:16px 0;padding:12px 16px;border-left:6px solid var(--ok);background:#eef8f2;border-radius:4px;font-size:16px}
.verdict.problem{border-color:var(--bad);background:#fdf0ef}
.verdict.warning{border-color:#e0a100;background:#fff7e3}
.verdict strong{display:block;font-size:12px;letter-spacing:.06em;text-transform:uppercase;color:var(--muted);margin-bottom:2px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:8px 0}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 7px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;vertical-align:bottom}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.n,.nw{white-space:nowrap}
th.c{text-align:center;border-bottom:1px solid var(--line)}
table.servers{font-size:12.5px}
table.servers th{font-size:12px}
.scroll{overflow-x:auto}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:11.5px;font-weight:700;letter-spacing:.03em;white-space:nowrap;border:1px solid transparent}
.sev-problem{background:var(--bad);color:#fff}
.sev-warning{background:#ffd35c;color:#3b2a00}
.sev-info{background:#dfe7f5;color:#23395e}
.finding{border:1px solid var(--line);border-radius:6px;padding:10px 14px;margin:10px 0;break-inside:avoid}
.finding.problem{border-left:5px solid var(--bad)}
.finding.warning{border-left:5px solid #e0a100}
.finding.info{border-left:5px solid #8aa3cc}
.finding p{margin:4px 0}
.finding ul{margin:4px 0 4px 18px;padding:0}
.finding .ev a,.finding .ev span{margin-right:6px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 10px;background:var(--soft)}
.card b{display:block;font-size:21px;font-variant-numeric:tabular-nums}
.card span{color:var(--muted);font-size:12px}
.card.bad b{color:var(--bad)}
figure{margin:18px 0;break-inside:avoid}
figcaption{font-weight:600;margin-bottom:4px}
figcaption .muted{font-weight:400}
svg{display:block;max-width:100%;height:auto;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg text{fill:#1d2330}
svg .axis{stroke:#9aa3b2;stroke-width:1}
svg .grid{stroke:#e6e9ef;stroke-width:1}
svg .lbl{font-size:12px}
svg .sm{font-size:10.5px;fill:#5b6474}
ul.legend{list-style:none;margin:4px 0 8px;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px}
ul.legend li{display:flex;align-items:center;gap:5px}
.sw{display:inline-block;width:13px;height:13px;border-radius:2px;border:1px solid rgba(0,0,0,.25)}
.sw.rej{background:repeating-linear-gradient(45deg,${REJECTED_COLOR} 0 3px,#fff 3px 5px)}
.kind{display:inline-flex;align-items:center;gap:5px;white-space:nowrap}
.rej-tag{color:var(--bad);font-weight:700}
tr.conn td{border-bottom:none}
tr.conn:target td,tr.conn:target+tr td{background:#fff8d8}
tr.det td{padding-top:0}
details>summary{cursor:pointer;color:var(--link);font-size:12.5px;width:max-content}
details[open]>summary{margin-bottom:6px}
.detail{display:grid;grid-template-columns:minmax(300px,1fr) minmax(360px,560px);gap:8px 24px;padding:6px 0 12px}
.detail ul{margin:2px 0 6px 18px;padding:0}
.detail h4{margin:8px 0 2px;font-size:12.5px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.warnline{color:var(--warn)}
.errline{color:var(--bad);font-weight:600}
@media (max-width:800px){.detail{grid-template-columns:1fr}main{padding:14px}}
@media print{
  body{font-size:10.5pt}
  main{max-width:none;padding:0}
  nav.toc,.noprint{display:none}
  a{color:inherit;text-decoration:none}
  h2{break-after:avoid}
  tr{break-inside:avoid}
  .scroll{overflow:visible}
}
`;

/** Opens a connection's details when the page is opened at, or navigates to, its anchor. */
const SCRIPT =
  "(function(){function o(){var m=/^#conn-(\\d+)$/.exec(location.hash);if(!m)return;var d=document.getElementById('details-'+m[1]);if(d)d.open=true;}" +
  "window.addEventListener('hashchange',o);o();})();";
const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');
const CSP = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${SCRIPT_HASH}'; base-uri 'none'; form-action 'none'`;

export function renderHtml(report: Report, opts: HtmlOptions): string {
  const generatedAt = opts.generatedAt ?? new Date().toISOString();
  const limit = Number.isFinite(opts.limit) && opts.limit > 0 ? Math.floor(opts.limit) : 0;
  const shown = limit > 0 ? report.connections.slice(0, limit) : report.connections;
  const shownIds = new Set(shown.map((c) => c.id));
  const all: ChartConnection[] = opts.all ?? report.connections;
  const files = report.captures.map((c) => c.file);
  const title = `tlsflight report — ${files.length === 1 ? files[0] : `${files.length} captures`}`;

  const out: string[] = [];
  out.push(
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    `<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">\n`,
    '<meta name="referrer" content="no-referrer">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    `<meta name="generator" content="tlsflight ${esc(report.tool.version)}">\n`,
    `<title>${esc(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<main>\n`,
  );
  out.push(header(report, opts.command, generatedAt));
  out.push(findingsSection(report.findings, shownIds));
  out.push(summarySection(report));
  out.push(chartsSection(report, all, shownIds));
  out.push(serversSection(report.servers));
  out.push(connectionsSection(report, all, shown));
  out.push(
    `<footer class="muted small"><p>Generated by tlsflight ${esc(report.tool.version)} (report schema ${esc(report.schemaVersion)}) at ${esc(generatedAt)}. ` +
      'This file is self-contained: it loads nothing from the network.</p></footer>\n',
  );
  out.push(`</main>\n<script>${SCRIPT}</script>\n</body>\n</html>\n`);
  return out.join('');
}

// ---------------------------------------------------------------------------------------------
// 1. Header: verdict, provenance, captures

function header(r: Report, command: string, generatedAt: string): string {
  const problems = r.findings.filter((f) => f.severity === 'problem').length;
  const warnings = r.findings.filter((f) => f.severity === 'warning').length;
  const level = problems > 0 ? 'problem' : warnings > 0 ? 'warning' : 'ok';
  const verdictLabel =
    problems > 0
      ? `Verdict: ${plural(problems, 'problem')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`
      : warnings > 0
        ? `Verdict: ${plural(warnings, 'warning')}`
        : 'Verdict: no problems found';
  const h: string[] = [];
  h.push('<header>\n<h1>TLS resumption report</h1>\n');
  h.push(
    '<nav class="toc">Sections: <a href="#findings">Findings</a><a href="#summary">Summary</a><a href="#charts">Charts</a>' +
      '<a href="#servers">Servers</a><a href="#connections">Connections</a></nav>\n',
  );
  h.push(`<div class="verdict ${level}" id="headline"><strong>${esc(verdictLabel)}</strong>${esc(r.headline)}</div>\n`);
  h.push('<dl class="meta">');
  h.push(`<dt>Tool</dt><dd>${esc(r.tool.name)} ${esc(r.tool.version)} <span class="muted">(report schema ${esc(r.schemaVersion)})</span></dd>`);
  h.push(`<dt>Command</dt><dd><code>${esc(command)}</code></dd>`);
  h.push(`<dt>Generated</dt><dd>${esc(generatedAt)}</dd>`);
  const p = r.packets;
  const pk = [`${num(p.tcp)} TCP`, `${num(p.udp)} UDP`];
  if (p.otherIp) pk.push(`${num(p.otherIp)} other IP`);
  if (p.notIp) pk.push(`${num(p.notIp)} not IP`);
  if (p.ipFragments) pk.push(`${num(p.ipFragments)} IP fragments`);
  if (p.malformed) pk.push(`${num(p.malformed)} malformed`);
  if (p.truncated) pk.push(`${num(p.truncated)} truncated`);
  if (p.unsupportedLink) pk.push(`${num(p.unsupportedLink)} on an unsupported link type`);
  h.push(`<dt>Packets</dt><dd>${esc(pk.join(', '))}</dd>`);
  h.push('</dl>\n');
  h.push(`<h3>${files(r.captures.length)}</h3>\n<div class="scroll"><table class="captures"><thead><tr>`);
  h.push('<th>File</th><th>Format</th><th class="n">Packets</th><th class="n">Bytes</th><th>Link types</th><th>Time range (UTC)</th><th>Notes</th></tr></thead><tbody>');
  for (const c of r.captures) h.push(captureRow(c));
  h.push('</tbody></table></div>\n');
  if (r.warnings.length) {
    h.push('<ul class="warnings">');
    for (const w of r.warnings) h.push(`<li class="warnline">Warning: ${esc(w)}</li>`);
    h.push('</ul>\n');
  }
  h.push('</header>\n');
  return h.join('');
}

function files(n: number): string {
  return n === 1 ? 'Capture' : `Captures (${n})`;
}

function captureRow(c: CaptureSummary): string {
  const fmt = [c.format ?? 'unreadable', c.compressed ? `+${c.compressed}` : '', c.byteOrder ? ` (${c.byteOrder}-endian)` : ''].join('');
  const range = c.firstTime
    ? `${c.firstTime.replace('T', ' ').replace('Z', '')} → ${(c.lastTime ?? '?').replace('T', ' ').replace('Z', '')}` +
      (c.durationS !== null ? ` (${c.durationS.toFixed(3)} s)` : '')
    : '–';
  const notes: string[] = [];
  if (c.error) notes.push(`<div class="errline">Error: ${esc(c.error)}${c.usable ? ' (results before it are kept)' : ''}</div>`);
  for (const w of c.warnings) notes.push(`<div class="warnline">Warning: ${esc(w)}</div>`);
  if (c.truncatedPackets) notes.push(`<div>${esc(plural(c.truncatedPackets, 'packet'))} cut by the snaplen (${esc(c.snaplen ?? '?')})</div>`);
  if (c.droppedPackets) notes.push(`<div class="warnline">${esc(plural(c.droppedPackets, 'packet'))} dropped by the capture</div>`);
  if (c.secretsBlocks) notes.push(`<div>${esc(plural(c.secretsBlocks, 'decryption secrets block'))}</div>`);
  if (!c.usable && !c.error) notes.push('<div class="errline">nothing could be analyzed</div>');
  return (
    `<tr><td class="mono">${esc(c.file)}</td><td>${esc(fmt)}</td><td class="n">${num(c.packets)}</td><td class="n">${num(c.bytes)}</td>` +
    `<td>${esc(c.linkTypes.join(', ') || '–')}</td><td class="mono small">${esc(range)}</td><td>${notes.join('') || '<span class="muted">none</span>'}</td></tr>`
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Findings

function connLink(id: number, shownIds: Set<number>): string {
  if (shownIds.has(id)) return `<a href="#conn-${id}">#${id}</a>`;
  return `<span class="muted" title="not listed: raise --limit">#${id}</span>`;
}

function findingsSection(findings: Finding[], shownIds: Set<number>): string {
  const h: string[] = [`<section id="findings">\n<h2>Findings (${findings.length})</h2>\n`];
  if (findings.length === 0) {
    h.push('<p>No resumption problems found.</p>\n</section>\n');
    return h.join('');
  }
  for (const f of findings) {
    h.push(`<article class="finding ${esc(f.severity)}">`);
    h.push(`<h3><span class="badge sev-${esc(f.severity)}">${esc(f.severity.toUpperCase())}</span> ${esc(f.title)}</h3>`);
    h.push(`<p>${esc(f.explanation)}</p>`);
    if (f.hints.length) {
      h.push('<p class="muted small">Where to look:</p><ul>');
      for (const x of f.hints) h.push(`<li><code>${esc(x)}</code></li>`);
      h.push('</ul>');
    }
    if (f.connections.length) {
      const more = f.count > f.connections.length ? ` <span class="muted">and ${num(f.count - f.connections.length)} more</span>` : '';
      const hidden = f.connections.some((id) => !shownIds.has(id)) ? ' <span class="muted small">(grey ids are not listed below)</span>' : '';
      h.push(
        `<p class="ev small">Evidence: ${esc(plural(f.count, 'connection'))} — ${f.connections.map((id) => connLink(id, shownIds)).join(' ')}${more}${hidden}</p>`,
      );
    }
    h.push('</article>\n');
  }
  h.push('</section>\n');
  return h.join('');
}

// ---------------------------------------------------------------------------------------------
// 3. Summary numbers

function summarySection(r: Report): string {
  const s = r.summary;
  const card = (value: string, label: string, bad = false) => `<div class="card${bad ? ' bad' : ''}"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
  const h: string[] = ['<section id="summary">\n<h2>Summary</h2>\n<div class="cards">'];
  h.push(card(num(s.connections), 'TCP connections'));
  h.push(card(num(s.tlsConnections), 'TLS connections'));
  if (s.nonTlsConnections) h.push(card(num(s.nonTlsConnections), 'not TLS'));
  h.push(card(num(s.byKind.full), 'full handshakes'));
  h.push(card(num(s.byKind['resumed-session-id']), 'resumed by session ID'));
  h.push(card(num(s.byKind['resumed-ticket']), 'resumed by ticket'));
  h.push(card(num(s.byKind['resumed-psk']), 'resumed by TLS 1.3 PSK'));
  h.push(card(num(s.byKind.unknown), 'unknown outcome'));
  h.push(card(num(s.offeredResumption), 'offered resumption'));
  h.push(card(num(s.resumed), 'resumed'));
  h.push(card(num(s.rejected), 'offers rejected', s.rejected > 0));
  h.push(card(pct(s.resumptionRateOffered), 'resumed ÷ offered'));
  h.push(card(pct(s.resumptionRateAll), 'resumed ÷ all TLS (known outcome)'));
  h.push('</div>\n');
  const extra: string[] = [];
  const versions = Object.entries(s.versions).map(([v, n]) => `${v} ${num(n)}`);
  if (versions.length) extra.push(`Versions: ${versions.join(', ')}`);
  extra.push(`${num(s.complete)} complete, ${num(s.incomplete)} incomplete handshakes`);
  if (s.helloRetry) extra.push(`${num(s.helloRetry)} HelloRetryRequest`);
  if (s.earlyDataOffered) extra.push(`${num(s.earlyDataOffered)} offered 0-RTT early data`);
  if (s.alerts) extra.push(`${num(s.alerts)} with alerts`);
  if (s.udpPackets) extra.push(`${num(s.udpPackets)} UDP packets (QUIC/DTLS not analyzed)`);
  h.push(`<p class="muted">${esc(extra.join(' · '))}</p>\n</section>\n`);
  return h.join('');
}

// ---------------------------------------------------------------------------------------------
// 4. Charts

function legend(items: { label: string; color?: string; rejected?: boolean }[]): string {
  return (
    '<ul class="legend">' +
    items
      .map((i) => `<li><span class="sw${i.rejected ? ' rej' : ''}"${i.color ? ` style="background:${i.color}"` : ''}></span>${esc(i.label)}</li>`)
      .join('') +
    '</ul>'
  );
}

function hatch(id: string): string {
  return (
    `<defs><pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
    `<rect width="6" height="6" fill="#fff"/><rect width="3.5" height="6" fill="${REJECTED_COLOR}"/></pattern></defs>`
  );
}

function kindLegend(withRejected: boolean, withNonTls = false): string {
  const items: { label: string; color?: string; rejected?: boolean }[] = [];
  items.push({ label: 'full handshake', color: KIND.full.color });
  if (withRejected) items.push({ label: 'full after a rejected offer', rejected: true });
  for (const k of KINDS.slice(1)) items.push({ label: KIND[k].label, color: KIND[k].color });
  if (withNonTls) items.push({ label: 'not TLS', color: NON_TLS_COLOR });
  return legend(items);
}

function chartsSection(r: Report, all: ChartConnection[], shownIds: Set<number>): string {
  const h: string[] = ['<section id="charts">\n<h2>Charts</h2>\n'];
  h.push(serverChart(r.servers));
  h.push(timingChart(all));
  h.push(timelineChart(r, all, shownIds));
  h.push('</section>\n');
  return h.join('');
}

const MAX_SERVER_BARS = 30;

function serverName(s: ServerStats): string {
  return s.sni ? `${s.sni} ${endpoint(s.server)}` : endpoint(s.server);
}

function serverChart(servers: ServerStats[]): string {
  const h: string[] = ['<figure id="chart-servers">\n<figcaption>Resumption outcome per server <span class="muted">— one bar per server address and SNI; segments count connections</span></figcaption>\n'];
  if (servers.length === 0) return h.join('') + '<p class="muted">No TLS servers.</p></figure>\n';
  h.push(kindLegend(servers.some((s) => s.rejected > 0)));
  const list = servers.slice(0, MAX_SERVER_BARS);
  const W = 1000;
  const labelW = 250;
  const rightW = 230;
  const barW = W - labelW - rightW - 10;
  const rowH = 34;
  const top = 8;
  const max = Math.max(1, ...list.map((s) => Math.max(s.connections, s.full + s.resumed['session-id'] + s.resumed.ticket + s.resumed.psk + s.unknown)));
  const H = top + list.length * rowH + 22;
  h.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Resumption outcome per server">${hatch('hatch-srv')}`);
  // Axis ticks: connection counts.
  const step = niceStep(max, 6);
  for (let v = 0; v <= max + 1e-9; v += step) {
    const x = labelW + (v / max) * barW;
    h.push(`<line class="grid" x1="${r1(x)}" y1="${top - 4}" x2="${r1(x)}" y2="${H - 20}"/><text class="sm" x="${r1(x)}" y="${H - 6}" text-anchor="middle">${num(v)}</text>`);
  }
  list.forEach((s, i) => {
    const y = top + i * rowH;
    const name = serverName(s);
    h.push(`<g><title>${esc(serverTitle(s))}</title>`);
    h.push(`<text class="lbl" x="${labelW - 8}" y="${y + 13}" text-anchor="end">${esc(clip(s.sni ?? '(no SNI)', 34))}</text>`);
    h.push(`<text class="sm" x="${labelW - 8}" y="${y + 26}" text-anchor="end">${esc(endpoint(s.server))}</text>`);
    const rejected = Math.min(s.rejected, s.full);
    const segs: { n: number; fill: string; what: string }[] = [
      { n: s.full - rejected, fill: KIND.full.color, what: 'full handshakes' },
      { n: rejected, fill: 'url(#hatch-srv)', what: 'full handshakes after a rejected resumption offer' },
      { n: s.resumed['session-id'], fill: KIND['resumed-session-id'].color, what: 'resumed by session ID' },
      { n: s.resumed.ticket, fill: KIND['resumed-ticket'].color, what: 'resumed by ticket' },
      { n: s.resumed.psk, fill: KIND['resumed-psk'].color, what: 'resumed by TLS 1.3 PSK' },
      { n: s.unknown, fill: KIND.unknown.color, what: 'unknown outcome' },
    ];
    let x = labelW;
    for (const g of segs) {
      if (g.n <= 0) continue;
      const w = (g.n / max) * barW;
      h.push(`<rect x="${r1(x)}" y="${y + 4}" width="${r1(Math.max(w - 1, 1))}" height="${rowH - 12}" fill="${g.fill}" stroke="#fff" stroke-width="0.5"><title>${esc(`${name}: ${g.n} ${g.what}`)}</title></rect>`);
      if (w >= 22) {
        const light = g.fill === KIND.full.color || g.fill === KIND.unknown.color;
        const boxed = g.fill.startsWith('url(');
        if (boxed) h.push(`<rect x="${r1(x + w / 2 - 9)}" y="${y + 9}" width="18" height="13" rx="2" fill="#fff" opacity="0.9"/>`);
        h.push(`<text class="lbl" x="${r1(x + w / 2)}" y="${y + 20}" text-anchor="middle" style="fill:${boxed || light ? '#1d2330' : '#fff'};font-weight:600">${g.n}</text>`);
      }
      x += w;
    }
    const note = [esc(plural(s.connections, 'conn'))];
    if (s.rejected) note.push(`<tspan style="fill:${REJECTED_COLOR};font-weight:700">${esc(`${num(s.rejected)} rejected`)}</tspan>`);
    note.push(esc(s.resumptionRate === null ? 'no offers' : `${pct(s.resumptionRate)} of offers resumed`));
    h.push(`<text class="lbl" x="${r1(x + 8)}" y="${y + 19}">${note.join(' · ')}</text>`);
    h.push('</g>');
  });
  h.push('</svg>\n');
  if (servers.length > list.length) h.push(`<p class="muted small">${num(servers.length - list.length)} more servers are in the table below.</p>`);
  h.push('</figure>\n');
  return h.join('');
}

function serverTitle(s: ServerStats): string {
  return (
    `${serverName(s)}: ${s.connections} connections — ${s.full} full, ${s.resumed['session-id']} resumed by session ID, ` +
    `${s.resumed.ticket} by ticket, ${s.resumed.psk} by PSK, ${s.unknown} unknown; ${s.offered} offered, ${s.rejected} rejected` +
    (s.resumptionRate === null ? '' : ` (${pct(s.resumptionRate)} resumed)`)
  );
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const p = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  const m = raw / p;
  const step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  return Math.max(step, Number.isInteger(max) ? 1 : step);
}

/** Deterministic jitter in [-1, 1] from a connection id. */
function jitter(id: number): number {
  let x = (id * 2654435761) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 1274126177) >>> 0;
  return ((x % 2001) - 1000) / 1000;
}

const MAX_STRIP_POINTS = 800;

// Loops, not Math.min(...list): spreading hundreds of thousands of arguments overflows the stack.
function minOf(list: number[]): number {
  let m = Infinity;
  for (const v of list) if (v < m) m = v;
  return m;
}

function maxOf(list: number[]): number {
  let m = -Infinity;
  for (const v of list) if (v > m) m = v;
  return m;
}

function timingChart(conns: ChartConnection[]): string {
  const h: string[] = [
    '<figure id="chart-timing">\n<figcaption>Handshake time, full vs resumed <span class="muted">— ClientHello to the end of the handshake, per connection</span></figcaption>\n',
  ];
  const pts = conns.filter((c) => c.tls && c.handshakeMs !== null && c.handshakeMs >= 0 && c.resumed !== null);
  if (pts.length === 0) return h.join('') + '<p class="muted">No handshake times measured.</p></figure>\n';
  const vals = pts.map((c) => c.handshakeMs as number);
  const lo = minOf(vals);
  const hi = maxOf(vals);
  const positive = vals.filter((v) => v > 0);
  const log = positive.length === vals.length && hi / Math.max(lo, 1e-6) > 20;
  const W = 1000;
  const left = 150;
  const right = 30;
  const plotW = W - left - right;
  const rows: { name: string; list: ChartConnection[] }[] = [
    { name: 'full', list: pts.filter((c) => !c.resumed) },
    { name: 'resumed', list: pts.filter((c) => c.resumed) },
  ];
  const rowH = 70;
  const top = 10;
  const H = top + rows.length * rowH + 34;
  let scale: (v: number) => number;
  let inv: (x: number) => number;
  let ticks: number[];
  if (log) {
    const a = Math.log10(lo / 1.3);
    const b = Math.log10(hi * 1.3);
    const span = b - a;
    scale = (v) => left + ((Math.log10(Math.max(v, lo / 1.3)) - a) / span) * plotW;
    inv = (x) => Math.pow(10, a + ((x - left) / plotW) * span);
    ticks = [];
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
      for (const m of span <= 4 ? [1, 2, 5] : [1]) {
        const t = m * Math.pow(10, e);
        if (Math.log10(t) >= a && Math.log10(t) <= b) ticks.push(t);
      }
    }
  } else {
    const step = niceStep(hi || 1, 8);
    const top2 = Math.ceil((hi || 1) / step) * step;
    scale = (v) => left + (v / top2) * plotW;
    inv = (x) => ((x - left) / plotW) * top2;
    ticks = [];
    for (let v = 0; v <= top2 + 1e-9; v += step) ticks.push(v);
  }
  const hasRej = pts.some((c) => c.rejected === true);
  h.push(kindLegend(hasRej));
  h.push(
    `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Handshake time distribution, full versus resumed">${hatch('hatch-tm')}`,
  );
  const axisY = top + rows.length * rowH;
  for (const t of ticks) {
    const x = scale(t);
    h.push(`<line class="grid" x1="${r1(x)}" y1="${top}" x2="${r1(x)}" y2="${axisY}"/><text class="sm" x="${r1(x)}" y="${axisY + 14}" text-anchor="middle">${esc(tickLabel(t))}</text>`);
  }
  h.push(`<line class="axis" x1="${left}" y1="${axisY}" x2="${W - right}" y2="${axisY}"/>`);
  h.push(`<text class="sm" x="${left + plotW / 2}" y="${axisY + 29}" text-anchor="middle">handshake time, ms${log ? ' (log scale)' : ''}</text>`);
  const bins = pts.length > MAX_STRIP_POINTS;
  rows.forEach((row, i) => {
    const y0 = top + i * rowH;
    const cy = y0 + rowH / 2;
    const vs = row.list.map((c) => c.handshakeMs as number).sort((a, b) => a - b);
    const med = vs.length ? quantile(vs, 0.5) : null;
    h.push(`<text class="lbl" x="${left - 10}" y="${cy - 2}" text-anchor="end" style="font-weight:600">${esc(row.name)}</text>`);
    h.push(`<text class="sm" x="${left - 10}" y="${cy + 12}" text-anchor="end">n=${num(vs.length)}${med !== null ? `, median ${esc(ms(med))}` : ''}</text>`);
    if (i > 0) h.push(`<line class="grid" x1="${left}" y1="${y0}" x2="${W - right}" y2="${y0}"/>`);
    if (bins) {
      h.push(histogram(row.list, scale, inv, left, plotW, y0 + 6, rowH - 12, row.name));
    } else {
      for (const c of row.list) {
        const x = scale(c.handshakeMs as number);
        const y = cy + jitter(c.id) * (rowH / 2 - 10);
        const rej = c.rejected === true;
        const fill = rej ? 'url(#hatch-tm)' : KIND[c.kind].color;
        const tip = `#${c.id} ${c.sni ?? endpoint(c.server)}: ${ms(c.handshakeMs)} ms, ${KIND[c.kind].label}${rej ? ', after a REJECTED offer' : ''}`;
        h.push(
          `<circle cx="${r1(x)}" cy="${r1(y)}" r="${rej ? 5.5 : 4.5}" fill="${fill}" stroke="${rej ? REJECTED_COLOR : '#fff'}" stroke-width="${rej ? 1.2 : 0.8}" fill-opacity="0.9"><title>${esc(tip)}</title></circle>`,
        );
      }
    }
    if (med !== null) {
      const x = scale(med);
      h.push(
        `<line x1="${r1(x)}" y1="${y0 + 4}" x2="${r1(x)}" y2="${y0 + rowH - 4}" stroke="#1d2330" stroke-width="2" stroke-dasharray="4 2"><title>${esc(`${row.name}: median ${ms(med)} ms`)}</title></line>`,
      );
    }
  });
  h.push(
    `</svg>\n<p class="muted small">Dashed line: median. ${bins ? 'Bars are stacked counts per time bin; hover a bar for its range.' : 'Each point is a connection; hover it for details.'}</p>\n</figure>\n`,
  );
  return h.join('');
}

/** Stacked histogram of one row's handshake times, by outcome; bins follow the (log or linear) scale. */
function histogram(list: ChartConnection[], scale: (v: number) => number, inv: (x: number) => number, left: number, plotW: number, y: number, height: number, name: string): string {
  const nb = 50;
  const cats = ['full', 'rejected', 'resumed-session-id', 'resumed-ticket', 'resumed-psk', 'unknown'] as const;
  const counts = new Map<string, number[]>(cats.map((k) => [k, new Array<number>(nb).fill(0)]));
  const totals = new Array<number>(nb).fill(0);
  for (const c of list) {
    const b = Math.min(nb - 1, Math.max(0, Math.floor(((scale(c.handshakeMs as number) - left) / plotW) * nb)));
    counts.get(c.rejected === true ? 'rejected' : c.kind)![b]++;
    totals[b]++;
  }
  const max = Math.max(1, ...totals);
  const bw = plotW / nb;
  const out: string[] = [];
  for (let b = 0; b < nb; b++) {
    if (!totals[b]) continue;
    let top = y + height;
    const parts: string[] = [];
    for (const k of cats) {
      const n = counts.get(k)![b];
      if (!n) continue;
      const hh = (n / max) * height;
      top -= hh;
      const fill = k === 'rejected' ? 'url(#hatch-tm)' : KIND[k].color;
      out.push(`<rect x="${r1(left + b * bw)}" y="${r1(top)}" width="${r1(bw - 1)}" height="${r1(hh)}" fill="${fill}"/>`);
      parts.push(`${n} ${k === 'rejected' ? 'after a rejected offer' : KIND[k].label}`);
    }
    const from = inv(left + b * bw);
    const to = inv(left + (b + 1) * bw);
    out.push(
      `<rect x="${r1(left + b * bw)}" y="${y}" width="${r1(bw)}" height="${height}" fill="transparent"><title>${esc(
        `${name}, ${ms(from)}–${ms(to)} ms: ${totals[b]} handshakes (${parts.join(', ')})`,
      )}</title></rect>`,
    );
  }
  return out.join('');
}

function tickLabel(v: number): string {
  if (v >= 1000) return `${v / 1000} s`;
  if (v >= 1) return `${Number(v.toPrecision(3))}`;
  return `${Number(v.toPrecision(2))}`;
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const a = Math.floor(i);
  const b = Math.ceil(i);
  return sorted[a] + (sorted[b] - sorted[a]) * (i - a);
}

const ONE_ROW_PER_CONNECTION = 60;
const MAX_TIMELINE_MARKS = 600;
const MAX_TIMELINE_ROWS = 40;

function timelineChart(r: Report, all: ChartConnection[], shownIds: Set<number>): string {
  const conns = all.filter((c) => isoMs(c.start) !== null);
  const h: string[] = [
    `<figure id="chart-timeline">\n<figcaption>Timeline of connections <span class="muted">— start time relative to the capture start; a bar spans the connection’s duration (at least a few pixels)${conns.length <= ONE_ROW_PER_CONNECTION ? ', the number beside it is the handshake time' : ''}</span></figcaption>\n`,
  ];
  if (conns.length === 0) return h.join('') + '<p class="muted">No connections.</p></figure>\n';
  const starts = conns.map((c) => isoMs(c.start) as number);
  const capStarts = r.captures.map((c) => isoMs(c.firstTime)).filter((x): x is number => x !== null);
  const t0 = Math.min(minOf(starts), minOf(capStarts));
  const t1 = Math.max(maxOf(conns.map((c, i) => starts[i] + Math.max(0, c.durationMs))), maxOf(r.captures.map((c) => isoMs(c.lastTime) ?? t0)));
  const spanMs = Math.max(t1 - t0, 1);
  const hasRej = conns.some((c) => c.rejected === true);
  h.push(kindLegend(hasRej, conns.some((c) => !c.tls)));
  const W = 1000;
  const perConn = conns.length <= ONE_ROW_PER_CONNECTION;
  const left = perConn ? 290 : 60;
  const right = perConn ? 70 : 20;
  const plotW = W - left - right;
  const x = (t: number) => left + ((t - t0) / spanMs) * plotW;
  const fill = (c: ChartConnection) => (!c.tls ? NON_TLS_COLOR : c.rejected === true ? 'url(#hatch-tl)' : KIND[c.kind].color);
  const tip = (c: ChartConnection, rel: number) =>
    `#${c.id} +${(rel / 1000).toFixed(3)} s ${endpoint(c.client)} → ${endpoint(c.server)} ${c.sni ?? ''}: ${kindLabel(c)}${c.rejected === true ? ', offer REJECTED' : ''}, ` +
    `handshake ${ms(c.handshakeMs)} ms, connection ${ms(c.durationMs)} ms`;
  const axis = (y: number, H: number): string => {
    const out: string[] = [];
    const stepS = niceStep(spanMs / 1000, 8);
    for (let s = 0; s <= spanMs / 1000 + 1e-9; s += stepS) {
      const xx = x(t0 + s * 1000);
      out.push(`<line class="grid" x1="${r1(xx)}" y1="4" x2="${r1(xx)}" y2="${y}"/><text class="sm" x="${r1(xx)}" y="${y + 14}" text-anchor="middle">${s === 0 ? '0' : `${Number(s.toPrecision(6))} s`}</text>`);
    }
    out.push(`<line class="axis" x1="${left}" y1="${y}" x2="${W - right}" y2="${y}"/>`);
    out.push(`<text class="sm" x="${left + plotW / 2}" y="${H - 4}" text-anchor="middle">time since capture start</text>`);
    return out.join('');
  };
  if (conns.length <= MAX_TIMELINE_MARKS) {
    // Rows: one per connection when few, else packed greedily (first row whose last mark ended).
    const rowOf: number[] = [];
    let rows = 0;
    if (perConn) {
      conns.forEach((_, i) => (rowOf[i] = i));
      rows = conns.length;
    } else {
      const ends: number[] = [];
      const order = conns.map((_, i) => i).sort((a, b) => starts[a] - starts[b]);
      for (const i of order) {
        const x0 = x(starts[i]);
        const x1 = Math.max(x(starts[i] + conns[i].durationMs), x0 + 4) + 2;
        let row = ends.findIndex((e) => e <= x0);
        if (row < 0) {
          if (ends.length < MAX_TIMELINE_ROWS) row = ends.push(0) - 1;
          else row = ends.indexOf(Math.min(...ends));
        }
        ends[row] = x1;
        rowOf[i] = row;
      }
      rows = ends.length;
    }
    const rowH = perConn ? 15 : 11;
    const axisY = 6 + rows * rowH + 4;
    const H = axisY + 34;
    h.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Timeline of connections">${hatch('hatch-tl')}`);
    h.push(axis(axisY, H));
    conns.forEach((c, i) => {
      const y = 6 + rowOf[i] * rowH;
      const x0 = x(starts[i]);
      const w = Math.max(x(starts[i] + Math.max(0, c.durationMs)) - x0, 4);
      const rej = c.rejected === true;
      const mark =
        `<rect x="${r1(x0)}" y="${y + 1}" width="${r1(w)}" height="${rowH - 3}" fill="${fill(c)}"${rej ? ` stroke="${REJECTED_COLOR}" stroke-width="1.2"` : ''}>` +
        `<title>${esc(tip(c, starts[i] - t0))}</title></rect>`;
      const label = perConn
        ? `<text class="sm" x="${left - 6}" y="${y + rowH - 4}" text-anchor="end"${rej ? ` style="fill:${REJECTED_COLOR};font-weight:700"` : ''}>${esc(
            `#${c.id} ${clip(c.sni ?? endpoint(c.server), 26)} · ${c.tls ? KIND[c.kind].short : 'not TLS'}${rej ? ' · REJECTED' : ''}`,
          )}</text>`
        : '';
      const body = label + mark;
      h.push(shownIds.has(c.id) ? `<a href="#conn-${c.id}">${body}</a>` : `<g>${body}</g>`);
      if (perConn && w < 40) {
        h.push(`<text class="sm" x="${r1(x0 + w + 4)}" y="${y + rowH - 4}">${esc(`${ms(c.handshakeMs ?? c.durationMs)} ms`)}</text>`);
      }
    });
    h.push('</svg>\n');
    if (!perConn) h.push('<p class="muted small">Connections are packed into rows; hover a mark for the connection, click it to jump to its row below.</p>');
  } else {
    // Binned: stacked columns of connection starts per kind.
    const nb = 80;
    const counts: Record<string, number[]> = {};
    const keys = [...KINDS, 'rejected', 'non-tls'];
    for (const k of keys) counts[k] = new Array<number>(nb).fill(0);
    conns.forEach((c, i) => {
      const b = Math.min(nb - 1, Math.floor(((starts[i] - t0) / spanMs) * nb));
      const k = !c.tls ? 'non-tls' : c.rejected === true ? 'rejected' : c.kind;
      counts[k][b]++;
    });
    const totals = Array.from({ length: nb }, (_, b) => keys.reduce((a, k) => a + counts[k][b], 0));
    const max = Math.max(1, ...totals);
    const plotH = 180;
    const axisY = 8 + plotH;
    const H = axisY + 34;
    const bw = plotW / nb;
    h.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Connections started per time bin">${hatch('hatch-tl')}`);
    h.push(axis(axisY, H));
    h.push(`<text class="sm" x="${left - 6}" y="16" text-anchor="end">${num(max)}</text><text class="sm" x="${left - 6}" y="${axisY}" text-anchor="end">0</text>`);
    for (let b = 0; b < nb; b++) {
      let yy = axisY;
      const parts: string[] = [];
      for (const k of ['full', 'rejected', 'resumed-session-id', 'resumed-ticket', 'resumed-psk', 'unknown', 'non-tls']) {
        const n = counts[k][b];
        if (!n) continue;
        const hh = (n / max) * plotH;
        yy -= hh;
        const f = k === 'rejected' ? 'url(#hatch-tl)' : k === 'non-tls' ? NON_TLS_COLOR : KIND[k as Kind].color;
        h.push(`<rect x="${r1(left + b * bw)}" y="${r1(yy)}" width="${r1(bw - 1)}" height="${r1(hh)}" fill="${f}"/>`);
        parts.push(`${n} ${k === 'rejected' ? 'rejected' : k === 'non-tls' ? 'not TLS' : KIND[k as Kind].short}`);
      }
      if (totals[b]) {
        const from = ((b * spanMs) / nb / 1000).toFixed(2);
        const to = (((b + 1) * spanMs) / nb / 1000).toFixed(2);
        h.push(`<rect x="${r1(left + b * bw)}" y="8" width="${r1(bw)}" height="${plotH}" fill="transparent"><title>${esc(`+${from}–${to} s: ${totals[b]} connections (${parts.join(', ')})`)}</title></rect>`);
      }
    }
    h.push('</svg>\n');
    h.push(`<p class="muted small">${num(conns.length)} connections, counted per time bin by outcome.</p>`);
  }
  h.push('</figure>\n');
  return h.join('');
}

// ---------------------------------------------------------------------------------------------
// 5. Servers

const MAX_SERVER_ROWS = 300;

function serversSection(servers: ServerStats[]): string {
  const h: string[] = [`<section id="servers">\n<h2>Servers (${num(servers.length)})</h2>\n`];
  if (servers.length === 0) return h.join('') + '<p class="muted">No TLS servers.</p></section>\n';
  h.push('<div class="scroll"><table class="servers"><thead><tr>');
  h.push(
    '<th rowspan="2">Server</th><th rowspan="2">SNI</th><th class="n" rowspan="2">Conns</th><th class="n" rowspan="2">Full</th>' +
      '<th class="c" colspan="3">Resumed by</th><th class="n" rowspan="2">Un&shy;known</th><th class="n" rowspan="2">Offered</th><th class="n" rowspan="2">Rejected</th>' +
      '<th class="n" rowspan="2" title="resumed ÷ offered">Rate</th><th class="n" rowspan="2">Tickets issued</th>' +
      '<th class="c" colspan="2">Full handshake ms</th><th class="c" colspan="2">Resumed handshake ms</th><th class="c" colspan="2">Saving</th></tr><tr>' +
      '<th class="n" title="resumed by session ID">SID</th><th class="n" title="resumed by ticket">ticket</th><th class="n" title="resumed by TLS 1.3 PSK">PSK</th>' +
      '<th class="n">median</th><th class="n">p90</th><th class="n">median</th><th class="n">p90</th>' +
      '<th class="n" title="median full minus median resumed handshake">ms</th><th class="n" title="round trips a resumption saves">round trips</th>',
  );
  h.push('</tr></thead><tbody>');
  for (const s of servers.slice(0, MAX_SERVER_ROWS)) {
    const t = (x: { medianMs: number | null; p90Ms: number | null; n: number }) =>
      x.n === 0 ? '<td class="n muted">–</td><td class="n muted">–</td>' : `<td class="n">${esc(ms(x.medianMs))}</td><td class="n">${esc(ms(x.p90Ms))}</td>`;
    const versions = Object.entries(s.versions).map(([v, n]) => `${v} ${n}`).join(', ');
    h.push(
      `<tr${s.rejected ? ' class="has-rej"' : ''}><td class="mono small nw" title="${esc(versions)}">${esc(endpoint(s.server))}</td><td>${esc(s.sni ?? '–')}</td><td class="n">${num(s.connections)}</td>` +
        `<td class="n">${num(s.full)}</td><td class="n">${num(s.resumed['session-id'])}</td><td class="n">${num(s.resumed.ticket)}</td><td class="n">${num(s.resumed.psk)}</td>` +
        `<td class="n">${num(s.unknown)}</td><td class="n">${num(s.offered)}</td>` +
        `<td class="n">${s.rejected ? `<span class="rej-tag">${num(s.rejected)}</span>` : '0'}</td><td class="n">${esc(pct(s.resumptionRate))}</td>` +
        `<td class="n" title="${esc(`${s.sessionIdsIssued} session IDs issued`)}">${num(s.ticketsIssued)}</td>${t(s.handshake.full)}${t(s.handshake.resumed)}` +
        `<td class="n">${esc(ms(s.savingMs))}</td><td class="n">${s.savingRoundTrips === null ? '–' : esc(s.savingRoundTrips)}</td></tr>`,
    );
  }
  h.push('</tbody></table></div>\n');
  if (servers.length > MAX_SERVER_ROWS) h.push(`<p class="muted">${num(servers.length - MAX_SERVER_ROWS)} more servers not listed (see <code>--format json</code>).</p>`);
  h.push('</section>\n');
  return h.join('');
}

// ---------------------------------------------------------------------------------------------
// 6. Connections

function connectionsSection(r: Report, all: ChartConnection[], shown: ConnectionResult[]): string {
  const total = all.length;
  const h: string[] = [`<section id="connections">\n<h2>Connections (${num(total)})</h2>\n`];
  if (total === 0) return h.join('') + '<p class="muted">No connections.</p></section>\n';
  let t0 = Infinity;
  for (const c of all) t0 = Math.min(t0, isoMs(c.start) ?? Infinity);
  for (const c of r.captures) t0 = Math.min(t0, isoMs(c.firstTime) ?? Infinity);
  if (shown.length < total) {
    h.push(
      `<p><strong>${num(total - shown.length)} of ${num(total)} connections are hidden</strong>: the first ${num(shown.length)} are listed ` +
        '(use <code>--limit 0</code> to list all, or <code>--format json</code>).</p>\n',
    );
  }
  h.push('<p class="muted small">Open a row’s “details” for the evidence, where an offered session came from, the certificate and a ladder diagram of the handshake.</p>\n');
  h.push('<div class="scroll"><table class="connections"><thead><tr>');
  h.push('<th class="n">#</th><th>Start</th><th>Client → server</th><th>SNI</th><th>Version</th><th>Kind</th><th>Offered</th><th class="n">Handshake ms</th><th>Flights</th>');
  h.push('</tr></thead><tbody>\n');
  shown.forEach((c, i) => {
    const start = isoMs(c.start);
    const rel = start !== null && Number.isFinite(t0) ? `+${((start - t0) / 1000).toFixed(3)} s` : '';
    const color = !c.tls ? NON_TLS_COLOR : KIND[c.kind].color;
    const kind =
      `<span class="kind"><span class="sw" style="background:${color}"></span>${esc(kindLabel(c))}${c.ambiguous ? ' <span title="both a ticket and a session ID were offered; see the evidence">*</span>' : ''}</span>`;
    const offered =
      c.rejected === true
        ? `${esc(offeredText(c))} <span class="rej-tag">REJECTED</span>`
        : c.rejected === null && c.offered !== null && c.offered.length > 0
          ? `${esc(offeredText(c))} <span class="muted">(outcome unknown)</span>`
          : esc(offeredText(c));
    h.push(
      `<tr class="conn" id="conn-${c.id}"><td class="n"><a href="#conn-${c.id}">#${c.id}</a></td>` +
        `<td class="mono small" title="${esc(c.start)}">${esc(c.start.slice(11, 23))}<br><span class="muted">${esc(rel)}</span></td>` +
        `<td class="mono small nw">${esc(endpoint(c.client))} →<br>${esc(endpoint(c.server))}</td><td>${esc(c.sni ?? '–')}</td><td>${esc(c.version ?? '?')}</td>` +
        `<td>${kind}</td><td>${offered}</td><td class="n">${esc(ms(c.handshakeMs))}</td><td class="mono small">${esc(c.flightSummary || '–')}</td></tr>\n`,
    );
    h.push(`<tr class="det"><td></td><td colspan="8"><details id="details-${c.id}"><summary>details of #${c.id}</summary>${connectionDetail(c, i < MAX_LADDERS)}</details></td></tr>\n`);
  });
  h.push('</tbody></table></div>\n');
  if (shown.length < total) h.push(`<p class="muted">… ${num(total - shown.length)} more connections not listed.</p>\n`);
  h.push(
    `<p class="muted small">Message names: ${Object.entries(MESSAGE_NAMES)
      .filter(([k]) => !k.includes('?') && k !== 'SSLv2-SH')
      .map(([k, v]) => `<code>${esc(k)}</code> ${esc(v)}`)
      .join(', ')}.</p>\n`,
  );
  h.push('</section>\n');
  return h.join('');
}

const ROLE_BASIS: Record<string, string> = {
  syn: 'the SYN',
  'client-hello': 'the ClientHello',
  'server-hello': 'the ServerHello',
  'server-message': 'a message only a server sends',
};

function connectionDetail(c: ConnectionResult, drawLadder: boolean): string {
  const facts: [string, string][] = [];
  facts.push(['Capture', `<span class="mono">${esc(c.file)}</span>, frames ${c.firstFrame}–${c.lastFrame}`]);
  facts.push(['Started', `<span class="mono">${esc(c.start)}</span>, lasted ${esc(ms(c.durationMs))} ms${c.closed ? `, closed by ${c.closed.toUpperCase()}` : ', not closed in the capture'}`]);
  facts.push(['Roles', c.roleBasis ? `client decided by ${esc(ROLE_BASIS[c.roleBasis] ?? c.roleBasis)}` : 'guessed (first sender)']);
  if (c.tls) {
    facts.push(['Outcome', `${esc(kindLabel(c))}${c.rejected === true ? ' — <span class="rej-tag">offer REJECTED</span>' : ''}${c.complete === false ? ' (incomplete)' : ''}`]);
    facts.push(['Cipher', esc(c.cipher ?? '–')]);
    if (c.alpn || c.alpnOffered.length) facts.push(['ALPN', `${esc(c.alpn ?? 'none selected')}${c.alpnOffered.length ? ` <span class="muted">(offered ${esc(c.alpnOffered.join(', '))})</span>` : ''}`]);
    facts.push(['Offered', esc(offeredText(c))]);
    if (c.sessionId.client || c.sessionId.server) {
      facts.push([
        'Session ID',
        `<span class="mono small">client ${esc(c.sessionId.client ? `${c.sessionId.client.slice(0, 16)}…` : '–')}, server ${esc(c.sessionId.server ? `${c.sessionId.server.slice(0, 16)}…` : '–')}</span>`,
      ]);
    }
    if (c.ticketOffered) facts.push(['Ticket offered', `${c.ticketOffered.length} bytes, <span class="mono">#${esc(c.ticketOffered.hash)}</span>`]);
    if (c.psk) {
      facts.push([
        'PSK',
        `${plural(c.psk.identities, 'identity', 'identities')} (${esc(c.psk.identityHashes.map((x) => `#${x}`).join(', '))}), ` +
          `selected ${c.psk.selected === null ? 'none' : esc(c.psk.selected)}${c.pskMode ? `, ${esc(c.pskMode)}` : ''}`,
      ]);
    }
    if (c.tickets.length) facts.push(['Tickets issued', esc(c.tickets.map((t) => `${t.length} bytes, lifetime hint ${t.lifetimeHint} s, #${t.hash}`).join('; '))]);
    if (c.helloRetry) facts.push(['HelloRetry', 'yes']);
    if (c.earlyData) facts.push(['0-RTT', esc(c.earlyData)]);
    if (c.alert) facts.push(['Alert', `<span class="errline">${esc(`${c.alert.level} ${c.alert.description} from the ${c.alert.from}`)}</span>`]);
  }
  facts.push(['Traffic', `client ${num(c.bytes.client)} bytes in ${plural(c.packets.client, 'packet')}, server ${num(c.bytes.server)} bytes in ${plural(c.packets.server, 'packet')}`]);

  const left: string[] = [];
  left.push('<dl class="meta small">');
  for (const [k, v] of facts) left.push(`<dt>${esc(k)}</dt><dd>${v}</dd>`);
  left.push('</dl>');
  if (c.reason) left.push(`<h4>Reason</h4><p>${esc(c.reason)}</p>`);
  if (c.evidence.length) left.push(`<h4>Evidence</h4><ul>${c.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>`);
  if (c.origin) {
    const o = c.origin;
    const what = o.via === 'ticket' ? 'ticket' : o.via === 'session-id' ? 'session ID' : 'PSK';
    const verb = o.via === 'psk' ? 'first offered in' : 'issued by';
    let age = `${o.ageS.toFixed(3)} s before this ClientHello`;
    if (o.lifetimeHint !== null) {
      const expired = o.ageS > o.lifetimeHint;
      age += `; lifetime hint ${o.lifetimeHint} s — ${expired ? '<span class="rej-tag">EXPIRED</span> (older than the hint)' : 'within the hint'}`;
    }
    left.push(
      `<h4>Origin</h4><p>The offered ${what} was ${verb} ${connLinkPlain(o.connection)} at <span class="mono">${esc(endpoint(o.server))}</span>` +
        `${o.sni ? ` (${esc(o.sni)})` : ''}${o.sameServer ? ', the same server' : ', <strong>a different server</strong>'}, ${age}.</p>`,
    );
  } else if (c.resumedFrom !== null) {
    left.push(`<h4>Origin</h4><p>Resumes the session of ${connLinkPlain(c.resumedFrom)}.</p>`);
  } else if (c.offered && c.offered.length > 0) {
    left.push(
      `<h4>Origin</h4><p class="muted">The capture does not show where the offered ${c.offered.join(' / ')} came from` +
        `${c.version === 'TLS1.3' ? ' (TLS 1.3 tickets travel encrypted)' : ' (issued before the capture started, or on a connection not captured)'}.</p>`,
    );
  }
  if (c.certificate) {
    const cert = c.certificate;
    left.push('<h4>Certificate</h4>');
    if (cert.leaf) {
      const l = cert.leaf;
      left.push(
        '<dl class="meta small">' +
          `<dt>Subject</dt><dd>${esc(l.subject)}</dd><dt>Issuer</dt><dd>${esc(l.issuer)}</dd>` +
          `<dt>Valid</dt><dd>${esc(l.validFrom)} → ${esc(l.validTo)}</dd>` +
          (l.san.length ? `<dt>SAN</dt><dd>${esc(l.san.slice(0, 20).join(', '))}${l.san.length > 20 ? ` … (${l.san.length} in all)` : ''}</dd>` : '') +
          `<dt>Serial</dt><dd class="mono small">${esc(l.serialNumber)}</dd><dt>SHA-256</dt><dd class="mono small">${esc(l.fingerprint256)}</dd>` +
          `<dt>Chain</dt><dd>${plural(cert.count, 'certificate')}</dd></dl>`,
      );
    } else {
      left.push(`<p>${plural(cert.count, 'certificate')}; leaf not readable${cert.leafError ? `: ${esc(cert.leafError)}` : ''}</p>`);
    }
  }
  const issues = [...c.losses, ...c.problems];
  if (issues.length) left.push(`<h4>Capture problems</h4><ul>${issues.map((x) => `<li class="warnline">${esc(x)}</li>`).join('')}</ul>`);

  const right = drawLadder ? ladder(c) : `<p class="muted small">Ladder diagrams are drawn for the first ${num(MAX_LADDERS)} connections only.</p>`;
  return `<div class="detail"><div>${left.join('')}</div><div>${right}</div></div>`;
}

function connLinkPlain(id: number): string {
  return `<a href="#conn-${id}">connection #${id}</a>`;
}

/** Ladder diagrams per page, whatever the limit: they are most of the size of a long listing. */
const MAX_LADDERS = 1000;
const MAX_LADDER_FLIGHTS = 30;
const LADDER_LINE_CHARS = 40;

/** A sequence diagram of the connection's flights: client and server lines, one arrow per flight. */
function ladder(c: ConnectionResult): string {
  if (c.flights.length === 0) return '<p class="muted">No handshake messages seen.</p>';
  const flights = c.flights.slice(0, MAX_LADDER_FLIGHTS);
  const W = 540;
  const cx = 120;
  const sx = 420;
  const headH = 56;
  const lines = flights.map((f) => wrapMessages(f.messages));
  const heights = lines.map((l) => 30 + l.length * 14);
  const H = headH + heights.reduce((a, b) => a + b, 0) + 16;
  const out: string[] = [];
  out.push(
    `<svg class="ladder" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`Ladder diagram of connection #${c.id}`)}">` +
      `<defs><marker id="ah-${c.id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1d2330"/></marker></defs>`,
  );
  out.push(`<text class="lbl" x="${cx}" y="14" text-anchor="middle" style="font-weight:700">Client</text>`);
  out.push(`<text class="sm" x="${cx}" y="28" text-anchor="middle">${esc(endpoint(c.client))}</text>`);
  out.push(`<text class="lbl" x="${sx}" y="14" text-anchor="middle" style="font-weight:700">Server</text>`);
  out.push(`<text class="sm" x="${sx}" y="28" text-anchor="middle">${esc(endpoint(c.server))}</text>`);
  if (c.sni) out.push(`<text class="sm" x="${sx}" y="41" text-anchor="middle"><title>${esc(c.sni)}</title>${esc(clip(c.sni, 34))}</text>`);
  out.push(`<line x1="${cx}" y1="${headH - 8}" x2="${cx}" y2="${H - 4}" stroke="#5b6474" stroke-width="2"/>`);
  out.push(`<line x1="${sx}" y1="${headH - 8}" x2="${sx}" y2="${H - 4}" stroke="#5b6474" stroke-width="2"/>`);
  let y = headH;
  flights.forEach((f, i) => {
    const ls = lines[i];
    const hgt = heights[i];
    const arrowY = y + ls.length * 14 + 6;
    const tip = `${f.from} flight at ${f.atMs.toFixed(3)} ms: ${f.messages.map(messageName).join(', ')} (${framesText(f)})`;
    out.push(`<g><title>${esc(tip)}</title>`);
    ls.forEach((t, j) => out.push(`<text class="lbl mono" x="${(cx + sx) / 2}" y="${y + 12 + j * 14}" text-anchor="middle" style="font-weight:600">${esc(t)}</text>`));
    const timeTxt = `${f.atMs.toFixed(3)} ms`;
    if (f.from === 'unknown') {
      out.push(`<line x1="${cx}" y1="${arrowY}" x2="${sx}" y2="${arrowY}" stroke="#1d2330" stroke-width="1.5" stroke-dasharray="5 3"/>`);
      out.push(`<text class="sm" x="${cx - 8}" y="${arrowY + 4}" text-anchor="end">${esc(timeTxt)}</text>`);
      out.push(`<text class="sm" x="${(cx + sx) / 2}" y="${arrowY + 16}" text-anchor="middle">${esc(`direction unknown · ${framesText(f)}`)}</text>`);
    } else {
      const fromClient = f.from === 'client';
      const x1 = fromClient ? cx : sx;
      const x2 = fromClient ? sx : cx;
      out.push(`<line x1="${x1}" y1="${arrowY}" x2="${x2}" y2="${arrowY + 10}" stroke="#1d2330" stroke-width="1.6" marker-end="url(#ah-${c.id})"/>`);
      out.push(`<circle cx="${x1}" cy="${arrowY}" r="3" fill="#1d2330"/>`);
      out.push(
        fromClient
          ? `<text class="sm" x="${cx - 8}" y="${arrowY + 4}" text-anchor="end">${esc(timeTxt)}</text>`
          : `<text class="sm" x="${sx + 8}" y="${arrowY + 4}">${esc(timeTxt)}</text>`,
      );
      out.push(`<text class="sm" x="${(cx + sx) / 2}" y="${arrowY + 20}" text-anchor="middle">${esc(framesText(f))}</text>`);
    }
    out.push('</g>');
    y += hgt;
  });
  out.push('</svg>');
  if (c.flights.length > flights.length) out.push(`<p class="muted small">${c.flights.length - flights.length} more flights not drawn.</p>`);
  return out.join('');
}

function framesText(f: FlightJson): string {
  if (f.frames.length === 0) return 'no frame';
  const list = f.frames.slice(0, 8).join(', ') + (f.frames.length > 8 ? ` … (+${f.frames.length - 8})` : '');
  return `${f.frames.length === 1 ? 'frame' : 'frames'} ${list}`;
}

function wrapMessages(messages: string[]): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const m of messages) {
    const next = cur ? `${cur}, ${m}` : m;
    if (cur && next.length > LADDER_LINE_CHARS) {
      lines.push(`${cur},`);
      cur = m;
    } else {
      cur = next;
    }
  }
  if (cur) lines.push(cur);
  if (lines.length > 3) return [...lines.slice(0, 2), `${clip(lines[2], LADDER_LINE_CHARS - 2)} …`];
  return lines.map((l) => clip(l, LADDER_LINE_CHARS + 6));
}
