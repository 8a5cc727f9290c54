import { describe, expect, it } from 'vitest';
import { decodePacket, isSupportedLinkType, LinkType } from '../../src/net/decode.js';
import { destinationAddress, formatIp, newPacket, sourceAddress, type Packet, type Skip } from '../../src/net/types.js';

const PAYLOAD = Uint8Array.from(Buffer.from('\x16\x03\x01hello', 'latin1'));
const SEQ = 0xfedcba98; // above 2^31: must come out unsigned
const ACK = 0x80000001;

function tcp(payload: Uint8Array = PAYLOAD, opts: { flags?: number; optionWords?: number } = {}): number[] {
  const words = opts.optionWords ?? 0;
  const h = Buffer.alloc(20 + words * 4);
  h.writeUInt16BE(51234, 0);
  h.writeUInt16BE(443, 2);
  h.writeUInt32BE(SEQ, 4);
  h.writeUInt32BE(ACK, 8);
  h[12] = (5 + words) << 4;
  h[13] = opts.flags ?? 0x18;
  h.writeUInt16BE(65535, 14);
  for (let i = 0; i < words * 4; i++) h[20 + i] = 1; // NOPs
  return [...h, ...payload];
}

function udp(payload: Uint8Array): number[] {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(5353, 0);
  h.writeUInt16BE(443, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return [...h, ...payload];
}

function ipv4(transport: number[], opts: { proto?: number; optionWords?: number; frag?: number; total?: number } = {}): number[] {
  const words = opts.optionWords ?? 0;
  const ihl = 20 + words * 4;
  const h = Buffer.alloc(ihl);
  h[0] = 0x40 | (ihl / 4);
  h.writeUInt16BE(opts.total ?? ihl + transport.length, 2);
  h.writeUInt16BE(opts.frag ?? 0x4000, 6); // DF
  h[8] = 64;
  h[9] = opts.proto ?? 6;
  h.set([192, 0, 2, 1], 12);
  h.set([198, 51, 100, 7], 16);
  for (let i = 20; i < ihl; i++) h[i] = 1; // NOP options
  return [...h, ...transport];
}

const SRC6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
const DST6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(10).fill(0), 0xbe, 0xef];

/** IPv6 with a chain of extension headers given as [type, bytes] (each bytes already 8-aligned). */
function ipv6(transport: number[], exts: [number, number[]][] = [], opts: { proto?: number; payloadLen?: number } = {}): number[] {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  const chain: number[] = [];
  const types = [...exts.map((e) => e[0]), opts.proto ?? 6];
  exts.forEach(([, body], i) => {
    chain.push(types[i + 1], ...body.slice(1));
  });
  h.writeUInt16BE(opts.payloadLen ?? chain.length + transport.length, 4);
  h[6] = types[0];
  h[7] = 64;
  h.set(SRC6, 8);
  h.set(DST6, 24);
  return [...h, ...chain, ...transport];
}

/** Hop-by-hop or destination options header: next(1) len(1) + PadN to 8·(len+1) bytes. */
function optsHeader(len8 = 0): number[] {
  const size = (len8 + 1) * 8;
  return [0, len8, 1, size - 4, ...new Array(size - 4).fill(0)];
}

/** Ethernet II; `tags` are [TPID, VID] VLAN tags in order (802.1ad / 802.1Q). */
function eth(type: number, inner: number[], tags: number[][] = []): number[] {
  const out: number[] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
  // Each tag is a TPID where a type would be, then the TCI; the last type is the payload's.
  for (const [tpid, vid] of tags) out.push(tpid >> 8, tpid & 0xff, vid >> 8, vid & 0xff);
  out.push(type >> 8, type & 0xff);
  return [...out, ...inner];
}

function decode(linkType: number, bytes: number[] | Uint8Array): { r: Skip; p: Packet } {
  const p = newPacket();
  const r = decodePacket(linkType, Uint8Array.from(bytes), p);
  return { r, p };
}

function payloadOf(bytes: number[] | Uint8Array, p: Packet): string {
  return Buffer.from(Uint8Array.from(bytes).subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)).toString('latin1');
}

