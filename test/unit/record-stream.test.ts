import { describe, expect, it } from 'vitest';
import { parseSslv2ClientHello } from '../../src/tls/messages.js';
import { MAX_HANDSHAKE_MESSAGE, MAX_PROBE_BYTES, MAX_RECORD, TlsStream } from '../../src/tls/record-stream.js';
import { clientHelloBody, ext, hsMessage, record, serverHelloBody, sniExt } from '../helpers/build.js';
import { connectionStreams, plaintextHandshakes, rng, type DirectionStream } from '../helpers/unit-capture.js';

/**
 * A TlsStream wired to a log of its events. Like the connection does for TLS ≤ 1.2, it marks the
 * direction encrypted once that direction's ChangeCipherSpec went by (unless told not to).
 */
function reader(opts: { encryptOnCcs?: boolean } = {}): { t: TlsStream; log: string[] } {
  const log: string[] = [];
  const side = 1;
  const at = (got: number) => {
    // The reader must say which direction it reads for, on every event.
    if (got !== side) log.push(`wrong side ${got}`);
  };
  const t: TlsStream = new TlsStream(
    {
      onHandshake: (s, type, body) => (at(s), log.push(`hs ${type} ${body.length} ${Buffer.from(body).toString('hex')}`)),
      onSslv2: (s, body) => (at(s), log.push(`sslv2 ${body.length} ${Buffer.from(body).toString('hex')}`)),
      onCcs: (s) => {
        at(s);
        log.push('ccs');
        if (opts.encryptOnCcs ?? true) t.encrypted = true;
      },
      onAlert: (s, level, desc) => (at(s), log.push(`alert ${level} ${desc}`)),
      onEncrypted: (s, type, len) => (at(s), log.push(`enc ${type} ${len}`)),
      onProblem: (s, m) => (at(s), log.push(`problem ${m}`)),
      onLost: (s, m) => (at(s), log.push(`lost ${m}`)),
    },
    side,
  );
  return { t, log };
}

/** The log without handshake bodies: `hs TYPE LENGTH`. */
function shape(log: string[]): string[] {
  return log.map((l) => (l.startsWith('hs ') ? l.split(' ').slice(0, 3).join(' ') : l));
}

function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p instanceof Uint8Array ? p : Uint8Array.from(p))));
}

const HS = 22;
const CCS = 20;
const ALERT = 21;
const APP = 23;

const sh = hsMessage(2, serverHelloBody({ sessionId: new Array(32).fill(5) }));
const cert = hsMessage(11, Uint8Array.from([0, 0, 3, 0, 0, 0]));
const shd = hsMessage(14, new Uint8Array(0));
// SNI plus a 236-byte padding extension: a ClientHello over 300 bytes.
const ch = hsMessage(1, clientHelloBody({ exts: [sniExt('example.test'), ext(21, new Array(236).fill(0))] }));

type Chunking = { name: string; feed: (t: TlsStream, d: DirectionStream) => void };

const CHUNKINGS: Chunking[] = [
  { name: 'whole', feed: (t, d) => t.onData(d.bytes, true) },
  { name: 'as captured', feed: (t, d) => d.segments.forEach((s) => t.onData(s, true)) },
  {
    name: '1 byte at a time',
    feed: (t, d) => {
      for (let i = 0; i < d.bytes.length; i++) t.onData(d.bytes.subarray(i, i + 1), i === 0);
    },
  },
  ...[1, 2, 3, 42, 1234].map((seed) => ({
    name: `random splits (seed ${seed})`,
    feed: (t: TlsStream, d: DirectionStream) => {
      const r = rng(seed);
      let p = 0;
      while (p < d.bytes.length) {
        const n = 1 + Math.floor(r() * (r() < 0.5 ? 8 : 300));
        t.onData(d.bytes.subarray(p, p + n), p === 0 || r() < 0.5);
        p += n;
      }
    },
  })),
];

