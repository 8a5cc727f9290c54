import { alertName, versionName, type VersionName } from '../tls/constants.js';
import type { ClientHello, ServerHello } from '../tls/types.js';
import type { Classification, HandshakeTrace, HsEvent, IssuedLookup, Kind, Offer, Side } from './types.js';

const TLS13 = 0x0304;
const FULL_SIGNALS: Record<string, string> = {
  Cert: 'server sent Certificate',
  SKE: 'server sent ServerKeyExchange',
  CertReq: 'server sent CertificateRequest',
  SHD: 'server sent ServerHelloDone',
  CertStatus: 'server sent CertificateStatus',
};

const NO_HISTORY: IssuedLookup = { sessionIdOrigin: () => null, ticketOrigin: () => null };

function negotiatedVersion(sh: ServerHello): number {
  return sh.hasSupportedVersions ? sh.selectedVersion : sh.version;
}

function offersTls13(ch: ClientHello): boolean {
  return ch.supportedVersions.some((v) => v === TLS13 || versionName(v) === 'TLS1.3');
}

/**
 * Classifies one connection's handshake from what its trace shows. Every verdict comes with the
 * facts it rests on; where the capture cannot tell, the kind is `unknown` and `reason` says why.
 */
export function classify(t: HandshakeTrace, issued: IssuedLookup = NO_HISTORY): Classification {
  const out: Classification = {
    version: null,
    kind: 'unknown',
    reason: null,
    resumed: null,
    offered: null,
    rejected: null,
    ambiguous: false,
    helloRetry: false,
    earlyData: null,
    complete: null,
    evidence: [],
    pskMode: null,
    resumedFrom: null,
    echGreasePsk: false,
    handshakeMs: null,
  };
  const ev = out.evidence;
  const clientSide = t.clientSide;
  const serverSide: Side | null = clientSide === null ? null : clientSide === 0 ? 1 : 0;
  const ch = t.clientHellos.length > 0 ? t.clientHellos[t.clientHellos.length - 1] : null;
  const hrrIndex = t.serverHellos.findIndex((s) => s.helloRetry);
  let shIndex = -1;
  for (let i = t.serverHellos.length - 1; i >= 0; i--) {
    if (!t.serverHellos[i].helloRetry) {
      shIndex = i;
      break;
    }
  }
  const sh = shIndex >= 0 ? t.serverHellos[shIndex] : null;
  out.helloRetry = hrrIndex >= 0;
  if (out.helloRetry) ev.push('HelloRetryRequest (ServerHello with the SHA-256("HelloRetryRequest") random)');

  const sslv2Server = t.events.some((e) => e.name === 'SSLv2-SH');
  const hrr = hrrIndex >= 0 ? t.serverHellos[hrrIndex] : null;
  const vnum = sh ? negotiatedVersion(sh) : hrr ? negotiatedVersion(hrr) : null;
  out.version = sslv2Server ? 'SSL2.0' : vnum !== null ? versionName(vnum) : null;
  if (sh && sh.hasSupportedVersions) ev.push(`ServerHello supported_versions selects ${out.version ?? vnum}`);
  const is13 = out.version === 'TLS1.3';

  const firstCh = t.events.find((e) => e.name === 'CH' && e.side === clientSide);
  const alert = t.alerts.find((a) => a.level === 2) ?? t.alerts[0];

  // What the client offered, read from the final ClientHello (the one after an HRR).
  if (ch) {
    const offered: Offer[] = [];
    let maybeCompatId = false;
    if (ch.sessionId !== '' && !is13) {
      const compatShaped = offersTls13(ch) && ch.sessionId.length === 64;
      if (!compatShaped || issued.sessionIdOrigin(ch.sessionId) !== null || (sh && sh.sessionId === ch.sessionId)) {
        offered.push('session-id');
      } else {
        maybeCompatId = true;
      }
    } else if (ch.sessionId !== '' && is13) {
      ev.push('32-byte legacy_session_id is TLS 1.3 compatibility mode, not an offer');
    }
    if (ch.sessionTicketLength !== null && ch.sessionTicketLength > 0 && !is13) offered.push('ticket');
    if (ch.sessionTicketLength === 0) ev.push('empty SessionTicket extension: client supports tickets, holds none');
    // A PSK offered in the first ClientHello and dropped after an HRR was still offered.
    if (t.clientHellos.some((c) => c.psk !== null)) offered.push('psk');
    out.offered = offered;
    if (maybeCompatId) {
      ev.push(
        'TLS 1.3-capable ClientHello with a 32-byte session ID never issued in this capture: a compatibility-mode random ID or a real TLS 1.2 resumption offer',
      );
    }
    // RFC 8446 §4.1.2: the ClientHello after an HRR must drop early_data, so look at all of them.
    if (t.clientHellos.some((c) => c.earlyData)) out.earlyData = 'offered';
    if (ch.sslv2) ev.push('SSLv2-compatible ClientHello');
    (out as { maybeCompatId?: boolean }).maybeCompatId = maybeCompatId;
  } else {
    ev.push('no ClientHello in the capture');
  }

  if (sslv2Server) {
    out.reason = 'SSLv2 handshake: not analyzed further';
    return finish(out, t, firstCh, null);
  }

  if (!sh) {
    out.reason = noServerHelloReason(t, serverSide, hrr !== null, alert);
    if (alert) ev.push(`${alertFrom(alert.side, clientSide)} alert ${alertName(alert.description)}`);
    out.complete = t.losses.length > 0 ? null : false;
    if (out.offered && out.offered.length === 0) out.rejected = false;
    return finish(out, t, firstCh, null);
  }

  const shEvent = t.events.find((e) => e.name === 'SH' && e.ref === shIndex);
  if (is13) classify13(out, t, ch, sh, shEvent, clientSide);
  else classify12(out, t, ch, sh, shEvent, issued, clientSide, serverSide);

  if (alert) {
    ev.push(`${alertFrom(alert.side, clientSide)} alert ${alertName(alert.description)}`);
  }
  return finish(out, t, firstCh, shEvent ?? null);
}