function expectTcp4(frame: number[], linkType: number): Packet {
  const { r, p } = decode(linkType, frame);
  expect(r).toBe('ok');
  expect(p.ipVersion).toBe(4);
  expect(formatIp(sourceAddress(p))).toBe('192.0.2.1');
  expect(formatIp(destinationAddress(p))).toBe('198.51.100.7');
  expect(p.proto).toBe(6);
  expect(p.srcPort).toBe(51234);
  expect(p.dstPort).toBe(443);
  expect(p.seq).toBe(SEQ);
  expect(p.ack).toBe(ACK);
  expect(p.flags).toBe(0x18);
  expect(p.payloadLength).toBe(PAYLOAD.length);
  expect(p.wireLength).toBe(PAYLOAD.length);
  expect(payloadOf(frame, p)).toBe('\x16\x03\x01hello');
  return p;
}

function expectTcp6(frame: number[], linkType: number): Packet {
  const { r, p } = decode(linkType, frame);
  expect(r).toBe('ok');
  expect(p.ipVersion).toBe(6);
  expect(formatIp(sourceAddress(p))).toBe('2001:db8::1');
  expect(formatIp(destinationAddress(p))).toBe('2001:db8::beef');
  expect(p.proto).toBe(6);
  expect(p.srcPort).toBe(51234);
  expect(p.seq).toBe(SEQ);
  expect(payloadOf(frame, p)).toBe('\x16\x03\x01hello');
  return p;
}

const V4 = ipv4(tcp());
const V6 = ipv6(tcp());

function le32(v: number): number[] {
  return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
}
function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

function sll(proto: number, inner: number[]): number[] {
  // packet type, ARPHRD, address length, 8 address bytes, protocol.
  return [0, 0, 0x03, 0x04, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, proto >> 8, proto & 0xff, ...inner];
}

function sll2(proto: number, inner: number[]): number[] {
  // protocol, reserved, ifindex(4), ARPHRD(2), packet type, address length, 8 address bytes.
  return [proto >> 8, proto & 0xff, 0, 0, 0, 0, 0, 2, 0x03, 0x04, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...inner];
}

function pppoe(ppp: number, inner: number[]): number[] {
  return [0x11, 0x00, 0x12, 0x34, ((inner.length + 2) >> 8) & 0xff, (inner.length + 2) & 0xff, ppp >> 8, ppp & 0xff, ...inner];
}

