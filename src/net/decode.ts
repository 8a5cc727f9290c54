import type { Packet, Skip } from './types.js';

export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  RAW_OPENBSD: 12,
  RAW_BSDOS: 14,
  PPP_HDLC: 50,
  RAW: 101,
  C_HDLC: 104,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_PPPOE = 0x8864;
/** PPP protocol numbers of IPv4 (RFC 1332) and IPv6 (RFC 5072). */
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

/** Where the packet after a PPP header at `off` starts (0: truncated); its IP version in pppIp. */
let pppIp = 0;
function pppHeader(d: Uint8Array, off: number): number {
  // RFC 1662 framing: address 0xFF and control 0x03 first, unless they were negotiated away.
  if (d.length > off && d[off] === 0xff) {
    if (d.length < off + 2) return 0;
    if (d[off + 1] === 0x03) off += 2;
  }
  if (d.length < off + 1) return 0;
  let proto: number;
  // Protocol field compression (RFC 1661 §6.5): a one-byte protocol has its low bit set.
  if ((d[off] & 1) === 1) proto = d[off++];
  else {
    if (d.length < off + 2) return 0;
    proto = (d[off] << 8) | d[off + 1];
    off += 2;
  }
  pppIp = pppProtocolToIp(proto);
  return off;
}

function pppProtocolToIp(proto: number): number {
  return proto === PPP_IPV4 ? 4 : proto === PPP_IPV6 ? 6 : 0;
}

/**
 * Whether an IP length beyond the captured bytes means "cut by the snaplen" (true) or a bogus
 * length in a whole frame (false: clamp to the frame). Set per call by decodePacket.
 */
let ipLengthTrusted = true;

const GTP_U_PORT = 2152;
/** Tunnel nesting being decoded (GTP-U inside GTP-U is not followed). */
let depth = 0;

/** Offset of the IP packet inside a GTPv1-U G-PDU starting at `off`, or 0 when it is not one. */
function gtpPayload(d: Uint8Array, off: number, end: number): number {
  if (end < off + 8) return 0;
  const flags = d[off];
  // Version 1, protocol type GTP, message type 255 (G-PDU: user data).
  if (flags >> 5 !== 1 || (flags & 0x10) === 0 || d[off + 1] !== 0xff) return 0;
  let p = off + 8;
  if ((flags & 0x07) !== 0) {
    // Sequence number, N-PDU number and next-extension-type fields, then extension headers.
    if (end < p + 4) return 0;
    let next = d[p + 3];
    p += 4;
    for (let n = 0; next !== 0 && n < 8; n++) {
      if (end < p + 1) return 0;
      const len = d[p] * 4;
      if (len === 0 || end < p + len) return 0;
      next = d[p + len - 1];
      p += len;
    }
    if (next !== 0) return 0;
  }
  return p < end ? p : 0;
}

export function isSupportedLinkType(lt: number): boolean {
  return (
    lt === LinkType.NULL ||
    lt === LinkType.ETHERNET ||
    lt === LinkType.PPP ||
    lt === LinkType.PPP_HDLC ||
    lt === LinkType.C_HDLC ||
    lt === LinkType.RAW_OPENBSD ||
    lt === LinkType.RAW_BSDOS ||
    lt === LinkType.RAW ||
    lt === LinkType.LOOP ||
    lt === LinkType.LINUX_SLL ||
    lt === LinkType.IPV4 ||
    lt === LinkType.IPV6 ||
    lt === LinkType.LINUX_SLL2
  );
}

/** BSD AF_INET6 differs per OS (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS); Linux uses 10. */
function afToIpVersion(af: number): number {
  if (af === 2) return 4;
  if (af === 24 || af === 28 || af === 30 || af === 10) return 6;
  return 0;
}

function ethertypeToIp(t: number): number {
  return t === ETH_IPV4 ? 4 : t === ETH_IPV6 ? 6 : 0;
}

/**
 * Decodes link, IP and TCP/UDP headers of one frame into `out` (reused across calls).
 * Returns 'ok' when `out` describes a TCP or UDP packet.
 */
