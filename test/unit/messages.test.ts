import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HRR_RANDOM, isGrease, versionName } from '../../src/tls/constants.js';
import { parseCertificate, parseClientHello, parseNewSessionTicket, parseServerHello, parseSslv2ClientHello, shortHash } from '../../src/tls/messages.js';
import { ByteReader } from '../../src/tls/reader.js';
import type { Parsed } from '../../src/tls/types.js';
import { clientHelloBody, ext, serverHelloBody, sniExt, u16, vec16, vec8 } from '../helpers/build.js';
import { connectionStreams, handshakeOf, rng } from '../helpers/unit-capture.js';

// Real handshake messages from the committed samples. Expected values were read off
// `tshark -r samples/X.pcap -V` (TShark 4.0.17); the tests themselves do not need tshark.
const psk = connectionStreams('tls13-psk.pcap', 1); // client port 54683: PSK resumption
const pskCh = handshakeOf(psk.client, 1); // frame 18
const pskSh = handshakeOf(psk.server, 2); // frame 20
const mix0 = connectionStreams('mix.pcap', 0); // client port 45376: TLS 1.2, SNI www., ALPN h2
const ticket0 = connectionStreams('tls12-ticket.pcap', 0);
const ticket1 = connectionStreams('tls12-ticket.pcap', 1);
const hrr0 = connectionStreams('tls13-hrr.pcap', 0);
const zero1 = connectionStreams('tls13-0rtt.pcap', 1);
const certBody = handshakeOf(ticket0.server, 11); // frame 6
const nstBody = handshakeOf(ticket0.server, 4); // frame 9

/**
 * Watchdog: ByteReader.vec is called on every iteration of the parsers' list loops, and each call
 * that succeeds consumes at least one byte. A parse that calls it more often than its input has
 * bytes (plus slack) is looping without progress; it is stopped with RUNAWAY
 * instead of hanging the test run (and growing memory without bound).
 */
let vecBudget = 1_000;
const RUNAWAY = 'runaway parse: ByteReader.vec called over budget';
const origVec = ByteReader.prototype.vec;
let vecCalls = 0;
beforeAll(() => {
  ByteReader.prototype.vec = function (this: ByteReader, n: 1 | 2 | 3) {
    if (++vecCalls > vecBudget) throw new Error(RUNAWAY);
    return origVec.call(this, n);
  };
});
afterAll(() => {
  ByteReader.prototype.vec = origVec;
});
function guarded<T>(f: () => Parsed<T>, budget = 1_000): Parsed<T> | 'runaway' {
  vecCalls = 0;
  vecBudget = budget;
  try {
    return f();
  } catch (err) {
    if ((err as Error).message === RUNAWAY) return 'runaway';
    throw err;
  }
}

function ok<T>(p: Parsed<T> | 'runaway'): T {
  if (p === 'runaway' || !p.ok) throw new Error(`expected ok, got ${p === 'runaway' ? p : p.error}`);
  return p.value;
}

/** Offset of the extensions block in a ClientHello body (after compression methods). */
function chExtensionsOffset(b: Uint8Array): number {
  let p = 2 + 32;
  p += 1 + b[p];
  p += 2 + ((b[p] << 8) | b[p + 1]);
  p += 1 + b[p];
  return p;
}