describe('decodePacket: link types', () => {
  it('NULL (0): AF_INET and the BSD AF_INET6 values, in both byte orders', () => {
    expectTcp4([...le32(2), ...V4], LinkType.NULL);
    expectTcp4([...be32(2), ...V4], LinkType.NULL);
    for (const af of [24, 28, 30, 10]) {
      expectTcp6([...le32(af), ...V6], LinkType.NULL);
      expectTcp6([...be32(af), ...V6], LinkType.NULL);
    }
    expect(decode(LinkType.NULL, [...le32(7), ...V4]).r).toBe('not-ip');
  });

  it('LOOP (108): AF in network byte order', () => {
    expectTcp4([...be32(2), ...V4], LinkType.LOOP);
    expectTcp6([...be32(30), ...V6], LinkType.LOOP);
    expect(decode(LinkType.LOOP, [...le32(2), ...V4]).r).toBe('not-ip');
  });

  it('Ethernet (1): plain, 802.1Q, QinQ 0x88a8 / 0x9100, PPPoE', () => {
    expect(expectTcp4(eth(0x0800, V4), LinkType.ETHERNET).payloadOffset).toBe(14 + 20 + 20);
    expectTcp6(eth(0x86dd, V6), LinkType.ETHERNET);
    expect(expectTcp4(eth(0x0800, V4, [[0x8100, 100]]), LinkType.ETHERNET).payloadOffset).toBe(18 + 40);
    expect(expectTcp4(eth(0x0800, V4, [[0x88a8, 10], [0x8100, 20]]), LinkType.ETHERNET).payloadOffset).toBe(22 + 40);
    expectTcp6(eth(0x86dd, V6, [[0x9100, 10], [0x8100, 20]]), LinkType.ETHERNET);
    expect(expectTcp4(eth(0x8864, pppoe(0x0021, V4)), LinkType.ETHERNET).payloadOffset).toBe(22 + 40);
    expectTcp6(eth(0x8864, pppoe(0x0057, V6)), LinkType.ETHERNET);
    expectTcp4(eth(0x8864, pppoe(0x0021, V4), [[0x8100, 7]]), LinkType.ETHERNET);
    expect(decode(LinkType.ETHERNET, eth(0x8864, pppoe(0xc021, V4))).r).toBe('not-ip'); // LCP
    expect(decode(LinkType.ETHERNET, eth(0x0806, new Array(28).fill(0))).r).toBe('not-ip'); // ARP
  });

  it('PPP (9): with and without address/control bytes, with a compressed protocol field', () => {
    expect(expectTcp4([0xff, 0x03, 0x00, 0x21, ...V4], LinkType.PPP).payloadOffset).toBe(4 + 40);
    expect(expectTcp4([0x00, 0x21, ...V4], LinkType.PPP).payloadOffset).toBe(2 + 40);
    expect(expectTcp4([0x21, ...V4], LinkType.PPP).payloadOffset).toBe(1 + 40);
    expectTcp6([0xff, 0x03, 0x00, 0x57, ...V6], LinkType.PPP);
    expectTcp6([0x00, 0x57, ...V6], LinkType.PPP);
    expectTcp6([0x57, ...V6], LinkType.PPP);
    expect(decode(LinkType.PPP, [0xc0, 0x21, ...V4]).r).toBe('not-ip'); // LCP
    expect(decode(LinkType.PPP, [0xff, 0x03, 0x80, 0x21, ...V4]).r).toBe('not-ip'); // IPCP
  });

  it('PPP in HDLC framing (50) and Cisco HDLC (104)', () => {
    expect(expectTcp4([0xff, 0x03, 0x00, 0x21, ...V4], LinkType.PPP_HDLC).payloadOffset).toBe(4 + 40);
    expectTcp6([0xff, 0x03, 0x00, 0x57, ...V6], LinkType.PPP_HDLC);
    // 50 also carries Cisco HDLC, told apart by its first byte.
    expect(expectTcp4([0x0f, 0x00, 0x08, 0x00, ...V4], LinkType.PPP_HDLC).payloadOffset).toBe(4 + 40);
    expectTcp6([0x8f, 0x00, 0x86, 0xdd, ...V6], LinkType.PPP_HDLC);
    expect(expectTcp4([0x0f, 0x00, 0x08, 0x00, ...V4], LinkType.C_HDLC).payloadOffset).toBe(4 + 40);
    expectTcp6([0x8f, 0x00, 0x86, 0xdd, ...V6], LinkType.C_HDLC);
    expect(decode(LinkType.C_HDLC, [0x8f, 0x00, 0x80, 0x35, ...V4]).r).toBe('not-ip'); // Cisco SLARP
  });

  it('raw IP (12, 14, 101) by version nibble; 228 IPv4; 229 IPv6', () => {
    for (const lt of [LinkType.RAW_OPENBSD, LinkType.RAW_BSDOS, LinkType.RAW]) {
      expectTcp4(V4, lt);
      expectTcp6(V6, lt);
      expect(decode(lt, [0x50, ...V4.slice(1)]).r).toBe('not-ip');
    }
    expectTcp4(V4, LinkType.IPV4);
    expectTcp6(V6, LinkType.IPV6);
    expect(decode(LinkType.IPV4, V6).r).toBe('malformed-ip');
    expect(decode(LinkType.IPV6, [...V4, ...new Array(40).fill(0)]).r).toBe('malformed-ip');
  });

  it('Linux SLL (113) and SLL2 (276)', () => {
    expect(expectTcp4(sll(0x0800, V4), LinkType.LINUX_SLL).payloadOffset).toBe(16 + 40);
    expectTcp6(sll(0x86dd, V6), LinkType.LINUX_SLL);
    expect(expectTcp4(sll2(0x0800, V4), LinkType.LINUX_SLL2).payloadOffset).toBe(20 + 40);
    expectTcp6(sll2(0x86dd, V6), LinkType.LINUX_SLL2);
    expect(decode(LinkType.LINUX_SLL, sll(0x0806, new Array(28).fill(0))).r).toBe('not-ip');
  });

  it('unsupported link types', () => {
    for (const lt of [105, 127, 147, 192, 9999]) {
      expect(isSupportedLinkType(lt)).toBe(false);
      expect(decode(lt, V4).r).toBe('unsupported-link');
    }
    for (const lt of Object.values(LinkType)) expect(isSupportedLinkType(lt)).toBe(true);
  });
});