function alertFrom(side: Side, clientSide: Side | null): string {
  if (clientSide === null) return 'plaintext';
  return side === clientSide ? 'client' : 'server';
}

function noServerHelloReason(
  t: HandshakeTrace,
  serverSide: Side | null,
  sawHrr: boolean,
  alert: { side: Side; description: number } | undefined,
): string {
  if (t.clientHellos.length === 0) {
    if (t.notTls[0] && t.notTls[1]) return 'not TLS';
    if (t.events.some((e) => e.name === 'App' || e.name === 'Enc')) {
      return 'no handshake in the capture: the connection was already established when the capture started';
    }
    if (t.tickets.length > 0) return 'only a NewSessionTicket is visible: the rest of the handshake is not in the capture';
    return 'no ClientHello or ServerHello in the capture (capture started after the handshake, or not TLS)';
  }
  if (alert) return `handshake failed: ${alertFrom(alert.side, t.clientSide)} sent alert ${alertName(alert.description)}`;
  if (sawHrr) return 'HelloRetryRequest, then no second ServerHello in the capture';
  const serverLoss = t.losses.find((l) => l.side === serverSide);
  if (serverLoss) return `server bytes lost where the ServerHello should be (${serverLoss.what})`;
  if (t.closed === 'rst') return 'connection reset before a ServerHello';
  if (t.closed === 'fin') return 'connection closed before a ServerHello';
  return 'no ServerHello in the capture (server did not answer, or its packets were not captured)';
}

