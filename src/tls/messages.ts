import * as crypto from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { Ext, HRR_RANDOM, isGrease } from './constants.js';
import { ByteReader, toHex } from './reader.js';
import type { CertificateInfo, ClientHello, NewSessionTicket, Parsed, PskOffer, ServerHello } from './types.js';

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'binary' | 'base64') => string;
/**
 * crypto.hash (Node ≥ 20.12) hashes without a Hash object and a digest Buffer: about a fifth of
 * createHash's time on the few hundred bytes of a ticket or identity.
 */
const oneShot: OneShotHash | undefined = (crypto as unknown as { hash?: OneShotHash }).hash;
const hashScratch = Buffer.alloc(8);

/** SHA-256 of `b` in `encoding`. */
function sha256(b: Uint8Array, encoding: 'binary' | 'base64'): string {
  return oneShot ? oneShot('sha256', b, encoding) : crypto.createHash('sha256').update(b).digest(encoding);
}

/** Enough of a SHA-256 to match tickets and identities across connections, short enough to print. */
export function shortHash(b: Uint8Array): string {
  // Hex of the first 8 bytes, made by Buffer's hex encoder so it is one flat string: slicing the
  // 64-digit hex would keep all of it alive behind the slice.
  hashScratch.write(sha256(b, 'binary'), 0, 8, 'latin1');
  return hashScratch.toString('hex', 0, 8);
}

/**
 * Protocol strings (SNI, ALPN) as one flat string: they are kept for the whole connection and in
 * the findings, where a string built a character at a time would be a chain of pieces.
 */
