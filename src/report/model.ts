/**
 * The report model: plain JSON-serializable data, the one contract between the analysis and the
 * renderers. `--format json` prints exactly this; the README documents it field by field.
 */
import type { Kind, Offer } from '../analysis/types.js';
import type { CertificateInfo } from '../tls/types.js';
import type { VersionName } from '../tls/constants.js';

export const SCHEMA_VERSION = 1;

export interface EndpointJson {
  ip: string;
  port: number;
}

/** The earlier connection that issued (or, for TLS 1.3 PSK, first offered) what this client offered. */
export interface OriginJson {
  via: 'ticket' | 'session-id' | 'psk';
  connection: number;
  server: EndpointJson;
  sni: string | null;
  /** Seconds from issue (or first offer) to this ClientHello. */
  ageS: number;
  /** NewSessionTicket lifetime hint, seconds (tickets only). */
  lifetimeHint: number | null;
  sameServer: boolean;
}

export interface FlightJson {
  from: 'client' | 'server' | 'unknown';
  /** Milliseconds from the connection's first packet to the flight's first message. */
  atMs: number;
  frames: number[];
  messages: string[];
}

export interface ConnectionResult {
  id: number;
  /** Capture file the connection was seen in. */
  file: string;
  transport: 'tcp';
  client: EndpointJson;
  server: EndpointJson;
  /** What decided who is the client: the SYN, the ClientHello, the ServerHello, another server-only message, or nothing (guess: first sender). */
  roleBasis: 'syn' | 'client-hello' | 'server-hello' | 'server-message' | null;
  /** ISO 8601 time of the first packet, to the capture's precision. */
  start: string;
  firstFrame: number;
  lastFrame: number;
  durationMs: number;
  tls: boolean;
  version: VersionName | null;
  cipher: string | null;
  /** Key exchange group: TLS 1.3 ServerHello key_share, or TLS ≤ 1.2 ECDHE ServerKeyExchange. */
  group: string | null;
  /** The server sent a CertificateRequest (asked for a client certificate). */
  clientCertRequested: boolean;
  sni: string | null;
  /** ALPN protocol the server selected; `alpnOffered` is the client's list. */
  alpn: string | null;
  alpnOffered: string[];
  kind: Kind;
  /** Whether the handshake was abbreviated, even when `kind` cannot say by what (null: unknown). */
  resumed: boolean | null;
  offered: Offer[] | null;
  rejected: boolean | null;
  /** The verdict picked one of two readings the wire allows; the evidence says which and why. */
  ambiguous: boolean;
  helloRetry: boolean;
  earlyData: null | 'offered' | 'accepted' | 'rejected';
  complete: boolean | null;
  evidence: string[];
  reason: string | null;
  handshakeMs: number | null;
  pskMode: 'psk_dhe_ke' | 'psk_ke' | null;
  /** Connection id that issued the session ID or ticket used, when in the capture. */
  resumedFrom: number | null;
  origin: OriginJson | null;
  sessionId: { client: string | null; server: string | null };
  /** Non-empty ticket the client presented: length and a SHA-256 prefix (for matching). */
  ticketOffered: { length: number; hash: string } | null;
  psk: { identities: number; identityLengths: number[]; identityHashes: string[]; selected: number | null } | null;
  ticketIssued: boolean;
  tickets: { lifetimeHint: number; length: number; hash: string }[];
  alert: { from: 'client' | 'server' | 'unknown'; level: 'warning' | 'fatal' | string; description: string } | null;
  certificate: CertificateInfo | null;
  flights: FlightJson[];
  /** Compact flight line, e.g. `C:CH ▸ S:SH,CCS,Fin ▸ C:CCS,Fin`. */
  flightSummary: string;
  bytes: { client: number; server: number };
  packets: { client: number; server: number };
  closed: 'fin' | 'rst' | null;
  /** Bytes the capture lost while the handshake mattered, and parse problems. */
  losses: string[];
  problems: string[];
}