export function decodePacket(linkType: number, d: Uint8Array, out: Packet, cut = true): Skip {
  ipLengthTrusted = cut;
  let off = 0;
  let ipv = 0;
  switch (linkType) {
    case LinkType.ETHERNET: {
      if (d.length < 14) return 'truncated';
      let type = (d[12] << 8) | d[13];
      off = 14;
      // Any depth of 802.1Q / 802.1ad tags (QinQ), bounded by the frame.
      while (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
        if (d.length < off + 4) return 'truncated';
        type = (d[off + 2] << 8) | d[off + 3];
        off += 4;
      }
      if (type === ETH_PPPOE) {
        // PPPoE session header (6 bytes) then the PPP protocol field.
        if (d.length < off + 8) return 'truncated';
        const ppp = (d[off + 6] << 8) | d[off + 7];
        off += 8;
        ipv = pppProtocolToIp(ppp);
      } else ipv = ethertypeToIp(type);
      break;
    }
    case LinkType.NULL: {
      if (d.length < 4) return 'truncated';
      // Host byte order of the capturing machine: try both.
      const le = d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24);
      const be = (d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3];
      ipv = afToIpVersion(le) || afToIpVersion(be);
      off = 4;
      break;
    }
    case LinkType.LOOP: {
      if (d.length < 4) return 'truncated';
      ipv = afToIpVersion((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]);
      off = 4;
      break;
    }
    case LinkType.RAW:
    case LinkType.RAW_OPENBSD:
    case LinkType.RAW_BSDOS:
      if (d.length < 1) return 'truncated';
      ipv = d[0] >> 4;
      break;
    case LinkType.IPV4:
      ipv = 4;
      break;
    case LinkType.IPV6:
      ipv = 6;
      break;
    case LinkType.LINUX_SLL:
      if (d.length < 16) return 'truncated';
      ipv = ethertypeToIp((d[14] << 8) | d[15]);
      off = 16;
      break;
    case LinkType.LINUX_SLL2:
      if (d.length < 20) return 'truncated';
      ipv = ethertypeToIp((d[0] << 8) | d[1]);
      off = 20;
      break;
    case LinkType.PPP:
    case LinkType.PPP_HDLC:
    case LinkType.C_HDLC:
      if (d.length < 1) return 'truncated';
      // 50 carries PPP in HDLC-like framing (0xFF first) or Cisco HDLC (RFC 1547 §4.3.1).
      if (linkType === LinkType.C_HDLC || (linkType === LinkType.PPP_HDLC && d[0] !== 0xff)) {
        // Address (0x0F unicast, 0x8F broadcast), control, then an Ethernet type.
        if (d.length < 4) return 'truncated';
        ipv = ethertypeToIp((d[2] << 8) | d[3]);
        off = 4;
      } else {
        off = pppHeader(d, 0);
        if (off === 0) return 'truncated';
        ipv = pppIp;
      }
      break;
    default:
      return 'unsupported-link';
  }
  if (ipv === 4) return decodeIpv4(d, off, out);
  if (ipv === 6) return decodeIpv6(d, off, out);
  return 'not-ip';
}

function decodeIpv4(d: Uint8Array, off: number, out: Packet): Skip {
  if (d.length < off + 20) return 'truncated';
  if (d[off] >> 4 !== 4) return 'malformed-ip';
  const ihl = (d[off] & 0x0f) * 4;
  const total = (d[off + 2] << 8) | d[off + 3];
  if (ihl < 20) return 'malformed-ip';
  // total 0 happens with TSO captures on the sending host: trust the frame then.
  if (total !== 0 && total < ihl) return 'malformed-ip';
  if (d.length < off + ihl) return 'truncated';
  const fragField = (d[off + 6] << 8) | d[off + 7];
  if ((fragField & 0x3fff) !== 0) return 'ip-fragment';
  out.ipVersion = 4;
  out.data = d;
  out.srcOffset = off + 12;
  out.dstOffset = off + 16;
  let end = total === 0 ? d.length : off + total;
  if (end > d.length && !ipLengthTrusted) end = d.length;
  return decodeTransport(d, d[off + 9], off + ihl, end, out);
}

