import { describe, expect, it } from 'vitest';
import { classify } from '../../src/analysis/classify.js';
import type { HandshakeTrace, HsEvent, IssuedLookup, Side } from '../../src/analysis/types.js';
import { parseClientHello } from '../../src/tls/messages.js';
import type { ClientHello, ServerHello } from '../../src/tls/types.js';
import { clientHelloBody } from '../helpers/build.js';

// Hand-built traces: side 0 is the client, side 1 the server (as after a SYN).
const C: Side = 0;
const S: Side = 1;
const SID = 'ab'.repeat(32);
const SID2 = 'cd'.repeat(32);
const TICKET_HASH = '0123456789abcdef';

function ch(o: Partial<ClientHello> = {}): ClientHello {
  return {
    version: 0x0303,
    random: '07'.repeat(32),
    sessionId: '',
    cipherSuites: [0xc02f],
    compressionMethods: [0],
    extensions: [],
    sni: 'example.test',
    alpn: [],
    supportedVersions: [],
    supportedGroups: [29],
    keyShareGroups: [],
    signatureAlgorithms: [],
    sessionTicketLength: null,
    sessionTicketHash: null,
    psk: null,
    pskModes: [],
    earlyData: false,
    extendedMasterSecret: true,
    renegotiationInfo: false,
    ech: false,
    greaseSeen: false,
    sslv2: false,
    ...o,
  };
}

/** A TLS 1.3-capable ClientHello with a compatibility-mode session ID and a key share. */
function ch13(o: Partial<ClientHello> = {}): ClientHello {
  return ch({ sessionId: SID, supportedVersions: [0x0304, 0x0303], keyShareGroups: [29], cipherSuites: [0x1301], ...o });
}

function withTicket(len = 192): Partial<ClientHello> {
  return { sessionTicketLength: len, sessionTicketHash: len > 0 ? TICKET_HASH : null };
}

function psk(count = 1): ClientHello['psk'] {
  return {
    identityCount: count,
    identityLengths: new Array(count).fill(240),
    identityHashes: new Array(count).fill(0).map((_, i) => `${i}`.padStart(16, 'f')),
    obfuscatedAges: new Array(count).fill(1000),
  };
}

function sh(o: Partial<ServerHello> = {}): ServerHello {
  return {
    version: 0x0303,
    selectedVersion: 0x0303,
    random: '09'.repeat(32),
    sessionId: '',
    cipherSuite: 0xc02f,
    compressionMethod: 0,
    extensions: [],
    helloRetry: false,
    pskSelected: null,
    keyShareGroup: null,
    alpn: null,
    sessionTicketAck: false,
    extendedMasterSecret: true,
    hasSupportedVersions: false,
    ...o,
  };
}

function sh13(o: Partial<ServerHello> = {}): ServerHello {
  return sh({ selectedVersion: 0x0304, hasSupportedVersions: true, sessionId: SID, cipherSuite: 0x1301, keyShareGroup: 29, ...o });
}

