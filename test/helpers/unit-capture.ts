/**
 * Helpers for the unit tests: pull TCP payloads and handshake messages out of the committed
 * sample captures without going through the analyzer. The pcap framing is parsed here directly
 * (the samples are little-endian microsecond pcap, Ethernet); the link/IP/TCP headers go through
 * the project's decodePacket.
 */
import { readFileSync } from 'node:fs';
import { decodePacket } from '../../src/net/decode.js';
import { newPacket } from '../../src/net/types.js';
import { sample } from './analyze.js';

export interface CapturedSegment {
  frame: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  flags: number;
  payload: Uint8Array;
}

const cache = new Map<string, CapturedSegment[]>();

/** Every TCP packet of a sample capture (payload copied), in capture order. */
export function tcpSegments(name: string): CapturedSegment[] {
  const hit = cache.get(name);
  if (hit) return hit;
  const buf = readFileSync(sample(name));
  if (buf.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${name}: expected a little-endian microsecond pcap`);
  const linkType = buf.readUInt32LE(20) & 0xffff;
  const out: CapturedSegment[] = [];
  const pkt = newPacket();
  let pos = 24;
  let frame = 0;
  while (pos + 16 <= buf.length) {
    const caplen = buf.readUInt32LE(pos + 8);
    const data = buf.subarray(pos + 16, pos + 16 + caplen);
    pos += 16 + caplen;
    frame++;
    if (decodePacket(linkType, data, pkt) !== 'ok' || pkt.proto !== 6) continue;
    out.push({
      frame,
      srcPort: pkt.srcPort,
      dstPort: pkt.dstPort,
      seq: pkt.seq,
      flags: pkt.flags,
      payload: Uint8Array.from(data.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength)),
    });
  }
  cache.set(name, out);
  return out;
}

/** Client ports of the capture's connections, in SYN order. */
export function clientPorts(name: string): number[] {
  return tcpSegments(name)
    .filter((s) => (s.flags & 0x12) === 0x02)
    .map((s) => s.srcPort);
}

export interface DirectionStream {
  /** Payload-carrying segments of one direction, in capture order. */
  segments: Uint8Array[];
  /** Their concatenation. */
  bytes: Uint8Array;
}

/**
 * One direction of one connection as the TCP layer would deliver it. The samples are loopback
 * captures without loss or reordering; this checks that instead of reassembling.
 */
export function directionStream(name: string, srcPort: number, dstPort: number): DirectionStream {
  const segs = tcpSegments(name).filter((s) => s.srcPort === srcPort && s.dstPort === dstPort);
  const segments: Uint8Array[] = [];
  let next: number | null = null;
  for (const s of segs) {
    const syn = (s.flags & 0x02) !== 0;
    const start = syn ? (s.seq + 1) >>> 0 : s.seq;
    if (syn) next = start;
    if (s.payload.length === 0) continue;
    if (next !== null && start !== next) throw new Error(`${name}: ${srcPort}→${dstPort} frame ${s.frame} is not in order`);
    next = (start + s.payload.length) >>> 0;
    segments.push(s.payload);
  }
  return { segments, bytes: Buffer.concat(segments) };
}

export interface RawHandshake {
  type: number;
  body: Uint8Array;
}

/**
 * Plaintext handshake messages of a direction stream, found by walking TLS records directly
 * (independent of TlsStream): handshake records are concatenated until the first
 * ChangeCipherSpec (or, with `throughCcs`, past it: TLS 1.3 compatibility CCS before a second
 * ClientHello) or application-data record, then split into messages.
 */
export function plaintextHandshakes(bytes: Uint8Array, opts: { throughCcs?: boolean } = {}): RawHandshake[] {
  const hs: number[] = [];
  let p = 0;
  while (p + 5 <= bytes.length) {
    const type = bytes[p];
    const len = (bytes[p + 3] << 8) | bytes[p + 4];
    if (type === 23 || (type === 20 && !opts.throughCcs)) break;
    if (type === 22) for (let i = 0; i < len; i++) hs.push(bytes[p + 5 + i]);
    p += 5 + len;
  }
  const buf = Uint8Array.from(hs);
  const out: RawHandshake[] = [];
  let q = 0;
  while (q + 4 <= buf.length) {
    const len = (buf[q + 1] << 16) | (buf[q + 2] << 8) | buf[q + 3];
    out.push({ type: buf[q], body: buf.subarray(q + 4, q + 4 + len) });
    q += 4 + len;
  }
  return out;
}

/** The n-th (0-based) connection's client and server direction streams. */
export function connectionStreams(name: string, n: number): { client: DirectionStream; server: DirectionStream; clientPort: number; serverPort: number } {
  const syn = tcpSegments(name).filter((s) => (s.flags & 0x12) === 0x02)[n];
  if (!syn) throw new Error(`${name}: no connection #${n}`);
  return {
    clientPort: syn.srcPort,
    serverPort: syn.dstPort,
    client: directionStream(name, syn.srcPort, syn.dstPort),
    server: directionStream(name, syn.dstPort, syn.srcPort),
  };
}

/** First handshake message of `type` sent in a direction, or throws. */
export function handshakeOf(stream: DirectionStream, type: number, nth = 0, throughCcs = false): Uint8Array {
  const found = plaintextHandshakes(stream.bytes, { throughCcs }).filter((m) => m.type === type);
  if (found.length <= nth) throw new Error(`no handshake message of type ${type} (#${nth})`);
  return found[nth].body;
}

/** Deterministic PRNG (mulberry32) for seeded random splits and mutations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
