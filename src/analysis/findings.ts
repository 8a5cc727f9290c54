import type { ConnectionResult, EndpointJson, Finding, FindingType, ServerStats, Summary, TimingStats } from '../report/model.js';

/** Connection ids listed per finding; the count keeps the total. */
const MAX_LISTED = 50;
/** Handshake times kept per server and kind for medians; beyond this a reservoir sample. */
const MAX_SAMPLES = 10_000;
/** Keys tracked for client/server pairs and PSK identities; memory stays bounded on huge captures. */
const MAX_KEYS = 100_000;
/** A session cache entry older than this is probably gone: nginx ssl_session_timeout and Apache SSLSessionCacheTimeout default to 300 s. */
const TYPICAL_CACHE_TIMEOUT_S = 300;
/** Connections from one client to one server before "never offers" means something. */
const MIN_RECONNECTS = 3;

interface Group {
  ids: number[];
  count: number;
}

function addTo(g: Group, id: number): void {
  g.count++;
  if (g.ids.length < MAX_LISTED) g.ids.push(id);
}

function newGroup(): Group {
  return { ids: [], count: 0 };
}

class Samples {
  private readonly values: number[] = [];
  private seen = 0;
  private rng = 1;

  add(v: number): void {
    this.seen++;
    if (this.values.length < MAX_SAMPLES) this.values.push(v);
    else {
      // Reservoir sampling with a fixed pseudo-random sequence, so runs stay repeatable.
      this.rng = (Math.imul(this.rng, 1103515245) + 12345) >>> 0;
      const j = this.rng % this.seen;
      if (j < MAX_SAMPLES) this.values[j] = v;
    }
  }

  stats(): TimingStats {
    const n = this.seen;
    if (this.values.length === 0) return { n, medianMs: null, p90Ms: null };
    const v = [...this.values].sort((a, b) => a - b);
    return { n, medianMs: round3(quantile(v, 0.5)), p90Ms: round3(quantile(v, 0.9)) };
  }
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A client/server pair seen at least twice, never with a resumption offer. */
interface PairAcc {
  client: string;
  server: EndpointJson;
  sni: string | null;
  g: Group;
  tls13: boolean;
}

/** A pair where resumption was offered: nothing more to count. */
const OFFERED = -1;

interface ServerAcc {
  stats: ServerStats;
  full: Samples;
  resumed: Samples;
  tls12Full: number;
  tls12: number;
  tls13: number;
}

function endpointText(e: EndpointJson): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/**
 * Order of servers with as many connections: IPv4 before IPv6, addresses by value, then port. Not
 * localeCompare: its first call loads ICU's collation data, ~9 ms of every run.
 */
function compareEndpoints(a: EndpointJson, b: EndpointJson): number {
  const a6 = a.ip.includes(':');
  const b6 = b.ip.includes(':');
  if (a6 !== b6) return a6 ? 1 : -1;
  const d = a6 ? (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0) : v4Value(a.ip) - v4Value(b.ip);
  return d !== 0 ? d : a.port - b.port;
}

function v4Value(ip: string): number {
  const p = ip.split('.');
  return ((Number(p[0]) * 256 + Number(p[1])) * 256 + Number(p[2])) * 256 + Number(p[3]);
}

/**
 * Key of a server (address, port, SNI) in the per-server map. Joined, not templated: a kept
 * template result is a chain of pieces in memory, a joined one a single string.
 */
function serverKey(server: EndpointJson, sni: string | null): string {
  return [server.ip, server.port, sni ?? ''].join('|');
}

function isResumed(c: ConnectionResult): boolean {
  return c.kind === 'resumed-session-id' || c.kind === 'resumed-ticket' || c.kind === 'resumed-psk';
}

/**
 * Turns connections into per-server numbers and findings, one connection at a time, keeping only
 * aggregates (bounded by servers, client/server pairs and distinct PSK identities).
 */
export class FindingsBuilder {
  private readonly servers = new Map<string, ServerAcc>();
  /** Offers rejected, keyed by how they got there: cross-server, expired, forgotten, unknown origin. */
  private readonly rejections = new Map<string, { type: FindingType; via: string; from: EndpointJson | null; to: EndpointJson; sni: string | null; g: Group; accepted: number; ages: number[]; hint: number | null }>();
  /**
   * Client/server pairs, for "reconnects without offering resumption". Most pairs are seen once
   * (a server-side capture has a client per connection), so a first connection is kept as a number
   * (id × 4 + 2 if TLS 1.3); a pair where resumption was offered can never be reported and becomes
   * OFFERED. Only a pair seen twice without an offer gets a record.
   */
  private readonly pairs = new Map<string, number | PairAcc>();
  private readonly pskOffers = new Map<string, { g: Group; overlapping: boolean; lastEnd: number; sni: string | null; server: EndpointJson }>();
  private readonly acceptedAcross = new Map<string, number>();
  private readonly earlyRejected = new Map<string, { server: EndpointJson; sni: string | null; g: Group }>();
  private readonly echPsk = newGroup();