describe('ClientHello from real captures', () => {
  it('TLS 1.3 PSK resumption ClientHello (tls13-psk.pcap frame 18)', () => {
    expect(pskCh.length).toBe(546); // tshark: Handshake Length 546
    const ch = ok(guarded(() => parseClientHello(pskCh)));
    expect(ch.version).toBe(0x0303);
    expect(ch.sessionId).toBe('8abf718ccbb7fb20684661b99a454ab6a2ba59749cdd6ea11150c3ac9015e1df');
    expect(ch.cipherSuites).toEqual([0x1302, 0x1303, 0x1301, 0x00ff]);
    expect(ch.compressionMethods).toEqual([0]);
    // JA3 fullstring extension list: 0-11-10-35-22-23-13-43-45-51-41
    expect(ch.extensions).toEqual([0, 11, 10, 35, 22, 23, 13, 43, 45, 51, 41]);
    expect(ch.sni).toBe('psk.tlsflight.test');
    expect(ch.alpn).toEqual([]);
    expect(ch.supportedVersions).toEqual([0x0304]);
    expect(ch.supportedGroups).toEqual([0x1d, 0x17, 0x1e, 0x19, 0x18, 0x100, 0x101, 0x102, 0x103, 0x104]);
    expect(ch.keyShareGroups).toEqual([29]);
    expect(ch.signatureAlgorithms).toHaveLength(14); // Signature Hash Algorithms Length: 28
    expect(ch.sessionTicketLength).toBe(0);
    expect(ch.sessionTicketHash).toBeNull();
    expect(ch.pskModes).toEqual([1]);
    expect(ch.psk).not.toBeNull();
    expect(ch.psk!.identityCount).toBe(1);
    expect(ch.psk!.identityLengths).toEqual([240]);
    expect(ch.psk!.obfuscatedAges).toEqual([45159481]);
    // The identity starts 1e6e7782d9b2968d… (tshark); its hash is the SHA-256 prefix of its 240 bytes.
    const at = Buffer.from(pskCh).indexOf(Buffer.from('1e6e7782d9b2968db58fd47098adf8e1', 'hex'));
    expect(at).toBeGreaterThan(0);
    expect(ch.psk!.identityHashes).toEqual([createHash('sha256').update(pskCh.subarray(at, at + 240)).digest('hex').slice(0, 16)]);
    expect(ch.earlyData).toBe(false);
    expect(ch.extendedMasterSecret).toBe(true);
    expect(ch.renegotiationInfo).toBe(false);
    expect(ch.ech).toBe(false);
    expect(ch.greaseSeen).toBe(false);
    expect(ch.sslv2).toBe(false);
  });

  it('without lists: the same hello minus the offer lists (what the analysis keeps per connection)', () => {
    const full = ok(parseClientHello(pskCh));
    const lean = ok(parseClientHello(pskCh, { lists: false }));
    const lists = ['cipherSuites', 'compressionMethods', 'extensions', 'supportedGroups', 'keyShareGroups', 'signatureAlgorithms', 'pskModes'] as const;
    for (const k of lists) {
      expect(full[k]).not.toBeNull();
      expect(lean[k]).toBeNull();
    }
    const strip = (c: typeof full) => Object.fromEntries(Object.entries(c).filter(([k]) => !(lists as readonly string[]).includes(k)));
    expect(strip(lean)).toEqual(strip(full));
    expect(lean.supportedVersions).toEqual([0x0304]);
    expect(lean.psk!.identityLengths).toEqual([240]);
  });

  it('TLS 1.2 ClientHello with ALPN (mix.pcap frame 4)', () => {
    expect(mix0.clientPort).toBe(45376);
    const ch = ok(guarded(() => parseClientHello(handshakeOf(mix0.client, 1))));
    expect(ch.sni).toBe('www.tlsflight.test');
    expect(ch.alpn).toEqual(['h2', 'http/1.1']);
    expect(ch.sessionId).toBe('');
    expect(ch.supportedVersions).toEqual([]);
    expect(ch.keyShareGroups).toEqual([]);
    expect(ch.sessionTicketLength).toBe(0);
    expect(ch.psk).toBeNull();
    expect(ch.cipherSuites.at(-1)).toBe(0x00ff);
  });

  it('TLS 1.2 ticket resumption: ticket length 192 and its hash matches the NewSessionTicket that issued it', () => {
    const ch = ok(guarded(() => parseClientHello(handshakeOf(ticket1.client, 1))));
    expect(ch.sni).toBe('ticket.tlsflight.test');
    expect(ch.sessionTicketLength).toBe(192); // tshark: session_ticket (len=192)
    const nst = ok(guarded(() => parseNewSessionTicket(nstBody)));
    expect(ch.sessionTicketHash).toBe(nst.ticketHash);
    // OpenSSL sends SHA-256(ticket) as the session ID when resuming by ticket (samples/README.md).
    expect(ch.sessionId).toBe('850653e5debce7dd21411c1eb9194d639c8794765a0a94bbb4221fb04a70259d');
    expect(ch.sessionId.startsWith(nst.ticketHash)).toBe(true);
  });

  it('early_data is seen in the 0-RTT ClientHello (tls13-0rtt.pcap frame 22) and only there', () => {
    const ch = ok(guarded(() => parseClientHello(handshakeOf(zero1.client, 1))));
    expect(ch.extensions).toEqual([0, 11, 10, 35, 22, 23, 13, 43, 45, 51, 42, 41]);
    expect(ch.earlyData).toBe(true);
    expect(ch.psk?.identityCount).toBe(1);
    const first = ok(guarded(() => parseClientHello(handshakeOf(connectionStreams('tls13-0rtt.pcap', 0).client, 1))));
    expect(first.earlyData).toBe(false);
    expect(first.psk).toBeNull();
  });

  it('every truncation 0..len is ok or an error, never a throw; only the no-extensions cut point is ok', () => {
    const extAt = chExtensionsOffset(pskCh);
    expect(extAt).toBe(79);
    const okAt: number[] = [];
    const bad: string[] = [];
    for (let n = 0; n <= pskCh.length; n++) {
      const r = guarded(() => parseClientHello(pskCh.subarray(0, n)));
      if (r === 'runaway') bad.push(`${n}: runaway`);
      else if (r.ok) okAt.push(n);
      else if (!r.error) bad.push(`${n}: empty error`);
    }
    expect(bad).toEqual([]);
    expect(okAt).toEqual([extAt, pskCh.length]);
  });

  function mutate(src: Uint8Array, r: () => number): Uint8Array {
    const b = Uint8Array.from(src);
    const k = 1 + Math.floor(r() * 4);
    for (let i = 0; i < k; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    return r() < 0.2 ? b.subarray(0, Math.floor(r() * b.length)) : b;
  }

  function mutationRun(seed: number, count: number): { ok: number; errors: number; runaway: number[] } {
    const r = rng(seed);
    const res = { ok: 0, errors: 0, runaway: [] as number[] };
    for (let i = 0; i < count; i++) {
      const m = mutate(pskCh, r);
      let p: ReturnType<typeof guarded>;
      try {
        p = guarded(() => parseClientHello(m), m.length + 16);
      } catch (err) {
        throw new Error(`mutation #${i} threw ${(err as Error).message}: ${Buffer.from(m).toString('hex')}`);
      }
      if (p === 'runaway') res.runaway.push(i);
      else if (p.ok) res.ok++;
      else if (typeof p.error === 'string' && p.error.length > 0) res.errors++;
      else throw new Error(`mutation #${i}: error result without a message`);
    }
    return res;
  }

  let mutations: ReturnType<typeof mutationRun> | null = null;
  it('2,000 seeded random mutations never throw (ok or error)', () => {
    const res = mutationRun(20240601, 2000);
    mutations = res;
    expect(res.ok + res.errors + res.runaway.length).toBe(2000);
    expect(res.ok).toBeGreaterThan(100);
    expect(res.errors).toBeGreaterThan(100);
  });

  // Regression: malformed inner lengths used to make the list loops spin forever (see below).
  it('2,000 seeded random mutations all terminate (no runaway list loop)', () => {
    expect((mutations ?? mutationRun(20240601, 2000)).runaway).toEqual([]);
  });
});

describe('ClientHello list loops on malformed lengths', () => {
  // Regression: the extension list loops (`while (list.left >= k) { … list.vec(…) … }`) never ended
  // when an inner vector's length overran its list (ByteReader stopped advancing while `left`
  // stayed >= k). `left` is now 0 once a read fails. The watchdog turns a hang into 'runaway'. Exact inputs (extension data of a ClientHello built
  // with test/helpers/build.ts clientHelloBody):
  const cases: [string, number[]][] = [
    // ALPN: list length 3, protocol length 5 with 2 bytes left.
    ['ALPN (16): 00 03 05 68 32', ext(16, [0, 3, 5, 0x68, 0x32])],
    // server_name: list length 7, name type 0, name length 50 with 4 bytes left.
    ['server_name (0): 00 07 00 00 32 61 62 63 64', ext(0, [0, 7, 0, 0, 50, 0x61, 0x62, 0x63, 0x64])],
    // key_share: list length 8, group x25519, key length 32 with 4 bytes left.
    ['key_share (51): 00 08 00 1d 00 20 01 02 03 04', ext(51, [0, 8, 0, 0x1d, 0, 32, 1, 2, 3, 4])],
    // pre_shared_key: identities length 8, identity length 100 with 6 bytes left.
    ['pre_shared_key (41): 00 08 00 64 01 02 03 04 05 06', ext(41, [0, 8, 0, 100, 1, 2, 3, 4, 5, 6])],
  ];
  for (const [name, e] of cases) {
    it(`${name} is an error, not an endless loop`, () => {
      const r = guarded(() => parseClientHello(clientHelloBody({ exts: [e] })));
      expect(r).not.toBe('runaway');
      expect(r !== 'runaway' && !r.ok).toBe(true);
    });
  }

  it('an extension longer than the extensions block is an error', () => {
    const body = clientHelloBody({ exts: [[0, 16, 0, 50, 0, 3, 2, 0x68, 0x32]] });
    const r = guarded(() => parseClientHello(body));
    expect(r !== 'runaway' && !r.ok && r.error).toMatch(/extension 16 length exceeds/);
  });

  it('a session_id over 32 bytes is an error', () => {
    const r = guarded(() => parseClientHello(clientHelloBody({ sessionId: new Array(33).fill(1) })));
    expect(r).toEqual({ ok: false, error: 'ClientHello session_id longer than 32 bytes' });
  });

  it('a ClientHello without extensions (SSLv3 style) is ok', () => {
    const ch = ok(guarded(() => parseClientHello(clientHelloBody())));
    expect(ch.extensions).toEqual([]);
    expect(ch.sessionTicketLength).toBeNull();
  });
});

describe('ClientHello details', () => {
  it('GREASE values are flagged, kept in the extension list and removed from supported_versions', () => {
    const body = clientHelloBody({
      suites: [0x2a2a, 0x1301],
      exts: [
        ext(0x0a0a, []),
        sniExt('grease.test'),
        ext(43, vec8([...u16(0x5a5a), ...u16(0x0304), ...u16(0x0303)])),
        ext(10, vec16([...u16(0x8a8a), ...u16(0x001d)])),
        ext(51, vec16([...u16(0x8a8a), ...vec16([0]), ...u16(0x001d), ...vec16(new Array(32).fill(1))])),
        ext(0xfafa, [0]),
      ],
    });
    const ch = ok(guarded(() => parseClientHello(body)));
    expect(ch.greaseSeen).toBe(true);
    expect(ch.cipherSuites).toEqual([0x2a2a, 0x1301]);
    expect(ch.extensions).toEqual([0x0a0a, 0, 43, 10, 51, 0xfafa]);
    expect(ch.supportedVersions).toEqual([0x0304, 0x0303]);
    expect(ch.supportedGroups).toEqual([0x8a8a, 0x1d]);
    expect(ch.keyShareGroups).toEqual([0x8a8a, 0x1d]);
    expect(ch.sni).toBe('grease.test');
    // Only the GREASE suite: still flagged.
    expect(ok(guarded(() => parseClientHello(clientHelloBody({ suites: [0xdada] })))).greaseSeen).toBe(true);
    expect(ok(guarded(() => parseClientHello(clientHelloBody({ suites: [0x1301] })))).greaseSeen).toBe(false);
  });

  it('isGrease matches exactly the 16 RFC 8701 values', () => {
    const all: number[] = [];
    for (let v = 0; v < 0x10000; v++) if (isGrease(v)) all.push(v);
    expect(all).toEqual(Array.from({ length: 16 }, (_, i) => ((i << 4) | 0xa) * 0x101));
  });

  it('a 32-byte all-zero session ID is treated as empty (ClientHello and ServerHello)', () => {
    const zeros = new Array(32).fill(0);
    expect(ok(guarded(() => parseClientHello(clientHelloBody({ sessionId: zeros })))).sessionId).toBe('');
    expect(ok(guarded(() => parseServerHello(serverHelloBody({ sessionId: zeros })))).sessionId).toBe('');
    const one = [...zeros.slice(1), 1];
    expect(ok(guarded(() => parseClientHello(clientHelloBody({ sessionId: one })))).sessionId).toBe('00'.repeat(31) + '01');
  });

  it('SSLv2 ClientHello: non-TLS specs dropped, truncation is an error', () => {
    const specs = [0x01, 0x00, 0x80, 0x00, 0xc0, 0x2f, 0x00, 0x00, 0x0a];
    const body = Uint8Array.from([1, 3, 3, 0, 9, 0, 0, 0, 16, ...specs, ...new Array(16).fill(0xee)]);
    const ch = ok(guarded(() => parseSslv2ClientHello(body)));
    expect(ch.cipherSuites).toEqual([0xc02f, 0x000a]);
    expect(ch.version).toBe(0x0303);

    for (let n = 0; n < body.length; n++) {
      const r = guarded(() => parseSslv2ClientHello(body.subarray(0, n)));
      expect(r !== 'runaway' && r.ok, `length ${n}`).toBe(false);
    }
    expect(guarded(() => parseSslv2ClientHello(Uint8Array.from([4, 0, 2])))).toEqual({ ok: false, error: 'SSLv2 record is not a CLIENT-HELLO' });
  });
});

describe('ServerHello', () => {
  it('TLS 1.3 PSK ServerHello (tls13-psk.pcap frame 20)', () => {
    const sh = ok(guarded(() => parseServerHello(pskSh)));
    expect(sh.version).toBe(0x0303);
    expect(sh.selectedVersion).toBe(0x0304);
    expect(sh.hasSupportedVersions).toBe(true);

    expect(sh.sessionId).toBe('8abf718ccbb7fb20684661b99a454ab6a2ba59749cdd6ea11150c3ac9015e1df');
    expect(sh.cipherSuite).toBe(0x1302);
    expect(sh.compressionMethod).toBe(0);
    expect(sh.extensions).toEqual([43, 51, 41]);
    expect(sh.keyShareGroup).toBe(29);
    expect(sh.pskSelected).toBe(0);
    expect(sh.helloRetry).toBe(false);
  });

  it('TLS 1.2 ServerHello with ALPN h2 (mix.pcap frame 6)', () => {
    const sh = ok(guarded(() => parseServerHello(handshakeOf(mix0.server, 2))));
    expect(sh.selectedVersion).toBe(0x0303);
    expect(sh.hasSupportedVersions).toBe(false);
    expect(sh.alpn).toBe('h2');
    expect(sh.cipherSuite).toBe(0xc02b);
    expect(sh.extendedMasterSecret).toBe(true);
    expect(sh.sessionId).toHaveLength(64);
  });

  it('the full TLS 1.2 ServerHello that issues a ticket acknowledges session_ticket', () => {
    expect(ok(guarded(() => parseServerHello(handshakeOf(ticket0.server, 2)))).sessionTicketAck).toBe(true);
    expect(ok(guarded(() => parseServerHello(handshakeOf(ticket1.server, 2)))).sessionTicketAck).toBe(false);
  });

  it('HelloRetryRequest is detected by its random (tls13-hrr.pcap frames 6 and 9)', () => {
    const hrr = ok(guarded(() => parseServerHello(handshakeOf(hrr0.server, 2, 0, true))));

    expect(hrr.helloRetry).toBe(true);
    expect(hrr.keyShareGroup).toBe(23); // HRR asks for secp256r1
    const final = ok(guarded(() => parseServerHello(handshakeOf(hrr0.server, 2, 1, true))));
    expect(final.helloRetry).toBe(false);

    // A random that differs from the HRR value in the last byte is an ordinary ServerHello.
    const near = [...HRR_RANDOM];
    near[31] ^= 1;
    expect(ok(guarded(() => parseServerHello(serverHelloBody({ random: near })))).helloRetry).toBe(false);
    expect(ok(guarded(() => parseServerHello(serverHelloBody({ random: [...HRR_RANDOM] })))).helloRetry).toBe(true);
  });

  it('TLS 1.3 draft layout (version 0x7f10: no session_id, no compression) parses', () => {
    const body = Uint8Array.from([0x7f, 0x10, ...new Array(32).fill(3), ...u16(0x1301), ...vec16(ext(51, [...u16(0x1d), ...vec16(new Array(32).fill(4))]))]);
    const sh = ok(guarded(() => parseServerHello(body)));
    expect(sh.version).toBe(0x7f10);
    expect(sh.selectedVersion).toBe(0x7f10);
    expect(versionName(sh.selectedVersion)).toBe('TLS1.3');
    expect(sh.sessionId).toBe('');
    expect(sh.cipherSuite).toBe(0x1301);
    expect(sh.keyShareGroup).toBe(0x1d);
    expect(sh.extensions).toEqual([51]);
    // Draft 22 and later (0x7f16) use the final layout with a session_id.
    const d22 = serverHelloBody({ version: 0x7f16, sessionId: [1, 2, 3], suite: 0x1302 });
    const sh22 = ok(guarded(() => parseServerHello(d22)));
    expect(sh22.sessionId).toBe('010203');
    expect(sh22.cipherSuite).toBe(0x1302);
  });

  it('truncations and 500 mutations of a real ServerHello never throw', () => {
    for (let n = 0; n < pskSh.length; n++) {
      const r = guarded(() => parseServerHello(pskSh.subarray(0, n)));
      expect(r, `length ${n}`).not.toBe('runaway');
      // The only ok cut point is right after the compression method (no extensions).
      if (r !== 'runaway' && r.ok) expect(n).toBe(2 + 32 + 1 + 32 + 2 + 1);
    }
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const b = Uint8Array.from(pskSh);
      for (let k = 0; k < 3; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      const p = guarded(() => parseServerHello(b));
      expect(p).not.toBe('runaway');
    }
  });
});

describe('Certificate and NewSessionTicket', () => {
  it('the real Certificate (tls12-ticket.pcap frame 6) yields subject, SAN, validity, serial', () => {
    const c = ok(guarded(() => parseCertificate(certBody)));
    expect(c.count).toBe(1); // tshark: Certificates Length 469, one Certificate Length 466
    expect(c.leafError).toBeUndefined();
    expect(c.leaf).not.toBeNull();
    expect(c.leaf!.subject).toBe('CN=tlsflight.test');
    expect(c.leaf!.issuer).toBe('CN=tlsflight.test');
    expect(c.leaf!.san).toEqual(expect.arrayContaining(['DNS:tlsflight.test', 'DNS:*.tlsflight.test']));
    expect(c.leaf!.validFrom).toBe('2026-11-26T22:53:03.000Z');
    expect(c.leaf!.validTo).toBe('2026-11-28T22:53:03.000Z');
    expect(c.leaf!.serialNumber.toLowerCase()).toBe('718640a45e975e7424274351def9707ae2ddf5c2');
    // The fingerprint is SHA-256 of the DER (bytes 6.. of the body: list length 3, cert length 3).
    const der = certBody.subarray(6, 6 + 466);
    expect(c.leaf!.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(createHash('sha256').update(der).digest('hex'));
  });

  it('a chain of two counts two; only the first is described', () => {
    const der = certBody.subarray(6, 6 + 466);
    const garbage = new Uint8Array(20).fill(0x42);
    const list = [...u24(der.length), ...der, ...u24(garbage.length), ...garbage];
    const c = ok(guarded(() => parseCertificate(Uint8Array.from([...u24(list.length), ...list]))));
    expect(c.count).toBe(2);
    expect(c.leaf?.subject).toBe('CN=tlsflight.test');
  });

  it('a garbage certificate gives leafError, not a throw', () => {
    const garbage = Uint8Array.from([0x30, 0x82, 0x01, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]);
    const list = [...u24(garbage.length), ...garbage];
    const c = ok(guarded(() => parseCertificate(Uint8Array.from([...u24(list.length), ...list]))));
    expect(c.count).toBe(1);
    expect(c.leaf).toBeNull();
    expect(c.leafError).toMatch(/^leaf certificate not parseable: /);
    // An empty certificate_list (client without a certificate) is fine.
    expect(ok(guarded(() => parseCertificate(Uint8Array.from([0, 0, 0]))))).toEqual({ count: 0, leaf: null });
  });

  it('length errors in the Certificate message are errors; mutations never throw', () => {
    expect(guarded(() => parseCertificate(Uint8Array.from([0, 0, 10, 0, 0])))).toEqual({ ok: false, error: 'Certificate list length exceeds the message' });
    expect(guarded(() => parseCertificate(Uint8Array.from([0, 0, 5, 0, 0, 9, 1, 2])))).toEqual({ ok: false, error: 'certificate length exceeds the list' });
    const r = rng(99);
    for (let i = 0; i < 200; i++) {
      const b = Uint8Array.from(certBody);
      for (let k = 0; k < 2; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      const p = guarded(() => parseCertificate(b));
      expect(p).not.toBe('runaway');
    }
  });

  it('the real NewSessionTicket: lifetime 7200, 192-byte ticket, hash of the ticket bytes', () => {
    const nst = ok(guarded(() => parseNewSessionTicket(nstBody)));
    expect(nst.lifetimeHint).toBe(7200);
    expect(nst.ticketLength).toBe(192);
    expect(nst.ticketHash).toBe(shortHash(nstBody.subarray(6)));
    expect(nst.ticketHash).toBe(createHash('sha256').update(nstBody.subarray(6, 6 + 192)).digest('hex').slice(0, 16));
  });

  it('NewSessionTicket: lifetime is unsigned, empty ticket is allowed, truncation is an error', () => {
    const b = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 3, 9, 8, 7]);
    expect(ok(guarded(() => parseNewSessionTicket(b)))).toEqual({ lifetimeHint: 4294967295, ticketLength: 3, ticketHash: shortHash(Uint8Array.from([9, 8, 7])) });
    expect(ok(guarded(() => parseNewSessionTicket(Uint8Array.from([0, 0, 0, 0, 0, 0])))).ticketLength).toBe(0);
    for (let n = 0; n < b.length; n++) {
      expect(guarded(() => parseNewSessionTicket(b.subarray(0, n)))).toEqual({ ok: false, error: 'NewSessionTicket truncated' });
    }
  });
});

function u24(n: number): number[] {
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}
