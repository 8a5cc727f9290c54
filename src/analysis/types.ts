import type { VersionName } from '../tls/constants.js';
import type { CertificateInfo, ClientHello, NewSessionTicket, ServerHello } from '../tls/types.js';

export type Side = 0 | 1;

/** One thing seen on the wire during the handshake, in capture order. */
export interface HsEvent {
  side: Side;
  /** Short name: CH, SH, HRR, Cert, SKE, CertReq, SHD, CKE, CV, NST, CertStatus, CCS, Fin, Enc, App, Early, Alert… */
  name: string;
  frame: number;
  /** Milliseconds since the connection's first packet. */
  ms: number;
  /** Index into the trace's hello lists for CH/SH/HRR, or alert description. */
  ref?: number;
}

/** Everything the classifier needs about one connection, as plain data. */
export interface HandshakeTrace {
  /** Which side is the client, when known, and what said so. */
  clientSide: Side | null;
  roleBasis: 'syn' | 'client-hello' | 'server-hello' | 'server-message' | null;
  events: HsEvent[];
  clientHellos: ClientHello[];
  serverHellos: ServerHello[];
  certificate: CertificateInfo | null;
  /** TLS ≤ 1.2 ECDHE group from ServerKeyExchange. */
  skeGroup: number | null;
  /** The server asked for a client certificate (CertificateRequest seen). */
  clientCertRequested: boolean;
  tickets: NewSessionTicket[];
  alerts: { side: Side; level: number; description: number }[];
  /** Bytes lost per side before the handshake was settled, with what they hid. */
  losses: { side: Side; what: string; afterEvent: number }[];
  problems: string[];
  /** TCP connection end as seen: FIN from both, RST, or neither (capture ended / still open). */
  closed: 'fin' | 'rst' | null;
  /** Handshake done and the connection was no longer followed (skip state). */
  settled: boolean;
  /** The first data of each side did not look like TLS (and never became TLS). */
  notTls: [boolean, boolean];
  /** The capture saw the start of each side's byte stream (SYN seen). */
  sawStart: [boolean, boolean];
  eventsDropped: number;
}

export type Kind = 'full' | 'resumed-session-id' | 'resumed-ticket' | 'resumed-psk' | 'unknown';
export type Offer = 'session-id' | 'ticket' | 'psk';

export type { IssuedLookup } from './linker.js';
import type { IssuedLookup } from './linker.js';

export interface Classification {
  version: VersionName | null;
  kind: Kind;
  reason: string | null;
  resumed: boolean | null;
  offered: Offer[] | null;
  rejected: boolean | null;
  /** Set when the wire leaves two readings open and the verdict chose one, which evidence says. */
  ambiguous: boolean;
  helloRetry: boolean;
  earlyData: null | 'offered' | 'accepted' | 'rejected';
  complete: boolean | null;
  evidence: string[];
  pskMode: 'psk_dhe_ke' | 'psk_ke' | null;
  /** Connection id of the connection that issued the session/ticket, when the capture shows it. */
  resumedFrom: number | null;
  echGreasePsk: boolean;
  handshakeMs: number | null;
}