  add(c: ConnectionResult): void {
    if (!c.tls) return;
    const acc = this.server(c);
    const s = acc.stats;
    s.connections++;
    const v = c.version ?? 'unknown';
    s.versions[v] = (s.versions[v] ?? 0) + 1;
    if (c.version === 'TLS1.3') acc.tls13++;
    else if (c.version) acc.tls12++;
    if (c.kind === 'full') {
      s.full++;
      if (c.version !== 'TLS1.3' && c.version) acc.tls12Full++;
      if (c.handshakeMs !== null) acc.full.add(c.handshakeMs);
    } else if (isResumed(c)) {
      if (c.kind === 'resumed-session-id') s.resumed['session-id']++;
      else if (c.kind === 'resumed-ticket') s.resumed.ticket++;
      else s.resumed.psk++;
      if (c.handshakeMs !== null) acc.resumed.add(c.handshakeMs);
    } else s.unknown++;
    if (c.offered && c.offered.length > 0) s.offered++;
    if (c.rejected === true) s.rejected++;
    s.ticketsIssued += c.tickets.length;
    if (c.kind === 'full' && c.version !== 'TLS1.3' && c.sessionId.server) s.sessionIdsIssued++;
    if (c.earlyData !== null) {
      s.earlyData.offered++;
      if (c.earlyData === 'rejected') {
        s.earlyData.rejected++;
        const k = `${endpointText(c.server)}|${c.sni}`;
        let e = this.earlyRejected.get(k);
        if (!e) this.earlyRejected.set(k, (e = { server: c.server, sni: c.sni, g: newGroup() }));
        addTo(e.g, c.id);
      }
    }
    if (c.evidence.some((x) => x.includes('encrypted_client_hello'))) addTo(this.echPsk, c.id);
    this.rejection(c);
    this.pair(c);
    this.psk(c);
  }

  private server(c: ConnectionResult): ServerAcc {
    const key = serverKey(c.server, c.sni);
    let acc = this.servers.get(key);
    if (!acc) {
      acc = {
        stats: {
          server: c.server,
          sni: c.sni,
          connections: 0,
          full: 0,
          resumed: { 'session-id': 0, ticket: 0, psk: 0 },
          unknown: 0,
          offered: 0,
          rejected: 0,
          resumptionRate: null,
          ticketsIssued: 0,
          sessionIdsIssued: 0,
          versions: {},
          earlyData: { offered: 0, rejected: 0 },
          handshake: { full: { n: 0, medianMs: null, p90Ms: null }, resumed: { n: 0, medianMs: null, p90Ms: null } },
          savingMs: null,
          savingRoundTrips: null,
        },
        full: new Samples(),
        resumed: new Samples(),
        tls12Full: 0,
        tls12: 0,
        tls13: 0,
      };
      this.servers.set(key, acc);
    }
    return acc;
  }