export interface CaptureSummary {
  file: string;
  format: string | null;
  compressed: 'gzip' | null;
  byteOrder: 'big' | 'little' | null;
  linkTypes: string[];
  snaplen: number | null;
  packets: number;
  bytes: number;
  firstTime: string | null;
  lastTime: string | null;
  durationS: number | null;
  truncatedPackets: number;
  droppedPackets: number | null;
  secretsBlocks: number;
  /** A problem that ended the read early (results before it are kept), or made the file unreadable. */
  error: string | null;
  /** False when nothing in the file could be analyzed (not a capture, empty, unsupported link type). */
  usable: boolean;
  warnings: string[];
}

export interface PacketStats {
  tcp: number;
  udp: number;
  otherIp: number;
  notIp: number;
  ipFragments: number;
  malformed: number;
  truncated: number;
  unsupportedLink: number;
  /** TCP packets with data that arrived after their connection had closed (retransmissions). */
  afterClose: number;
}

export interface Summary {
  connections: number;
  tlsConnections: number;
  nonTlsConnections: number;
  byKind: Record<Kind, number>;
  /** TLS connections whose ClientHello offered a session ID, ticket or PSK. */
  offeredResumption: number;
  resumed: number;
  rejected: number;
  /** resumed / offeredResumption (null when nothing was offered). */
  resumptionRateOffered: number | null;
  /** resumed / TLS connections with a known outcome. */
  resumptionRateAll: number | null;
  complete: number;
  incomplete: number;
  helloRetry: number;
  earlyDataOffered: number;
  alerts: number;
  versions: Record<string, number>;
  udpPackets: number;
}

export interface TimingStats {
  n: number;
  medianMs: number | null;
  p90Ms: number | null;
}

/** Resumption outcome per server (address:port and SNI). */
export interface ServerStats {
  server: EndpointJson;
  sni: string | null;
  connections: number;
  full: number;
  resumed: { 'session-id': number; ticket: number; psk: number };
  unknown: number;
  offered: number;
  rejected: number;
  /** Resumed ÷ offered (null when nothing was offered). */
  resumptionRate: number | null;
  ticketsIssued: number;
  sessionIdsIssued: number;
  versions: Record<string, number>;
  earlyData: { offered: number; rejected: number };
  handshake: { full: TimingStats; resumed: TimingStats };
  /** Median full minus median resumed handshake time. */
  savingMs: number | null;
  /** Round trips a resumption saves: 1 for TLS ≤ 1.2 (abbreviated handshake), 0 for TLS 1.3 without 0-RTT. */
  savingRoundTrips: number | null;
}

export type FindingType =
  | 'ticket-keys-not-shared'
  | 'session-cache-not-shared'
  | 'expired-ticket'
  | 'expired-session'
  | 'server-forgot-sessions'
  | 'server-never-resumes'
  | 'rejected-origin-unknown'
  | 'server-never-issues'
  | 'client-never-offers'
  | 'tls13-ticket-reuse'
  | 'early-data-rejected'
  | 'ech-grease-psk';

export interface Finding {
  type: FindingType;
  severity: 'problem' | 'warning' | 'info';
  title: string;
  /** What the capture shows and what it usually means, in plain language. */
  explanation: string;
  /** Configuration to look at (real directive names). */
  hints: string[];
  /** Connection ids the finding rests on (at most 50 listed; `count` has them all). */
  connections: number[];
  count: number;
  server: EndpointJson | null;
  sni: string | null;
}

export interface Report {
  schemaVersion: number;
  tool: { name: 'tlsflight'; version: string };
  captures: CaptureSummary[];
  summary: Summary;
  /** One sentence: the state of resumption in this capture and its main problem. */
  headline: string;
  findings: Finding[];
  servers: ServerStats[];
  packets: PacketStats;
  connections: ConnectionResult[];
  warnings: string[];
}
