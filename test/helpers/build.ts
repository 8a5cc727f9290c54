/** Small builders for synthetic captures in tests: pcap files and Ethernet/IPv4/TCP packets. */

export interface Rec {
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
}

export function pcapFile(recs: Rec[], opts: { linkType?: number; bigEndian?: boolean; nanos?: boolean; snaplen?: number } = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const magic = opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4;
  const w32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const w16 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  w32(h, magic, 0);
  w16(h, 2, 4);
  w16(h, 4, 6);
  w32(h, opts.snaplen ?? 262144, 16);
  w32(h, opts.linkType ?? 1, 20);
  parts.push(h);
  for (const r of recs) {
    const rh = Buffer.alloc(16);
    w32(rh, r.sec, 0);
    w32(rh, r.frac, 4);
    w32(rh, r.data.length, 8);
    w32(rh, r.origLen ?? r.data.length, 12);
    parts.push(rh, Buffer.from(r.data));
  }
  return Buffer.concat(parts);
}

/** The records (16-byte header + data) of a little-endian classic pcap file, as views into it. */
export function pcapRecords(whole: Buffer): Buffer[] {
  const recs: Buffer[] = [];
  for (let off = 24; off + 16 <= whole.length; ) {
    const len = whole.readUInt32LE(off + 8);
    recs.push(whole.subarray(off, off + 16 + len));
    off += 16 + len;
  }
  return recs;
}

export interface Seg {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  payload?: Uint8Array;
}

function ip4(s: string): number[] {
  return s.split('.').map(Number);
}

/** Ethernet + IPv4 + TCP (checksums left 0: nothing here verifies them). */
export function tcpPacket(s: Seg): Uint8Array {
  const payload = s.payload ?? new Uint8Array(0);
  const b = Buffer.alloc(14 + 20 + 20 + payload.length);
  b.writeUInt16BE(0x0800, 12);
  const ip = 14;
  b[ip] = 0x45;
  b.writeUInt16BE(20 + 20 + payload.length, ip + 2);
  b[ip + 8] = 64;
  b[ip + 9] = 6;
  Buffer.from(ip4(s.src)).copy(b, ip + 12);
  Buffer.from(ip4(s.dst)).copy(b, ip + 16);
  const t = ip + 20;
  b.writeUInt16BE(s.sport, t);
  b.writeUInt16BE(s.dport, t + 2);
  b.writeUInt32BE(s.seq >>> 0, t + 4);
  b.writeUInt32BE((s.ack ?? 0) >>> 0, t + 8);
  b[t + 12] = 5 << 4;
  b[t + 13] = s.flags;
  b.writeUInt16BE(65535, t + 14);
  Buffer.from(payload).copy(b, t + 20);
  return b;
}

export const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** A TLS record. */
export function record(type: number, body: Uint8Array, version = 0x0303): Uint8Array {
  const b = Buffer.alloc(5 + body.length);
  b[0] = type;
  b.writeUInt16BE(version, 1);
  b.writeUInt16BE(body.length, 3);
  Buffer.from(body).copy(b, 5);
  return b;
}

/** A handshake message (type + 24-bit length + body). */
export function hsMessage(type: number, body: Uint8Array): Uint8Array {
  const b = Buffer.alloc(4 + body.length);
  b[0] = type;
  b.writeUIntBE(body.length, 1, 3);
  Buffer.from(body).copy(b, 4);
  return b;
}

export function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

export function vec16(bytes: number[] | Uint8Array): number[] {
  return [...u16(bytes.length), ...bytes];
}

export function vec8(bytes: number[] | Uint8Array): number[] {
  return [bytes.length, ...bytes];
}

export function ext(type: number, data: number[]): number[] {
  return [...u16(type), ...vec16(data)];
}

export interface HelloOpts {
  version?: number;
  sessionId?: number[];
  suites?: number[];
  exts?: number[][];
  random?: number[];
}

export function clientHelloBody(o: HelloOpts = {}): Uint8Array {
  const exts = (o.exts ?? []).flat();
  const suites = (o.suites ?? [0x1301, 0xc02f]).flatMap(u16);
  return Uint8Array.from([
    ...u16(o.version ?? 0x0303),
    ...(o.random ?? new Array(32).fill(7)),
    ...vec8(o.sessionId ?? []),
    ...vec16(suites),
    ...vec8([0]),
    ...(o.exts ? vec16(exts) : []),
  ]);
}

export function serverHelloBody(o: HelloOpts & { suite?: number } = {}): Uint8Array {
  const exts = (o.exts ?? []).flat();
  return Uint8Array.from([
    ...u16(o.version ?? 0x0303),
    ...(o.random ?? new Array(32).fill(9)),
    ...vec8(o.sessionId ?? []),
    ...u16(o.suite ?? 0xc02f),
    0,
    ...(o.exts ? vec16(exts) : []),
  ]);
}

export function sniExt(name: string): number[] {
  const n = [...Buffer.from(name)];
  return ext(0, vec16([0, ...vec16(n)]));
}
