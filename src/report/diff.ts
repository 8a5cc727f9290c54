import { code, endpoint, mdText } from './markdown.js';
import type { ConnectionResult, Finding, Report, ServerStats } from './model.js';

export interface MetricDiff {
  metric: string;
  before: number | null;
  after: number | null;
  delta: number | null;
}

export interface ServerDiff {
  server: { ip: string; port: number };
  sni: string | null;
  before: ServerStats | null;
  after: ServerStats | null;
  /** Change in resumption rate (after − before), in ratio points. */
  rateDelta: number | null;
  fullMedianDeltaMs: number | null;
  resumedMedianDeltaMs: number | null;
}

export interface DiffReport {
  schemaVersion: 1;
  type: 'diff';
  before: { files: string[]; headline: string };
  after: { files: string[]; headline: string };
  metrics: MetricDiff[];
  servers: ServerDiff[];
  findings: { appeared: Finding[]; disappeared: Finding[]; persisting: Finding[] };
}

function delta(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : Math.round((b - a) * 10000) / 10000;
}

/** Handshake times of a capture's full and resumed connections, for the medians. */
export interface HandshakeTimes {
  full: number[];
  resumed: number[];
}

/** The handshake times of a report's connections (when it kept them all). */
export function handshakeTimes(connections: Iterable<ConnectionResult>): HandshakeTimes {
  const t: HandshakeTimes = { full: [], resumed: [] };
  for (const c of connections) addHandshakeTime(t, c);
  return t;
}

export function addHandshakeTime(t: HandshakeTimes, c: ConnectionResult): void {
  if (c.handshakeMs === null) return;
  if (c.kind === 'full') t.full.push(c.handshakeMs);
  else if (c.kind.startsWith('resumed')) t.resumed.push(c.handshakeMs);
}

function median(list: number[]): number | null {
  if (list.length === 0) return null;
  const v = [...list].sort((a, b) => a - b);
  const m = (v.length - 1) / 2;
  return Math.round(((v[Math.floor(m)] + v[Math.ceil(m)]) / 2) * 1000) / 1000;
}

function findingKey(f: Finding): string {
  return `${f.type}|${f.server ? endpoint(f.server) : ''}|${f.sni ?? ''}`;
}

/** Before/after comparison of two analyses: what a configuration change did to resumption. */
/**
 * `times` are the handshake times of every connection of each side; without them they are taken
 * from the reports' connections, which must then be all of them (a report keeps only those it lists).
 */
export function buildDiff(before: Report, after: Report, times?: { before: HandshakeTimes; after: HandshakeTimes }): DiffReport {
  const tb = times?.before ?? handshakeTimes(before.connections);
  const ta = times?.after ?? handshakeTimes(after.connections);
  const m = (metric: string, a: number | null, b: number | null): MetricDiff => ({ metric, before: a, after: b, delta: delta(a, b) });
  const metrics = [
    m('TLS connections', before.summary.tlsConnections, after.summary.tlsConnections),
    m('full handshakes', before.summary.byKind.full, after.summary.byKind.full),
    m('resumed', before.summary.resumed, after.summary.resumed),
    m('offered resumption', before.summary.offeredResumption, after.summary.offeredResumption),
    m('rejected', before.summary.rejected, after.summary.rejected),
    m('resumption rate (of offers)', before.summary.resumptionRateOffered, after.summary.resumptionRateOffered),
    m('resumption rate (of all)', before.summary.resumptionRateAll, after.summary.resumptionRateAll),
    m('median full handshake ms', median(tb.full), median(ta.full)),
    m('median resumed handshake ms', median(tb.resumed), median(ta.resumed)),
  ];
  const key = (s: ServerStats) => `${endpoint(s.server)}|${s.sni ?? ''}`;
  const pairs = new Map<string, ServerDiff>();
  for (const s of before.servers) {
    pairs.set(key(s), { server: s.server, sni: s.sni, before: s, after: null, rateDelta: null, fullMedianDeltaMs: null, resumedMedianDeltaMs: null });
  }
  for (const s of after.servers) {
    const p = pairs.get(key(s));
    if (p) p.after = s;
    else pairs.set(key(s), { server: s.server, sni: s.sni, before: null, after: s, rateDelta: null, fullMedianDeltaMs: null, resumedMedianDeltaMs: null });
  }
  const servers = [...pairs.values()];
  for (const p of servers) {
    p.rateDelta = delta(p.before?.resumptionRate ?? null, p.after?.resumptionRate ?? null);
    p.fullMedianDeltaMs = delta(p.before?.handshake.full.medianMs ?? null, p.after?.handshake.full.medianMs ?? null);
    p.resumedMedianDeltaMs = delta(p.before?.handshake.resumed.medianMs ?? null, p.after?.handshake.resumed.medianMs ?? null);
  }
  servers.sort((a, b) => (b.after?.connections ?? 0) + (b.before?.connections ?? 0) - ((a.after?.connections ?? 0) + (a.before?.connections ?? 0)));
  const beforeKeys = new Map(before.findings.map((f) => [findingKey(f), f]));
  const afterKeys = new Map(after.findings.map((f) => [findingKey(f), f]));
  return {
    schemaVersion: 1,
    type: 'diff',
    before: { files: before.captures.map((c) => c.file), headline: before.headline },
    after: { files: after.captures.map((c) => c.file), headline: after.headline },
    metrics,
    servers,
    findings: {
      appeared: after.findings.filter((f) => !beforeKeys.has(findingKey(f))),
      disappeared: before.findings.filter((f) => !afterKeys.has(findingKey(f))),
      persisting: after.findings.filter((f) => beforeKeys.has(findingKey(f))),
    },
  };
}