describe('decodePacket: IP and transport', () => {
  it('IPv4 with options: the transport header starts after IHL', () => {
    const f = ipv4(tcp(), { optionWords: 3 });
    const p = expectTcp4(f, LinkType.RAW);
    expect(p.payloadOffset).toBe(32 + 20);
    const max = ipv4(tcp(), { optionWords: 10 });
    expect(expectTcp4(max, LinkType.RAW).payloadOffset).toBe(60 + 20);
  });

  it('TCP options: the payload starts after the data offset', () => {
    const f = ipv4(tcp(PAYLOAD, { optionWords: 3 }));
    expect(expectTcp4(f, LinkType.RAW).payloadOffset).toBe(20 + 32);
  });

  it('IPv4 fragments are ip-fragment; DF alone is not', () => {
    expect(decode(LinkType.RAW, ipv4(tcp(), { frag: 0x2000 })).r).toBe('ip-fragment'); // MF, offset 0
    expect(decode(LinkType.RAW, ipv4(tcp(), { frag: 0x0010 })).r).toBe('ip-fragment'); // offset 16·8
    expect(decode(LinkType.RAW, ipv4(tcp(), { frag: 0x0000 })).r).toBe('ok');
    expect(decode(LinkType.RAW, ipv4(tcp(), { frag: 0x4000 })).r).toBe('ok');
  });

  it('IPv6 with hop-by-hop and destination options headers', () => {
    const f = ipv6(tcp(), [
      [0, optsHeader(0)],
      [60, optsHeader(1)],
    ]);
    const p = expectTcp6(f, LinkType.RAW);
    expect(p.payloadOffset).toBe(40 + 8 + 16 + 20);
    expect(p.wireLength).toBe(PAYLOAD.length);
  });

  it('IPv6 fragment header: a real fragment is ip-fragment, an atomic fragment is a packet', () => {
    const frag = (offM: number) => [0, 0, offM >> 8, offM & 0xff, 0, 0, 0, 1];
    expect(decode(LinkType.RAW, ipv6(tcp(), [[44, frag(0x0001)]])).r).toBe('ip-fragment'); // M set
    expect(decode(LinkType.RAW, ipv6(tcp(), [[44, frag(0x0008)]])).r).toBe('ip-fragment'); // offset 1
    const atomic = ipv6(tcp(), [[44, frag(0x0000)]]);
    expect(expectTcp6(atomic, LinkType.RAW).payloadOffset).toBe(40 + 8 + 20);
  });

  it('an extension header running past the IPv6 payload is malformed-ip', () => {
    const f = ipv6(tcp(), [[0, optsHeader(0)]], { payloadLen: 4 });
    expect(decode(LinkType.RAW, f).r).toBe('malformed-ip');
  });

  it('UDP, and protocols other than TCP/UDP', () => {
    const { r, p } = decode(LinkType.RAW, ipv4(udp(PAYLOAD), { proto: 17 }));
    expect(r).toBe('ok');
    expect(p.proto).toBe(17);
    expect(p.srcPort).toBe(5353);
    expect(p.payloadOffset).toBe(28);
    expect(p.payloadLength).toBe(PAYLOAD.length);
    expect(decode(LinkType.RAW, ipv4(new Array(8).fill(0), { proto: 1 })).r).toBe('other-protocol');
    expect(decode(LinkType.RAW, ipv6(new Array(8).fill(0), [], { proto: 58 })).r).toBe('other-protocol');
  });

  it('Ethernet padding after a short IPv4 packet is not payload', () => {
    const f = [...eth(0x0800, ipv4(tcp(new Uint8Array(0)))), ...new Array(6).fill(0xee)];
    expect(f.length).toBe(60);
    const { r, p } = decode(LinkType.ETHERNET, f);
    expect(r).toBe('ok');
    expect(p.payloadLength).toBe(0);
    expect(p.wireLength).toBe(0);
  });

  it('a snaplen-cut frame: payloadLength is what is present, wireLength what IP announces', () => {
    const full = eth(0x0800, ipv4(tcp(new Uint8Array(1000).fill(0x41))));
    const { r, p } = decode(LinkType.ETHERNET, full.slice(0, 14 + 40 + 100));
    expect(r).toBe('ok');
    expect(p.payloadLength).toBe(100);
    expect(p.wireLength).toBe(1000);
  });

  it('IPv4 total length 0 and IPv6 payload length 0 (TSO captures): the frame is the bound', () => {
    const v4 = ipv4(tcp(), { total: 0 });
    expect(expectTcp4(v4, LinkType.RAW).wireLength).toBe(PAYLOAD.length);
    const v6 = ipv6(tcp(), [], { payloadLen: 0 });
    expect(expectTcp6(v6, LinkType.RAW).wireLength).toBe(PAYLOAD.length);
  });

  it('bad IPv4 and TCP header lengths', () => {
    const badIhl = ipv4(tcp());
    badIhl[0] = 0x44;
    expect(decode(LinkType.RAW, badIhl).r).toBe('malformed-ip');
    expect(decode(LinkType.RAW, ipv4(tcp(), { total: 12 })).r).toBe('malformed-ip');
    const badOff = ipv4(tcp());
    badOff[20 + 12] = 0x40; // data offset 16 bytes
    expect(decode(LinkType.RAW, badOff).r).toBe('malformed-transport');
    const longOff = ipv4(tcp(new Uint8Array(0)));
    longOff[20 + 12] = 0xf0; // 60-byte TCP header in a 20-byte segment
    expect(decode(LinkType.RAW, longOff).r).toBe('malformed-transport');
  });
});

