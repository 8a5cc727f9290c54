#!/usr/bin/env node
// Generates samples/postmortem.pcap (+ .keys, + .json): ONE capture of real TLS traffic (node:tls,
// its bundled OpenSSL) on loopback with several resumption problems a postmortem "findings" layer
// should point out, each on its own SNI and server address so they are easy to tell apart:
//
//   shop.tlsflight.test   127.0.0.2:8443 + 127.0.0.3:8443  TLS 1.2 tickets, each backend its own ticket keys
//   cache.tlsflight.test  127.0.0.2:9443 + 127.0.0.3:9443  TLS 1.2 session IDs, each backend its own cache
//   expiry.tlsflight.test 127.0.0.4:8443                   TLS 1.2 tickets, sessionTimeout 2 s, offered after ~3.5 s
//   api.tlsflight.test    127.0.0.4:9443                   TLS 1.2 tickets, client never offers a session
//   legacy.tlsflight.test 127.0.0.5:8443                   TLS 1.2, no tickets, no session cache
//   push.tlsflight.test   127.0.0.5:9443                   TLS 1.3, one ticket offered by 4 concurrent connections
//   www.tlsflight.test    127.0.0.6:8443                   TLS 1.3, healthy: full + 3 PSK resumptions
//
// The www server is `openssl s_server -rev` (same OpenSSL 3.0 as node's): node's own TLS 1.3 server
// never sends a new ticket after a PSK resumption (its ticket-key callback never asks OpenSSL to
// renew), so "every resumption with a fresh ticket" cannot be made with a node server. All
// clients are node:tls.
//
//   sudo node scripts/gen-postmortem-sample.mjs
//
// Needs root (tcpdump on lo), /usr/bin/tcpdump (or $TCPDUMP), the openssl CLI (throwaway cert) and
// tshark (or $TSHARK): the capture is checked against everything the generator claims and nothing
// is written to samples/ unless every check passed. Node built-ins only. Helpers are copied from
// scripts/gen-samples.mjs (same approach), not imported, so the two scripts stay independent.
//
// samples/postmortem.json holds what the generator KNOWS (its configuration, what the client and
// server sockets reported: isSessionReused(), sessions, tickets); tshark is only used to verify it.

import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLES = path.join(ROOT, 'samples');
const TCPDUMP = process.env.TCPDUMP || '/usr/bin/tcpdump';
const OPENSSL = process.env.OPENSSL || 'openssl';
const TSHARK = process.env.TSHARK || 'tshark';
const STDBUF = process.env.STDBUF || 'stdbuf';