  private rejection(c: ConnectionResult): void {
    const o = c.origin;
    if (o && !o.sameServer && isResumed(c)) {
      const k = `${o.via}|${endpointText(o.server)}>${endpointText(c.server)}`;
      this.acceptedAcross.set(k, (this.acceptedAcross.get(k) ?? 0) + 1);
    }
    if (c.rejected !== true || !c.offered) return;
    let type: FindingType;
    let via = c.offered.includes('ticket') ? 'ticket' : c.offered.includes('psk') ? 'psk' : 'session-id';
    if (o) {
      via = o.via;
      if (!o.sameServer) type = o.via === 'session-id' ? 'session-cache-not-shared' : 'ticket-keys-not-shared';
      else if (o.via === 'ticket' && o.lifetimeHint !== null && o.lifetimeHint > 0 && o.ageS > o.lifetimeHint) type = 'expired-ticket';
      else if (o.via === 'session-id' && o.ageS > TYPICAL_CACHE_TIMEOUT_S) type = 'expired-session';
      else type = 'server-forgot-sessions';
    } else type = 'rejected-origin-unknown';
    const from = o && !o.sameServer ? o.server : null;
    const k = `${type}|${via}|${from ? endpointText(from) : ''}>${endpointText(c.server)}|${type === 'ticket-keys-not-shared' || type === 'session-cache-not-shared' ? '' : (c.sni ?? '')}`;
    let r = this.rejections.get(k);
    if (!r) {
      r = { type, via, from, to: c.server, sni: c.sni ?? o?.sni ?? null, g: newGroup(), accepted: 0, ages: [], hint: o?.lifetimeHint ?? null };
      this.rejections.set(k, r);
    }
    addTo(r.g, c.id);
    if (o && r.ages.length < MAX_LISTED) r.ages.push(o.ageS);
  }

  private pair(c: ConnectionResult): void {
    const k = [c.client.ip, c.server.ip, c.server.port, c.sni ?? ''].join('|');
    const offered = c.offered === null || c.offered.length > 0;
    const tls13 = c.version === 'TLS1.3';
    const p = this.pairs.get(k);
    if (p === undefined) {
      if (this.pairs.size >= MAX_KEYS) return;
      this.pairs.set(k, offered ? OFFERED : c.id * 4 + (tls13 ? 2 : 0));
      return;
    }
    if (p === OFFERED) return;
    if (offered) {
      this.pairs.set(k, OFFERED);
      return;
    }
    if (typeof p === 'number') {
      const acc: PairAcc = { client: c.client.ip, server: c.server, sni: c.sni, g: newGroup(), tls13: (p & 2) !== 0 || tls13 };
      addTo(acc.g, Math.floor(p / 4));
      addTo(acc.g, c.id);
      this.pairs.set(k, acc);
      return;
    }
    addTo(p.g, c.id);
    if (tls13) p.tls13 = true;
  }

  private psk(c: ConnectionResult): void {
    if (!c.psk || c.psk.identityHashes.length === 0 || c.version === null) return;
    if (c.evidence.some((x) => x.includes('encrypted_client_hello'))) return;
    const id = c.psk.identityHashes[0];
    const start = Date.parse(c.start) / 1000;
    let e = this.pskOffers.get(id);
    if (!e) {
      if (this.pskOffers.size >= MAX_KEYS) return;
      // Only what the finding needs: keeping whole connection results would hold every one in memory.
      this.pskOffers.set(id, { g: newGroup(), overlapping: false, lastEnd: start + c.durationMs / 1000, sni: c.sni, server: c.server });
      addTo(this.pskOffers.get(id)!.g, c.id);
      return;
    }
    addTo(e.g, c.id);
    if (start < e.lastEnd) e.overlapping = true;
    e.lastEnd = Math.max(e.lastEnd, start + c.durationMs / 1000);
  }