function latin1(b: Uint8Array): string {
  if (b.length <= 1024) return String.fromCharCode.apply(null, b as unknown as number[]);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

function isAllZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Session ID as the analysis sees it: hex, or '' when empty or 32 zero bytes (no ID). */
function sessionIdHex(b: Uint8Array): string {
  return b.length === 0 || isAllZero(b) ? '' : toHex(b);
}

function emptyClientHello(version: number, lists: boolean): ClientHello {
  return {
    version,
    sessionId: '',
    cipherSuites: lists ? [] : null,
    compressionMethods: lists ? [] : null,
    extensions: lists ? [] : null,
    sni: null,
    alpn: [],
    supportedVersions: [],
    supportedGroups: lists ? [] : null,
    keyShareGroups: lists ? [] : null,
    signatureAlgorithms: lists ? [] : null,
    sessionTicketLength: null,
    sessionTicketHash: null,
    psk: null,
    pskModes: lists ? [] : null,
    earlyData: false,
    extendedMasterSecret: false,
    renegotiationInfo: false,
    ech: false,
    greaseSeen: false,
    sslv2: false,
  };
}

/** A vector of 1- or 2-byte values into `out`; not read at all when the lists are not kept (null). */
function readList(list: ByteReader, width: 1 | 2, out: number[] | null): void {
  if (out === null) return;
  while (list.left >= width) out.push(width === 1 ? list.u8() : list.u16());
}

/**
 * Parses a ClientHello body (after the 4-byte handshake header). With `lists: false` the offer
 * lists are skipped (null in the result); everything the classification reads is still there.
 */
export function parseClientHello(body: Uint8Array, opts: { lists?: boolean } = {}): Parsed<ClientHello> {
  const r = new ByteReader(body);
  const ch = emptyClientHello(r.u16(), opts.lists ?? true);
  r.skip(32); // random
  const sid = r.vec(1);
  if (sid.left > 32) return fail('ClientHello session_id longer than 32 bytes');
  ch.sessionId = sessionIdHex(sid.bytes(sid.left));
  const suites = r.vec(2);
  while (suites.left >= 2) {
    const s = suites.u16();
    if (isGrease(s)) ch.greaseSeen = true;
    ch.cipherSuites?.push(s);
  }
  readList(r.vec(1), 1, ch.compressionMethods);
  if (r.bad) return fail('ClientHello truncated before extensions');
  if (r.left === 0) return { ok: true, value: ch }; // no extensions (SSLv3 / early TLS clients)
  const exts = r.vec(2);
  if (r.bad) return fail('ClientHello extensions length exceeds the message');
  while (exts.left >= 4) {
    const type = exts.u16();
    const data = exts.vec(2);
    if (exts.bad) return fail(`ClientHello extension ${type} length exceeds the extensions block`);
    ch.extensions?.push(type);
    if (isGrease(type)) {
      ch.greaseSeen = true;
      continue;
    }
    const err = clientExtension(ch, type, data);
    if (err) return fail(err);
  }
  return { ok: true, value: ch };
}

function clientExtension(ch: ClientHello, type: number, d: ByteReader): string | null {
  switch (type) {
    case Ext.ServerName: {
      const list = d.vec(2);
      while (list.left >= 3) {
        const nameType = list.u8();
        const name = list.vec(2);
        if (nameType === 0 && ch.sni === null) ch.sni = latin1(name.bytes(name.left));
      }
      return list.bad ? 'malformed server_name extension' : null;
    }
    case Ext.Alpn: {
      const list = d.vec(2);
      while (list.left >= 1) {
        const p = list.vec(1);
        ch.alpn.push(latin1(p.bytes(p.left)));
      }
      return list.bad ? 'malformed ALPN extension' : null;
    }
    case Ext.SupportedVersions: {
      const list = d.vec(1);
      while (list.left >= 2) {
        const v = list.u16();
        if (isGrease(v)) ch.greaseSeen = true;
        else ch.supportedVersions.push(v);
      }
      return list.bad ? 'malformed supported_versions extension' : null;
    }
    case Ext.SupportedGroups: {
      const list = d.vec(2);
      while (list.left >= 2) {
        const g = list.u16();
        if (isGrease(g)) ch.greaseSeen = true;
        ch.supportedGroups?.push(g);
      }
      return list.bad ? 'malformed supported_groups extension' : null;
    }
    case Ext.KeyShare: {
      const list = d.vec(2);
      while (list.left >= 4) {
        const g = list.u16();
        ch.keyShareGroups?.push(g);
        list.vec(2);
      }
      return list.bad ? 'malformed key_share extension' : null;
    }
    case Ext.SignatureAlgorithms: {
      const list = d.vec(2);
      readList(list, 2, ch.signatureAlgorithms);
      return list.bad ? 'malformed signature_algorithms extension' : null;
    }
    case Ext.SessionTicket: {
      ch.sessionTicketLength = d.left;
      if (d.left > 0) ch.sessionTicketHash = shortHash(d.bytes(d.left));
      return null;
    }
    case Ext.PreSharedKey: {
      const ids = d.vec(2);
      const psk: PskOffer = { identityCount: 0, identityLengths: [], identityHashes: [], obfuscatedAges: [] };
      while (ids.left >= 6) {
        const id = ids.vec(2);
        const bytes = id.bytes(id.left);
        psk.identityCount++;
        psk.identityLengths.push(bytes.length);
        psk.identityHashes.push(shortHash(bytes));
        psk.obfuscatedAges.push(ids.u32());
      }
      if (ids.bad) return 'malformed pre_shared_key extension';
      ch.psk = psk;
      return null;
    }
    case Ext.PskKeyExchangeModes: {
      readList(d.vec(1), 1, ch.pskModes);
      return null;
    }
    case Ext.EarlyData:
      ch.earlyData = true;
      return null;
    case Ext.ExtendedMasterSecret:
      ch.extendedMasterSecret = true;
      return null;
    case Ext.RenegotiationInfo:
      ch.renegotiationInfo = true;
      return null;
    case Ext.EncryptedClientHello:
      ch.ech = true;
      return null;
    default:
      return null;
  }
}

/**
 * SSLv2-compatible ClientHello (RFC 5246 Appendix E.2), given the bytes after the 2-byte record
 * header: msg_type(1) version(2) cipher_spec_length(2) session_id_length(2) challenge_length(2) …
 */
export function parseSslv2ClientHello(body: Uint8Array): Parsed<ClientHello> {
  const r = new ByteReader(body);
  if (r.u8() !== 1) return fail('SSLv2 record is not a CLIENT-HELLO');
  const version = r.u16();
  const specLen = r.u16();
  const sidLen = r.u16();
  const chalLen = r.u16();
  if (specLen % 3 !== 0) return fail('SSLv2 cipher_spec_length not a multiple of 3');
  const specs = r.bytes(specLen);
  const sid = r.bytes(sidLen);
  r.skip(chalLen); // challenge
  if (r.bad) return fail('SSLv2 ClientHello truncated');
  const suites: number[] = [];
  for (let i = 0; i + 2 < specs.length; i += 3) {
    // Only specs with a zero first byte are TLS cipher suites; others are SSLv2 kinds.
    if (specs[i] === 0) suites.push((specs[i + 1] << 8) | specs[i + 2]);
  }
  const ch = emptyClientHello(version, true);
  ch.sessionId = sessionIdHex(sid);
  ch.cipherSuites = suites;
  ch.compressionMethods = [0];
  ch.sslv2 = true;
  return { ok: true, value: ch };
}

export function parseServerHello(body: Uint8Array): Parsed<ServerHello> {
  const r = new ByteReader(body);
  const version = r.u16();
  const random = r.bytes(32);
  // TLS 1.3 drafts before -22 put the draft version in legacy_version and had no session_id or
  // compression_method fields.
  const draftLayout = (version >> 8) === 0x7f && (version & 0xff) < 22;
  const sid = draftLayout ? new ByteReader(body, 0, 0) : r.vec(1);
  if (sid.left > 32) return fail('ServerHello session_id longer than 32 bytes');
  const sh: ServerHello = {
    version,
    selectedVersion: version,
    sessionId: sessionIdHex(sid.bytes(sid.left)),
    cipherSuite: r.u16(),
    compressionMethod: draftLayout ? 0 : r.u8(),
    extensions: [],
    helloRetry: random.length === 32 && Buffer.from(random.buffer, random.byteOffset, 32).equals(HRR_RANDOM),
    pskSelected: null,
    keyShareGroup: null,
    alpn: null,
    sessionTicketAck: false,
    extendedMasterSecret: false,
    hasSupportedVersions: false,
  };
  if (r.bad) return fail('ServerHello truncated');
  if (r.left === 0) return { ok: true, value: sh };
  const exts = r.vec(2);
  if (r.bad) return fail('ServerHello extensions length exceeds the message');
  while (exts.left >= 4) {
    const type = exts.u16();
    const d = exts.vec(2);
    if (exts.bad) return fail(`ServerHello extension ${type} length exceeds the extensions block`);
    sh.extensions.push(type);
    switch (type) {
      case Ext.SupportedVersions:
        sh.selectedVersion = d.u16();
        sh.hasSupportedVersions = true;
        break;
      case Ext.PreSharedKey:
        sh.pskSelected = d.u16();
        break;
      case Ext.KeyShare:
        // In an HRR this carries only the selected group; in a ServerHello, group + key.
        sh.keyShareGroup = d.u16();
        break;
      case Ext.Alpn: {
        const list = d.vec(2);
        const p = list.vec(1);
        if (!list.bad) sh.alpn = latin1(p.bytes(p.left));
        break;
      }
      case Ext.SessionTicket:
        sh.sessionTicketAck = true;
        break;
      case Ext.ExtendedMasterSecret:
        sh.extendedMasterSecret = true;
        break;
    }
    if (d.bad) return fail(`malformed ServerHello extension ${type}`);
  }
  return { ok: true, value: sh };
}

/**
 * A server sends the same certificate in every full handshake; parsing DER is the costliest step
 * on handshake-heavy captures, so leaf descriptions are kept by the certificate's hash.
 */
const LEAF_CACHE_SIZE = 512;
const leafCache = new Map<string, NonNullable<CertificateInfo['leaf']> | { error: string }>();

/** TLS ≤ 1.2 Certificate: a chain of DER certificates; the leaf is described via X509Certificate. */
export function parseCertificate(body: Uint8Array): Parsed<CertificateInfo> {
  const r = new ByteReader(body);
  const list = r.vec(3);
  if (r.bad) return fail('Certificate list length exceeds the message');
  const info: CertificateInfo = { count: 0, leaf: null };
  while (list.left >= 3) {
    const cert = list.vec(3);
    if (list.bad) return fail('certificate length exceeds the list');
    if (info.count === 0) {
      const der = cert.bytes(cert.left);
      const key = sha256(der, 'base64');
      const cached = leafCache.get(key);
      if (cached) {
        if ('error' in cached) info.leafError = cached.error;
        else info.leaf = cached;
        info.count++;
        continue;
      }
      try {
        const x = new X509Certificate(Buffer.from(der));
        info.leaf = {
          subject: x.subject.replace(/\n/g, ', '),
          issuer: x.issuer.replace(/\n/g, ', '),
          validFrom: new Date(x.validFrom).toISOString(),
          validTo: new Date(x.validTo).toISOString(),
          san: x.subjectAltName ? x.subjectAltName.split(', ') : [],
          serialNumber: x.serialNumber,
          fingerprint256: x.fingerprint256,
        };
      } catch (err) {
        // Node throws on DER it cannot parse; that is a fact about the bytes, not a program error.
        info.leafError = `leaf certificate not parseable: ${(err as Error).message}`;
      }
      if (leafCache.size >= LEAF_CACHE_SIZE) leafCache.delete(leafCache.keys().next().value as string);
      leafCache.set(key, info.leaf ?? { error: info.leafError! });
    }
    info.count++;
  }
  return { ok: true, value: info };
}

/** TLS ≤ 1.2 NewSessionTicket (RFC 5077 §3.3): lifetime hint and opaque ticket. */
export function parseNewSessionTicket(body: Uint8Array): Parsed<NewSessionTicket> {
  const r = new ByteReader(body);
  const lifetimeHint = r.u32();
  const t = r.vec(2);
  if (r.bad) return fail('NewSessionTicket truncated');
  const ticket = t.bytes(t.left);
  return { ok: true, value: { lifetimeHint, ticketLength: ticket.length, ticketHash: shortHash(ticket) } };
}

/**
 * TLS ≤ 1.2 ServerKeyExchange of an ECDHE suite (RFC 8422 §5.4): curve_type 3 (named_curve) and
 * the group. Other key exchanges (DHE, PSK, SRP) carry no named group: null.
 */
export function parseEcdheServerKeyExchange(body: Uint8Array): number | null {
  if (body.length < 4 || body[0] !== 3) return null;
  return (body[1] << 8) | body[2];
}

/** CertificateRequest (TLS ≤ 1.2): the certificate types the server asks the client for. */
export function parseCertificateRequestTypes(body: Uint8Array): Parsed<number[]> {
  const r = new ByteReader(body);
  const types = r.vec(1);
  const out: number[] = [];
  while (types.left > 0) out.push(types.u8());
  return r.bad ? fail('CertificateRequest truncated') : { ok: true, value: out };
}
