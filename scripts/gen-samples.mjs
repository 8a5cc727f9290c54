#!/usr/bin/env node
// Generates the sample captures in samples/: real TLS traffic on loopback, captured with tcpdump.
//
//   node scripts/gen-samples.mjs              # all scenarios
//   node scripts/gen-samples.mjs tls13-hrr    # only some (by name, .pcap optional); manifest is merged
//
// Needs root (tcpdump on lo), /usr/bin/tcpdump and the openssl CLI; tshark is optional (used for a
// sanity check of the result, never to build the manifest). Node built-ins only.
//
// samples/manifest.json holds what the generator KNOWS about each connection: what it configured
// and what the client reported (isSessionReused(), s_client output). It is never derived from the
// capture. Everything is written to a temp dir first and copied into samples/ only when every
// requested scenario succeeded, so a failed run leaves the previous samples untouched.

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

const CONN_TIMEOUT_MS = 10_000;
// Clients bind their local port explicitly, from a range that does not contain the server ports
// (443xx). Otherwise the kernel may hand out e.g. 44302 as an ephemeral port in one scenario and
// the client's TIME_WAIT socket then keeps the next scenario's server from listening on 44302.
const CLIENT_PORT_MIN = 45000;
const CLIENT_PORT_SPAN = 15000;
const pickClientPort = () => CLIENT_PORT_MIN + crypto.randomInt(CLIENT_PORT_SPAN);
const GAP_MS = 100; // pause between connections so they are distinct in time

// ---------------------------------------------------------------------------------------------
// Small utilities

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

function log(...args) {
  console.log('[gen-samples]', ...args);
}

function fail(msg) {
  throw new Error(msg);
}

/** Child processes still running; killed on error/exit. */
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

