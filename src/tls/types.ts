/** Typed handshake messages. Byte fields are copies-free views only while parsing; parsers copy what they keep. */

export interface PskOffer {
  identityCount: number;
  identityLengths: number[];
  /** SHA-256 prefixes of each identity, for matching across connections. */
  identityHashes: string[];
  /** Obfuscated ticket ages, as sent (RFC 8446 §4.2.11). */
  obfuscatedAges: number[];
}

/**
 * The offer lists (cipher suites, extensions, groups, …) are null when the hello was parsed with
 * `lists: false`: the analysis never reads them, and on a capture of thousands of connections
 * keeping them per connection was most of a ClientHello's memory.
 */
export interface ClientHello {
  /** legacy_version from the ClientHello body. */
  version: number;
  /** Hex; '' when empty. */
  sessionId: string;
  cipherSuites: number[] | null;
  compressionMethods: number[] | null;
  /** Extension types in order as sent (GREASE included, as 0x?a?a values). */
  extensions: number[] | null;
  sni: string | null;
  alpn: string[];
  /** supported_versions, GREASE removed. */
  supportedVersions: number[];
  supportedGroups: number[] | null;
  keyShareGroups: number[] | null;
  signatureAlgorithms: number[] | null;
  /** null: no session_ticket extension; otherwise its length (0 = "supported, none held"). */
  sessionTicketLength: number | null;
  /** SHA-256 prefix of a non-empty session ticket, to link it to the NewSessionTicket that issued it. */
  sessionTicketHash: string | null;
  psk: PskOffer | null;
  pskModes: number[] | null;
  earlyData: boolean;
  extendedMasterSecret: boolean;
  renegotiationInfo: boolean;
  ech: boolean;
  greaseSeen: boolean;
  /** True for an SSLv2-compatible ClientHello (RFC 5246 Appendix E.2). */
  sslv2: boolean;
}

export interface ServerHello {
  /** legacy_version. */
  version: number;
  /** Version actually negotiated: supported_versions when present, else legacy_version. */
  selectedVersion: number;
  sessionId: string;
  cipherSuite: number;
  compressionMethod: number;
  extensions: number[];
  helloRetry: boolean;
  /** pre_shared_key selected_identity, null when absent. */
  pskSelected: number | null;
  keyShareGroup: number | null;
  alpn: string | null;
  /** Empty session_ticket extension: the server will send a NewSessionTicket (TLS ≤ 1.2). */
  sessionTicketAck: boolean;
  extendedMasterSecret: boolean;
  /** supported_versions extension present. */
  hasSupportedVersions: boolean;
}

export interface CertificateInfo {
  count: number;
  leaf: {
    subject: string;
    issuer: string;
    validFrom: string;
    validTo: string;
    san: string[];
    serialNumber: string;
    fingerprint256: string;
  } | null;
  /** Why the leaf could not be read, if it could not. */
  leafError?: string;
}

export interface NewSessionTicket {
  lifetimeHint: number;
  ticketLength: number;
  ticketHash: string;
}

export interface Alert {
  level: number;
  description: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
