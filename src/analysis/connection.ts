import { ReassemblyBudget, TcpStream } from '../net/tcp-stream.js';
import { TcpFlag } from '../net/types.js';
import { HANDSHAKE_SHORT, HandshakeType, ContentType, cipherName, versionName } from '../tls/constants.js';
import {
  parseCertificate,
  parseCertificateRequestTypes,
  parseClientHello,
  parseEcdheServerKeyExchange,
  parseNewSessionTicket,
  parseServerHello,
  parseSslv2ClientHello,
} from '../tls/messages.js';
import { TlsStream, type TlsEvents } from '../tls/record-stream.js';
import type { HandshakeTrace, Side } from './types.js';
import type { IssueKind } from './linker.js';
import type { FlowKey } from './flow-table.js';

/** Handshake events kept per connection; a hostile peer cannot make the list grow without end. */
const MAX_EVENTS = 128;

export interface Endpoint {
  /** The address as text (formatIp). */
  ip: string;
  port: number;
  /** IPv4 address as an unsigned number, for telling endpoints apart cheaply; -1 for IPv6. */
  v4: number;
}

/** Per side: TCP reassembly feeding the TLS reader. */
class Direction {
  readonly tls: TlsStream;
  readonly tcp: TcpStream;
  packets = 0;
  bytes = 0;
  fin = false;
  /** First encrypted record seen after this side's ChangeCipherSpec (TLS ≤ 1.2 Finished). */
  sentFinished = false;
  ccs = false;

  constructor(events: TlsEvents, side: Side, budget?: ReassemblyBudget) {
    this.tls = new TlsStream(events, side);
    this.tcp = new TcpStream(this.tls, budget);
  }
}

/**
 * One TCP connection: both directions, and the handshake trace built from what they carry. Once
 * the handshake is settled the connection stops reading payload (skip state) and only counts.
 */
export class Connection implements TlsEvents {
  readonly sides: [Endpoint, Endpoint];
  readonly dirs: [Direction, Direction];
  readonly trace: HandshakeTrace = {
    clientSide: null,
    roleBasis: null,
    events: [],
    clientHellos: [],
    serverHellos: [],
    certificate: null,
    skeGroup: null,
    clientCertRequested: false,
    tickets: [],
    alerts: [],
    losses: [],
    problems: [],
    closed: null,
    settled: false,
    notTls: [false, false],
    sawStart: [false, false],
    eventsDropped: 0,
  };
  firstFrame = 0;
  lastFrame = 0;
  startSec = 0;
  startNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  rst = false;
  /** Where the flow table keeps this connection. */
  flowKey: FlowKey | null = null;
  /** Negotiated version number once a final ServerHello is seen. */
  private version = 0;
  private serverHelloDone = false;
  /** TLS 1.3 (or a draft of it) is known to be negotiated: an HRR or the final ServerHello said so. */
  private is13 = false;
  // Context of the frame being processed, for event stamps.
  private curFrame = 0;
  private curMs = 0;
  /** Capture time of the frame being processed, in seconds. */
  curTime = 0;

  constructor(
    readonly id: number,
    a: Endpoint,
    b: Endpoint,
    /** Told at once when a server issues a session ID or ticket, or a client offers a PSK identity. */
    private readonly onIssued?: (conn: Connection, what: IssueKind, key: string, lifetimeHint: number | null) => void,
    budget?: ReassemblyBudget,
  ) {
    this.sides = [a, b];
    this.dirs = [new Direction(this, 0, budget), new Direction(this, 1, budget)];
  }

  get settled(): boolean {
    return this.trace.settled;
  }

  get closed(): boolean {
    return this.rst || (this.dirs[0].fin && this.dirs[1].fin);
  }

