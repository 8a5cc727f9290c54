/**
 * One decoded packet, filled in place by decodePacket: a single object is reused for every frame,
 * so nothing here may be kept past the call (addresses are views into the frame).
 */
export interface Packet {
  ipVersion: 4 | 6;
  /** The frame the packet was decoded from; addresses are read from it by offset. */
  data: Uint8Array;
  /** Offsets of the source and destination addresses in `data` (4 bytes each for IPv4, 16 for IPv6). */
  srcOffset: number;
  dstOffset: number;
  /** IP protocol of the transport header found (6 TCP, 17 UDP). */
  proto: number;
  srcPort: number;
  dstPort: number;
  /** TCP only. */
  seq: number;
  ack: number;
  flags: number;
  /** Offset of the transport payload within the frame data. */
  payloadOffset: number;
  /** Payload bytes present in the frame. */
  payloadLength: number;
  /** Payload length the IP header announces; more than payloadLength when the snaplen cut it. */
  wireLength: number;
}

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** Why a frame carried no TCP/UDP packet for the analysis. */
export type Skip =
  | 'ok'
  | 'unsupported-link'
  | 'not-ip'
  | 'truncated'
  | 'malformed-ip'
  | 'ip-fragment'
  | 'other-protocol'
  | 'malformed-transport';

export function newPacket(): Packet {
  return {
    ipVersion: 4,
    data: new Uint8Array(0),
    srcOffset: 0,
    dstOffset: 0,
    proto: 0,
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    payloadOffset: 0,
    payloadLength: 0,
    wireLength: 0,
  };
}

/** The big-endian unsigned 32-bit number at `at` (an IPv4 address, a sequence number). */
export function u32(a: Uint8Array, at: number): number {
  return ((a[at] << 24) | (a[at + 1] << 16) | (a[at + 2] << 8) | a[at + 3]) >>> 0;
}

/** Bytes of an IP address of the packet's version. */
export function addressLength(p: Packet): number {
  return p.ipVersion === 4 ? 4 : 16;
}

/** The packet's source address (a view into its frame). */
export function sourceAddress(p: Packet): Uint8Array {
  return p.data.subarray(p.srcOffset, p.srcOffset + addressLength(p));
}

/** The packet's destination address (a view into its frame). */
export function destinationAddress(p: Packet): Uint8Array {
  return p.data.subarray(p.dstOffset, p.dstOffset + addressLength(p));
}

export function formatIp(a: Uint8Array): string {
  // join makes one flat string; a template literal leaves a tree of pieces in memory.
  if (a.length === 4) return [a[0], a[1], a[2], a[3]].join('.');
  // RFC 5952: lower case, longest run of zero groups (length > 1) replaced by '::'.
  const groups: number[] = [];
  for (let i = 0; i + 1 < a.length; i += 2) groups.push((a[i] << 8) | a[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}