function num(x: number | null, metric = ''): string {
  if (x === null) return '–';
  if (metric.includes('rate')) return `${(x * 100).toFixed(1)}%`;
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function signed(x: number | null, metric = ''): string {
  if (x === null) return '–';
  const s = num(Math.abs(x), metric);
  return x > 0 ? `+${s}` : x < 0 ? `−${s}` : '±0';
}

function serverName(d: ServerDiff): string {
  return `${endpoint(d.server)}${d.sni ? ` (${d.sni})` : ''}`;
}

export function renderDiffText(d: DiffReport): string {
  const L: string[] = [];
  L.push(`before: ${d.before.files.join(', ')}`);
  L.push(`  ${d.before.headline}`);
  L.push(`after:  ${d.after.files.join(', ')}`);
  L.push(`  ${d.after.headline}`);
  L.push('');
  const w = Math.max(...d.metrics.map((m) => m.metric.length));
  for (const m of d.metrics) {
    L.push(`${m.metric.padEnd(w)}  ${num(m.before, m.metric).padStart(8)} → ${num(m.after, m.metric).padStart(8)}  ${signed(m.delta, m.metric)}`);
  }
  L.push('');
  L.push('Per server (resumption rate of offers; median full / resumed handshake ms):');
  for (const s of d.servers) {
    const b = s.before;
    const a = s.after;
    const fmt = (x: ServerStats | null) =>
      x ? `${num(x.resumptionRate, 'rate')} (${x.connections} conns), ${num(x.handshake.full.medianMs)} / ${num(x.handshake.resumed.medianMs)} ms` : 'absent';
    L.push(`  ${serverName(s)}: ${fmt(b)} → ${fmt(a)}${s.rateDelta !== null ? `  [rate ${signed(s.rateDelta, 'rate')}]` : ''}`);
  }
  const list = (title: string, fs: Finding[]) => {
    if (fs.length === 0) return;
    L.push('');
    L.push(title);
    for (const f of fs) L.push(`  - [${f.severity}] ${f.title}`);
  };
  list('Findings that appeared:', d.findings.appeared);
  list('Findings that disappeared:', d.findings.disappeared);
  list('Findings still present:', d.findings.persisting);
  if (d.findings.appeared.length + d.findings.disappeared.length + d.findings.persisting.length === 0) {
    L.push('');
    L.push('No findings before or after.');
  }
  return L.join('\n') + '\n';
}

export function renderDiffMarkdown(d: DiffReport, command: string): string {
  const L: string[] = [];
  L.push('## TLS resumption: before / after');
  L.push('');
  L.push(`- **before** (${d.before.files.map(code).join(', ')}): ${mdText(d.before.headline)}`);
  L.push(`- **after** (${d.after.files.map(code).join(', ')}): ${mdText(d.after.headline)}`);
  L.push('');
  L.push('| metric | before | after | change |');
  L.push('| --- | ---: | ---: | ---: |');
  for (const m of d.metrics) L.push(`| ${m.metric} | ${num(m.before, m.metric)} | ${num(m.after, m.metric)} | ${signed(m.delta, m.metric)} |`);
  L.push('');
  L.push('| server | rate before | rate after | change | full ms before → after | resumed ms before → after |');
  L.push('| --- | ---: | ---: | ---: | --- | --- |');
  for (const s of d.servers) {
    L.push(
      `| ${code(serverName(s))} | ${num(s.before?.resumptionRate ?? null, 'rate')} | ${num(s.after?.resumptionRate ?? null, 'rate')} | ${signed(s.rateDelta, 'rate')} | ` +
        `${num(s.before?.handshake.full.medianMs ?? null)} → ${num(s.after?.handshake.full.medianMs ?? null)} | ` +
        `${num(s.before?.handshake.resumed.medianMs ?? null)} → ${num(s.after?.handshake.resumed.medianMs ?? null)} |`,
    );
  }
  for (const [title, fs] of [
    ['Appeared', d.findings.appeared],
    ['Disappeared', d.findings.disappeared],
    ['Still present', d.findings.persisting],
  ] as const) {
    if (fs.length === 0) continue;
    L.push('');
    L.push(`### ${title}`);
    for (const f of fs) L.push(`- **${f.severity}**: ${mdText(f.title)}`);
  }
  L.push('');
  L.push(`<sub>${code(command)}</sub>`);
  L.push('');
  return L.join('\n');
}