  /** Called by the analyzer for every packet of this connection. */
  packet(
    side: Side,
    frame: number,
    sec: number,
    nsec: number,
    seq: number,
    flags: number,
    data: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
    wire: number,
  ): void {
    if (this.firstFrame === 0) {
      this.firstFrame = frame;
      this.startSec = sec;
      this.startNsec = nsec;
    }
    this.lastFrame = frame;
    this.lastSec = sec;
    this.lastNsec = nsec;
    const d = this.dirs[side];
    d.packets++;
    d.bytes += wire;
    const syn = (flags & TcpFlag.SYN) !== 0;
    if (syn) {
      const isAck = (flags & TcpFlag.ACK) !== 0;
      if (this.trace.clientSide === null || this.trace.roleBasis !== 'syn') {
        this.trace.clientSide = isAck ? ((1 - side) as Side) : side;
        this.trace.roleBasis = 'syn';
      }
      this.trace.sawStart[side] = true;
      d.tcp.syn(seq);
    }
    if (wire > 0 && !this.trace.settled) {
      this.curFrame = frame;
      this.curMs = (sec - this.startSec) * 1000 + (nsec - this.startNsec) / 1e6;
      this.curTime = sec + nsec / 1e9;
      // A plain Uint8Array view, not a Buffer: every subarray taken from it downstream is then a
      // cheap typed-array view instead of a Buffer construction.
      d.tcp.segment(syn ? (seq + 1) >>> 0 : seq, new Uint8Array(data.buffer, data.byteOffset + payloadOffset, payloadLength), wire);
    }
    // Neither side speaks TLS (plain TCP, or STARTTLS never came): nothing more to read.
    if (!this.trace.settled && this.dirs[0].tls.mode === 'off' && this.dirs[1].tls.mode === 'off') this.settle();
    if ((flags & TcpFlag.FIN) !== 0) d.fin = true;
    if ((flags & TcpFlag.RST) !== 0) this.rst = true;
  }

  /** End of connection or capture: deliver what was held behind holes, then freeze the trace. */
  /** Records seen in either direction: the connection spoke TLS even if no hello was visible. */
  get tlsRecords(): number {
    return this.dirs[0].tls.records + this.dirs[1].tls.records;
  }

  finish(): HandshakeTrace {
    if (!this.trace.settled) {
      for (const d of this.dirs) d.tcp.flush();
    }
    for (const d of this.dirs) d.tcp.discard();
    this.trace.closed = this.rst ? 'rst' : this.dirs[0].fin && this.dirs[1].fin ? 'fin' : null;
    this.trace.notTls = [this.dirs[0].tls.mode === 'off', this.dirs[1].tls.mode === 'off'];
    return this.trace;
  }

  private push(side: Side, name: string, ref?: number): void {
    const ev = this.trace.events;
    if (ev.length >= MAX_EVENTS) {
      this.trace.eventsDropped++;
      return;
    }
    ev.push(ref === undefined ? { side, name, frame: this.curFrame, ms: this.curMs } : { side, name, frame: this.curFrame, ms: this.curMs, ref });
  }

  onProblem(side: Side, msg: string): void {
    if (this.trace.problems.length < 16) this.trace.problems.push(`${side === this.trace.clientSide ? 'client' : side === 1 - (this.trace.clientSide ?? -1) ? 'server' : `side ${side}`}: ${msg}`);
  }

  onAlert(side: Side, level: number, description: number): void {
    if (this.trace.alerts.length < 8) this.trace.alerts.push({ side, level, description });
    this.push(side, 'Alert', description);
    if (level === 2) this.settle();
  }

  onLost(side: Side, what: string): void {
    if (this.trace.losses.length < 16) this.trace.losses.push({ side, what, afterEvent: this.trace.events.length - 1 });
  }

