import { alertName, cipherName, groupName } from '../tls/constants.js';
import type { ConnectionResult, FlightJson, OriginJson } from '../report/model.js';
import type { IssuedRegistry, IssueRecord } from './linker.js';
import type { Connection } from './connection.js';
import type { Classification, HandshakeTrace, HsEvent, Side } from './types.js';
import type { ServerHello } from '../tls/types.js';

/** Events that repeat per record and read better counted: `Enc×3`. */
const COUNTED = new Set(['Enc', 'App', 'Early']);

/** Largest |seconds| a JS Date can show (±8.64e15 ms); corrupt captures carry larger timestamps. */
const MAX_DATE_SEC = 8.64e12;

// Connections ending together mostly started in the same second: its date text is reused.
let cachedSec = NaN;
let cachedBase = '';

export function isoTime(sec: number, nsec: number, nanos: boolean): string {
  const frac = nanos ? String(nsec).padStart(9, '0') : String(Math.floor(nsec / 1000)).padStart(6, '0');
  if (!Number.isFinite(sec) || Math.abs(sec) > MAX_DATE_SEC) return `epoch+${sec}.${frac}s`;
  if (sec !== cachedSec) {
    // Up to the milliseconds (".sssZ"): years beyond 9999 (or before 0) have six digits and a sign.
    cachedBase = new Date(sec * 1000).toISOString().slice(0, -5);
    cachedSec = sec;
  }
  return `${cachedBase}.${frac}Z`;
}

function flights(t: HandshakeTrace): FlightJson[] {
  const out: FlightJson[] = [];
  const ev = t.events;
  let i = 0;
  while (i < ev.length) {
    const side = ev[i].side;
    const f: FlightJson = { from: roleOf(side, t.clientSide), atMs: round3(ev[i].ms), frames: [], messages: [] };
    out.push(f);
    for (; i < ev.length && ev[i].side === side; i++) {
      const e = ev[i];
      const name = label(e);
      if (COUNTED.has(name)) {
        // A run of the same counted event is one message: `Enc×3`.
        let n = 1;
        while (i + n < ev.length && ev[i + n].side === side && ev[i + n].name === name) {
          if (f.frames[f.frames.length - 1] !== ev[i + n - 1].frame) f.frames.push(ev[i + n - 1].frame);
          n++;
        }
        f.messages.push(n > 1 ? `${name}×${n}` : name);
        i += n - 1;
      } else f.messages.push(name);
      if (f.frames[f.frames.length - 1] !== ev[i].frame) f.frames.push(ev[i].frame);
    }
  }
  return out;
}

function label(e: HsEvent): string {
  if (e.name === 'Alert' && e.ref !== undefined) return `Alert(${alertName(e.ref)})`;
  return e.name;
}

function roleOf(side: Side, clientSide: Side | null): 'client' | 'server' | 'unknown' {
  if (clientSide === null) return 'unknown';
  return side === clientSide ? 'client' : 'server';
}