describe('TlsStream on real bytes (samples/tls12-session-id.pcap)', () => {
  const full = connectionStreams('tls12-session-id.pcap', 0);
  const resumed = connectionStreams('tls12-session-id.pcap', 1);

  it('finds the handshake messages tshark shows, and the CCS / encrypted records after them', () => {
    const c = reader();
    for (const s of full.client.segments) c.t.onData(s, true);
    // tshark: frame 4 Client Hello; frame 8 Client Key Exchange, Change Cipher Spec, Encrypted
    // Handshake Message; frames 10, 12 Application Data, Encrypted Alert.
    expect(shape(c.log)).toEqual(['hs 1 262', 'hs 16 33', 'ccs', 'enc 22 40', 'enc 23 56', 'enc 21 26']);
    const s = reader();
    for (const seg of full.server.segments) s.t.onData(seg, true);
    // tshark frame 6: Server Hello, Certificate, Server Key Exchange, Server Hello Done.
    expect(shape(s.log)).toEqual(['hs 2 89', 'hs 11 472', 'hs 12 111', 'hs 14 0', 'ccs', 'enc 22 40', 'enc 23 62', 'enc 21 26']);
    // Same bodies as an independent record walk of the same bytes.
    const expected = plaintextHandshakes(full.server.bytes).map((m) => `hs ${m.type} ${m.body.length} ${Buffer.from(m.body).toString('hex')}`);
    expect(s.log.filter((l) => l.startsWith('hs '))).toEqual(expected);
    expect(s.t.mode).toBe('tls');
    expect(s.t.records).toBe(8);
  });

  for (const [label, conn] of [
    ['full handshake', full],
    ['session-ID resumption', resumed],
  ] as const) {
    for (const dir of ['client', 'server'] as const) {
      it(`${label}, ${dir}: every chunking gives the same events`, () => {
        const logs = CHUNKINGS.map((ch) => {
          const r = reader();
          ch.feed(r.t, conn[dir]);
          return { name: ch.name, log: r.log };
        });
        const ref = logs[0].log;
        expect(ref.some((l) => l.startsWith('hs '))).toBe(true);
        expect(ref).toContain('ccs');
        expect(ref.some((l) => l.startsWith('problem') || l.startsWith('lost'))).toBe(false);
        for (const l of logs) expect(l.log, l.name).toEqual(ref);
      });
    }
  }

  it('the resumed connection has no Certificate: SH then CCS directly', () => {
    const s = reader();
    s.t.onData(resumed.server.bytes, true);
    expect(shape(s.log)).toEqual(['hs 2 81', 'ccs', 'enc 22 40', 'enc 23 62', 'enc 21 26']);
  });
});