  onHandshake(side: Side, type: number, body: Uint8Array): void {
    const t = this.trace;
    switch (type) {
      case HandshakeType.ClientHello: {
        // The offer lists are not analyzed: not keeping them halves what a connection holds.
        const r = parseClientHello(body, { lists: false });
        if (!r.ok) {
          this.onProblem(side, r.error);
          this.push(side, 'CH?');
          return;
        }
        if (t.roleBasis !== 'syn') {
          t.clientSide = side;
          t.roleBasis = 'client-hello';
        }
        if (t.clientHellos.length >= 4) {
          this.onProblem(side, 'more than 4 ClientHellos: later ones not analyzed');
          return;
        }
        t.clientHellos.push(r.value);
        this.push(side, 'CH', t.clientHellos.length - 1);
        for (const h of r.value.psk?.identityHashes ?? []) this.onIssued?.(this, 'psk', h, null);
        return;
      }
      case HandshakeType.ServerHello: {
        const r = parseServerHello(body);
        if (t.roleBasis === null) {
          t.clientSide = side === 0 ? 1 : 0;
          t.roleBasis = 'server-message';
        }
        if (!r.ok) {
          this.onProblem(side, r.error);
          this.push(side, 'SH?');
          return;
        }
        if (t.roleBasis === 'server-message') {
          t.clientSide = side === 0 ? 1 : 0;
          t.roleBasis = 'server-hello';
        }
        const sh = r.value;
        if (t.serverHellos.length >= 4) {
          this.onProblem(side, 'more than 4 ServerHellos: later ones not analyzed');
          return;
        }
        t.serverHellos.push(sh);
        this.push(side, sh.helloRetry ? 'HRR' : 'SH', t.serverHellos.length - 1);
        if (sh.helloRetry) {
          this.is13 = true;
        } else {
          this.version = sh.hasSupportedVersions ? sh.selectedVersion : sh.version;
          this.serverHelloDone = true;
          this.is13 = versionName(this.version) === 'TLS1.3';
          // TLS 1.3: everything the server sends after its ServerHello is encrypted.
          if (this.is13) this.dirs[side].tls.encrypted = true;
          else if (sh.sessionId !== '') this.onIssued?.(this, 'session-id', sh.sessionId, null);
        }
        return;
      }
      case HandshakeType.NewSessionTicket:
      case HandshakeType.ServerKeyExchange:
      case HandshakeType.ServerHelloDone:
      case HandshakeType.HelloVerifyRequest:
      case HandshakeType.CertificateStatus:
        // Only a server sends these: enough to tell the roles when no hello was seen.
        if (t.roleBasis === null) {
          t.clientSide = side === 0 ? 1 : 0;
          t.roleBasis = 'server-message';
        }
        break;
    }
    switch (type) {
      case HandshakeType.Certificate: {
        const r = parseCertificate(body);
        if (r.ok) {
          if (t.certificate === null) t.certificate = r.value;
        } else this.onProblem(side, r.error);
        break;
      }
      case HandshakeType.ServerKeyExchange:
        if (t.skeGroup === null && cipherName(t.serverHellos[t.serverHellos.length - 1]?.cipherSuite ?? 0).includes('ECDHE')) {
          t.skeGroup = parseEcdheServerKeyExchange(body);
        }
        break;
      case HandshakeType.CertificateRequest: {
        t.clientCertRequested = true;
        const r = parseCertificateRequestTypes(body);
        if (!r.ok) this.onProblem(side, r.error);
        break;
      }
      case HandshakeType.NewSessionTicket: {
        const r = parseNewSessionTicket(body);
        if (r.ok) {
          if (t.tickets.length < 4) t.tickets.push(r.value);
          this.onIssued?.(this, 'ticket', r.value.ticketHash, r.value.lifetimeHint);
        } else this.onProblem(side, r.error);
        break;
      }
    }
    this.push(side, HANDSHAKE_SHORT[type] ?? `HS${type}`);
  }

  onSslv2(side: Side, body: Uint8Array): void {
    if (body[0] === 1) {
      const r = parseSslv2ClientHello(body);
      if (!r.ok) {
        this.onProblem(side, r.error);
        return;
      }
      if (this.trace.roleBasis !== 'syn') {
        this.trace.clientSide = side;
        this.trace.roleBasis = 'client-hello';
      }
      this.trace.clientHellos.push(r.value);
      this.push(side, 'CH', this.trace.clientHellos.length - 1);
    } else if (body[0] === 4) {
      // An SSLv2 SERVER-HELLO: the whole handshake is SSLv2, which is not followed further.
      this.push(side, 'SSLv2-SH');
      this.settle();
    }
  }

  onCcs(side: Side): void {
    const d = this.dirs[side];
    this.push(side, 'CCS');
    d.ccs = true;
    // TLS 1.3 sends a dummy ChangeCipherSpec (even before a second ClientHello): it switches
    // nothing. When the version is not known yet (no ServerHello seen), what follows a CCS is
    // encrypted in either version — TLS ≤ 1.2 Finished, or TLS 1.3 early/encrypted data — so it is
    // treated as encrypted; only a HelloRetryRequest, which would have been seen, brings plaintext.
    if (!this.is13) d.tls.encrypted = true;
  }

  onEncrypted(side: Side, type: number): void {
    const d = this.dirs[side];
    const t = this.trace;
    const is13 = this.serverHelloDone && this.is13;
    if (!is13 && d.ccs && !d.sentFinished && type === ContentType.Handshake) {
      d.sentFinished = true;
      this.push(side, 'Fin');
      const other = this.dirs[side === 0 ? 1 : 0];
      if (other.sentFinished) this.settle();
      return;
    }
    if (type === ContentType.Alert) {
      this.push(side, 'EncAlert');
      return;
    }
    if (is13) {
      this.push(side, 'Enc');
      if (side === t.clientSide) this.settle();
      return;
    }
    if (!this.serverHelloDone && side === t.clientSide && t.clientHellos.some((c) => c.earlyData)) {
      this.push(side, 'Early');
      return;
    }
    this.push(side, 'App');
    // Application data before any visible handshake: the capture started mid-connection.
    if (t.clientHellos.length === 0 && t.serverHellos.length === 0) this.settle();
  }

  /** Handshake outcome is decided: stop reading payload from now on. */
  private settle(): void {
    if (this.trace.settled) return;
    this.trace.settled = true;
    for (const d of this.dirs) {
      d.tls.stop();
      d.tcp.discard();
    }
  }
}