  serverStats(): ServerStats[] {
    const out: ServerStats[] = [];
    for (const acc of this.servers.values()) {
      const s = acc.stats;
      const resumed = s.resumed['session-id'] + s.resumed.ticket + s.resumed.psk;
      s.resumptionRate = s.offered > 0 ? round4(Math.min(resumed, s.offered) / s.offered) : null;
      s.handshake = { full: acc.full.stats(), resumed: acc.resumed.stats() };
      const f = s.handshake.full.medianMs;
      const r = s.handshake.resumed.medianMs;
      s.savingMs = f !== null && r !== null ? round3(f - r) : null;
      s.savingRoundTrips = acc.tls12 + acc.tls13 === 0 ? null : acc.tls12 >= acc.tls13 ? 1 : 0;
      out.push(s);
    }
    return out.sort((a, b) => b.connections - a.connections || compareEndpoints(a.server, b.server));
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    for (const r of this.rejections.values()) out.push(this.rejectionFinding(r));
    for (const acc of this.servers.values()) {
      const s = acc.stats;
      // TLS ≤ 1.2 only: TLS 1.3 tickets travel encrypted, so "never issued" cannot be seen there.
      if (acc.tls12Full >= 2 && s.ticketsIssued === 0 && s.sessionIdsIssued === 0 && s.resumed['session-id'] + s.resumed.ticket === 0) {
        out.push({
          type: 'server-never-issues',
          severity: 'problem',
          title: `${endpointText(s.server)}${s.sni ? ` (${s.sni})` : ''} never issues a session ID or ticket`,
          explanation: `${acc.tls12Full} full TLS ≤ 1.2 handshakes, and in none of them did the server send a NewSessionTicket or a session ID in its ServerHello: clients have nothing to resume with, so every connection pays for a full handshake. Resumption is off by configuration.`,
          hints: [
            'nginx: ssl_session_cache shared:SSL:10m; and ssl_session_tickets on;',
            'Apache: SSLSessionCache shmcb:… and SSLSessionTickets on',
            'HAProxy: tune.ssl.cachesize (0 disables the cache) and no-tls-tickets',
          ],
          connections: [],
          count: acc.tls12Full,
          server: s.server,
          sni: s.sni,
        });
      }
    }
    for (const p of this.pairs.values()) {
      if (typeof p === 'number' || p.g.count < MIN_RECONNECTS) continue;
      const acc = this.servers.get(serverKey(p.server, p.sni));
      const serverOffers = acc ? acc.stats.ticketsIssued + acc.stats.sessionIdsIssued > 0 || acc.tls13 > 0 : false;
      if (!serverOffers) continue;
      out.push({
        type: 'client-never-offers',
        severity: 'warning',
        title: `${p.client} reconnects to ${endpointText(p.server)}${p.sni ? ` (${p.sni})` : ''} ${p.g.count} times without offering resumption`,
        explanation: `The server ${p.tls13 ? 'speaks TLS 1.3 (tickets are sent encrypted after every handshake)' : 'issues tickets or session IDs'}, but this client never presents one: each connection is a full handshake. Typical cause: a new HTTP client, TLS context or connection pool per request, so the session cache is thrown away.`,
        hints: ['client side: reuse one TLS client/agent (e.g. Node https.Agent, Go http.Transport, a shared SSL_CTX) across requests'],
        connections: p.g.ids,
        count: p.g.count,
        server: p.server,
        sni: p.sni,
      });
    }
    for (const e of this.pskOffers.values()) {
      if (e.g.count < 2) continue;
      out.push({
        type: 'tls13-ticket-reuse',
        severity: 'warning',
        title: `One TLS 1.3 ticket offered by ${e.g.count} connections to ${endpointText(e.server)}${e.sni ? ` (${e.sni})` : ''}${e.overlapping ? ', some at the same time' : ''}`,
        explanation: `The same pre_shared_key identity appears in ${e.g.count} ClientHellos to ${endpointText(e.server)}${e.sni ? ` (${e.sni})` : ''}. RFC 8446 (§4.6.1, Appendix C.4) asks clients to use each ticket once, since reuse lets connections be linked to each other and widens 0-RTT replay exposure. A client that caches one session and hands it to parallel connections does this.`,
        hints: ['client side: take a fresh ticket per connection (OpenSSL: SSL_SESSION is single-use in TLS 1.3; keep the newest session per connection)'],
        connections: e.g.ids,
        count: e.g.count,
        server: e.server,
        sni: e.sni,
      });
    }
    for (const e of this.earlyRejected.values()) {
      out.push({
        type: 'early-data-rejected',
        severity: 'info',
        title: `0-RTT offered and rejected ${e.g.count} time${e.g.count === 1 ? '' : 's'} at ${endpointText(e.server)}${e.sni ? ` (${e.sni})` : ''}`,
        explanation: 'The client sent early data, but the server answered with a HelloRetryRequest or did not accept the PSK, so the early data was discarded and had to be sent again after the handshake. Whether accepted 0-RTT carried non-idempotent requests is not visible without keys.',
        hints: ['nginx: ssl_early_data; HAProxy: allow-0rtt — only for idempotent requests'],
        connections: e.g.ids,
        count: e.g.count,
        server: e.server,
        sni: e.sni,
      });
    }
    if (this.echPsk.count > 0) {
      out.push({
        type: 'ech-grease-psk',
        severity: 'info',
        title: `${this.echPsk.count} ClientHello${this.echPsk.count === 1 ? '' : 's'} with Encrypted Client Hello: PSK offers not counted as rejections`,
        explanation: 'With ECH the outer ClientHello carries GREASE pre_shared_key identities; a server that ignores them did not reject a real resumption.',
        hints: [],
        connections: this.echPsk.ids,
        count: this.echPsk.count,
        server: null,
        sni: null,
      });
    }
    const rank = { problem: 0, warning: 1, info: 2 };
    return out.sort((a, b) => rank[a.severity] - rank[b.severity] || b.count - a.count);
  }