const NAME = 'postmortem';
const CLIENT_IP = '127.0.0.1';
const SERVER_PORTS = [8443, 9443];
const CONN_TIMEOUT_MS = 10_000;
const GAP_MS = 100; // pause between sequential connections
const EXPIRY_TIMEOUT_S = 2; // server sessionTimeout of expiry.tlsflight.test = TLS 1.2 ticket lifetime hint
const EXPIRY_WAIT_MS = 3500; // how long the client sits on that ticket before offering it
// Clients bind explicit local ports from a range that holds no server port; unique within the file.
const CLIENT_PORT_MIN = 45000;
const CLIENT_PORT_SPAN = 15000;
const usedClientPorts = new Set();
function pickClientPort() {
  for (;;) {
    const p = CLIENT_PORT_MIN + crypto.randomInt(CLIENT_PORT_SPAN);
    if (!usedClientPorts.has(p)) return p;
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities (from gen-samples.mjs)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const log = (...args) => console.log('[gen-postmortem]', ...args);

function fail(msg) {
  throw new Error(msg);
}

const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function waitExit(child, ms, what) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return withTimeout(once(child, 'exit').then(([code]) => code), ms, what);
}

async function killAll() {
  const running = [...children];
  for (const child of running) {
    try {
      child.kill(child.spawnargs[0] === TCPDUMP ? 'SIGINT' : 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await Promise.allSettled(
    running.map((child) =>
      waitExit(child, 3000, 'child to exit').catch(() => {
        child.kill('SIGKILL');
        return waitExit(child, 1000, 'child to exit after SIGKILL');
      }),
    ),
  );
}

let TMP = null;

function removeTmp() {
  if (TMP) fs.rmSync(TMP, { recursive: true, force: true });
  TMP = null;
}

// ---------------------------------------------------------------------------------------------
// Capture (from gen-samples.mjs)

async function startCapture(file, ports) {
  const filter = `net 127.0.0.0/8 and (${ports.map((p) => `tcp port ${p}`).join(' or ')})`;
  const args = ['-i', 'lo', '-U', '--immediate-mode', '-Z', 'root', '-w', file, '--time-stamp-precision=micro', filter];
  const child = track(spawn(TCPDUMP, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  await withTimeout(
    new Promise((resolve, reject) => {
      child.stderr.on('data', () => {
        if (/listening on/.test(stderr)) resolve();
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}: ${stderr}`)));
    }),
    10_000,
    `tcpdump to start listening (${stderr})`,
  );
  return {
    async stop() {
      await sleep(300);
      child.kill('SIGINT');
      try {
        await waitExit(child, 5000, 'tcpdump to exit after SIGINT');
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
      const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
      if (dropped && Number(dropped[1]) > 0) fail(`tcpdump dropped ${dropped[1]} packets`);
      const captured = /(\d+) packets? captured/.exec(stderr);
      return captured ? Number(captured[1]) : null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Certificate (from gen-samples.mjs)

let CERT;

function makeCert(dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    OPENSSL,
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=tlsflight.test',
      '-addext', 'subjectAltName=DNS:tlsflight.test,DNS:*.tlsflight.test',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { keyFile: key, certFile: cert, key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

// ---------------------------------------------------------------------------------------------
// SSL_SESSION (i2d_SSL_SESSION DER, what node hands out as a session Buffer): just the fields we
// need. SEQUENCE { version INT, ssl_version INT, cipher OCTETS, session_id OCTETS, master_key
// OCTETS, ... [9] { lifetime_hint INT }, [10] { ticket OCTETS }, ... }

function derItems(buf, start = 0, end = buf.length) {
  const items = [];
  let i = start;
  while (i < end) {
    const tag = buf[i++];
    let len = buf[i++];
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[i++];
    }
    items.push({ tag, start: i, end: i + len, value: buf.subarray(i, i + len) });
    i += len;
  }
  if (i !== end) fail('bad DER in SSL_SESSION');
  return items;
}

function derUint(b) {
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return n;
}

function parseSession(der) {
  if (!der) return null;
  const [seq] = derItems(der);
  if (seq.tag !== 0x30) fail('SSL_SESSION is not a SEQUENCE');
  const f = derItems(der, seq.start, seq.end);
  const version = derUint(f[1].value);
  const out = {
    der,
    version: version === 0x0304 ? 'TLS1.3' : version === 0x0303 ? 'TLS1.2' : `0x${version.toString(16)}`,
    sessionId: f[3].value.toString('hex'),
    lifetimeHint: null,
    ticket: null,
  };
  for (const it of f.slice(5)) {
    if (it.tag === 0xa9) out.lifetimeHint = derUint(derItems(der, it.start, it.end)[0].value);
    if (it.tag === 0xaa) out.ticket = derItems(der, it.start, it.end)[0].value.toString('hex');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Servers

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
const NO_TICKET = crypto.constants.SSL_OP_NO_TICKET;

/**
 * A TLS server on host:port that answers one line per connection. Records, per client port, what
 * the server side saw: isSessionReused() and the session ID of its SSL_SESSION (which OpenSSL puts
 * into the TLS 1.2 ServerHello).
 */
async function startServer({ host, port, tlsOptions, sessionStore = false }) {
  const open = new Set();
  const seen = new Map(); // client port -> { reused, sessionId }
  const clientErrors = [];
  const server = tls.createServer({ key: CERT.key, cert: CERT.cert, ...tlsOptions }, (sock) => {
    seen.set(sock.remotePort, { reused: sock.isSessionReused(), sessionId: parseSession(sock.getSession())?.sessionId ?? null });
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        buf = '';
        sock.write(`hello from ${host}:${port}\n`);
      }
    });
    sock.on('error', () => {});
  });
  server.on('connection', (raw) => {
    open.add(raw);
    raw.on('error', () => {});
    raw.once('close', () => open.delete(raw));
  });
  server.on('tlsClientError', (err) => clientErrors.push(err));
  let store = null;
  if (sessionStore) {
    // node:tls has no internal server session cache: session-ID resumption needs these hooks.
    store = new Map();
    server.on('newSession', (id, data, cb) => {
      store.set(id.toString('hex'), data);
      cb();
    });
    server.on('resumeSession', (id, cb) => cb(null, store.get(id.toString('hex')) ?? null));
  }
  server.listen({ port, host });
  await withTimeout(once(server, 'listening'), 5000, `listen on ${host}:${port}`);
  return {
    host,
    port,
    addr: `${host}:${port}`,
    seen,
    store,
    clientErrors,
    async idle() {
      const t0 = Date.now();
      while (open.size > 0) {
        if (Date.now() - t0 > CONN_TIMEOUT_MS) fail(`server ${host}:${port}: connections did not close`);
        await sleep(10);
      }
    },
    async close() {
      for (const s of open) s.destroy();
      await withTimeout(new Promise((r) => server.close(r)), 5000, `close server ${host}:${port}`);
    },
  };
}

/**
 * `openssl s_server -rev` (answers each line reversed) for `naccept` TLS 1.3 connections. Same
 * interface as startServer, except that `seen` is null (s_server does not report per connection).
 */
async function startOpensslServer({ host, port, naccept }) {
  const child = track(
    spawn(STDBUF, ['-oL', '-eL', OPENSSL, 's_server', '-accept', `${host}:${port}`, '-cert', CERT.certFile, '-key', CERT.keyFile,
      '-tls1_3', '-rev', '-naccept', String(naccept)], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const t0 = Date.now();
  while (!/^ACCEPT$/m.test(out)) {
    if (child.exitCode !== null) fail(`s_server exited:\n${out}`);
    if (Date.now() - t0 > 5000) fail(`s_server did not start:\n${out}`);
    await sleep(20);
  }
  const srv = {
    host,
    port,
    addr: `${host}:${port}`,
    seen: null,
    clientErrors: [],
    connections: 0,
    async idle() {
      const t1 = Date.now();
      while ((out.match(/^CONNECTION CLOSED$/gm) ?? []).length < srv.connections) {
        if (Date.now() - t1 > CONN_TIMEOUT_MS) fail(`s_server ${host}:${port}: connection did not close:\n${out}`);
        await sleep(10);
      }
    },
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await waitExit(child, 3000, 's_server to exit');
      }
      if (/error/i.test(out.replace(/Using default temp DH parameters/, ''))) fail(`s_server reported an error:\n${out}`);
    },
  };
  return srv;
}

// ---------------------------------------------------------------------------------------------
// Client

async function connectTcp(host, port) {
  for (let attempt = 0; ; attempt++) {
    const localPort = pickClientPort();
    const sock = net.connect({ host, port, localAddress: CLIENT_IP, localPort });
    try {
      await withTimeout(once(sock, 'connect'), CONN_TIMEOUT_MS, `TCP connect ${host}:${port}`);
      usedClientPorts.add(localPort);
      return sock;
    } catch (err) {
      sock.destroy();
      if (attempt < 10 && ['EADDRINUSE', 'EADDRNOTAVAIL'].includes(err.code)) continue;
      throw err;
    }
  }
}

const PROTO = { 'TLSv1.2': 'TLS1.2', 'TLSv1.3': 'TLS1.3' };

/**
 * One TLS client connection over an already connected TCP socket: handshake, one line each way,
 * wait for a session ticket when `waitSession`, wait for `hold` (if given), close cleanly.
 * `onReply` fires once the reply line arrived (used to hold several connections open together).
 */
async function tlsOverSocket(raw, { servername, session, waitSession = false, hold = null, onReply = null, keys, ...tlsOptions }) {
  const r = { localPort: raw.localPort, reused: null, version: null, sessions: [], sessionAtReply: null, ticketAt: null, helloAt: Date.now() };
  const sock = tls.connect({ socket: raw, servername, session: session?.der, ca: CERT.cert, ...tlsOptions });
  sock.on('keylog', (line) => keys.push(line.toString('utf8').trimEnd()));
  const done = new Promise((resolve, reject) => {
    let reply = '';
    let gotReply = false;
    let ended = false;
    let held = !hold;
    if (hold) {
      hold.then(() => {
        held = true;
        maybeEnd();
      });
    }
    function maybeEnd() {
      if (!ended && gotReply && held && (!waitSession || r.sessions.length > 0)) {
        ended = true;
        sock.end();
      }
    }
    sock.on('session', (s) => {
      r.sessions.push(parseSession(s));
      if (r.ticketAt === null) r.ticketAt = Date.now();
      maybeEnd();
    });
    sock.on('secureConnect', () => {
      r.reused = sock.isSessionReused();
      r.version = PROTO[sock.getProtocol()] ?? sock.getProtocol();
      sock.write(`hello from client port ${r.localPort}\n`);
    });
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      reply += d;
      if (!gotReply && reply.includes('\n')) {
        gotReply = true;
        r.sessionAtReply = parseSession(sock.getSession());
        onReply?.();
        maybeEnd();
      }
    });
    sock.on('error', reject);
    sock.on('close', () => (gotReply ? resolve() : reject(new Error(`connection :${r.localPort} closed without reply`))));
  });
  try {
    await withTimeout(done, CONN_TIMEOUT_MS, `TLS connection :${r.localPort} -> ${raw.remoteAddress}:${raw.remotePort}`);
  } catch (err) {
    sock.destroy();
    throw err;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Connection records

const OFFER_ORDER = ['session-id', 'ticket', 'psk'];

/** What a node/OpenSSL client offers for `session`, by the tlsflight rules (see samples/README.md). */
function offersFor(session) {
  if (!session) return [];
  if (session.version === 'TLS1.3') return ['psk'];
  return session.ticket ? ['session-id', 'ticket'] : ['session-id'];
}

const conns = []; // in start (SYN) order; each { public fields..., _: internal facts for the tshark check }

/**
 * Runs one connection to `srv` and records it. `session` is the parsed session offered (or null),
 * `from` the record of the connection that session came from; `expect` is 'full' or 'resumed'.
 * Returns the record; record._.newSession is the session the client would keep afterwards.
 * TLS 1.3 tickets come after the handshake, so by default TLS 1.3 connections wait for one before
 * closing; TLS 1.2 sessions (and tickets) are complete by the time the reply arrives.
 */
async function conn(srv, { scenario, sni, version, session = null, from = null, expect, note, waitSession = version === 'TLS1.3', raw = null, hold, onReply, keys }) {
  const tcp = raw ?? (await connectTcp(srv.host, srv.port));
  const rec = {
    clientPort: tcp.localPort,
    serverIp: srv.host,
    serverPort: srv.port,
    sni,
    version,
    kind: null,
    offered: OFFER_ORDER.filter((o) => offersFor(session).includes(o)),
    rejected: false,
    issued: null,
    scenario,
    note,
  };
  conns.push(rec); // start order = TCP connect order (callers connect sequentially)
  const r = await tlsOverSocket(tcp, { servername: sni, session, waitSession, hold, onReply, keys, ...(version === 'TLS1.3' ? TLS13 : TLS12) });
  if (r.version !== version) fail(`${sni} :${rec.clientPort}: negotiated ${r.version}, expected ${version}`);
  if (expect !== (r.reused ? 'resumed' : 'full')) {
    fail(`${sni} :${rec.clientPort} -> ${srv.addr}: isSessionReused() = ${r.reused}, expected ${expect} (offered [${rec.offered}])`);
  }
  if (srv.seen) {
    const srvSeen = srv.seen.get(rec.clientPort);
    if (!srvSeen) fail(`${sni} :${rec.clientPort}: server ${srv.addr} never saw the connection`);
    if (srvSeen.reused !== r.reused) fail(`${sni} :${rec.clientPort}: server says reused=${srvSeen.reused}, client ${r.reused}`);
  } else srv.connections++;
  rec.kind = r.reused
    ? rec.offered.includes('psk') ? 'resumed-psk' : rec.offered.includes('ticket') ? 'resumed-ticket' : 'resumed-session-id'
    : 'full';
  rec.rejected = rec.offered.length > 0 && rec.kind === 'full';
  // What the server handed out in this connection (tickets as the client received them).
  const tickets = r.sessions.filter((s) => s.ticket);
  const newSession = r.sessions.at(-1) ?? (r.reused ? session : r.sessionAtReply);
  const serverSessionId = version === 'TLS1.2' ? srv.seen.get(rec.clientPort).sessionId : null;
  // issued: "session-id" when a TLS 1.2 full handshake's ServerHello carries a (new) session ID
  // (the server's SSL_SESSION ID; empty when the server issues a ticket instead), "ticket" when
  // the client received at least one NewSessionTicket.
  rec.issued = [];
  if (version === 'TLS1.2' && rec.kind === 'full' && serverSessionId) rec.issued.push('session-id');
  if (tickets.length) rec.issued.push('ticket');
  rec._ = {
    server: srv.addr,
    offeredSession: session,
    from,
    serverSessionId,
    tickets, // parsed sessions carrying a ticket, in arrival order
    newSession,
    helloAt: r.helloAt,
    ticketAt: r.ticketAt,
  };
  log(
    `  ${scenario.padEnd(28)} :${rec.clientPort} -> ${srv.addr} ${sni.padEnd(22)} ${version} ${rec.kind}` +
      `${rec.offered.length ? ` offered=[${rec.offered}]` : ''}${rec.rejected ? ' REJECTED' : ''} tickets=${tickets.length}`,
  );
  return rec;
}

const pub = (rec) => Object.fromEntries(Object.entries(rec).filter(([k]) => k !== '_'));

// ---------------------------------------------------------------------------------------------
// Scenarios

async function run(keys) {
  const findings = [];
  const healthy = [];
  const servers = [];
  const start = async (o) => {
    const s = o.openssl ? await startOpensslServer(o) : await startServer(o);
    servers.push(s);
    return s;
  };
  const seq = async (srv) => {
    await srv.idle();
    await sleep(GAP_MS);
  };
  try {
    // 1a. shop: two TLS 1.2 ticket backends, each with its own random ticket keys. A client that
    // always keeps the newest session, behind a load balancer that sends it A,A,B,B,A,A,B,B.
    {
      const sni = 'shop.tlsflight.test';
      const scenario = 'ticket-keys-not-shared';
      // node's ticketKeys: 16-byte key name, 16-byte HMAC key, 16-byte AES key; every ticket starts
      // with the key name, so the issuing backend can be told from the ticket bytes.
      const keysA = crypto.randomBytes(48);
      const keysB = crypto.randomBytes(48);
      const A = await start({ host: '127.0.0.2', port: 8443, tlsOptions: { ...TLS12, ticketKeys: keysA } });
      const B = await start({ host: '127.0.0.3', port: 8443, tlsOptions: { ...TLS12, ticketKeys: keysB } });
      const ticketKeyNames = { [A.addr]: keysA.subarray(0, 16).toString('hex'), [B.addr]: keysB.subarray(0, 16).toString('hex') };
      const plan = [A, A, B, B, A, A, B, B];
      let session = null;
      let from = null;
      let issuer = null; // server that issued `session`
      const rejections = new Map(); // "issuer>rejectedBy" -> { issuedIn:Set, clientPorts:[] }
      for (const srv of plan) {
        const expect = !session ? 'full' : issuer === srv ? 'resumed' : 'full';
        const note = !session
          ? `first connection: full handshake, ${srv.addr} issues a ticket`
          : expect === 'resumed'
            ? `resumes the ticket ${srv.addr} issued in :${from.clientPort}`
            : `offers the ticket ${issuer.addr} issued in :${from.clientPort}; ${srv.addr} has other ticket keys: full handshake and a ticket of its own`;
        const rec = await conn(srv, { scenario, sni, version: 'TLS1.2', session, from, expect, note, keys });
        await seq(srv);
        if (rec.kind === 'full' && rec._.tickets.length !== 1) fail(`${sni} :${rec.clientPort}: ${rec._.tickets.length} tickets on a full handshake`);
        if (rec.rejected) {
          const k = `${issuer.addr}>${srv.addr}`;
          if (!rejections.has(k)) rejections.set(k, { issuer: issuer.addr, rejectedBy: srv.addr, issuedIn: [], clientPorts: [] });
          const f = rejections.get(k);
          if (!f.issuedIn.includes(from.clientPort)) f.issuedIn.push(from.clientPort);
          f.clientPorts.push(rec.clientPort);
        }
        if (rec._.tickets.length) {
          session = rec._.tickets.at(-1);
          from = rec;
          issuer = srv;
        }
      }
      for (const f of rejections.values()) {
        findings.push({
          type: 'ticket-not-shared-across-backends', sni, issuer: f.issuer, rejectedBy: f.rejectedBy,
          clientPorts: f.clientPorts, issuedIn: f.issuedIn,
          ticketKeyNames: { issuer: ticketKeyNames[f.issuer], rejectedBy: ticketKeyNames[f.rejectedBy] },
          note: `tickets issued by ${f.issuer} are offered to ${f.rejectedBy}, which cannot decrypt them (own ticket keys): full handshake`,
        });
      }
    }

    // 1b. cache: two TLS 1.2 backends without tickets, each with its own session cache.
    {
      const sni = 'cache.tlsflight.test';
      const scenario = 'session-cache-not-shared';
      const opts = { ...TLS12, secureOptions: NO_TICKET };
      const A = await start({ host: '127.0.0.2', port: 9443, tlsOptions: opts, sessionStore: true });
      const B = await start({ host: '127.0.0.3', port: 9443, tlsOptions: opts, sessionStore: true });
      const plan = [A, A, B, B, A, A];
      let session = null;
      let from = null;
      let issuer = null;
      const rejections = new Map();
      for (const srv of plan) {
        const expect = !session ? 'full' : issuer === srv ? 'resumed' : 'full';
        const note = !session
          ? `first connection: full handshake, ${srv.addr} issues a session ID (no tickets)`
          : expect === 'resumed'
            ? `resumes the session ID ${srv.addr} issued in :${from.clientPort}`
            : `offers the session ID ${issuer.addr} issued in :${from.clientPort}; not in ${srv.addr}'s cache: full handshake, new session ID`;
        const rec = await conn(srv, { scenario, sni, version: 'TLS1.2', session, from, expect, note, keys });
        await seq(srv);
        if (rec._.tickets.length) fail(`${sni} :${rec.clientPort}: got a ticket despite SSL_OP_NO_TICKET`);
        if (rec.kind === 'full') {
          if (!rec._.serverSessionId || rec._.newSession?.sessionId !== rec._.serverSessionId) {
            fail(`${sni} :${rec.clientPort}: client session ID ${rec._.newSession?.sessionId} != server's ${rec._.serverSessionId}`);
          }
          if (!srv.store.has(rec._.serverSessionId)) fail(`${sni} :${rec.clientPort}: session not in ${srv.addr}'s cache`);
        }
        if (rec.rejected) {
          const k = `${issuer.addr}>${srv.addr}`;
          if (!rejections.has(k)) rejections.set(k, { issuer: issuer.addr, rejectedBy: srv.addr, issuedIn: [], clientPorts: [] });
          const f = rejections.get(k);
          if (!f.issuedIn.includes(from.clientPort)) f.issuedIn.push(from.clientPort);
          f.clientPorts.push(rec.clientPort);
        }
        if (rec.kind === 'full') {
          session = rec._.newSession;
          from = rec;
          issuer = srv;
        }
      }
      for (const f of rejections.values()) {
        findings.push({
          type: 'session-cache-not-shared', sni, issuer: f.issuer, rejectedBy: f.rejectedBy,
          clientPorts: f.clientPorts, issuedIn: f.issuedIn,
          note: `session IDs issued by ${f.issuer} are offered to ${f.rejectedBy}, whose session cache does not have them: full handshake`,
        });
      }
    }

    // 2. expiry: TLS 1.2 tickets with a 2 s lifetime; the client offers one after ~3.5 s.
    {
      const sni = 'expiry.tlsflight.test';
      const scenario = 'expired-ticket';
      const S = await start({ host: '127.0.0.4', port: 8443, tlsOptions: { ...TLS12, sessionTimeout: EXPIRY_TIMEOUT_S } });
      const c1 = await conn(S, { scenario, sni, version: 'TLS1.2', expect: 'full', note: `full handshake; ticket with lifetime hint ${EXPIRY_TIMEOUT_S} s`, keys });
      await S.idle();
      const t1 = c1._.tickets.at(-1);
      if (!t1 || t1.lifetimeHint !== EXPIRY_TIMEOUT_S) fail(`${sni}: ticket lifetime hint ${t1?.lifetimeHint}, expected ${EXPIRY_TIMEOUT_S}`);
      await sleep(EXPIRY_WAIT_MS - (Date.now() - c1._.ticketAt));
      const c2 = await conn(S, {
        scenario, sni, version: 'TLS1.2', session: t1, from: c1, expect: 'full', keys,
        note: `offers the ticket from :${c1.clientPort} ~${EXPIRY_WAIT_MS / 1000} s after it was issued (lifetime ${EXPIRY_TIMEOUT_S} s): expired, full handshake and a new ticket`,
      });
      await seq(S);
      const age = (c2._.helloAt - c1._.ticketAt) / 1000;
      const t2 = c2._.tickets.at(-1);
      if (!t2) fail(`${sni}: no new ticket after the expired one`);
      const c3 = await conn(S, {
        scenario, sni, version: 'TLS1.2', session: t2, from: c2, expect: 'resumed', keys,
        note: `resumes the fresh ticket from :${c2.clientPort} right away`,
      });
      await seq(S);
      findings.push({
        type: 'expired-ticket', sni, server: S.addr, clientPorts: [c2.clientPort], issuedIn: [c1.clientPort],
        lifetimeHint: EXPIRY_TIMEOUT_S, ageSeconds: Math.round(age * 10) / 10,
        note: `ticket issued in :${c1.clientPort} with lifetime hint ${EXPIRY_TIMEOUT_S} s offered ${age.toFixed(1)} s later: full handshake (the next one, :${c3.clientPort}, resumes fine)`,
      });
    }

    // 3. api: the client never offers anything, although the server issues a ticket every time.
    {
      const sni = 'api.tlsflight.test';
      const scenario = 'client-never-offers';
      const S = await start({ host: '127.0.0.4', port: 9443, tlsOptions: { ...TLS12 } });
      const ports = [];
      for (let i = 0; i < 6; i++) {
        const rec = await conn(S, { scenario, sni, version: 'TLS1.2', expect: 'full', note: 'client passes no session: full handshake, server issues a ticket that is never used', keys });
        await seq(S);
        if (rec._.tickets.length !== 1) fail(`${sni} :${rec.clientPort}: ${rec._.tickets.length} tickets`);
        ports.push(rec.clientPort);
      }
      findings.push({
        type: 'client-never-offers', sni, server: S.addr, clientPorts: ports,
        note: 'every connection is a full handshake with no session ID, ticket or PSK offered (only an empty SessionTicket extension), although the server issued a ticket each time',
      });
    }

    // 4. legacy: TLS 1.2, no tickets and no session cache; the client offers what it last got.
    {
      const sni = 'legacy.tlsflight.test';
      const scenario = 'server-never-issues';
      const S = await start({ host: '127.0.0.5', port: 8443, tlsOptions: { ...TLS12, secureOptions: NO_TICKET } });
      let session = null;
      let from = null;
      const ports = [];
      for (let i = 0; i < 4; i++) {
        const rec = await conn(S, {
          scenario, sni, version: 'TLS1.2', session, from, expect: 'full', keys,
          note: session
            ? `offers the session ID from :${from.clientPort}; the server has no session cache (and no tickets): full handshake`
            : 'first connection: full handshake; no ticket, the ServerHello session ID is never resumable',
        });
        await seq(S);
        if (rec._.tickets.length) fail(`${sni}: ticket despite SSL_OP_NO_TICKET`);
        ports.push(rec.clientPort);
        session = rec._.newSession;
        from = rec;
      }
      const sidLens = conns.filter((c) => c.sni === sni).map((c) => c._.serverSessionId?.length / 2 || 0);
      findings.push({
        type: 'server-never-issues', sni, server: S.addr, clientPorts: ports,
        rejectedClientPorts: ports.slice(1),
        serverHelloSessionIdLength: sidLens[0],
        note:
          `no NewSessionTicket and no resumption ever; node's server still puts a fresh ${sidLens[0]}-byte session ID into every ServerHello ` +
          '(OpenSSL server cache mode is on, node just has no cache without newSession/resumeSession handlers), the client offers it and it is never honoured',
      });
    }

    // 5. push: TLS 1.3, one ticket offered by 4 connections at the same time.
    {
      const sni = 'push.tlsflight.test';
      const scenario = 'tls13-ticket-reuse';
      const S = await start({ host: '127.0.0.5', port: 9443, tlsOptions: { ...TLS13 } });
      const c1 = await conn(S, { scenario, sni, version: 'TLS1.3', expect: 'full', note: 'full handshake; the client keeps the first of its tickets', keys });
      await seq(S);
      const t = c1._.tickets[0];
      if (!t) fail(`${sni}: no ticket`);
      // Connect the 4 TCP sockets one after the other (fixed start order), then run the 4 TLS
      // handshakes concurrently; none closes before all four got their reply.
      const raws = [];
      for (let i = 0; i < 4; i++) raws.push(await connectTcp(S.host, S.port));
      let replies = 0;
      let release;
      const hold = new Promise((r) => (release = r));
      const onReply = () => {
        if (++replies === 4) release();
      };
      const recs = await Promise.all(
        raws.map((raw) =>
          conn(S, {
            scenario, sni, version: 'TLS1.3', session: t, from: c1, expect: 'resumed', raw, hold, onReply, waitSession: false, keys,
            note: `one of 4 concurrent connections all offering the same PSK identity (the first ticket from :${c1.clientPort})`,
          }),
        ),
      );
      await seq(S);
      findings.push({
        type: 'tls13-ticket-reuse', sni, server: S.addr, clientPorts: recs.map((r) => r.clientPort), issuedIn: [c1.clientPort],
        note: 'the same TLS 1.3 ticket (PSK identity) is offered by 4 concurrent connections and accepted by all of them (RFC 8446 clients should use a ticket once)',
      });
    }

    // 6. www: healthy TLS 1.3, every resumption with the newest ticket.
    {
      const sni = 'www.tlsflight.test';
      const scenario = 'healthy-tls13';
      const S = await start({ host: '127.0.0.6', port: 8443, openssl: true, naccept: 4 });
      let session = null;
      let from = null;
      const ports = [];
      for (let i = 0; i < 4; i++) {
        const rec = await conn(S, {
          scenario, sni, version: 'TLS1.3', session, from, expect: session ? 'resumed' : 'full', keys,
          note: session ? `PSK resumption with the newest ticket from :${from.clientPort}` : 'full handshake',
        });
        await seq(S);
        if (!rec._.tickets.length) fail(`${sni} :${rec.clientPort}: no ticket`);
        session = rec._.tickets.at(-1);
        from = rec;
        ports.push(rec.clientPort);
      }
      healthy.push({
        sni, server: S.addr, clientPorts: ports,
        note: 'openssl s_server: full handshake then 3 PSK resumptions, each with the ticket the previous connection got (s_server issues one new ticket per resumption): nothing to report',
      });
    }

    for (const s of servers) if (s.clientErrors.length) fail(`server ${s.addr}: client errors: ${s.clientErrors.map((e) => e.message)}`);
    return { findings, healthy };
  } finally {
    await Promise.allSettled(servers.map((s) => s.close()));
  }
}

// ---------------------------------------------------------------------------------------------
// tshark check: the capture must show exactly what postmortem.json claims.

function tsharkFrames(file, keylog) {
  const fields = [
    'frame.time_epoch', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.fin',
    'tls.handshake.type', 'tls.handshake.session_id', 'tls.handshake.extension.type', 'tls.handshake.extension.len',
    'tls.handshake.extensions_server_name', 'tls.handshake.extensions.supported_version',
    'tls.handshake.extensions.psk.identity.identity', 'tls.handshake.session_ticket_lifetime_hint', 'tls.handshake.session_ticket',
    'tls.handshake.extension.data',
  ];
  const text = execFileSync(
    TSHARK,
    [
      '-r', file, '-o', `tls.keylog_file:${keylog}`, '-o', 'tls.desegment_ssl_records:TRUE',
      ...SERVER_PORTS.flatMap((p) => ['-d', `tcp.port==${p},tls`]),
      '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=;', ...fields.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 },
  );
  const list = (s) => (s ? s.split(';') : []);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const v = line.split('|');
      return {
        time: Number(v[0]), src: v[1], dst: v[2], sport: Number(v[3]), dport: Number(v[4]),
        syn: v[5] === '1', ack: v[6] === '1', fin: v[7] === '1',
        types: list(v[8]).map(Number), sessionIds: list(v[9]).map((x) => x.replace(/:/g, '')),
        extTypes: list(v[10]).map(Number), extLens: list(v[11]).map(Number), sni: v[12] || null,
        versions: list(v[13]), pskIds: list(v[14]).map((x) => x.replace(/:/g, '')),
        lifetimeHints: list(v[15]).map(Number), tickets: list(v[16]).map((x) => x.replace(/:/g, '')),
        extData: list(v[17]).map((x) => x.replace(/:/g, '')),
      };
    });
}

function tsharkCheck(file, keylog, findings, healthy) {
  const frames = tsharkFrames(file, keylog);
  const problems = [];
  const wire = new Map(); // client port -> facts
  const get = (port) => {
    if (!wire.has(port)) wire.set(port, { syn: null, fin: null, client: null, server: null, ch: [], sh: [], nst: [], lastTime: 0 });
    return wire.get(port);
  };
  for (const f of frames) {
    const fromClient = SERVER_PORTS.includes(f.dport) && f.src === CLIENT_IP;
    const w = get(fromClient ? f.sport : f.dport);
    w.lastTime = f.time;
    if (fromClient && f.syn && !f.ack) {
      w.syn = f.time;
      w.client = f.src;
      w.server = `${f.dst}:${f.dport}`;
    }
    if (f.fin && w.fin === null) w.fin = f.time;
    if (fromClient && f.types.includes(1)) {
      const ticketIdx = f.extTypes.indexOf(35);
      w.ch.push({
        time: f.time, sessionId: f.sessionIds[0] ?? '', sni: f.sni, ticketLen: ticketIdx >= 0 ? f.extLens[ticketIdx] : null,
        psk: f.extTypes.includes(41), pskIds: f.pskIds, tickets: f.tickets, extData: f.extData,
      });
    }
    if (!fromClient && f.types.includes(2)) w.sh.push({ sessionId: f.sessionIds[0] ?? '', tls13: f.versions.includes('0x0304') });
    if (!fromClient && f.types.includes(4)) {
      // Several NewSessionTickets can share a frame (TLS 1.3): pair tickets and hints by position.
      f.tickets.forEach((t, i) => w.nst.push({ time: f.time, ticket: t, lifetimeHint: f.lifetimeHints[i] }));
    }
  }
  // The ticket a TLS 1.2 ClientHello carries: tshark shows it as session_ticket (or as raw
  // extension data); it must be the one the generator offered.
  const chTicket = (ch, expected) => {
    if (ch.tickets.includes(expected) || ch.extData.includes(expected)) return expected;
    return ch.tickets[0] ?? null;
  };

  const ports = conns.map((c) => c.clientPort);
  if (new Set(ports).size !== ports.length) problems.push('client ports are not unique');
  let prevSyn = 0;
  for (const c of conns) {
    const tag = `:${c.clientPort} (${c.sni})`;
    const w = wire.get(c.clientPort);
    if (!w || !w.syn) {
      problems.push(`${tag}: no SYN`);
      continue;
    }
    if (w.syn < prevSyn) problems.push(`${tag}: SYN out of start order`);
    prevSyn = w.syn;
    if (w.client !== CLIENT_IP || w.server !== `${c.serverIp}:${c.serverPort}`) problems.push(`${tag}: wire ${w.client} -> ${w.server}`);
    if (w.ch.length !== 1) {
      problems.push(`${tag}: ${w.ch.length} ClientHellos`);
      continue;
    }
    if (w.sh.length !== 1) {
      problems.push(`${tag}: ${w.sh.length} ServerHellos`);
      continue;
    }
    const ch = w.ch[0];
    const sh = w.sh[0];
    if (ch.sni !== c.sni) problems.push(`${tag}: SNI on wire ${ch.sni}`);
    if ((c.version === 'TLS1.3') !== sh.tls13) problems.push(`${tag}: version on wire does not match ${c.version}`);
    const offered = [];
    if (!sh.tls13 && ch.sessionId.length > 0) offered.push('session-id');
    if (ch.ticketLen) offered.push('ticket');
    if (ch.psk) offered.push('psk');
    if (offered.join() !== c.offered.join()) problems.push(`${tag}: offered on wire [${offered}], json [${c.offered}]`);
    const s = c._.offeredSession;
    if (c.version === 'TLS1.2') {
      if (s) {
        if (ch.sessionId !== s.sessionId) problems.push(`${tag}: ClientHello session ID is not the offered session's`);
        if (s.ticket && chTicket(ch, s.ticket) !== s.ticket) problems.push(`${tag}: ClientHello ticket is not the offered one`);
      }
      // ServerHello: echo of the offered session ID when resumed, else a fresh ID = the server's session ID
      if (c.kind === 'full') {
        if (sh.sessionId !== c._.serverSessionId) problems.push(`${tag}: ServerHello session ID ${sh.sessionId} != server's ${c._.serverSessionId}`);
        if (s && sh.sessionId === s.sessionId) problems.push(`${tag}: rejected, yet the ServerHello echoes the offered session ID`);
      } else if (sh.sessionId !== ch.sessionId) problems.push(`${tag}: resumed but the ServerHello does not echo the session ID`);
    } else if (s) {
      if (ch.pskIds.length !== 1 || ch.pskIds[0] !== s.ticket) problems.push(`${tag}: PSK identity is not the offered ticket`);
    }
    const gotTickets = c._.tickets.map((t) => t.ticket);
    const wireTickets = w.nst.map((n) => n.ticket);
    if (gotTickets.join() !== wireTickets.slice(0, gotTickets.length).join() || (c.version === 'TLS1.2' && wireTickets.length !== gotTickets.length)) {
      problems.push(`${tag}: NewSessionTicket(s) on wire (${wireTickets.length}) != tickets the client got (${gotTickets.length})`);
    }
    for (const [i, t] of c._.tickets.entries()) {
      if (w.nst[i] && w.nst[i].lifetimeHint !== t.lifetimeHint) problems.push(`${tag}: lifetime hint on wire ${w.nst[i].lifetimeHint}, session ${t.lifetimeHint}`);
    }
    const wireIssued = [];
    if (!sh.tls13 && sh.sessionId !== '' && sh.sessionId !== ch.sessionId) wireIssued.push('session-id');
    if (w.nst.length) wireIssued.push('ticket');
    if (wireIssued.join() !== c.issued.join()) problems.push(`${tag}: issued on wire [${wireIssued}], json [${c.issued}]`);
    c._.wire = { ch, sh, nst: w.nst, syn: w.syn, fin: w.fin, last: w.lastTime };
  }
  for (const port of wire.keys()) if (!ports.includes(port)) problems.push(`unexpected connection from :${port}`);

  const byPort = new Map(conns.map((c) => [c.clientPort, c]));
  for (const f of findings) {
    const tag = `finding ${f.type} (${f.sni})`;
    const cs = f.clientPorts.map((p) => byPort.get(p));
    if (cs.some((c) => !c || c.sni !== f.sni)) problems.push(`${tag}: client port of another SNI`);
    if (['ticket-not-shared-across-backends', 'session-cache-not-shared', 'expired-ticket'].includes(f.type)) {
      for (const c of cs) {
        const issuing = byPort.get(c._.from.clientPort);
        if (!f.issuedIn.includes(issuing.clientPort)) problems.push(`${tag}: :${c.clientPort}'s session comes from :${issuing.clientPort}, not in issuedIn`);
        if (!c.rejected) problems.push(`${tag}: :${c.clientPort} is not rejected`);
        if (f.issuer && issuing._.server !== f.issuer) problems.push(`${tag}: issuer mismatch`);
        if (f.rejectedBy && c._.server !== f.rejectedBy) problems.push(`${tag}: rejectedBy mismatch`);
        if (f.type === 'session-cache-not-shared') {
          if (c._.wire.ch.sessionId !== issuing._.wire.sh.sessionId) problems.push(`${tag}: :${c.clientPort} does not offer :${issuing.clientPort}'s ServerHello session ID`);
          if (c._.wire.ch.ticketLen) problems.push(`${tag}: :${c.clientPort} offers a ticket`);
        } else {
          const offeredTicket = chTicket(c._.wire.ch, c._.offeredSession.ticket);
          if (!issuing._.wire.nst.some((n) => n.ticket === offeredTicket)) problems.push(`${tag}: :${c.clientPort}'s ticket is not one :${issuing.clientPort} got on the wire`);
          if (f.ticketKeyNames) {
            if (!offeredTicket?.startsWith(f.ticketKeyNames.issuer)) problems.push(`${tag}: offered ticket does not start with the issuer's key name`);
            if (c._.wire.nst.length !== 1 || !c._.wire.nst[0].ticket.startsWith(f.ticketKeyNames.rejectedBy)) problems.push(`${tag}: :${c.clientPort}'s new ticket does not start with ${f.rejectedBy}'s key name`);
          }
        }
      }
    }
    if (f.type === 'expired-ticket') {
      const c = cs[0];
      const issuing = byPort.get(f.issuedIn[0]);
      const nst = issuing._.wire.nst.at(-1);
      if (nst.lifetimeHint !== f.lifetimeHint) problems.push(`${tag}: lifetime hint on wire ${nst.lifetimeHint}`);
      const age = c._.wire.ch.time - nst.time;
      if (Math.abs(age - f.ageSeconds) > 0.15) problems.push(`${tag}: age on wire ${age.toFixed(3)} s, json ${f.ageSeconds}`);
      if (age <= f.lifetimeHint) problems.push(`${tag}: age ${age} not above the lifetime hint`);
      log(`  tshark: expired ticket: NST lifetime hint ${nst.lifetimeHint} s, offered ${age.toFixed(3)} s later`);
    }
    if (f.type === 'client-never-offers') {
      for (const c of cs) {
        if (c._.wire.ch.sessionId !== '' || c._.wire.ch.ticketLen || c._.wire.ch.psk) problems.push(`${tag}: :${c.clientPort} offers something`);
        if (c._.wire.nst.length !== 1) problems.push(`${tag}: :${c.clientPort} has ${c._.wire.nst.length} NewSessionTickets`);
      }
    }
    if (f.type === 'server-never-issues') {
      for (const [i, c] of cs.entries()) {
        if (c._.wire.nst.length) problems.push(`${tag}: NewSessionTicket on :${c.clientPort}`);
        if (c.kind !== 'full') problems.push(`${tag}: :${c.clientPort} resumed`);
        if (c._.wire.sh.sessionId.length / 2 !== f.serverHelloSessionIdLength) problems.push(`${tag}: ServerHello session ID length on wire ${c._.wire.sh.sessionId.length / 2}`);
        if (i > 0 && c._.wire.ch.sessionId !== cs[i - 1]._.wire.sh.sessionId) problems.push(`${tag}: :${c.clientPort} does not offer the previous ServerHello session ID`);
      }
    }
    if (f.type === 'tls13-ticket-reuse') {
      const ids = new Set(cs.map((c) => c._.wire.ch.pskIds.join()));
      const issuing = byPort.get(f.issuedIn[0]);
      if (ids.size !== 1 || !issuing._.wire.nst.some((n) => n.ticket === [...ids][0])) problems.push(`${tag}: PSK identities differ or were not issued in :${issuing.clientPort}`);
      const lastHello = Math.max(...cs.map((c) => c._.wire.ch.time));
      const firstFin = Math.min(...cs.map((c) => c._.wire.fin));
      if (!(lastHello < firstFin)) problems.push(`${tag}: connections are not open at the same time`);
      if (cs.some((c) => c.kind !== 'resumed-psk')) problems.push(`${tag}: not all resumed`);
    }
  }
  for (const h of healthy) {
    const cs = h.clientPorts.map((p) => byPort.get(p));
    for (const [i, c] of cs.entries()) {
      if (i === 0) continue;
      const prev = cs[i - 1];
      if (c.kind !== 'resumed-psk') problems.push(`healthy ${h.sni}: :${c.clientPort} not resumed`);
      // the PSK identity must be the newest ticket of the previous connection, and used once
      if (c._.wire.ch.pskIds[0] !== prev._.wire.nst.at(-1)?.ticket) problems.push(`healthy ${h.sni}: :${c.clientPort} does not use the newest ticket`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  if (process.getuid?.() !== 0) console.warn('[gen-postmortem] warning: not running as root; tcpdump will probably fail');
  execFileSync(TSHARK, ['--version'], { stdio: 'ignore' }); // required: the check is not optional here
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tlsflight-postmortem-'));
  TMP = tmp;
  try {
    CERT = makeCert(tmp);
    const pcap = path.join(tmp, `${NAME}.pcap`);
    const keysFile = path.join(tmp, `${NAME}.keys`);
    const keys = [];
    const t0 = Date.now();
    const cap = await startCapture(pcap, SERVER_PORTS);
    let result;
    try {
      result = await run(keys);
    } finally {
      const n = await cap.stop();
      log(`tcpdump: ${n} packets, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    fs.writeFileSync(keysFile, `${keys.join('\n')}\n`);

    const problems = tsharkCheck(pcap, keysFile, result.findings, result.healthy);
    if (problems.length) fail(`tshark check failed:\n  ${problems.join('\n  ')}`);
    log(`tshark check: OK (${conns.length} connections, ${result.findings.length} findings)`);

    const legacy = result.findings.find((f) => f.type === 'server-never-issues');
    const json = {
      file: `${NAME}.pcap`,
      keylog: `${NAME}.keys`,
      generator: 'scripts/gen-postmortem-sample.mjs',
      made: { node: process.version, openssl: process.versions.openssl },
      decodeAs: 'tshark -r samples/postmortem.pcap -o tls.keylog_file:samples/postmortem.keys -d tcp.port==8443,tls -d tcp.port==9443,tls',
      about: {
        connections:
          'every connection in start (SYN) order; all from 127.0.0.1; kind/offered/rejected as in manifest.json (tlsflight rules); ' +
          'issued: "session-id" if a TLS 1.2 full handshake\'s ServerHello carries a new session ID, "ticket" if the server sent ' +
          'NewSessionTicket(s); scenario names the problem it belongs to; note says what happened',
        findings:
          'what a good analyzer should report. clientPorts: the connections where the problem shows (the rejected ones for ' +
          'ticket-not-shared-across-backends / session-cache-not-shared / expired-ticket, all of them for client-never-offers / ' +
          'server-never-issues / tls13-ticket-reuse); issuedIn: the connections in which the offered ticket / session ID / PSK was ' +
          'issued; issuer / rejectedBy / server: "ip:port"',
        healthy: 'connections for which no finding should be reported',
        surprising: [
          `node's TLS 1.2 server without tickets and without session cache handlers (legacy.) still sends a fresh ${legacy.serverHelloSessionIdLength}-byte ` +
            'session ID in every ServerHello that it can never resume: on the wire it looks like "issues session IDs", what shows the ' +
            'problem is that every offered one is refused (and no NewSessionTicket ever comes)',
          'node\'s TLS 1.2 servers that issue tickets (shop., expiry., api.) send an EMPTY session ID in the full-handshake ServerHello; ' +
            'the client then offers SHA-256(ticket) as session ID next to the ticket, and the server echoes it when it accepts the ticket',
          'node\'s TLS 1.2 servers never renew a ticket on resumption, and node\'s TLS 1.3 server never sends a NewSessionTicket after a ' +
            'PSK resumption (2 tickets after a full handshake, 0 after a resumption: its ticket-key callback never asks OpenSSL to renew). ' +
            'So a node TLS 1.3 backend forces clients to reuse a ticket or fall back to full handshakes; www. uses openssl s_server ' +
            '(same OpenSSL 3.0), which sends 1 new ticket per resumption, to get a healthy rotation',
          'every ticket starts with the issuing server\'s 16-byte ticket key name (node ticketKeys[0..16]): the two shop. backends are told ' +
            'apart by the first 16 bytes of their tickets (ticketKeyNames in the findings)',
        ],
      },
      connections: conns.map(pub),
      findings: result.findings,
      healthy: result.healthy,
    };

    fs.mkdirSync(SAMPLES, { recursive: true });
    fs.copyFileSync(pcap, path.join(SAMPLES, `${NAME}.pcap`));
    fs.copyFileSync(keysFile, path.join(SAMPLES, `${NAME}.keys`));
    fs.writeFileSync(path.join(SAMPLES, `${NAME}.json`), `${JSON.stringify(json, null, 2)}\n`);
    const size = fs.statSync(path.join(SAMPLES, `${NAME}.pcap`)).size;
    log(`wrote samples/${NAME}.pcap (${size} bytes), .keys, .json`);
  } finally {
    await killAll();
    removeTmp();
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    console.error(`[gen-postmortem] ${sig}: stopping, samples/ left unchanged`);
    await killAll();
    removeTmp();
    process.exit(130);
  });
}

main().catch((err) => {
  console.error(`[gen-postmortem] FAILED: ${err.stack || err.message}`);
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 500).unref();
});