function classify12(
  out: Classification,
  t: HandshakeTrace,
  ch: ClientHello | null,
  sh: ServerHello,
  shEvent: HsEvent | undefined,
  issued: IssuedLookup,
  clientSide: Side | null,
  serverSide: Side | null,
): void {
  const ev = out.evidence;
  const shPos = shEvent ? t.events.indexOf(shEvent) : -1;
  const after = shPos >= 0 ? t.events.slice(shPos + 1) : [];
  const server = after.filter((e) => e.side === serverSide);
  const client = after.filter((e) => e.side === clientSide);

  // The server's own flight: its events after ServerHello up to the client's next one.
  const flight: HsEvent[] = [];
  for (const e of after) {
    if (e.side !== serverSide) break;
    flight.push(e);
  }
  let resumed: boolean | null = null;
  const names = flight.map((e) => e.name);
  const ccsAt = names.indexOf('CCS');
  if (ccsAt >= 0 && names.slice(0, ccsAt).every((n) => n === 'NST')) {
    resumed = true;
    ev.push(ccsAt === 0 ? 'server ChangeCipherSpec directly after ServerHello' : 'server ChangeCipherSpec after ServerHello and NewSessionTicket');
  } else {
    const fullBy = server.find((e) => FULL_SIGNALS[e.name] !== undefined);
    const cke = client.find((e) => e.name === 'CKE');
    if (fullBy) {
      resumed = false;
      ev.push(FULL_SIGNALS[fullBy.name]);
    }
    if (cke) {
      resumed = false;
      ev.push('client sent ClientKeyExchange');
    }
  }

  if (resumed === null) {
    out.kind = 'unknown';
    const loss = t.losses.find((l) => l.side === serverSide && l.afterEvent >= shPos);
    if (loss) out.reason = `server bytes lost after ServerHello hide whether the handshake was full or abbreviated (${loss.what})`;
    else if (t.alerts.length > 0) out.reason = `handshake ended by an alert after ServerHello (${alertName(t.alerts[0].description)})`;
    else if (t.closed) out.reason = `connection ${t.closed === 'rst' ? 'reset' : 'closed'} after ServerHello, before the server's flight was complete`;
    else out.reason = "the server's flight after ServerHello is not in the capture";
    out.rejected = null;
    return;
  }

  out.resumed = resumed;
  if (!resumed) {
    out.kind = 'full';
    if (out.offered && out.offered.length > 0) {
      out.rejected = true;
      ev.push(`client offered ${out.offered.join(' + ')}; server did a full handshake`);
      if (ch && ch.sessionId !== '' && sh.sessionId !== '' && sh.sessionId !== ch.sessionId) ev.push('ServerHello has a new session ID');
    } else if ((out as { maybeCompatId?: boolean }).maybeCompatId) {
      out.rejected = null;
    } else if (out.offered) {
      out.rejected = false;
    }
    return;
  }

  // Abbreviated handshake: decide what was resumed.
  out.rejected = out.offered ? false : null;
  if (!ch) {
    out.kind = 'unknown';
    out.reason = 'abbreviated (resumed) handshake, but the ClientHello is not in the capture: session ID or ticket cannot be told apart';
    if (sh.sessionId) ev.push('ServerHello has a non-empty session ID');
    return;
  }
  const ticket = ch.sessionTicketLength !== null && ch.sessionTicketLength > 0;
  const id = ch.sessionId !== '';
  const echo = id && sh.sessionId === ch.sessionId;
  if (echo) ev.push('ServerHello echoes client session ID');
  if (ticket) ev.push(`ClientHello carried a session ticket (${ch.sessionTicketLength} bytes)`);
  let kind: Kind;
  if (ticket && id) {
    const fromTicket = ch.sessionTicketHash ? issued.ticketOrigin(ch.sessionTicketHash) : null;
    const fromId = issued.sessionIdOrigin(ch.sessionId);
    if (fromTicket !== null) {
      kind = 'resumed-ticket';
      out.resumedFrom = fromTicket;
      ev.push(`ticket was issued by NewSessionTicket in connection #${fromTicket}`);
    } else if (fromId !== null) {
      kind = 'resumed-session-id';
      out.resumedFrom = fromId;
      ev.push(`session ID was issued by the ServerHello of connection #${fromId}`);
    } else {
      kind = 'resumed-ticket';
      out.ambiguous = true;
      ev.push(
        'both a ticket and a session ID were offered; the capture does not show which the server used (RFC 5077 §3.4: a server accepting a ticket echoes the session ID); ticket assumed',
      );
    }
    if (!echo) ev.push('server did not echo the session ID (RFC 5077 §3.4 requires it when accepting a ticket)');
  } else if (ticket) {
    kind = 'resumed-ticket';
    const from = ch.sessionTicketHash ? issued.ticketOrigin(ch.sessionTicketHash) : null;
    if (from !== null) {
      out.resumedFrom = from;
      ev.push(`ticket was issued by NewSessionTicket in connection #${from}`);
    }
  } else if (echo) {
    kind = 'resumed-session-id';
    const from = issued.sessionIdOrigin(ch.sessionId);
    if (from !== null) {
      out.resumedFrom = from;
      ev.push(`session ID was issued by the ServerHello of connection #${from}`);
    }
  } else {
    kind = 'unknown';
    out.reason = id
      ? "abbreviated handshake, but the ServerHello's session ID differs from the client's and no ticket was offered"
      : 'abbreviated handshake without a visible session ID or ticket offer';
  }
  out.kind = kind;
}