/** Stops every child still running and waits (briefly) until they are gone, so none is left over. */
async function killAll() {
  const running = [...children];
  for (const child of running) {
    try {
      // tcpdump: SIGINT so it exits cleanly; everything else is just stopped.
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

/**
 * Spawns a process and collects stdout+stderr in one text buffer; `waitFor(re)` waits until `re`
 * matches output after the previous match (a cursor moves forward, so repeated waits for the same
 * text see the next occurrence).
 */
function spawnText(cmd, args, opts = {}) {
  // openssl's apps write through stdio: line-buffer them (stdbuf) so we see output as it happens.
  const child = track(spawn(STDBUF, ['-oL', '-eL', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts }));
  const state = { out: '', cursor: 0, waiters: [] };
  const check = () => {
    for (const w of [...state.waiters]) {
      const rest = state.out.slice(state.cursor);
      const m = w.re.exec(rest);
      if (m) {
        state.cursor += m.index + m[0].length;
        state.waiters.splice(state.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  const onData = (d) => {
    state.out += d.toString('utf8');
    check();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('error', (err) => {
    for (const w of state.waiters.splice(0)) w.reject(err);
  });
  child.on('exit', (code, sig) => {
    for (const w of state.waiters.splice(0)) {
      w.reject(new Error(`${path.basename(cmd)} exited (${code ?? sig}) before /${w.re.source}/:\n${state.out}`));
    }
  });
  return {
    child,
    get output() {
      return state.out;
    },
    waitFor(re, ms = CONN_TIMEOUT_MS) {
      const p = new Promise((resolve, reject) => {
        state.waiters.push({ re, resolve, reject });
        check();
        if (child.exitCode !== null && state.waiters.some((w) => w.re === re)) {
          reject(new Error(`${path.basename(cmd)} already exited, no /${re.source}/:\n${state.out}`));
        }
      });
      return withTimeout(p, ms, `${path.basename(cmd)} output /${re.source}/\n--- output so far ---\n${state.out}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Capture

/** Starts tcpdump on lo for the given ports and resolves once it is really listening. */
async function startCapture(file, ports) {
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
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
      await sleep(300); // let the last packets (FIN/ACK) reach tcpdump
      child.kill('SIGINT');
      try {
        await waitExit(child, 5000, 'tcpdump to exit after SIGINT');
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
      const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
      if (dropped && Number(dropped[1]) > 0) fail(`tcpdump dropped ${dropped[1]} packets for ${file}`);
      const captured = /(\d+) packets? captured/.exec(stderr);
      return captured ? Number(captured[1]) : null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Certificate

function makeCert(dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    OPENSSL,
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=tlsflight.test',
      '-addext', 'subjectAltName=DNS:tlsflight.test,DNS:*.tlsflight.test,IP:127.0.0.1,IP:::1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { keyFile: key, certFile: cert, key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

// ---------------------------------------------------------------------------------------------
// node:tls / node:net endpoints

/**
 * A server that reads one line per connection and answers with one line. Tracks raw TCP
 * connections so callers can wait until the server side has closed too.
 */
async function startServer({ port, host = '127.0.0.1', ipv6Only, tlsOptions, sessionStore = false, plain = false }) {
  const open = new Set();
  const idleWaiters = [];
  const clientErrors = [];
  const serve = (sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        const line = buf.slice(0, buf.indexOf('\n'));
        buf = '';
        sock.write(plain ? `PONG ${line}\n` : `hello from server (${line.length} bytes received)\n`);
      }
    });
    sock.on('error', () => {});
  };
  const server = plain
    ? net.createServer(serve)
    : tls.createServer({ key: CERT.key, cert: CERT.cert, ...tlsOptions }, serve);
  server.on('connection', (raw) => {
    open.add(raw);
    raw.on('error', () => {});
    raw.once('close', () => {
      open.delete(raw);
      if (open.size === 0) for (const w of idleWaiters.splice(0)) w();
    });
  });
  if (!plain) {
    server.on('tlsClientError', (err) => clientErrors.push(err));
    if (sessionStore) {
      // node:tls has no internal server session cache: session-ID resumption needs these hooks.
      const store = new Map();
      server.on('newSession', (id, data, cb) => {
        store.set(id.toString('hex'), data);
        cb();
      });
      server.on('resumeSession', (id, cb) => cb(null, store.get(id.toString('hex')) ?? null));
    }
  }
  // A TIME_WAIT socket from some other client that got this port as its ephemeral port blocks
  // listen() for up to a minute: wait that out rather than fail.
  for (let waited = 0; ; waited++) {
    try {
      server.listen({ port, host, ipv6Only });
      await withTimeout(once(server, 'listening'), 5000, `listen on ${host}:${port}`);
      break;
    } catch (err) {
      if (err.code !== 'EADDRINUSE' || waited >= 70) throw err;
      if (waited === 0) log(`  port ${port} busy (TIME_WAIT?), waiting up to 70 s`);
      await sleep(1000);
    }
  }
  return {
    port,
    clientErrors,
    idle() {
      if (open.size === 0) return Promise.resolve();
      return withTimeout(new Promise((r) => idleWaiters.push(r)), CONN_TIMEOUT_MS, `server :${port} connections to close`);
    },
    async close() {
      for (const s of open) s.destroy();
      await withTimeout(new Promise((r) => server.close(r)), 5000, `close server :${port}`);
    },
  };
}

const PROTO = { 'TLSv1.2': 'TLS1.2', 'TLSv1.3': 'TLS1.3' };

const ALERTS = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow',
  40: 'handshake_failure', 42: 'bad_certificate', 43: 'unsupported_certificate', 44: 'certificate_revoked',
  45: 'certificate_expired', 46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca',
  49: 'access_denied', 50: 'decode_error', 51: 'decrypt_error', 70: 'protocol_version',
  71: 'insufficient_security', 80: 'internal_error', 86: 'inappropriate_fallback', 90: 'user_canceled',
  109: 'missing_extension', 110: 'unsupported_extension', 112: 'unrecognized_name', 116: 'certificate_required',
  120: 'no_application_protocol',
};

/**
 * One TLS client connection: connect TCP (to learn the local port), handshake, send a line, read
 * the answer line, (optionally wait for a session ticket), close cleanly. Resolves after the
 * socket closed, with what the client learned.
 */
/** TCP connection from an explicitly chosen local port (see CLIENT_PORT_MIN); retries on clashes. */
async function connectTcp(host, port) {
  for (let attempt = 0; ; attempt++) {
    const sock = net.connect({ host, port, localAddress: host, localPort: pickClientPort() });
    try {
      await withTimeout(once(sock, 'connect'), CONN_TIMEOUT_MS, `TCP connect ${host}:${port}`);
      return sock;
    } catch (err) {
      sock.destroy();
      // bind/connect clashes (e.g. a TIME_WAIT socket with the same 4-tuple) happen before any SYN
      if (attempt < 10 && ['EADDRINUSE', 'EADDRNOTAVAIL'].includes(err.code)) continue;
      throw err;
    }
  }
}

async function tlsClient({ host = '127.0.0.1', port, servername, session, waitSession = false, expectError = false, keys, ...tlsOptions }) {
  const raw = await connectTcp(host, port);
  const localPort = raw.localPort;
  const result = {
    localPort, reused: null, version: null, alpn: null, session: null, sessionFromGetSession: null, ticket: null, sessions: 0, error: null, alert: null,
  };
  const sock = tls.connect({ socket: raw, host, servername, session, ca: CERT.cert, ...tlsOptions });
  sock.on('keylog', (line) => keys.push(line.toString('utf8').trimEnd()));
  const done = new Promise((resolve, reject) => {
    let reply = '';
    let gotReply = false;
    let ended = false;
    const maybeEnd = () => {
      if (!ended && gotReply && (!waitSession || result.sessions > 0)) {
        ended = true;
        sock.end();
      }
    };
    sock.on('session', (s) => {
      result.session = s;
      result.sessions++;
      maybeEnd();
    });
    sock.on('secureConnect', () => {
      result.reused = sock.isSessionReused();
      result.version = PROTO[sock.getProtocol()] ?? sock.getProtocol();
      result.alpn = sock.alpnProtocol || null;
      sock.write(`hello from client on port ${localPort}\n`);
    });
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      reply += d;
      if (reply.includes('\n')) {
        gotReply = true;
        result.sessionFromGetSession = sock.getSession() ?? null;
        result.ticket = sock.getTLSTicket() ?? null;
        maybeEnd();
      }
    });
    sock.on('error', (err) => {
      result.error = err;
      if (!expectError) reject(err);
    });
    sock.on('close', () => {
      if (!expectError && !gotReply) reject(new Error(`connection :${localPort} -> :${port} closed without reply`));
      else resolve();
    });
  });
  try {
    await withTimeout(done, CONN_TIMEOUT_MS, `TLS connection to ${host}:${port}`);
  } catch (err) {
    sock.destroy();
    throw err;
  }
  if (expectError && !result.error) fail(`connection :${localPort} -> :${port} was expected to fail but succeeded`);
  if (result.error) {
    const m = /alert number (\d+)/.exec(result.error.message);
    result.alert = m ? ALERTS[m[1]] ?? `alert_${m[1]}` : null;
  }
  return result;
}

async function plainClient({ host = '127.0.0.1', port }) {
  const sock = await connectTcp(host, port);
  const localPort = sock.localPort;
  sock.setEncoding('utf8');
  const done = new Promise((resolve, reject) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) sock.end();
    });
    sock.on('error', reject);
    sock.on('close', () => (buf.includes('\n') ? resolve() : reject(new Error('plain connection closed without reply'))));
  });
  sock.write('PING this is not TLS\n');
  await withTimeout(done, CONN_TIMEOUT_MS, `plain TCP connection to ${host}:${port}`);
  return { localPort };
}

// ---------------------------------------------------------------------------------------------
// Manifest entries

const OFFER_ORDER = ['session-id', 'ticket', 'psk'];

function entry({ clientPort, serverPort, version = null, sni = null, kind = null, offered = [], helloRetry = false, earlyData = null, alert = null, tls: isTls = true }) {
  const sorted = OFFER_ORDER.filter((o) => offered.includes(o));
  return {
    clientPort,
    serverPort,
    version,
    sni,
    kind,
    offered: sorted,
    rejected: sorted.length > 0 && kind === 'full', // offered something, got a full handshake
    helloRetry,
    earlyData,
    alert,
    tls: isTls,
  };
}

/**
 * What a node/OpenSSL client offers when given `session` (which it got from a previous
 * connection's getSession()/'session' event), by the tlsflight rules: TLS 1.2 sessions are offered
 * by session ID (always non-empty for OpenSSL clients; when a ticket exists the ID is the SHA-256
 * of the ticket) and, with a ticket, in the SessionTicket extension; TLS 1.3 sessions only via
 * pre_shared_key (the 32-byte legacy_session_id is compatibility mode, not an offer).
 */
function offersFor(prev) {
  if (!prev) return [];
  if (prev.version === 'TLS1.3') return ['psk'];
  return prev.ticket ? ['session-id', 'ticket'] : ['session-id'];
}

/** Connection record from a TLS client result; asserts resumption came out as expected. */
function tlsEntry(label, r, { port, sni = null, prev = null, expectReused, kind, helloRetry = false }) {
  if (r.error) fail(`${label}: unexpected error ${r.error.message}`);
  if (expectReused !== undefined && r.reused !== expectReused) {
    fail(`${label}: isSessionReused() = ${r.reused}, expected ${expectReused}`);
  }
  const offered = offersFor(prev);
  const k = kind ?? (r.reused ? (offered.includes('psk') ? 'resumed-psk' : offered.includes('ticket') ? 'resumed-ticket' : 'resumed-session-id') : 'full');
  log(`  ${label}: :${r.localPort} -> :${port} ${r.version} ${k}${offered.length ? ` offered=${offered}` : ''}${r.alpn ? ` alpn=${r.alpn}` : ''}`);
  return entry({ clientPort: r.localPort, serverPort: port, version: r.version, sni, kind: k, offered, helloRetry });
}

// ---------------------------------------------------------------------------------------------
// Scenarios. Each returns { ports, run(ctx) } where run makes the connections while tcpdump is
// capturing and returns manifest entries; ctx.keys collects NSS key log lines.

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
const ECDSA_ONLY_TLS12_CIPHERS = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305';

async function sequential(srv) {
  await srv.idle();
  await sleep(GAP_MS);
}

const SCENARIOS = {};

SCENARIOS['tls12-session-id.pcap'] = {
  ports: [44301],
  async run({ keys }) {
    const port = 44301;
    const sni = 'sid.tlsflight.test';
    const srv = await startServer({
      port,
      tlsOptions: { ...TLS12, secureOptions: crypto.constants.SSL_OP_NO_TICKET },
      sessionStore: true,
    });
    try {
      const c1 = await tlsClient({ port, servername: sni, ...TLS12, keys });
      await sequential(srv);
      if (c1.ticket) fail('tls12-session-id: server issued a ticket despite SSL_OP_NO_TICKET');
      if (!c1.sessionFromGetSession) fail('tls12-session-id: getSession() returned nothing');
      const c2 = await tlsClient({ port, servername: sni, ...TLS12, session: c1.sessionFromGetSession, keys });
      await sequential(srv);
      return [
        tlsEntry('conn1', c1, { port, sni, expectReused: false }),
        tlsEntry('conn2', c2, { port, sni, prev: c1, expectReused: true, kind: 'resumed-session-id' }),
      ];
    } finally {
      await srv.close();
    }
  },
};

SCENARIOS['tls12-ticket.pcap'] = {
  ports: [44302],
  async run({ keys }) {
    const port = 44302;
    const sni = 'ticket.tlsflight.test';
    const srv = await startServer({ port, tlsOptions: { ...TLS12 } });
    try {
      const c1 = await tlsClient({ port, servername: sni, ...TLS12, waitSession: true, keys });
      await sequential(srv);
      if (!c1.ticket) fail('tls12-ticket: no ticket received');
      const c2 = await tlsClient({ port, servername: sni, ...TLS12, session: c1.session, keys });
      await sequential(srv);
      return [
        tlsEntry('conn1', c1, { port, sni, expectReused: false }),
        tlsEntry('conn2', c2, { port, sni, prev: c1, expectReused: true, kind: 'resumed-ticket' }),
      ];
    } finally {
      await srv.close();
    }
  },
};

SCENARIOS['tls12-ticket-rejected.pcap'] = {
  ports: [44303],
  async run({ keys }) {
    const port = 44303;
    const sni = 'rotate.tlsflight.test';
    let srv = await startServer({ port, tlsOptions: { ...TLS12, ticketKeys: crypto.randomBytes(48) } });
    let c1;
    try {
      c1 = await tlsClient({ port, servername: sni, ...TLS12, waitSession: true, keys });
      await sequential(srv);
    } finally {
      await srv.close();
    }
    if (!c1.ticket) fail('tls12-ticket-rejected: no ticket received');
    // "Restart" with new ticket keys: the old ticket can no longer be decrypted.
    srv = await startServer({ port, tlsOptions: { ...TLS12, ticketKeys: crypto.randomBytes(48) } });
    try {
      const c2 = await tlsClient({ port, servername: sni, ...TLS12, session: c1.session, keys });
      await sequential(srv);
      return [
        tlsEntry('conn1', c1, { port, sni, expectReused: false }),
        tlsEntry('conn2', c2, { port, sni, prev: c1, expectReused: false, kind: 'full' }),
      ];
    } finally {
      await srv.close();
    }
  },
};

SCENARIOS['tls13-psk.pcap'] = {
  ports: [44304],
  async run({ keys }) {
    const port = 44304;
    const sni = 'psk.tlsflight.test';
    const srv = await startServer({ port, tlsOptions: { ...TLS13 } });
    try {
      const c1 = await tlsClient({ port, servername: sni, ...TLS13, waitSession: true, keys });
      await sequential(srv);
      const c2 = await tlsClient({ port, servername: sni, ...TLS13, session: c1.session, keys });
      await sequential(srv);
      return [
        tlsEntry('conn1', c1, { port, sni, expectReused: false }),
        tlsEntry('conn2', c2, { port, sni, prev: c1, expectReused: true, kind: 'resumed-psk' }),
      ];
    } finally {
      await srv.close();
    }
  },
};

SCENARIOS['tls13-hrr.pcap'] = {
  ports: [44305],
  async run({ keys }) {
    const port = 44305;
    const sni = 'hrr.tlsflight.test';
    // The client sends a key share only for its first group (X25519); the server only accepts
    // P-256, so it must answer with a HelloRetryRequest. Conn 2 resumes (PSK) and gets an HRR too.
    const srv = await startServer({ port, tlsOptions: { ...TLS13, ecdhCurve: 'P-256' } });
    const client = { port, servername: sni, ...TLS13, ecdhCurve: 'X25519:P-256', keys };
    try {
      const c1 = await tlsClient({ ...client, waitSession: true });
      await sequential(srv);
      const c2 = await tlsClient({ ...client, session: c1.session });
      await sequential(srv);
      return [
        tlsEntry('conn1', c1, { port, sni, expectReused: false, helloRetry: true }),
        tlsEntry('conn2', c2, { port, sni, prev: c1, expectReused: true, kind: 'resumed-psk', helloRetry: true }),
      ];
    } finally {
      await srv.close();
    }
  },
};

SCENARIOS['tls13-0rtt.pcap'] = {
  ports: [44306],
  async run({ keys, tmp, result }) {
    // node:tls has no early-data API: openssl s_server / s_client on both ends.
    const port = 44306;
    const sni = 'zero.tlsflight.test';
    const sessFile = path.join(tmp, '0rtt.sess.pem');
    const earlyFile = path.join(tmp, '0rtt.early.txt');
    const keylog = path.join(tmp, '0rtt.keys');
    fs.writeFileSync(earlyFile, 'GET /early HTTP/1.0\r\n\r\n');
    fs.rmSync(keylog, { force: true });
    fs.rmSync(sessFile, { force: true });
    const srv = spawnText(OPENSSL, [
      's_server', '-accept', `127.0.0.1:${port}`, '-cert', CERT.certFile, '-key', CERT.keyFile,
      '-tls1_3', '-early_data', '-naccept', '2',
    ]);
    const entries = [];
    try {
      await srv.waitFor(/ACCEPT/);
      for (const n of [1, 2]) {
        const resume = n === 2;
        let cli;
        let bindPort;
        for (let attempt = 0; ; attempt++) {
          bindPort = pickClientPort();
          cli = spawnText(OPENSSL, [
            's_client', '-connect', `127.0.0.1:${port}`, '-bind', `127.0.0.1:${bindPort}`, '-tls1_3',
            '-servername', sni, '-CAfile', CERT.certFile, '-keylogfile', keylog,
            ...(resume ? ['-sess_in', sessFile, '-early_data', earlyFile] : ['-sess_out', sessFile]),
          ]);
          try {
            await cli.waitFor(/^CONNECTED\(/m);
            break;
          } catch (err) {
            if (attempt < 3 && /bind|Address already in use/i.test(cli.output)) continue;
            throw err;
          }
        }
        const hs = await cli.waitFor(/^(New|Reused), (TLSv1\.\d)/m);
        if (resume) await srv.waitFor(/End of early data/);
        cli.child.stdin.write('hello from s_client\n');
        await srv.waitFor(/hello from s_client/);
        // The session (ticket) arrives after the handshake (s_server sends it once it processed the
        // client's Finished): conn 1 must wait for it before closing, or -sess_out stays empty.
        if (!resume) await cli.waitFor(/Post-Handshake New Session Ticket arrived/);
        srv.child.stdin.write('hello from s_server\n');
        await cli.waitFor(/hello from s_server/);
        cli.child.stdin.end(); // EOF: s_client sends close_notify and closes
        const code = await waitExit(cli.child, CONN_TIMEOUT_MS, 's_client to exit');
        if (code !== 0) fail(`s_client exited with ${code}:\n${cli.output}`);
        await srv.waitFor(/CONNECTION CLOSED/);
        await sleep(GAP_MS);

        const reused = hs[1] === 'Reused';
        const version = PROTO[hs[2]] ?? hs[2];
        if (reused !== resume) fail(`0-RTT conn${n}: s_client says ${hs[1]}, expected ${resume ? 'Reused' : 'New'}`);
        let earlyData = null;
        if (resume) {
          const m = /Early data was (accepted|rejected|not sent)/.exec(cli.output);
          if (!m || m[1] === 'not sent') fail(`0-RTT conn2: early data was not sent:\n${cli.output}`);
          earlyData = 'offered';
          result.notes.push(`tls13-0rtt conn2: s_client: "Early data was ${m[1]}"`);
          log(`  conn2: Early data was ${m[1]}`);
        }
        log(`  conn${n}: :${bindPort} -> :${port} ${version} ${reused ? 'resumed-psk' : 'full'}`);
        entries.push(
          entry({
            clientPort: bindPort, serverPort: port, version, sni,
            kind: reused ? 'resumed-psk' : 'full', offered: resume ? ['psk'] : [], earlyData,
          }),
        );
      }
      await waitExit(srv.child, CONN_TIMEOUT_MS, 's_server to exit after -naccept 2');
    } finally {
      srv.child.kill('SIGKILL');
    }
    keys.push(...fs.readFileSync(keylog, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')));
    return entries;
  },
};

SCENARIOS['mix.pcap'] = {
  ports: [44307, 44308, 44309],
  async run({ keys }) {
    // :44307 TLS 1.2 only, no tickets (session-ID cache), ECDSA-only cipher list, ALPN
    // :44308 TLS 1.2 + 1.3 with tickets, dual-stack (127.0.0.1 and ::1), ALPN
    // :44309 plain TCP line echo
    const A = 44307;
    const B = 44308;
    const P = 44309;
    const alpn = { ALPNProtocols: ['h2', 'http/1.1'] };
    const sa = await startServer({
      port: A,
      tlsOptions: { ...TLS12, secureOptions: crypto.constants.SSL_OP_NO_TICKET, ciphers: ECDSA_ONLY_TLS12_CIPHERS, ...alpn },
      sessionStore: true,
    });
    const sb = await startServer({ port: B, host: '::', ipv6Only: false, tlsOptions: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ...alpn } });
    const sp = await startServer({ port: P, plain: true });
    const out = [];
    try {
      // 1. TLS 1.2 full, SNI + ALPN h2/http1.1
      const c1 = await tlsClient({ port: A, servername: 'www.tlsflight.test', ...TLS12, ALPNProtocols: ['h2', 'http/1.1'], keys });
      await sequential(sa);
      if (c1.alpn !== 'h2') fail(`mix conn1: ALPN ${c1.alpn}, expected h2`);
      out.push(tlsEntry('conn1', c1, { port: A, sni: 'www.tlsflight.test', expectReused: false }));
      // 2. TLS 1.2 session-ID resumption of conn 1
      const c2 = await tlsClient({ port: A, servername: 'www.tlsflight.test', ...TLS12, ALPNProtocols: ['h2', 'http/1.1'], session: c1.sessionFromGetSession, keys });
      await sequential(sa);
      out.push(tlsEntry('conn2', c2, { port: A, sni: 'www.tlsflight.test', prev: c1, expectReused: true, kind: 'resumed-session-id' }));
      // 3. TLS 1.2 full on the ticket server, ALPN http/1.1 only
      const c3 = await tlsClient({ port: B, servername: 'api.tlsflight.test', ...TLS12, ALPNProtocols: ['http/1.1'], waitSession: true, keys });
      await sequential(sb);
      if (!c3.ticket) fail('mix conn3: no ticket');
      out.push(tlsEntry('conn3', c3, { port: B, sni: 'api.tlsflight.test', expectReused: false }));
      // 4. TLS 1.2 ticket resumption of conn 3
      const c4 = await tlsClient({ port: B, servername: 'api.tlsflight.test', ...TLS12, ALPNProtocols: ['http/1.1'], session: c3.session, keys });
      await sequential(sb);
      out.push(tlsEntry('conn4', c4, { port: B, sni: 'api.tlsflight.test', prev: c3, expectReused: true, kind: 'resumed-ticket' }));
      // 5. plain TCP, not TLS
      const c5 = await plainClient({ port: P });
      await sequential(sp);
      log(`  conn5: :${c5.localPort} -> :${P} plain TCP`);
      out.push(entry({ clientPort: c5.localPort, serverPort: P, tls: false }));
      // 6. TLS 1.3 full
      const c6 = await tlsClient({ port: B, servername: 'mail.tlsflight.test', ...TLS13, waitSession: true, keys });
      await sequential(sb);
      out.push(tlsEntry('conn6', c6, { port: B, sni: 'mail.tlsflight.test', expectReused: false }));
      // 7. TLS 1.3 PSK resumption of conn 6
      const c7 = await tlsClient({ port: B, servername: 'mail.tlsflight.test', ...TLS13, session: c6.session, keys });
      await sequential(sb);
      out.push(tlsEntry('conn7', c7, { port: B, sni: 'mail.tlsflight.test', prev: c6, expectReused: true, kind: 'resumed-psk' }));
      // 8. TLS 1.2 handshake failure: the client offers only an RSA key-exchange cipher, the server
      //    (ECDSA cert, ECDSA-only cipher list) has none in common and sends a plaintext fatal alert.
      const c8 = await tlsClient({ port: A, servername: 'fail.tlsflight.test', ...TLS12, ciphers: 'AES128-SHA', expectError: true, keys });
      await sequential(sa);
      if (c8.alert !== 'handshake_failure') fail(`mix conn8: expected handshake_failure alert, got ${c8.error?.message}`);
      if (sa.clientErrors.length !== 1) fail(`mix conn8: server saw ${sa.clientErrors.length} client errors`);
      log(`  conn8: :${c8.localPort} -> :${A} failed, alert ${c8.alert} (${c8.error.code})`);
      out.push(entry({ clientPort: c8.localPort, serverPort: A, version: null, sni: 'fail.tlsflight.test', kind: 'unknown', alert: c8.alert }));
      // 9. TLS 1.3 full over IPv6
      const c9 = await tlsClient({ host: '::1', port: B, servername: 'v6.tlsflight.test', ...TLS13, keys });
      await sequential(sb);
      out.push(tlsEntry('conn9', c9, { port: B, sni: 'v6.tlsflight.test', expectReused: false }));
      // 10. TLS 1.3 full without SNI (connecting to an IP address sends no server_name)
      const c10 = await tlsClient({ port: B, ...TLS13, keys });
      await sequential(sb);
      out.push(tlsEntry('conn10', c10, { port: B, sni: null, expectReused: false }));
      return out;
    } finally {
      await Promise.allSettled([sa.close(), sb.close(), sp.close()]);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Optional sanity check with tshark: the capture must contain a ClientHello from every TLS client
// port of the manifest (and nothing else), an HRR where one is expected, an alert where one is
// expected, and the "offered" arrays must match the ClientHello bytes by the tlsflight rules.

function tsharkAvailable() {
  try {
    execFileSync(TSHARK, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

function tsharkCheck(file, expected) {
  const fields = [
    'tcp.srcport', 'tcp.dstport', 'tls.handshake.type', 'tls.handshake.session_id_length',
    'tls.handshake.extension.type', 'tls.handshake.extension.len', 'tls.handshake.random',
    'tls.handshake.extensions.supported_version', 'tls.alert_message.desc', 'tls.handshake.extensions_server_name',
    'tcp.flags.syn', 'tcp.flags.ack',
  ];
  const text = execFileSync(
    TSHARK,
    ['-r', file, '-o', 'tls.desegment_ssl_records:TRUE', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,',
      ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const byClient = new Map();
  const get = (port) => {
    if (!byClient.has(port)) byClient.set(port, { syn: false, hellos: [], serverHellos: [], alerts: [] });
    return byClient.get(port);
  };
  const serverPorts = new Set(expected.map((e) => e.serverPort));
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [src, dst, types, sidLen, extTypes, extLens, randoms, versions, alerts, sni, syn, ack] = line.split('|');
    const fromClient = serverPorts.has(Number(dst));
    const c = get(Number(fromClient ? src : dst));
    if (fromClient && syn === '1' && ack === '0') c.syn = true;
    const typeList = types ? types.split(',') : [];
    if (fromClient && typeList.includes('1')) {
      const et = extTypes.split(',').map(Number);
      const el = extLens.split(',').map(Number);
      const ticketIdx = et.indexOf(35);
      c.hellos.push({
        sidLen: Number(sidLen.split(',')[0]),
        ticketLen: ticketIdx >= 0 ? el[ticketIdx] : null,
        psk: et.includes(41),
        earlyData: et.includes(42),
        sni: sni || null,
      });
    }
    if (!fromClient && typeList.includes('2')) {
      c.serverHellos.push({ hrr: randoms.split(',')[0] === HRR_RANDOM, tls13: versions.split(',').includes('0x0304') });
    }
    if (alerts) c.alerts.push(...alerts.split(','));
  }
  const problems = [];
  for (const e of expected) {
    const c = byClient.get(e.clientPort);
    const tag = `${path.basename(file)} :${e.clientPort}`;
    if (!c || !c.syn) {
      problems.push(`${tag}: no SYN in capture`);
      continue;
    }
    if (!e.tls) {
      if (c.hellos.length) problems.push(`${tag}: plain TCP connection has a ClientHello`);
      continue;
    }
    if (!c.hellos.length) {
      problems.push(`${tag}: no ClientHello`);
      continue;
    }
    const hrr = c.serverHellos.some((s) => s.hrr);
    if (hrr !== e.helloRetry) problems.push(`${tag}: HRR on wire ${hrr}, manifest ${e.helloRetry}`);
    const ch = c.hellos[0];
    if ((ch.sni ?? null) !== e.sni) problems.push(`${tag}: SNI on wire ${ch.sni}, manifest ${e.sni}`);
    const tls13 = c.serverHellos.some((s) => s.tls13 && !s.hrr);
    const offered = [];
    if (!tls13 && ch.sidLen > 0) offered.push('session-id');
    if (ch.ticketLen) offered.push('ticket');
    if (ch.psk) offered.push('psk');
    if (offered.join() !== e.offered.join()) problems.push(`${tag}: offered on wire [${offered}], manifest [${e.offered}]`);
    if (ch.earlyData !== (e.earlyData === 'offered')) problems.push(`${tag}: early_data ext on wire ${ch.earlyData}, manifest ${e.earlyData}`);
    const wireAlert = c.alerts.length ? ALERTS[c.alerts[0]] ?? `alert_${c.alerts[0]}` : null;
    if (e.alert !== wireAlert) problems.push(`${tag}: plaintext alert on wire ${wireAlert}, manifest ${e.alert}`);
  }
  const expectedPorts = new Set(expected.map((e) => e.clientPort));
  for (const [port, c] of byClient) {
    if (c.syn && !expectedPorts.has(port)) problems.push(`${path.basename(file)}: unexpected connection from :${port}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Main

let CERT;

async function main() {
  if (process.getuid?.() !== 0) console.warn('[gen-samples] warning: not running as root; tcpdump will probably fail');
  const wanted = process.argv.slice(2).map((a) => (a.endsWith('.pcap') ? a : `${a}.pcap`));
  for (const w of wanted) if (!SCENARIOS[w]) fail(`unknown scenario ${w}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const names = wanted.length ? wanted : Object.keys(SCENARIOS);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tlsflight-samples-'));
  TMP = tmp;
  const result = { notes: [] };
  const manifest = {};
  try {
    CERT = makeCert(tmp);
    for (const name of names) {
      const sc = SCENARIOS[name];
      log(`${name} (ports ${sc.ports.join(', ')})`);
      const file = path.join(tmp, name);
      const keys = [];
      const cap = await startCapture(file, sc.ports);
      let entries;
      try {
        entries = await sc.run({ keys, tmp, result });
      } finally {
        const n = await cap.stop();
        log(`  tcpdump: ${n} packets`);
      }
      fs.writeFileSync(file.replace(/\.pcap$/, '.keys'), keys.length ? `${keys.join('\n')}\n` : '');
      manifest[name] = entries;
    }

    if (tsharkAvailable()) {
      const problems = names.flatMap((n) => tsharkCheck(path.join(tmp, n), manifest[n]));
      if (problems.length) fail(`tshark check failed:\n  ${problems.join('\n  ')}`);
      log('tshark check: OK');
    } else {
      log('tshark not found: skipping the capture sanity check');
    }

    // Everything worked: install into samples/.
    fs.mkdirSync(SAMPLES, { recursive: true });
    const manifestFile = path.join(SAMPLES, 'manifest.json');
    let merged = {};
    if (wanted.length && fs.existsSync(manifestFile)) merged = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    for (const name of names) {
      fs.copyFileSync(path.join(tmp, name), path.join(SAMPLES, name));
      const keysName = name.replace(/\.pcap$/, '.keys');
      fs.copyFileSync(path.join(tmp, keysName), path.join(SAMPLES, keysName));
      merged[name] = manifest[name];
    }
    const ordered = {};
    for (const name of Object.keys(SCENARIOS)) if (merged[name]) ordered[name] = merged[name];
    for (const name of Object.keys(merged)) if (!ordered[name]) ordered[name] = merged[name];
    fs.writeFileSync(manifestFile, `${JSON.stringify(ordered, null, 2)}\n`);
    for (const n of result.notes) log(n);
    log(`wrote ${names.length} capture(s) and manifest to ${path.relative(process.cwd(), SAMPLES) || '.'}`);
  } finally {
    await killAll();
    removeTmp();
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    console.error(`[gen-samples] ${sig}: stopping, samples/ left unchanged`);
    await killAll();
    removeTmp();
    process.exit(130);
  });
}

main().catch((err) => {
  console.error(`[gen-samples] FAILED: ${err.stack || err.message}`);
  process.exitCode = 1;
  // Servers/sockets may still be open after a failure; do not hang.
  setTimeout(() => process.exit(1), 500).unref();
});