  private rejectionFinding(r: {
    type: FindingType;
    via: string;
    from: EndpointJson | null;
    to: EndpointJson;
    sni: string | null;
    g: Group;
    ages: number[];
    hint: number | null;
  }): Finding {
    const n = r.g.count;
    const what = r.via === 'session-id' ? 'session ID' : r.via === 'psk' ? 'TLS 1.3 ticket (PSK)' : 'session ticket';
    const whats = `${what}${n === 1 ? '' : 's'}`;
    const to = endpointText(r.to);
    const name = r.sni ? ` (${r.sni})` : '';
    const base = { connections: r.g.ids, count: n, server: r.to, sni: r.sni };
    switch (r.type) {
      case 'ticket-keys-not-shared': {
        const back = this.acceptedAcross.get(`${r.via}|${endpointText(r.from!)}>${to}`) ?? 0;
        return {
          ...base,
          type: r.type,
          severity: 'problem',
          title: `${n} ${whats} issued by ${endpointText(r.from!)} rejected by ${to}${name}`,
          explanation: `Clients got tickets from one server and presented them to another${r.sni ? ` behind the same name ${r.sni}` : ''}, which could not decrypt them and did a full handshake${back > 0 ? ` (${back} such ticket${back === 1 ? ' was' : 's were'} accepted, so the keys may differ only part of the time)` : ''}. The backends do not share their session ticket keys.`,
          hints: [
            'nginx: the same ssl_session_ticket_key file(s) on every backend, rotated together',
            'Apache: the same SSLSessionTicketKeyFile on every backend',
            'HAProxy: the same tls-ticket-keys file on every bind line/instance',
            'or pin clients to one backend (session affinity)',
          ],
        };
      }
      case 'session-cache-not-shared':
        return {
          ...base,
          type: r.type,
          severity: 'problem',
          title: `${n} ${whats} issued by ${endpointText(r.from!)} rejected by ${to}${name}`,
          explanation: `Session IDs from one server were offered to another${r.sni ? ` behind the same name ${r.sni}` : ''}, which did not have them in its session cache and did a full handshake. Session caches are per server unless they are shared.`,
          hints: [
            'nginx: ssl_session_cache shared:NAME:SIZE is shared between workers of one host only; across hosts use tickets with a common ssl_session_ticket_key, or session affinity',
            'Apache: SSLSessionCache (shmcb is per host; a distributed cache such as memcache is shared)',
            'or pin clients to one backend (session affinity)',
          ],
        };
      case 'expired-ticket':
        return {
          ...base,
          type: r.type,
          severity: 'warning',
          title: `${n} ${whats} offered to ${to}${name} after the ticket lifetime and rejected`,
          explanation: `The ticket${n === 1 ? ' was' : 's were'} presented ${describeAges(r.ages)} after being issued, past the lifetime hint of ${r.hint} s the server gave in its NewSessionTicket, so the server refused ${n === 1 ? 'it' : 'them'}. Either the lifetime is too short for how often clients reconnect, or clients keep tickets longer than the hint.`,
          hints: ['nginx: ssl_session_timeout (also the ticket lifetime)', 'Apache: SSLSessionCacheTimeout'],
        };
      case 'expired-session':
        return {
          ...base,
          type: r.type,
          severity: 'warning',
          title: `${n} ${whats} offered to ${to}${name} after ${describeAges(r.ages)} and rejected`,
          explanation: `The session ID${n === 1 ? ' was' : 's were'} offered longer after issue than the usual session-cache timeout (${TYPICAL_CACHE_TIMEOUT_S} s by default in nginx and Apache): the session has probably expired from the cache.`,
          hints: ['nginx: ssl_session_timeout', 'Apache: SSLSessionCacheTimeout'],
        };
      case 'server-forgot-sessions': {
        const acc = this.servers.get(serverKey(r.to, r.sni));
        const resumedSame = acc ? (r.via === 'session-id' ? acc.stats.resumed['session-id'] : r.via === 'ticket' ? acc.stats.resumed.ticket : acc.stats.resumed.psk) : 0;
        if (resumedSame === 0 && n >= 2) {
          return {
            ...base,
            type: 'server-never-resumes',
            severity: 'problem',
            title: `${to}${name} issues ${what}s but never resumed one (${n} offers of its own rejected)`,
            explanation: `The server hands out a ${what} in every full handshake, clients offer ${n === 1 ? 'it' : 'them'} back ${describeAges(r.ages)} later, and the server never accepts one. It has no working ${r.via === 'session-id' ? 'session cache (the ID is generated, but nothing stores it)' : 'ticket key (it cannot decrypt its own tickets)'}: resumption is off in practice.`,
            hints:
              r.via === 'session-id'
                ? ['nginx: ssl_session_cache shared:SSL:10m (the default "none" still sends session IDs)', 'Apache: SSLSessionCache shmcb:PATH(SIZE)', 'HAProxy: tune.ssl.cachesize']
                : ['nginx: ssl_session_ticket_key', 'Apache: SSLSessionTicketKeyFile', 'HAProxy: tls-ticket-keys'],
          };
        }
        return {
          ...base,
          type: r.type,
          severity: 'problem',
          title: `${to}${name} rejected ${n} ${whats} it had issued itself`,
          explanation: `The same server issued the ${what} ${describeAges(r.ages)} earlier${r.hint !== null ? `, within its lifetime hint of ${r.hint} s` : ''}, and then did a full handshake when it came back. Usual causes: the server restarted or reloaded (losing its cache or generating new ticket keys), ticket keys rotated without keeping the previous key for decryption, or the session cache is too small and evicted the entry.`,
          hints:
            r.via === 'session-id'
              ? ['nginx: ssl_session_cache shared:SSL:SIZE (a size in MB; builtin caches are per worker)', 'Apache: SSLSessionCache shmcb:PATH(SIZE)']
              : ['nginx: ssl_session_ticket_key (keep previous keys listed after rotation; without it keys change on every restart)', 'Apache: SSLSessionTicketKeyFile', 'HAProxy: tls-ticket-keys'],
        };
      }
      default:
        return {
          ...base,
          type: 'rejected-origin-unknown',
          severity: 'warning',
          title: `${n} resumption offer${n === 1 ? '' : 's'} (${whats}) rejected by ${to}${name}; origin not in the capture`,
          explanation: `The client offered a ${what} the capture never saw issued, and the server did a full handshake. The ${what} may have expired, come from another server, or been issued before a restart; a capture that includes the issuing connection would tell which.`,
          hints: [],
        };
    }
  }

