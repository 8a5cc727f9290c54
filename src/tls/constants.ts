import { CIPHER_SUITES } from './ciphers.js';

export const ContentType = { ChangeCipherSpec: 20, Alert: 21, Handshake: 22, ApplicationData: 23, Heartbeat: 24 } as const;

export const HandshakeType = {
  HelloRequest: 0,
  ClientHello: 1,
  ServerHello: 2,
  HelloVerifyRequest: 3,
  NewSessionTicket: 4,
  EndOfEarlyData: 5,
  EncryptedExtensions: 8,
  Certificate: 11,
  ServerKeyExchange: 12,
  CertificateRequest: 13,
  ServerHelloDone: 14,
  CertificateVerify: 15,
  ClientKeyExchange: 16,
  Finished: 20,
  CertificateUrl: 21,
  CertificateStatus: 22,
  KeyUpdate: 24,
  MessageHash: 254,
} as const;

/** Short names used in flight summaries (`C:CH ▸ S:SH,Cert,SHD`). */
export const HANDSHAKE_SHORT: Record<number, string> = {
  0: 'HelloReq',
  1: 'CH',
  2: 'SH',
  3: 'HVR',
  4: 'NST',
  5: 'EOED',
  8: 'EE',
  11: 'Cert',
  12: 'SKE',
  13: 'CertReq',
  14: 'SHD',
  15: 'CV',
  16: 'CKE',
  20: 'Fin',
  21: 'CertURL',
  22: 'CertStatus',
  24: 'KeyUpdate',
};

export const Ext = {
  ServerName: 0,
  StatusRequest: 5,
  SupportedGroups: 10,
  EcPointFormats: 11,
  SignatureAlgorithms: 13,
  Alpn: 16,
  Padding: 21,
  EncryptThenMac: 22,
  ExtendedMasterSecret: 23,
  SessionTicket: 35,
  PreSharedKey: 41,
  EarlyData: 42,
  SupportedVersions: 43,
  Cookie: 44,
  PskKeyExchangeModes: 45,
  KeyShare: 51,
  RenegotiationInfo: 0xff01,
  EncryptedClientHello: 0xfe0d,
} as const;

/** SHA-256("HelloRetryRequest"), RFC 8446 §4.1.3: a ServerHello with this random is an HRR. */
export const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** GREASE values (RFC 8701) look like 0x?A?A with both bytes equal. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

export type VersionName = 'SSL2.0' | 'SSL3.0' | 'TLS1.0' | 'TLS1.1' | 'TLS1.2' | 'TLS1.3';

export function versionName(v: number): VersionName | null {
  switch (v) {
    case 0x0002:
      return 'SSL2.0';
    case 0x0300:
      return 'SSL3.0';
    case 0x0301:
      return 'TLS1.0';
    case 0x0302:
      return 'TLS1.1';
    case 0x0303:
      return 'TLS1.2';
    case 0x0304:
      return 'TLS1.3';
    default:
      // Draft TLS 1.3 versions (0x7fxx), Chrome's 2017 TLS 1.3 experiment (0x7e01-0x7e03) and
      // Facebook's (0xfb1x) all negotiate TLS 1.3 semantics.
      if ((v & 0xff00) === 0x7f00 || (v >= 0x7e01 && v <= 0x7e03) || (v & 0xfff0) === 0xfb10) return 'TLS1.3';
      return null;
  }
}

export function versionLabel(v: number): string {
  return versionName(v) ?? `0x${v.toString(16).padStart(4, '0')}`;
}

export function cipherName(id: number): string {
  return CIPHER_SUITES.get(id) ?? `0x${id.toString(16).padStart(4, '0').toUpperCase()}`;
}

const ALERTS: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  111: 'certificate_unobtainable',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
  121: 'ech_required',
};

export function alertName(desc: number): string {
  return ALERTS[desc] ?? `alert_${desc}`;
}

const GROUPS: Record<number, string> = {
  23: 'secp256r1',
  24: 'secp384r1',
  25: 'secp521r1',
  29: 'x25519',
  30: 'x448',
  256: 'ffdhe2048',
  257: 'ffdhe3072',
  258: 'ffdhe4096',
  0x11ec: 'X25519MLKEM768',
  0x11eb: 'SecP256r1MLKEM768',
  0x6399: 'X25519Kyber768Draft00',
};

export function groupName(g: number): string {
  if (isGrease(g)) return 'GREASE';
  return GROUPS[g] ?? `0x${g.toString(16).padStart(4, '0')}`;
}