export function flightSummary(f: FlightJson[]): string {
  return f.map((x) => `${x.from === 'client' ? 'C' : x.from === 'server' ? 'S' : '?'}:${x.messages.join(',')}`).join(' ▸ ');
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Capture time (seconds) of the connection's first ClientHello, or of its start without one. */
export function clientHelloTime(conn: Connection, t: HandshakeTrace): number {
  const chEvent = t.events.find((e) => e.name === 'CH');
  return conn.startSec + conn.startNsec / 1e9 + (chEvent ? chEvent.ms / 1000 : 0);
}

/** Where what the client offered came from, when the capture shows it. */
function originOf(conn: Connection, t: HandshakeTrace, c: Classification, reg: IssuedRegistry): OriginJson | null {
  const ch = t.clientHellos.length > 0 ? t.clientHellos[t.clientHellos.length - 1] : null;
  if (!ch || !c.offered || c.offered.length === 0) return null;
  const chTime = clientHelloTime(conn, t);
  const candidates: [OriginJson['via'], string | null][] = [
    ['ticket', c.offered.includes('ticket') ? ch.sessionTicketHash : null],
    ['session-id', c.offered.includes('session-id') ? ch.sessionId : null],
    ['psk', c.offered.includes('psk') ? (ch.psk?.identityHashes[0] ?? null) : null],
  ];
  const cs = t.clientSide ?? 0;
  const server = conn.sides[cs === 0 ? 1 : 0];
  for (const [via, key] of candidates) {
    if (!key) continue;
    const rec = reg.get(via, key);
    if (!rec || rec.conn === conn.id) continue;
    return originJson(via, rec, chTime, server);
  }
  return null;
}

/** An origin from what the registry kept of it, for a ClientHello at `helloTime` to `server`. */
export function originJson(via: OriginJson['via'], rec: IssueRecord, helloTime: number, server: { ip: string; port: number }): OriginJson {
  return {
    via,
    connection: rec.conn,
    server: { ip: rec.serverIp, port: rec.serverPort },
    sni: rec.sni,
    ageS: Math.round((helloTime - rec.time) * 1000) / 1000,
    lifetimeHint: rec.lifetimeHint,
    sameServer: rec.serverIp === server.ip && rec.serverPort === server.port,
  };
}

export function buildResult(
  conn: Connection,
  t: HandshakeTrace,
  c: Classification,
  file: string,
  nanos: boolean,
  reg: IssuedRegistry,
): ConnectionResult {
  const cs: Side = t.clientSide ?? 0;
  const ss: Side = cs === 0 ? 1 : 0;
  const ch = t.clientHellos.length > 0 ? t.clientHellos[t.clientHellos.length - 1] : null;
  let sh: ServerHello | null = null;
  for (let i = t.serverHellos.length - 1; i >= 0 && sh === null; i--) if (!t.serverHellos[i].helloRetry) sh = t.serverHellos[i];
  const fl = flights(t);
  const alert = t.alerts.find((a) => a.level === 2) ?? t.alerts[0] ?? null;
  const tls = t.clientHellos.length > 0 || t.serverHellos.length > 0 || conn.tlsRecords > 0;
  return {
    id: conn.id,
    file,
    transport: 'tcp',
    client: { ip: conn.sides[cs].ip, port: conn.sides[cs].port },
    server: { ip: conn.sides[ss].ip, port: conn.sides[ss].port },
    roleBasis: t.roleBasis,
    start: isoTime(conn.startSec, conn.startNsec, nanos),
    firstFrame: conn.firstFrame,
    lastFrame: conn.lastFrame,
    durationMs: round3((conn.lastSec - conn.startSec) * 1000 + (conn.lastNsec - conn.startNsec) / 1e6),
    tls,
    version: c.version,
    cipher: sh ? cipherName(sh.cipherSuite) : null,
    group: sh && sh.keyShareGroup !== null && !sh.helloRetry ? groupName(sh.keyShareGroup) : t.skeGroup !== null ? groupName(t.skeGroup) : null,
    clientCertRequested: t.clientCertRequested,
    sni: ch?.sni ?? null,
    alpn: sh?.alpn ?? null,
    alpnOffered: ch?.alpn ?? [],
    kind: c.kind,
    resumed: c.resumed,
    offered: c.offered,
    rejected: c.rejected,
    ambiguous: c.ambiguous,
    helloRetry: c.helloRetry,
    earlyData: c.earlyData,
    complete: c.complete,
    evidence: c.evidence,
    reason: c.reason,
    handshakeMs: c.handshakeMs,
    pskMode: c.pskMode,
    resumedFrom: c.resumedFrom,
    origin: originOf(conn, t, c, reg),
    sessionId: { client: ch ? ch.sessionId || null : null, server: sh ? sh.sessionId || null : null },
    ticketOffered: ch && ch.sessionTicketHash ? { length: ch.sessionTicketLength ?? 0, hash: ch.sessionTicketHash } : null,
    psk: ch?.psk
      ? {
          identities: ch.psk.identityCount,
          identityLengths: ch.psk.identityLengths,
          identityHashes: ch.psk.identityHashes,
          selected: sh?.pskSelected ?? null,
        }
      : sh && sh.pskSelected !== null
        ? { identities: 0, identityLengths: [], identityHashes: [], selected: sh.pskSelected }
        : null,
    ticketIssued: t.tickets.length > 0,
    tickets: t.tickets.map((k) => ({ lifetimeHint: k.lifetimeHint, length: k.ticketLength, hash: k.ticketHash })),
    alert: alert
      ? {
          from: roleOf(alert.side, t.clientSide),
          level: alert.level === 1 ? 'warning' : alert.level === 2 ? 'fatal' : String(alert.level),
          description: alertName(alert.description),
        }
      : null,
    certificate: t.certificate,
    flights: fl,
    flightSummary: flightSummary(fl),
    bytes: { client: conn.dirs[cs].bytes, server: conn.dirs[ss].bytes },
    packets: { client: conn.dirs[cs].packets, server: conn.dirs[ss].packets },
    closed: t.closed,
    losses: t.losses.map((l) => `${roleOf(l.side, t.clientSide)}: ${l.what}`),
    problems: t.eventsDropped > 0 ? [...t.problems, `${t.eventsDropped} further handshake events not kept`] : t.problems,
  };
}