  headline(s: Summary, findings: Finding[]): string {
    if (s.tlsConnections === 0) return 'No TLS handshakes in the capture.';
    const top = findings.find((f) => f.severity === 'problem') ?? findings.find((f) => f.severity === 'warning');
    const resumed = s.resumed;
    let head: string;
    if (s.offeredResumption === 0) {
      head = `${s.tlsConnections} TLS connection${s.tlsConnections === 1 ? '' : 's'}, none offered resumption (${s.byKind.full} full handshakes).`;
    } else {
      const pct = s.resumptionRateOffered === null ? '' : ` (${Math.round(s.resumptionRateOffered * 100)}%)`;
      head = `${resumed} of ${s.offeredResumption} resumption offers accepted${pct}, ${s.rejected} rejected, across ${s.tlsConnections} TLS connections.`;
    }
    return top ? `${head} Main issue: ${top.title}.` : `${head} No resumption problems found.`;
  }
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function describeAges(ages: number[]): string {
  if (ages.length === 0) return 'some time';
  const lo = Math.min(...ages);
  const hi = Math.max(...ages);
  const fmt = (x: number) => (x >= 120 ? `${(x / 60).toFixed(1)} min` : `${x.toFixed(1)} s`);
  return fmt(lo) === fmt(hi) ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
}