const HRR = sh13({ helloRetry: true, random: 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', keyShareGroup: 23 });

/**
 * Events from a compact script: 'C:CH' / 'S:SH' etc. CH, SH and HRR get refs to the hello
 * lists in order (HRR and SH share the serverHellos list).
 */
function events(script: string): HsEvent[] {
  let chRef = 0;
  let shRef = 0;
  return script
    .split(/\s+/)
    .filter(Boolean)
    .map((tok, i) => {
      const [who, name] = tok.split(':');
      const side: Side = who === 'C' ? C : S;
      const e: HsEvent = { side, name, frame: i + 4, ms: i * 10 };
      if (name === 'CH') e.ref = chRef++;
      if (name === 'SH' || name === 'HRR') e.ref = shRef++;
      if (name === 'Alert') e.ref = 40;
      return e;
    });
}

function trace(o: { chs?: ClientHello[]; shs?: ServerHello[]; script: string } & Partial<HandshakeTrace>): HandshakeTrace {
  const { chs, shs, script, ...rest } = o;
  return {
    clientSide: C,
    roleBasis: 'syn',
    events: events(script),
    clientHellos: chs ?? [],
    serverHellos: shs ?? [],
    certificate: null,
    tickets: [],
    alerts: [],
    losses: [],
    problems: [],
    closed: 'fin',
    settled: true,
    notTls: [false, false],
    sawStart: [true, true],
    eventsDropped: 0,
    ...rest,
  };
}

function lookup(o: { sid?: Record<string, number>; ticket?: Record<string, number> }): IssuedLookup {
  return {
    sessionIdOrigin: (id) => o.sid?.[id] ?? null,
    ticketOrigin: (h) => o.ticket?.[h] ?? null,
  };
}

const FULL12 = 'C:CH S:SH S:Cert S:SKE S:SHD C:CKE C:CCS C:Fin S:CCS S:Fin C:App S:App';
const ABBR12 = 'C:CH S:SH S:CCS S:Fin C:CCS C:Fin C:App S:App';
const FULL13 = 'C:CH S:SH S:CCS S:Enc S:Enc S:Enc S:Enc C:CCS C:Enc C:App';

describe('classify: TLS 1.2', () => {
  it('full handshake', () => {
    const c = classify(trace({ chs: [ch()], shs: [sh({ sessionId: SID })], script: FULL12 }));
    expect(c.version).toBe('TLS1.2');
    expect(c.kind).toBe('full');
    expect(c.resumed).toBe(false);
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBe(false);
    expect(c.ambiguous).toBe(false);
    expect(c.complete).toBe(true);
    expect(c.reason).toBeNull();
    expect(c.evidence).toContain('server sent Certificate');
    expect(c.evidence).toContain('client sent ClientKeyExchange');
    // First CH at 0 ms, server Finished (the second Finished) is event 9.
    expect(c.handshakeMs).toBe(90);
  });

  it('NewSessionTicket in a full handshake (after the client Finished) does not make it a resumption', () => {
    const c = classify(
      trace({ chs: [ch(withTicket(0))], shs: [sh({ sessionTicketAck: true })], script: 'C:CH S:SH S:Cert S:SKE S:SHD C:CKE C:CCS C:Fin S:NST S:CCS S:Fin' }),
    );
    expect(c.kind).toBe('full');
    expect(c.resumed).toBe(false);
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBe(false);
  });

  it('abbreviated by session ID: ServerHello echoes the client session ID, then CCS', () => {
    const c = classify(trace({ chs: [ch({ sessionId: SID })], shs: [sh({ sessionId: SID })], script: ABBR12 }));
    expect(c.kind).toBe('resumed-session-id');
    expect(c.resumed).toBe(true);
    expect(c.offered).toEqual(['session-id']);
    expect(c.rejected).toBe(false);
    expect(c.ambiguous).toBe(false);
    expect(c.resumedFrom).toBeNull();
    expect(c.complete).toBe(true);
    expect(c.evidence).toContain('server ChangeCipherSpec directly after ServerHello');
    expect(c.evidence).toContain('ServerHello echoes client session ID');
    const linked = classify(trace({ chs: [ch({ sessionId: SID })], shs: [sh({ sessionId: SID })], script: ABBR12 }), lookup({ sid: { [SID]: 3 } }));
    expect(linked.kind).toBe('resumed-session-id');
    expect(linked.resumedFrom).toBe(3);
  });

  it('abbreviated by ticket only (no session ID)', () => {
    const c = classify(trace({ chs: [ch(withTicket())], shs: [sh()], script: ABBR12 }));
    expect(c.kind).toBe('resumed-ticket');
    expect(c.offered).toEqual(['ticket']);
    expect(c.rejected).toBe(false);
    expect(c.ambiguous).toBe(false);
    expect(c.evidence).toContain('ClientHello carried a session ticket (192 bytes)');
    const linked = classify(trace({ chs: [ch(withTicket())], shs: [sh()], script: ABBR12 }), lookup({ ticket: { [TICKET_HASH]: 1 } }));
    expect(linked.resumedFrom).toBe(1);
  });

  describe('both a ticket and a session ID offered, session ID echoed, abbreviated', () => {
    const t = () => trace({ chs: [ch({ sessionId: SID, ...withTicket() })], shs: [sh({ sessionId: SID })], script: ABBR12 });

    it('without history: resumed-ticket, flagged ambiguous', () => {
      const c = classify(t());
      expect(c.kind).toBe('resumed-ticket');
      expect(c.ambiguous).toBe(true);
      expect(c.offered).toEqual(['session-id', 'ticket']);
      expect(c.rejected).toBe(false);
      expect(c.resumedFrom).toBeNull();
      expect(c.evidence.some((e) => e.includes('RFC 5077'))).toBe(true);
    });

    it('the ticket was issued earlier in the capture: resumed-ticket, not ambiguous', () => {
      const c = classify(t(), lookup({ ticket: { [TICKET_HASH]: 5 } }));
      expect(c.kind).toBe('resumed-ticket');
      expect(c.ambiguous).toBe(false);
      expect(c.resumedFrom).toBe(5);
      expect(c.evidence).toContain('ticket was issued by NewSessionTicket in connection #5');
    });

    it('the session ID was issued earlier in the capture: resumed-session-id, not ambiguous', () => {
      const c = classify(t(), lookup({ sid: { [SID]: 2 } }));
      expect(c.kind).toBe('resumed-session-id');
      expect(c.ambiguous).toBe(false);
      expect(c.resumedFrom).toBe(2);
      expect(c.evidence).toContain('session ID was issued by the ServerHello of connection #2');
    });
  });

  it('NewSessionTicket before the server CCS is still abbreviated', () => {
    const c = classify(trace({ chs: [ch(withTicket())], shs: [sh({ sessionTicketAck: true })], script: 'C:CH S:SH S:NST S:CCS S:Fin C:CCS C:Fin' }));
    expect(c.kind).toBe('resumed-ticket');
    expect(c.resumed).toBe(true);
    expect(c.evidence).toContain('server ChangeCipherSpec after ServerHello and NewSessionTicket');
  });

  it('"no Certificate seen" alone is not resumption: ServerHello then nothing is unknown, with a reason', () => {
    const open = classify(trace({ chs: [ch({ sessionId: SID })], shs: [sh({ sessionId: SID })], script: 'C:CH S:SH', closed: null, settled: false }));
    expect(open.kind).toBe('unknown');
    expect(open.resumed).toBeNull();
    expect(open.rejected).toBeNull();
    expect(open.reason).toBe("the server's flight after ServerHello is not in the capture");
    expect(open.complete).toBe(false);
    const closed = classify(trace({ chs: [ch({ sessionId: SID })], shs: [sh({ sessionId: SID })], script: 'C:CH S:SH' }));
    expect(closed.kind).toBe('unknown');
    expect(closed.reason).toMatch(/^connection closed after ServerHello/);
    // Encrypted server records without a CCS first (e.g. a PSK/anon suite seen partly) are no signal either.
    const enc = classify(trace({ chs: [ch()], shs: [sh()], script: 'C:CH S:SH S:App' }));
    expect(enc.kind).toBe('unknown');
  });

  it('offered session ID and ticket rejected: full handshake with a new session ID', () => {
    const c = classify(trace({ chs: [ch({ sessionId: SID, ...withTicket() })], shs: [sh({ sessionId: SID2, sessionTicketAck: true })], script: FULL12 }));
    expect(c.kind).toBe('full');
    expect(c.rejected).toBe(true);
    expect(c.offered).toEqual(['session-id', 'ticket']);
    expect(c.evidence).toContain('client offered session-id + ticket; server did a full handshake');
    expect(c.evidence).toContain('ServerHello has a new session ID');
  });

  it('an empty SessionTicket extension is no offer', () => {
    const c = classify(trace({ chs: [ch(withTicket(0))], shs: [sh({ sessionTicketAck: true })], script: FULL12 }));
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBe(false);
    expect(c.evidence).toContain('empty SessionTicket extension: client supports tickets, holds none');
  });

  it('a 32-byte all-zero session ID (as parsed off the wire) is no offer', () => {
    const parsed = parseClientHello(clientHelloBody({ sessionId: new Array(32).fill(0) }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const c = classify(trace({ chs: [parsed.value], shs: [sh({ sessionId: SID2 })], script: FULL12 }));
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBe(false);
  });

  it('a TLS 1.3-capable client with an unissued 32-byte ID that gets TLS 1.2 full: rejection unknown, not claimed', () => {
    const c = classify(trace({ chs: [ch13()], shs: [sh({ sessionId: SID2 })], script: FULL12 }));
    expect(c.version).toBe('TLS1.2');
    expect(c.kind).toBe('full');
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBeNull();
    // The same ID issued earlier by a ServerHello: a real offer, rejected.
    const issued = classify(trace({ chs: [ch13()], shs: [sh({ sessionId: SID2 })], script: FULL12 }), lookup({ sid: { [SID]: 0 } }));
    expect(issued.offered).toEqual(['session-id']);
    expect(issued.rejected).toBe(true);
  });

  it('abbreviated, session ID offered, ServerHello with a different ID and no ticket: unknown with a reason', () => {
    const c = classify(trace({ chs: [ch({ sessionId: SID })], shs: [sh({ sessionId: SID2 })], script: ABBR12 }));
    expect(c.kind).toBe('unknown');
    expect(c.resumed).toBe(true);
    expect(c.reason).toMatch(/session ID differs from the client's and no ticket was offered/);
  });

  it('abbreviated without a ClientHello in the capture: unknown, resumed', () => {
    const c = classify(trace({ shs: [sh({ sessionId: SID })], script: 'S:SH S:CCS S:Fin C:CCS C:Fin', roleBasis: 'server-hello' }));
    expect(c.kind).toBe('unknown');
    expect(c.resumed).toBe(true);
    expect(c.reason).toMatch(/ClientHello is not in the capture/);
  });

  it('a fatal alert right after ServerHello: unknown, the alert in the reason', () => {
    const c = classify(trace({ chs: [ch()], shs: [sh()], script: 'C:CH S:SH C:Alert', alerts: [{ side: C, level: 2, description: 48 }] }));
    expect(c.kind).toBe('unknown');
    expect(c.reason).toBe('handshake ended by an alert after ServerHello (unknown_ca)');
    expect(c.evidence).toContain('client alert unknown_ca');
  });

  it('losses after ServerHello: unknown, mentioning the lost bytes', () => {
    const c = classify(
      trace({
        chs: [ch({ sessionId: SID })],
        shs: [sh({ sessionId: SID })],
        script: 'C:CH S:SH',
        losses: [{ side: S, what: '1448 bytes lost inside a handshake message', afterEvent: 1 }],
        closed: null,
      }),
    );
    expect(c.kind).toBe('unknown');
    expect(c.reason).toMatch(/lost/);
    expect(c.reason).toContain('1448 bytes lost inside a handshake message');
    expect(c.complete).toBeNull();
  });

  it('alert without ServerHello: unknown, the alert in the reason', () => {
    const c = classify(
      trace({ chs: [ch()], script: 'C:CH S:Alert', alerts: [{ side: S, level: 2, description: 40 }] }),
    );
    expect(c.kind).toBe('unknown');
    expect(c.version).toBeNull();
    expect(c.reason).toBe('handshake failed: server sent alert handshake_failure');
    expect(c.evidence).toContain('server alert handshake_failure');
    expect(c.complete).toBe(false);
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBe(false);
  });

  it('no ServerHello, no alert: the reason says what is missing', () => {
    expect(classify(trace({ chs: [ch()], script: 'C:CH', closed: 'rst' })).reason).toBe('connection reset before a ServerHello');
    expect(classify(trace({ chs: [ch()], script: 'C:CH', closed: null })).reason).toMatch(/^no ServerHello in the capture/);
    expect(
      classify(trace({ chs: [ch()], script: 'C:CH', losses: [{ side: S, what: '300 bytes lost between records', afterEvent: 0 }] })).reason,
    ).toBe('server bytes lost where the ServerHello should be (300 bytes lost between records)');
    expect(classify(trace({ script: 'C:App S:App' })).reason).toMatch(/already established/);
  });
});

describe('classify: TLS 1.3', () => {
  it('compatibility-mode session ID echo and dummy CCS are a full handshake, not a resumption', () => {
    const c = classify(trace({ chs: [ch13()], shs: [sh13()], script: FULL13 }));
    expect(c.version).toBe('TLS1.3');
    expect(c.kind).toBe('full');
    expect(c.resumed).toBe(false);
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBe(false);
    expect(c.complete).toBe(true);
    expect(c.evidence).toContain('32-byte legacy_session_id is TLS 1.3 compatibility mode, not an offer');
    expect(c.evidence).toContain('ServerHello supported_versions selects TLS1.3');
  });

  it('psk_key_exchange_modes alone is no offer', () => {
    const c = classify(trace({ chs: [ch13({ pskModes: [1] })], shs: [sh13()], script: FULL13 }));
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBe(false);
  });

  it('PSK selected with key_share: resumed-psk, psk_dhe_ke', () => {
    const c = classify(trace({ chs: [ch13({ psk: psk(), pskModes: [1] })], shs: [sh13({ pskSelected: 0 })], script: FULL13 }));
    expect(c.kind).toBe('resumed-psk');
    expect(c.resumed).toBe(true);
    expect(c.pskMode).toBe('psk_dhe_ke');
    expect(c.offered).toEqual(['psk']);
    expect(c.rejected).toBe(false);
  });

  it('PSK selected without key_share: psk_ke, with a forward-secrecy note', () => {
    const c = classify(trace({ chs: [ch13({ psk: psk(), pskModes: [0] })], shs: [sh13({ pskSelected: 0, keyShareGroup: null })], script: FULL13 }));
    expect(c.kind).toBe('resumed-psk');
    expect(c.pskMode).toBe('psk_ke');
    expect(c.evidence.some((e) => /forward secrecy/.test(e))).toBe(true);
  });

  it('PSK offered and not selected: full, rejected', () => {
    const c = classify(trace({ chs: [ch13({ psk: psk(2) })], shs: [sh13()], script: FULL13 }));
    expect(c.kind).toBe('full');
    expect(c.rejected).toBe(true);
    expect(c.offered).toEqual(['psk']);
    expect(c.echGreasePsk).toBe(false);
    expect(c.evidence).toContain('client offered psk (2 identities); server did a full handshake');
  });

  it('ECH present with an unselected PSK: not counted as rejected, flagged echGreasePsk', () => {
    const c = classify(trace({ chs: [ch13({ psk: psk(), ech: true })], shs: [sh13()], script: FULL13 }));
    expect(c.kind).toBe('full');
    expect(c.rejected).toBeNull();
    expect(c.echGreasePsk).toBe(true);
  });

  it('HRR then the final ServerHello: classified on the final one', () => {
    const chs = [ch13({ psk: psk(), keyShareGroups: [29] }), ch13({ psk: psk(), keyShareGroups: [23] })];
    const c = classify(
      trace({ chs, shs: [HRR, sh13({ pskSelected: 0, keyShareGroup: 23 })], script: 'C:CH S:HRR S:CCS C:CCS C:CH S:SH S:Enc S:Enc C:Enc' }),
    );
    expect(c.helloRetry).toBe(true);
    expect(c.version).toBe('TLS1.3');
    expect(c.kind).toBe('resumed-psk');
    expect(c.pskMode).toBe('psk_dhe_ke');
    expect(c.complete).toBe(true);
    expect(c.handshakeMs).toBe(80);
    // Same, but the final ServerHello does not select the PSK.
    const full = classify(trace({ chs, shs: [HRR, sh13({ keyShareGroup: 23 })], script: 'C:CH S:HRR C:CH S:SH S:Enc C:Enc' }));
    expect(full.kind).toBe('full');
    expect(full.rejected).toBe(true);
  });

  it('HRR and no second ServerHello: unknown, TLS 1.3 from the HRR', () => {
    const c = classify(trace({ chs: [ch13(), ch13()], shs: [HRR], script: 'C:CH S:HRR C:CH' }));
    expect(c.kind).toBe('unknown');
    expect(c.helloRetry).toBe(true);
    expect(c.version).toBe('TLS1.3');
    expect(c.reason).toBe('HelloRetryRequest, then no second ServerHello in the capture');
  });

  it('early_data with the PSK selected: offered (acceptance unknown)', () => {
    const c = classify(trace({ chs: [ch13({ psk: psk(), earlyData: true })], shs: [sh13({ pskSelected: 0 })], script: 'C:CH C:Early S:SH S:Enc C:Enc' }));
    expect(c.earlyData).toBe('offered');
    expect(c.kind).toBe('resumed-psk');
  });

  it('early_data with a HelloRetryRequest: rejected', () => {
    const c = classify(
      trace({
        chs: [ch13({ psk: psk(), earlyData: true }), ch13({ psk: psk(), earlyData: true })],
        shs: [HRR, sh13({ pskSelected: 0 })],
        script: 'C:CH S:HRR C:CH S:SH S:Enc C:Enc',
      }),
    );
    expect(c.earlyData).toBe('rejected');
    expect(c.kind).toBe('resumed-psk');
  });

  // Regression: RFC 8446 §4.1.2 requires the client to drop early_data from the ClientHello it sends
  // after a HelloRetryRequest, so early_data must be read from every ClientHello, not the last. Input: clientHellos [CH1 with psk + early_data, CH2 with psk and
  // without early_data], serverHellos [HRR, SH with pre_shared_key 0], events C:CH C:Early S:HRR C:CH
  // S:SH S:Enc C:Enc.
  it('early_data in the first ClientHello, then HRR (second ClientHello without it, as the RFC requires): rejected', () => {
    const c = classify(
      trace({
        chs: [ch13({ psk: psk(), earlyData: true }), ch13({ psk: psk(), earlyData: false })],
        shs: [HRR, sh13({ pskSelected: 0 })],
        script: 'C:CH C:Early S:HRR C:CH S:SH S:Enc C:Enc',
      }),
    );
    expect(c.kind).toBe('resumed-psk');
    expect(c.earlyData).toBe('rejected');
  });

  it('early_data without the PSK selected: rejected', () => {
    const c = classify(trace({ chs: [ch13({ psk: psk(), earlyData: true })], shs: [sh13()], script: 'C:CH S:SH S:Enc C:Enc' }));
    expect(c.earlyData).toBe('rejected');
    expect(c.kind).toBe('full');
  });

  it('selected_identity beyond the offered identities is noted', () => {
    const c = classify(trace({ chs: [ch13({ psk: psk(1) })], shs: [sh13({ pskSelected: 3 })], script: FULL13 }));
    expect(c.kind).toBe('resumed-psk');
    expect(c.evidence).toContain('selected_identity 3 is beyond the 1 offered identities');
  });

  it('a TLS 1.3-capable client that got TLS 1.2 is classified by TLS 1.2 rules', () => {
    const c = classify(trace({ chs: [ch13({ sessionId: '' , ...withTicket() })], shs: [sh()], script: ABBR12 }));
    expect(c.version).toBe('TLS1.2');
    expect(c.kind).toBe('resumed-ticket');
  });
});