function classify13(
  out: Classification,
  t: HandshakeTrace,
  ch: ClientHello | null,
  sh: ServerHello,
  shEvent: HsEvent | undefined,
  clientSide: Side | null,
): void {
  const ev = out.evidence;
  if (sh.pskSelected !== null) {
    out.kind = 'resumed-psk';
    out.resumed = true;
    ev.push(`ServerHello pre_shared_key selected_identity=${sh.pskSelected}`);
    if (sh.keyShareGroup !== null) {
      out.pskMode = 'psk_dhe_ke';
      ev.push('ServerHello key_share present: psk_dhe_ke');
    } else {
      out.pskMode = 'psk_ke';
      ev.push('no key_share in ServerHello: psk_ke, no forward secrecy');
    }
    if (ch?.psk && sh.pskSelected >= ch.psk.identityCount) {
      ev.push(`selected_identity ${sh.pskSelected} is beyond the ${ch.psk.identityCount} offered identities`);
    }
    out.rejected = out.offered ? false : null;
  } else {
    out.kind = 'full';
    out.resumed = false;
    ev.push('TLS 1.3 ServerHello without pre_shared_key');
    if (out.offered && out.offered.includes('psk')) {
      if (ch?.ech) {
        out.rejected = null;
        out.echGreasePsk = true;
        ev.push('ClientHello carries encrypted_client_hello: the outer PSK identities may be GREASE, not a resumption attempt');
      } else {
        out.rejected = true;
        const n = (ch?.psk ?? t.clientHellos.find((c) => c.psk)?.psk)?.identityCount ?? 0;
        ev.push(`client offered psk (${n} identit${n === 1 ? 'y' : 'ies'}); server did a full handshake`);
      }
    } else if (out.offered) {
      out.rejected = false;
    }
  }
  if (out.earlyData === 'offered') {
    if (out.helloRetry) {
      out.earlyData = 'rejected';
      ev.push('early_data offered, but a HelloRetryRequest rejects 0-RTT (RFC 8446 §4.1.2)');
    } else if (sh.pskSelected === null) {
      out.earlyData = 'rejected';
      ev.push('early_data offered, but the server did not select the PSK that 0-RTT needs');
    } else {
      ev.push('early_data offered; acceptance is inside the encrypted EncryptedExtensions');
    }
  }
  void t;
  void shEvent;
  void clientSide;
}

/** Completion and handshake time, from the events around the final ServerHello. */
function finish(out: Classification, t: HandshakeTrace, firstCh: HsEvent | undefined, shEvent: HsEvent | null): Classification {
  delete (out as { maybeCompatId?: boolean }).maybeCompatId;
  const clientSide = t.clientSide;
  if (shEvent && out.version !== null) {
    const after = t.events.slice(t.events.indexOf(shEvent) + 1);
    let end: HsEvent | undefined;
    if (out.version === 'TLS1.3') {
      // The client's first encrypted record after the ServerHello is its Finished.
      end = after.find((e) => e.side === clientSide && (e.name === 'Enc' || e.name === 'App'));
      if (end) out.evidence.push('client sent encrypted records after ServerHello (its Finished)');
    } else {
      // Complete when both sides' Finished were seen; the second one ends the handshake.
      const fins = after.filter((e) => e.name === 'Fin');
      if (fins.length > 0) end = fins.find((e) => e.side !== fins[0].side);
    }
    if (end) {
      out.complete = true;
      if (firstCh) out.handshakeMs = round3(end.ms - firstCh.ms);
    } else {
      const lostAfter = t.losses.some((l) => l.afterEvent >= t.events.indexOf(shEvent));
      out.complete = lostAfter ? null : false;
    }
  }
  if (out.kind !== 'unknown') out.reason = null;
  return out;
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export type { VersionName };