describe('decodePacket: truncated frames', () => {
  const frames: [string, number, number[]][] = [
    ['NULL/IPv4', LinkType.NULL, [...le32(2), ...ipv4(tcp(), { optionWords: 2 })]],
    ['NULL/IPv6', LinkType.NULL, [...be32(30), ...V6]],
    ['LOOP', LinkType.LOOP, [...be32(2), ...V4]],
    ['Ethernet', LinkType.ETHERNET, eth(0x0800, V4)],
    ['Ethernet QinQ', LinkType.ETHERNET, eth(0x86dd, V6, [[0x88a8, 1], [0x8100, 2]])],
    ['Ethernet PPPoE', LinkType.ETHERNET, eth(0x8864, pppoe(0x0021, V4))],
    ['PPP', LinkType.PPP, [0xff, 0x03, 0x00, 0x21, ...V4]],
    ['PPP, compressed protocol', LinkType.PPP, [0x57, ...V6]],
    ['PPP in HDLC framing', LinkType.PPP_HDLC, [0xff, 0x03, 0x00, 0x57, ...V6]],
    ['Cisco HDLC', LinkType.C_HDLC, [0x0f, 0x00, 0x08, 0x00, ...V4]],
    ['RAW IPv6 ext headers', LinkType.RAW, ipv6(tcp(), [[0, optsHeader(0)], [60, optsHeader(1)], [44, [0, 0, 0, 0, 0, 0, 0, 1]]])],
    ['IPv4 (228) UDP', LinkType.IPV4, ipv4(udp(PAYLOAD), { proto: 17 })],
    ['IPv6 (229)', LinkType.IPV6, V6],
    ['SLL', LinkType.LINUX_SLL, sll(0x0800, ipv4(tcp(PAYLOAD, { optionWords: 3 })))],
    ['SLL2', LinkType.LINUX_SLL2, sll2(0x86dd, V6)],
  ];
  for (const [name, lt, frame] of frames) {
    it(`${name}: every prefix decodes without throwing, consistently`, () => {
      const whole = decode(lt, frame);
      expect(whole.r).toBe('ok');
      const fullWire = whole.p.wireLength;
      const hdrEnd = whole.p.payloadOffset;
      for (let n = 0; n < frame.length; n++) {
        const cut = Uint8Array.from(frame.slice(0, n));
        const p = newPacket();
        let r: Skip | undefined;
        expect(() => {
          r = decodePacket(lt, cut, p);
        }, `${name} length ${n}`).not.toThrow();
        if (n < hdrEnd) {
          // Headers cut: reported as truncated, never as a packet.
          expect(r, `${name} length ${n}`).toBe('truncated');
        } else {
          // Headers present, payload cut by the snaplen.
          expect(r, `${name} length ${n}`).toBe('ok');
          expect(p.payloadOffset).toBe(hdrEnd);
          expect(p.payloadLength).toBe(n - hdrEnd);
          expect(p.wireLength).toBe(fullWire);
        }
      }
    });
  }

  it('random bytes for every supported link type never throw', () => {
    let s = 12345;
    const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const out = newPacket();
    for (const lt of Object.values(LinkType)) {
      for (let i = 0; i < 300; i++) {
        const b = new Uint8Array(Math.floor(rnd() * 120));
        for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
        // Make some of them look like IP to get past the first checks.
        if (b.length > 0 && i % 2 === 0) b[0] = i % 4 === 0 ? 0x45 : 0x60;
        const r = decodePacket(lt, b, out);
        if (r === 'ok') expect(out.payloadOffset + out.payloadLength).toBeLessThanOrEqual(b.length);
      }
    }
  });
});