describe('TlsStream record layer', () => {
  it('several handshake messages in one record', () => {
    const r = reader();
    r.t.onData(record(HS, cat(sh, cert, shd)), true);
    expect(r.log).toEqual([
      `hs 2 ${sh.length - 4} ${Buffer.from(sh.subarray(4)).toString('hex')}`,
      'hs 11 6 000003000000',
      'hs 14 0 ',
    ]);
    expect(r.t.records).toBe(1);
  });

  it('one message across 3 records, the 4-byte handshake header itself split', () => {
    expect(ch.length).toBeGreaterThan(300);
    const recs = cat(record(HS, ch.subarray(0, 2)), record(HS, ch.subarray(2, 150)), record(HS, ch.subarray(150)));
    for (const ck of [recs.length, 1, 7]) {
      const r = reader();
      for (let p = 0; p < recs.length; p += ck) r.t.onData(recs.subarray(p, p + ck), p === 0);
      expect(r.log, `chunks of ${ck}`).toEqual([`hs 1 ${ch.length - 4} ${Buffer.from(ch.subarray(4)).toString('hex')}`]);
      expect(r.t.records).toBe(3);
    }
  });

  it('zero-length records are counted and change nothing', () => {
    const r = reader();
    const bytes = cat(record(HS, new Uint8Array(0)), record(HS, sh.subarray(0, 10)), record(HS, new Uint8Array(0)), record(HS, sh.subarray(10)), record(APP, new Uint8Array(0)), record(HS, shd));
    r.t.onData(bytes, true);
    expect(shape(r.log)).toEqual([`hs 2 ${sh.length - 4}`, 'hs 14 0']);
    expect(r.t.records).toBe(6);
    expect(r.t.mode).toBe('tls');
  });

  it('an oversize handshake message is skipped with a problem; the messages after it are still found', () => {
    const bigLen = MAX_HANDSHAKE_MESSAGE + 1;
    const bigHeader = [11, (bigLen >> 16) & 0xff, (bigLen >> 8) & 0xff, bigLen & 0xff];
    const big = new Uint8Array(bigLen).fill(0x30);
    const payload = cat(sh, bigHeader, big, shd);
    const recs: Uint8Array[] = [];
    for (let p = 0; p < payload.length; p += 16384) recs.push(record(HS, payload.subarray(p, p + 16384)));
    const stream = cat(...recs, record(CCS, Uint8Array.of(1)));
    for (const seg of [stream.length, 1448]) {
      const r = reader();
      for (let p = 0; p < stream.length; p += seg) r.t.onData(stream.subarray(p, p + seg), true);
      const s = shape(r.log);
      expect(s[0]).toBe(`hs 2 ${sh.length - 4}`);
      expect(s[1]).toMatch(/^problem handshake message type 11 of 262145 bytes is over the 262144-byte cap/);
      expect(s.slice(2)).toEqual(['hs 14 0', 'ccs']);
    }
  });

  it('a message exactly at MAX_HANDSHAKE_MESSAGE is delivered', () => {
    const body = new Uint8Array(MAX_HANDSHAKE_MESSAGE).fill(7);
    const payload = cat(hsMessage(11, body), shd);
    const recs: Uint8Array[] = [];
    for (let p = 0; p < payload.length; p += 16384) recs.push(record(HS, payload.subarray(p, p + 16384)));
    const r = reader();
    r.t.onData(cat(...recs), true);
    expect(shape(r.log)).toEqual([`hs 11 ${MAX_HANDSHAKE_MESSAGE}`, 'hs 14 0']);
  });

  it('a bad record header switches to lost; the stream resynchronises at the next segment start with a valid header', () => {
    const r = reader();
    r.t.onData(record(HS, sh), true);
    r.t.onData(new Uint8Array(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), true);
    expect(r.t.mode).toBe('lost');
    expect(r.log.at(-1)).toMatch(/^problem not a TLS record header \(474554202f\): bad type or version/);
    // A valid header not at a segment start is not trusted.
    r.t.onData(record(ALERT, Uint8Array.of(2, 40)), false);
    // A segment start that is not a record header is not either.
    r.t.onData(Uint8Array.from([0x17, 0x03, 0x09, 0, 1, 0]), true);
    expect(r.t.mode).toBe('lost');
    expect(r.log.filter((l) => l.startsWith('alert'))).toEqual([]);
    // This one is.
    r.t.onData(cat(record(ALERT, Uint8Array.of(2, 40)), record(HS, shd)), true);
    expect(r.t.mode).toBe('tls');
    expect(shape(r.log).slice(-2)).toEqual(['alert 2 40', 'hs 14 0']);
    expect(r.log.filter((l) => l.startsWith('problem'))).toHaveLength(1);
  });

  it('a record length over MAX_RECORD is a bad header', () => {
    const r = reader();
    const len = MAX_RECORD + 1;
    r.t.onData(Uint8Array.from([APP, 3, 3, len >> 8, len & 0xff, 0, 0]), true);
    expect(r.t.mode).toBe('lost');
    expect(r.log).toEqual([`problem not a TLS record header (170303${len.toString(16)}): length ${len} over the maximum`]);
  });

  it('a gap inside application data is absorbed; the next record is read normally', () => {
    const r = reader();
    r.t.onData(cat(record(CCS, Uint8Array.of(1)), record(APP, new Uint8Array(1000)).subarray(0, 205)), true);
    r.t.onGap(500);
    r.t.onData(new Uint8Array(300), false);
    r.t.onData(record(APP, new Uint8Array(10)), false);
    expect(r.log).toEqual(['ccs', 'enc 23 1000', 'enc 23 10']);
    expect(r.t.mode).toBe('tls');
  });

  it('a gap inside an encrypted (post-CCS) handshake record is absorbed too', () => {
    const r = reader();
    r.t.onData(cat(record(CCS, Uint8Array.of(1)), record(HS, new Uint8Array(40)).subarray(0, 10)), true);
    r.t.onGap(20);
    r.t.onData(new Uint8Array(15), false);
    r.t.onData(record(APP, new Uint8Array(3)), true);
    expect(r.log).toEqual(['ccs', 'enc 22 40', 'enc 23 3']);
  });

  it('a gap inside a plaintext handshake record reports lost and waits for a segment start', () => {
    const r = reader();
    const rec = record(HS, ch);
    r.t.onData(rec.subarray(0, 100), true);
    r.t.onGap(100);
    expect(r.log).toEqual(['lost 100 bytes lost inside a handshake message']);
    expect(r.t.mode).toBe('lost');
    // The rest of the record (mid-record, not a record start) is not misread.
    r.t.onData(rec.subarray(200), true);
    expect(r.log).toHaveLength(1);
    r.t.onData(record(HS, shd), true);
    expect(shape(r.log)).toEqual(['lost 100 bytes lost inside a handshake message', 'hs 14 0']);
  });

  it('a gap between records, or across a record boundary, reports lost', () => {
    const a = reader();
    a.t.onData(record(HS, sh), true);
    a.t.onGap(50);
    expect(a.log.slice(1)).toEqual(['lost 50 bytes lost between records']);
    expect(a.t.mode).toBe('lost');
    const b = reader();
    b.t.onData(cat(record(CCS, Uint8Array.of(1)), record(APP, new Uint8Array(100)).subarray(0, 55)), true);
    b.t.onGap(200);
    expect(b.log.slice(2)).toEqual(['lost 200 bytes lost across a record boundary']);
    expect(b.t.mode).toBe('lost');
  });

  it('a gap before any TLS (probe mode) is ignored', () => {
    const r = reader();
    r.t.onGap(1000);
    expect(r.t.mode).toBe('probe');
    r.t.onData(record(HS, shd), true);
    expect(shape(r.log)).toEqual(['hs 14 0']);
  });

  it('a plaintext alert split byte by byte is reported once', () => {
    const r = reader();
    const bytes = record(ALERT, Uint8Array.of(2, 40));
    for (let i = 0; i < bytes.length; i++) r.t.onData(bytes.subarray(i, i + 1), i === 0);
    expect(r.log).toEqual(['alert 2 40']);
  });

  it('the TLS 1.3 dummy ChangeCipherSpec is plaintext even after the direction is marked encrypted', () => {
    const r = reader({ encryptOnCcs: false });
    r.t.onData(record(HS, sh), true);
    r.t.encrypted = true;
    r.t.onData(cat(record(CCS, Uint8Array.of(1)), record(APP, new Uint8Array(23)), record(HS, new Uint8Array(8))), true);
    expect(shape(r.log)).toEqual([`hs 2 ${sh.length - 4}`, 'ccs', 'enc 23 23', 'enc 22 8']);
  });

  it('stop() turns the reader off', () => {
    const r = reader();
    r.t.stop();
    r.t.onData(record(HS, sh), true);
    expect(r.log).toEqual([]);
    expect(r.t.mode).toBe('off');
  });
});