function decodeIpv6(d: Uint8Array, off: number, out: Packet): Skip {
  if (d.length < off + 40) return 'truncated';
  if (d[off] >> 4 !== 6) return 'malformed-ip';
  const payloadLen = (d[off + 4] << 8) | d[off + 5];
  let next = d[off + 6];
  out.ipVersion = 6;
  out.data = d;
  out.srcOffset = off + 8;
  out.dstOffset = off + 24;
  // Payload length 0 is a jumbogram or a TSO capture: the frame is the only bound.
  let end = payloadLen === 0 ? d.length : off + 40 + payloadLen;
  if (end > d.length && !ipLengthTrusted) end = d.length;
  let p = off + 40;
  // Extension headers, bounded: each one advances p by at least 8 bytes.
  for (;;) {
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (d.length < p + 2) return 'truncated';
      const len = (d[p + 1] + 1) * 8;
      next = d[p];
      p += len;
    } else if (next === 44) {
      if (d.length < p + 8) return 'truncated';
      const fragOff = ((d[p + 2] << 8) | d[p + 3]) & 0xfff9;
      // Offset 0 with M clear is an atomic fragment (RFC 6946): a whole packet.
      if (fragOff !== 0) return 'ip-fragment';
      next = d[p];
      p += 8;
    } else if (next === 51) {
      if (d.length < p + 2) return 'truncated';
      const len = (d[p + 1] + 2) * 4;
      next = d[p];
      p += len;
    } else break;
    if (p > end) return 'malformed-ip';
  }
  return decodeTransport(d, next, p, end, out);
}

function decodeTransport(d: Uint8Array, proto: number, off: number, ipEnd: number, out: Packet): Skip {
  out.proto = proto;
  if (proto === 6) {
    if (ipEnd < off + 20) return 'malformed-transport';
    if (d.length < off + 20) return 'truncated';
    const hl = (d[off + 12] >> 4) * 4;
    if (hl < 20 || off + hl > ipEnd) return 'malformed-transport';
    if (d.length < off + hl) return 'truncated';
    out.srcPort = (d[off] << 8) | d[off + 1];
    out.dstPort = (d[off + 2] << 8) | d[off + 3];
    out.seq = ((d[off + 4] << 24) | (d[off + 5] << 16) | (d[off + 6] << 8) | d[off + 7]) >>> 0;
    out.ack = ((d[off + 8] << 24) | (d[off + 9] << 16) | (d[off + 10] << 8) | d[off + 11]) >>> 0;
    out.flags = d[off + 13];
    out.payloadOffset = off + hl;
    out.wireLength = ipEnd - off - hl;
    out.payloadLength = Math.max(0, Math.min(d.length, ipEnd) - off - hl);
    return 'ok';
  }
  if (proto === 17) {
    if (ipEnd < off + 8) return 'malformed-transport';
    if (d.length < off + 8) return 'truncated';
    out.srcPort = (d[off] << 8) | d[off + 1];
    out.dstPort = (d[off + 2] << 8) | d[off + 3];
    if ((out.srcPort === GTP_U_PORT || out.dstPort === GTP_U_PORT) && depth === 0) {
      // Mobile-network captures tunnel user traffic in GTP-U: analyze the inner packet.
      const inner = gtpPayload(d, off + 8, Math.min(ipEnd, d.length));
      if (inner > 0) {
        const v = d[inner] >> 4;
        depth++;
        try {
          if (v === 4) return decodeIpv4(d, inner, out);
          if (v === 6) return decodeIpv6(d, inner, out);
        } finally {
          depth--;
        }
      }
    }
    out.seq = 0;
    out.ack = 0;
    out.flags = 0;
    out.payloadOffset = off + 8;
    out.wireLength = ipEnd - off - 8;
    out.payloadLength = Math.max(0, Math.min(d.length, ipEnd) - off - 8);
    return 'ok';
  }
  return 'other-protocol';
}