describe('TlsStream SSLv2 ClientHello and STARTTLS', () => {
  // RFC 5246 Appendix E.2: msg_length (2 bytes, high bit set), msg_type 1, version,
  // cipher_spec_length, session_id_length, challenge_length, cipher_specs, session_id, challenge.
  const specs = [0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x07, 0x00, 0xc0];
  const challenge = new Array(32).fill(0).map((_, i) => 0xa0 + i);
  const v2body = Uint8Array.from([1, 0x03, 0x01, 0, specs.length, 0, 0, 0, challenge.length, ...specs, ...challenge]);
  const v2 = cat([0x80 | (v2body.length >> 8), v2body.length & 0xff], v2body);

  it('an SSLv2-format ClientHello produces sslv2(body) that parses', () => {
    for (const first of [v2.length, 3, 10]) {
      const r = reader();
      r.t.onData(v2.subarray(0, first), true);
      for (let p = first; p < v2.length; p++) r.t.onData(v2.subarray(p, p + 1), false);
      expect(r.log, `first chunk ${first}`).toEqual([`sslv2 ${v2body.length} ${Buffer.from(v2body).toString('hex')}`]);
      expect(r.t.records).toBe(1);
    }
    const p = parseSslv2ClientHello(v2body);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.value.sslv2).toBe(true);
    expect(p.value.version).toBe(0x0301);
    // The SSLv2-only kind (07 00 c0) is not a TLS suite.
    expect(p.value.cipherSuites).toEqual([0x002f, 0x0035]);
    expect(p.value.sessionId).toBe('');
  });

  it('after an SSLv2 hello the same direction continues as TLS records', () => {
    const r = reader();
    r.t.onData(cat(v2, record(ALERT, Uint8Array.of(1, 0))), true);
    expect(shape(r.log).slice(1)).toEqual(['alert 1 0']);
  });

  // Regression: in 'lost' mode any segment whose first three bytes looked like an SSLv2 record header
  // (high bit set, length >= 9, third byte 1 or 4) was taken as an SSLv2 hello. An SSLv2 hello can
  // only open a connection, yet after a loss mid-Certificate the next segment starts with arbitrary
  // DER/ciphertext bytes: ~1 in 256 such segments matches, and a match with byte 4 makes the
  // connection emit 'SSLv2-SH', settle, and classify as "SSLv2 handshake: not analyzed further".
  // Input: record(22, SH), then 100 bytes of a Certificate record (header says 3000), onGap(1448),
  // then a segment starting 82 10 04 … (530 bytes).
  it('after a loss, mid-stream bytes that happen to look like an SSLv2 header are not an SSLv2 hello', () => {
    const r = reader();
    r.t.onData(record(HS, sh), true);
    r.t.onData(cat([HS, 3, 3, 3000 >> 8, 3000 & 0xff, 11, 0, 0x0b, 0xb4], new Uint8Array(91)), true);
    r.t.onGap(1448);
    expect(r.t.mode).toBe('lost');
    const junk = new Uint8Array(2 + 0x210).fill(0x5a);
    junk.set([0x82, 0x10, 0x04]);
    r.t.onData(junk, true);
    expect(r.log.filter((l) => l.startsWith('sslv2'))).toEqual([]);
  });

  it('STARTTLS: plaintext segments, then a TLS record at a segment start is found', () => {
    const r = reader();
    for (const line of ['220 mail.example ESMTP ready\r\n', '250-mail.example\r\n250 STARTTLS\r\n', '220 2.0.0 Ready to start TLS\r\n']) {
      r.t.onData(new Uint8Array(Buffer.from(line)), true);
      expect(r.t.mode).toBe('probe');
    }
    expect(r.log).toEqual([]);
    r.t.onData(record(HS, ch), true);
    expect(r.t.mode).toBe('tls');
    expect(shape(r.log)).toEqual([`hs 1 ${ch.length - 4}`]);
  });

  it('a TLS-looking record inside a plaintext segment (not at its start) is not taken', () => {
    const r = reader();
    r.t.onData(cat(Buffer.from('hello\r\n'), record(HS, shd)), true);
    expect(r.t.mode).toBe('probe');
    expect(r.log).toEqual([]);
  });

  it(`up to MAX_PROBE_BYTES of plaintext keeps probing; one more byte turns the reader off`, () => {
    const line = new Uint8Array(1024).fill(0x41);
    const a = reader();
    for (let i = 0; i < MAX_PROBE_BYTES / line.length; i++) a.t.onData(line, true);
    expect(a.t.mode).toBe('probe');
    a.t.onData(record(HS, shd), true);
    expect(shape(a.log)).toEqual(['hs 14 0']);

    const b = reader();
    for (let i = 0; i < MAX_PROBE_BYTES / line.length; i++) b.t.onData(line, true);
    b.t.onData(Uint8Array.of(0x41), true);
    expect(b.t.mode).toBe('off');
    b.t.onData(record(HS, shd), true);
    expect(b.log).toEqual([]);
  });
});
