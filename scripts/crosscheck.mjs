#!/usr/bin/env node
// Cross-checks tlsflight against tshark, per TCP connection, on every capture in samples/ and
// ../shared/corpus/. Compared (from the LAST ClientHello and the final non-HRR ServerHello):
//   version   negotiated version (ServerHello supported_versions, else ServerHello.version)
//   sni       server_name in the ClientHello
//   session-id / ticket / psk   what the ClientHello offers (tlsflight `offered`)
//   ticket.length, psk.identities, psk.selected   details of those offers / the server's pick
//   clienthello, role, connection   whether both saw the handshake at all, and who the client is
// Output: a table of disagreements, per-file counts, and a final summary line. Exit 0 even with
// disagreements (it is a report); exit 1 if tlsflight crashes or prints invalid JSON.
// Usage: node scripts/crosscheck.mjs [CAPTURE|DIR ...]   (default: samples/ and ../shared/corpus/)
// Plain Node >= 20, built-ins only. Env: TSHARK (tshark binary), TLSFLIGHT_BIN (default
// bin/tlsflight.js), CROSSCHECK_JOBS (files in flight, default 2).
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { versionLabel } from '../dist/tls/constants.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '..');
const BIN = process.env.TLSFLIGHT_BIN ? resolve(process.env.TLSFLIGHT_BIN) : join(repo, 'bin', 'tlsflight.js');
const ROOTS = [
  { dir: join(repo, 'samples'), label: 'samples', filter: (n) => /\.(pcap|pcapng|gz)$/i.test(n) },
  { dir: resolve(repo, '..', 'shared', 'corpus'), label: 'corpus', filter: (n) => !/\.(md|txt)$/i.test(n) },
];
const JOBS = Math.max(1, Number(process.env.CROSSCHECK_JOBS) || 2);
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';
const KNOWN_FILE = join(here, 'crosscheck-known.json');

// ---------------------------------------------------------------------------------------------
// tshark presence

function findOnPath(name) {
  if (name.includes('/')) return existsSync(name) ? name : null;
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

const TSHARK = findOnPath(process.env.TSHARK || 'tshark');
if (!TSHARK) {
  console.log('crosscheck: tshark not found on PATH; nothing to compare (install wireshark/tshark to run it)');
  process.exit(0);
}
if (!existsSync(join(repo, 'dist', 'cli.js'))) {
  console.log('crosscheck: dist/ is missing; build first (npx tsc -p .)');
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// helpers

function walk(dir, filter) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p, filter));
    else if (st.isFile() && filter(name)) out.push(p);
  }
  return out;
}

function run(cmd, args) {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => res({ code: -1, signal: null, stdout: '', stderr: String(e) }));
    child.on('close', (code, signal) =>
      res({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** Runs tasks with at most `n` in flight; results in input order. */
async function pool(items, n, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

const arr = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const first = (v) => arr(v)[0];
const hex = (v) => (typeof v === 'string' ? v.replace(/:/g, '').toLowerCase() : null);

function normIp(ip) {
  if (typeof ip !== 'string' || !ip.includes(':')) return ip;
  let s = ip.toLowerCase();
  const v4 = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const b = v4[2].split('.').map(Number);
    s = `${v4[1]}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

const ep = (ip, port) => `${normIp(ip)}|${port}`;
const showEp = (ip, port) => (String(ip).includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const pairKey = (a, b) => (a < b ? `${a}<>${b}` : `${b}<>${a}`);

// The analyzer's own names (dist/ is built before any crosscheck run: it runs the built CLI).
const versionName = (v) => (v === null || v === undefined ? null : versionLabel(typeof v === 'number' ? v : parseInt(v, 16)));
const offers13 = (versions) => versions.some((v) => versionName(v) === 'TLS1.3');

// ---------------------------------------------------------------------------------------------
// tshark side

const TSHARK_FILTER =
  'tcp && (tls.handshake.type == 1 || tls.handshake.type == 2 || (tls.handshake.type == 4 && tls.record.version == 0x0002))';

function tsharkArgs(file, ports, ooo) {
  const a = ['-r', file, '-n', '-o', `tcp.reassemble_out_of_order:${ooo ? 'TRUE' : 'FALSE'}`, '-o', 'tls.desegment_ssl_records:TRUE'];
  for (const p of ports) a.push('-d', `tcp.port==${p},tls`);
  a.push('-Y', TSHARK_FILTER, '-T', 'json', '--no-duplicate-keys');
  return a;
}

/** Depth-first search for every value under `key` inside `obj`. */
function collect(obj, key, out = []) {
  if (Array.isArray(obj)) {
    for (const x of obj) collect(x, key, out);
  } else if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj)) {
      if (k === key) out.push(...arr(v));
      else collect(v, key, out);
    }
  }
  return out;
}

/** The handshake-message objects (anything carrying tls.handshake.type) in document order. */
function handshakeObjects(obj, out = []) {
  if (Array.isArray(obj)) {
    for (const x of obj) handshakeObjects(x, out);
  } else if (obj && typeof obj === 'object') {
    if ('tls.handshake.type' in obj && typeof obj['tls.handshake.type'] === 'string') out.push(obj);
    else for (const v of Object.values(obj)) handshakeObjects(v, out);
  }
  return out;
}

function parseHello(m) {
  const sslv2 = m['tls.record.version'] === '0x0002' || 'tls.handshake.challenge_length' in m || 'tls.handshake.cipher_spec_len' in m;
  const type = Number(m['tls.handshake.type']);
  if (sslv2 && type !== 1 && type !== 4) return null;
  if (!sslv2 && type !== 1 && type !== 2) return null;
  const exts = [];
  for (const [k, v] of Object.entries(m)) {
    if (!k.startsWith('Extension: ')) continue;
    for (const e of arr(v)) {
      if (e && typeof e === 'object') {
        exts.push({ type: Number(first(e['tls.handshake.extension.type'])), len: Number(first(e['tls.handshake.extension.len'])), obj: e });
      }
    }
  }
  const ext = (t) => exts.find((e) => e.type === t) ?? null;
  const sni = ext(0) ? collect(ext(0).obj, 'tls.handshake.extensions_server_name')[0] ?? '' : null;
  const sv = ext(43) ? collect(ext(43).obj, 'tls.handshake.extensions.supported_version').map((x) => parseInt(x, 16)) : [];
  const psk = ext(41);
  const sidLenRaw = first(m['tls.handshake.session_id_length']);
  const hsLen = first(m['tls.handshake.length']);
  return {
    kind: type === 1 ? 'CH' : 'SH',
    hsLength: hsLen === undefined ? null : Number(hsLen),
    sslv2,
    legacyVersion: sslv2 && type === 4 ? 0x0002 : m['tls.handshake.version'] ? parseInt(first(m['tls.handshake.version']), 16) : null,
    random: hex(first(m['tls.handshake.random'])),
    sidLen: sidLenRaw === undefined ? 0 : Number(sidLenRaw),
    sid: hex(first(m['tls.handshake.session_id'])) ?? '',
    sni,
    supportedVersions: sv,
    ticketLen: ext(35) ? ext(35).len : null,
    psk: psk !== null,
    pskIdentityLengths: psk ? collect(psk.obj, 'tls.handshake.extensions.psk.identity.identity_length').map(Number) : [],
    pskSelected: psk ? collect(psk.obj, 'tls.handshake.extensions.psk.identity.selected').map(Number)[0] ?? null : null,
    extTypes: exts.map((e) => e.type),
  };
}

function lastOf(layers, name) {
  const v = layers[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** Runs tshark; returns { hellos: [...], error } with one entry per ClientHello/ServerHello. */
async function tsharkHellos(file, ports = [], ooo = true) {
  const r = await run(TSHARK, tsharkArgs(file, ports, ooo));
  let packets;
  try {
    packets = JSON.parse(r.stdout || '[]');
  } catch (e) {
    return { hellos: [], error: `tshark output not JSON (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}` };
  }
  const hellos = [];
  let short = 0;
  for (const p of packets) {
    const L = p._source?.layers ?? {};
    const frame = Number(L.frame?.['frame.number']);
    const protos = String(L.frame?.['frame.protocols'] ?? '');
    const parts = protos.split(':');
    const v4 = parts.lastIndexOf('ip');
    const v6 = parts.lastIndexOf('ipv6');
    let src;
    let dst;
    if (v6 > v4) {
      const l = lastOf(L, 'ipv6');
      src = first(l?.['ipv6.src']);
      dst = first(l?.['ipv6.dst']);
    } else {
      const l = lastOf(L, 'ip');
      src = first(l?.['ip.src']);
      dst = first(l?.['ip.dst']);
    }
    const tcp = lastOf(L, 'tcp');
    if (!tcp || src === undefined) continue;
    const sport = Number(first(tcp['tcp.srcport']));
    const dport = Number(first(tcp['tcp.dstport']));
    const stream = Number(first(tcp['tcp.stream']));
    const malformed = '_ws.malformed' in L;
    for (const m of handshakeObjects(arr(L.tls))) {
      const h = parseHello(m);
      if (!h) continue;
      // A hello shorter than the fixed fields (version, random, session ID length, ...) is not one:
      // tshark dissects past the message end (e.g. a 0-length "ServerHello"); leave it out.
      if (!h.sslv2 && h.hsLength !== null && h.hsLength < 38) {
        short++;
        continue;
      }
      hellos.push({ ...h, frame, stream, src, dst, sport, dport, from: ep(src, sport), to: ep(dst, dport), malformed });
    }
  }
  return { hellos, error: null, short };
}

// ---------------------------------------------------------------------------------------------
// tlsflight side

async function tlsflight(file) {
  const r = await run(process.execPath, [BIN, 'analyze', '-f', 'json', '-q', file]);
  if (r.signal || (r.code !== 0 && r.code !== 2)) {
    return { crash: `exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}` };
  }
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch (e) {
    return { crash: `invalid JSON (${e.message}); stderr: ${r.stderr.trim().split('\n')[0] ?? ''}` };
  }
  if (!report || !Array.isArray(report.connections) || !Array.isArray(report.captures)) {
    return { crash: 'JSON report without captures[]/connections[]' };
  }
  const cap = report.captures[0] ?? {};
  const unreadable = cap.error && !cap.packets;
  return { report, unreadable: unreadable ? cap.error : null, capError: cap.error ?? null };
}

// ---------------------------------------------------------------------------------------------
// comparison

function tsharkView(hellos, issuedBefore) {
  // hellos: the tshark messages of one connection, in frame order.
  const chs = hellos.filter((h) => h.kind === 'CH');
  const shs = hellos.filter((h) => h.kind === 'SH');
  const ch = chs.length ? chs[chs.length - 1] : null;
  const isHrr = (s) => s.random === HRR_RANDOM;
  const finalSh = [...shs].reverse().find((s) => !isHrr(s)) ?? null;
  const hrr = shs.find(isHrr) ?? null;
  const vSh = finalSh ?? hrr;
  let version = null;
  if (vSh) version = versionName(vSh.supportedVersions.length ? vSh.supportedVersions[0] : vSh.legacyVersion);
  const is13 = version === 'TLS1.3';
  const v = { ch, sh: finalSh, hrr, chCount: chs.length, version, is13 };
  if (ch) {
    const zero = ch.sid !== '' && /^0+$/.test(ch.sid);
    v.wireSid = ch.sidLen > 0 && !zero;
    v.zeroSid = zero;
    v.sid = v.wireSid && !is13;
    v.compatShaped = v.sid && ch.sidLen === 32 && offers13(ch.supportedVersions);
    v.sidIssued = issuedBefore(ch.sid, ch.frame) || (finalSh !== null && finalSh.sid === ch.sid);
    v.ticket = ch.ticketLen !== null && ch.ticketLen > 0;
    v.psk = ch.psk;
    v.sni = ch.sni;
  }
  return v;
}

function fmt(v) {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return `[${v.join(',')}]`;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

function compareConn(c, v, rows) {
  // c: tlsflight connection; v: tshark view. Pushes { field, ours, theirs, cause } rows.
  const add = (field, ours, theirs, cause = null) => rows.push({ field, ours: fmt(ours), theirs: fmt(theirs), cause });
  const fOffered = c.offered;
  const has = (o) => Array.isArray(fOffered) && fOffered.includes(o);

  // ClientHello seen at all
  const fCh = fOffered !== null && fOffered !== undefined;
  if (fCh !== (v.ch !== null)) {
    add('clienthello', fCh ? 'seen' : 'none', v.ch ? `seen (frame ${v.ch.frame})` : 'none');
  }
  // roles (who sent the ClientHello)
  if (v.ch) {
    const fClient = ep(c.client.ip, c.client.port);
    if (v.ch.from !== fClient) add('role', `client ${showEp(c.client.ip, c.client.port)}`, `CH from ${showEp(v.ch.src, v.ch.sport)} (frame ${v.ch.frame})`);
  } else if (v.sh) {
    const fServer = ep(c.server.ip, c.server.port);
    if (v.sh.from !== fServer) add('role', `server ${showEp(c.server.ip, c.server.port)}`, `SH from ${showEp(v.sh.src, v.sh.sport)} (frame ${v.sh.frame})`);
  }
  // negotiated version
  if ((c.version ?? null) !== v.version) add('version', c.version, v.version);
  if (fCh && v.ch) {
    if ((c.sni ?? null) !== (v.sni ?? null)) add('sni', c.sni, v.sni);
    // session ID offer
    const fSid = has('session-id');
    if (fSid !== v.sid) {
      let cause = null;
      if (!fSid && v.compatShaped && !v.sidIssued) cause = 'explained:compat-session-id';
      else if (fSid && v.zeroSid) cause = 'zero-session-id';
      add('session-id', fSid, v.sid ? `yes (len ${v.ch.sidLen})` : v.zeroSid ? 'no (all-zero id)' : v.wireSid ? 'no (TLS1.3 negotiated)' : `no (len ${v.ch.sidLen})`, cause);
    }
    // ticket offer
    const fTicket = has('ticket');
    if (fTicket !== v.ticket) {
      const cause = !fTicket && v.is13 ? 'tls13-ticket-ext' : null;
      add('ticket', fTicket, v.ticket ? `yes (len ${v.ch.ticketLen})` : v.ch.ticketLen === 0 ? 'no (empty ext)' : 'no (no ext)', cause);
    } else if (fTicket && c.ticketOffered && c.ticketOffered.length !== v.ch.ticketLen) {
      add('ticket.length', c.ticketOffered.length, v.ch.ticketLen);
    }
    // PSK offer
    const fPsk = has('psk');
    if (fPsk !== v.psk) add('psk', fPsk, v.psk ? `yes (${v.ch.pskIdentityLengths.length} id)` : 'no');
    else if (fPsk && c.psk) {
      const ours = c.psk.identityLengths ?? [];
      if (c.psk.identities !== v.ch.pskIdentityLengths.length || ours.join() !== v.ch.pskIdentityLengths.join()) {
        add('psk.identities', ours, v.ch.pskIdentityLengths);
      }
    }
  }
  // ServerHello pre_shared_key.selected_identity
  if (v.sh || c.psk) {
    const fSel = c.psk ? c.psk.selected ?? null : null;
    const tSel = v.sh ? v.sh.pskSelected : null;
    if (fSel !== tSel) add('psk.selected', fSel, tSel);
  }
}

// ---------------------------------------------------------------------------------------------
// per file

function assign(conns, hellos) {
  // Attaches each tshark hello to the tlsflight TCP connection with the same endpoints (either
  // direction); with port reuse, to the one whose frame range holds the hello (else by order).
  const byPair = new Map();
  for (const c of conns) {
    const k = pairKey(ep(c.client.ip, c.client.port), ep(c.server.ip, c.server.port));
    if (!byPair.has(k)) byPair.set(k, []);
    byPair.get(k).push(c);
  }
  for (const list of byPair.values()) list.sort((a, b) => (a.firstFrame ?? 0) - (b.firstFrame ?? 0));
  const got = new Map(conns.map((c) => [c, []]));
  const orphans = [];
  for (const h of hellos) {
    const list = byPair.get(pairKey(h.from, h.to));
    if (!list) {
      orphans.push(h);
      continue;
    }
    let c = list.find((x) => h.frame >= (x.firstFrame ?? 0) && h.frame <= (x.lastFrame ?? Infinity));
    if (!c) c = [...list].reverse().find((x) => (x.firstFrame ?? 0) <= h.frame) ?? list[0];
    got.get(c).push(h);
  }
  return { got, orphans };
}

async function checkFile(file, label) {
  const res = { file, label, rows: [], compared: 0, skipped: null, crash: null, notes: [] };
  let [f, t1] = await Promise.all([tlsflight(file), tsharkHellos(file)]);
  if (f.crash) {
    // Other people rebuild dist/ while this runs: a half-written build looks like a crash. Retry once.
    await new Promise((r) => setTimeout(r, 2000));
    const again = await tlsflight(file);
    if (again.crash) {
      res.crash = f.crash;
      return res;
    }
    res.notes.push(`tlsflight failed once (${f.crash.slice(0, 80)}), passed on retry`);
    res.flaky = true;
    f = again;
  }
  if (f.unreadable) {
    res.skipped = f.unreadable;
    return res;
  }
  if (t1.error) res.notes.push(t1.error);
  if (t1.short) res.notes.push(`tshark: ${t1.short} hello(s) shorter than the fixed fields ignored`);
  const conns = f.report.connections.filter((c) => (c.transport ?? 'tcp') === 'tcp');
  const sawHello = (c) => (c.offered !== null && c.offered !== undefined) || c.version != null;
  const pairOf = (c) => pairKey(ep(c.client.ip, c.client.port), ep(c.server.ip, c.server.port));

  // What tshark is missing for a connection tlsflight read a hello in: 0 = nothing.
  const lack = (c, hs) => {
    const ch = hs.some((h) => h.kind === 'CH');
    const sh = hs.some((h) => h.kind === 'SH');
    return (c.offered != null && !ch ? 1 : 0) + (c.version != null && !sh ? 1 : 0);
  };
  let hellos = t1.hellos;
  let { got, orphans } = assign(conns, hellos);

  // tshark missed hellos tlsflight read: try again with the server ports decoded as TLS (tshark
  // only knows well-known ports), then also without out-of-order reassembly (which makes tshark
  // hold back data after odd SYN/ACKs). A pair's hellos are replaced only if the pass sees more.
  const passes = [
    { ooo: true, decode: true, why: 'decode-as' },
    { ooo: false, decode: true, why: 'decode-as, out-of-order reassembly off' },
  ];
  for (const pass of passes) {
    const deficient = conns.filter((c) => sawHello(c) && lack(c, got.get(c)) > 0);
    if (!deficient.length) break;
    const ports = [...new Set(deficient.map((c) => c.server.port))].sort((a, b) => a - b);
    const t = await tsharkHellos(file, ports, pass.ooo);
    if (t.error) continue;
    const trial = assign(conns, t.hellos).got;
    const better = new Set();
    for (const c of deficient) {
      const before = lack(c, got.get(c));
      const after = lack(c, trial.get(c));
      if (after < before) better.add(pairOf(c));
    }
    if (!better.size) continue;
    hellos = [...hellos.filter((h) => !better.has(pairKey(h.from, h.to))), ...t.hellos.filter((h) => better.has(pairKey(h.from, h.to)))];
    hellos.sort((a, b) => a.frame - b.frame);
    ({ got, orphans } = assign(conns, hellos));
    const which = conns.filter((c) => better.has(pairOf(c))).map((c) => `#${c.id}`);
    res.notes.push(`tshark ${pass.why} (tcp ${ports.join(',')}) for ${which.join(',')}`);
  }

  // Session IDs a server handed out (non-HRR ServerHello), for the compat-mode rule.
  // (A TLS 1.3 ServerHello only echoes the compatibility ID; it issues nothing.)
  const issued = hellos.filter(
    (h) => h.kind === 'SH' && h.random !== HRR_RANDOM && h.sid !== '' && versionName(h.supportedVersions[0] ?? h.legacyVersion) !== 'TLS1.3',
  );
  const issuedBefore = (sid, frame) => sid !== '' && issued.some((h) => h.sid === sid && h.frame < frame);

  for (const c of conns) {
    const hs = got.get(c);
    if (!sawHello(c) && hs.length === 0) continue;
    res.compared++;
    const rows = [];
    if (hs.length === 0) {
      rows.push({ field: 'connection', ours: `TLS (${c.version ?? 'no SH'}, offered ${fmt(c.offered)})`, theirs: 'no ClientHello/ServerHello', cause: null });
    } else {
      compareConn(c, tsharkView(hs, issuedBefore), rows);
    }
    for (const r of rows) res.rows.push({ conn: `#${c.id} ${showEp(c.client.ip, c.client.port)}→${showEp(c.server.ip, c.server.port)}`, ...r });
  }
  // Handshakes tshark saw on a 4-tuple tlsflight does not report at all.
  const groups = new Map();
  for (const h of orphans) {
    const k = `${pairKey(h.from, h.to)}#${h.stream}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(h);
  }
  for (const hs of groups.values()) {
    res.compared++;
    const ch = hs.find((h) => h.kind === 'CH');
    const sh = hs.find((h) => h.kind === 'SH');
    const cl = ch ? [ch.src, ch.sport, ch.dst, ch.dport] : [sh.dst, sh.dport, sh.src, sh.sport];
    res.rows.push({
      conn: `(tshark stream ${hs[0].stream}) ${showEp(cl[0], cl[1])}→${showEp(cl[2], cl[3])}`,
      field: 'connection',
      ours: 'not reported',
      theirs: `${hs.map((h) => (h.random === HRR_RANDOM ? 'HRR' : h.kind)).join(',')} (frames ${hs.map((h) => h.frame).join(',')})`,
      cause: null,
    });
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// main

function loadKnown() {
  // Optional scripts/crosscheck-known.json: [{ "file", "conn"?, "field"?, "tag", "note" }], the
  // verdicts found so far. A matching row gets the tag in the cause column (it still counts); the
  // notes of matched entries are printed under the table, and entries nothing matched any more are
  // listed (fixed, or the capture changed).
  try {
    return JSON.parse(readFileSync(KNOWN_FILE, 'utf8'));
  } catch {
    return [];
  }
}

const files = [];
const args = process.argv.slice(2);
// Optional arguments: only these captures / folders (e.g. to re-check one file after a fix).
for (const a of args) {
  const p = resolve(a);
  if (!existsSync(p)) {
    console.log(`crosscheck: ${a} not found`);
    process.exit(2);
  }
  if (statSync(p).isDirectory()) for (const f of walk(p, (n) => !/\.(md|txt|json|keys)$/i.test(n))) files.push({ file: f, label: relative(process.cwd(), f) });
  else files.push({ file: p, label: relative(process.cwd(), p) });
}
for (const r of args.length ? [] : ROOTS) {
  if (!existsSync(r.dir)) {
    console.log(`crosscheck: ${r.dir} not found, skipped`);
    continue;
  }
  for (const f of walk(r.dir, r.filter)) files.push({ file: f, label: `${r.label}/${relative(r.dir, f)}` });
}

function newestMtime(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return t;
}

const distBefore = newestMtime(join(repo, 'dist'));
const known = loadKnown();
const results = await pool(files, JOBS, ({ file, label }) => checkFile(file, label));
const matched = new Set();
for (const res of results) {
  for (const row of res.rows) {
    if (row.cause) continue;
    const k = known.find((x) => res.label.includes(x.file) && (!x.field || x.field === row.field) && (!x.conn || row.conn.includes(x.conn)));
    if (k) {
      row.cause = k.tag;
      matched.add(k);
    }
  }
}
const checkedLabels = results.filter((r) => !r.crash && !r.skipped).map((r) => r.label);
const stale = known.filter((k) => !matched.has(k) && checkedLabels.some((l) => l.includes(k.file)));

const all = results.flatMap((r) => r.rows.map((row) => ({ label: r.label, ...row })));
const isExplained = (row) => typeof row.cause === 'string' && row.cause.startsWith('explained:');
const cols = ['file', 'connection', 'field', 'tlsflight', 'tshark', 'cause'];
const table = all.map((r) => [r.label, r.conn, r.field, r.ours, r.theirs, r.cause ?? '']);
if (table.length) {
  const widths = cols.map((c, i) => Math.min(i === 1 ? 60 : 48, Math.max(c.length, ...table.map((t) => t[i].length))));
  const line = (t) => t.map((s, i) => (i === t.length - 1 ? s : s.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(cols));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const t of table) console.log(line(t));
  console.log('');
} else {
  console.log('no disagreements\n');
}
if (matched.size) {
  console.log(`known causes (${relative(process.cwd(), KNOWN_FILE)}):`);
  for (const k of known.filter((x) => matched.has(x))) console.log(`  ${k.tag}  ${k.file}${k.conn ? ` ${k.conn}` : ''}: ${k.note}`);
  console.log('');
}
if (stale.length) {
  console.log('known entries no longer seen (fixed?):');
  for (const k of stale) console.log(`  ${k.tag}  ${k.file}${k.conn ? ` ${k.conn}` : ''}${k.field ? ` ${k.field}` : ''}`);
  console.log('');
}

console.log('per file:');
let compared = 0;
let disagreements = 0;
let explained = 0;
let crashes = 0;
let checked = 0;
for (const r of results) {
  if (r.crash) {
    crashes++;
    console.log(`  CRASH    ${r.label}: tlsflight ${r.crash}`);
    continue;
  }
  if (r.skipped) {
    console.log(`  skipped  ${r.label}: ${r.skipped}`);
    continue;
  }
  checked++;
  compared += r.compared;
  const e = r.rows.filter(isExplained).length;
  const d = r.rows.length - e;
  disagreements += d;
  explained += e;
  const extra = r.notes.join('; ');
  console.log(`  ${d ? 'DIFF' : 'ok'.padEnd(4)}     ${r.label}: ${r.compared} conns, ${d} disagreements${e ? `, ${e} explained` : ''}${extra ? `  (${extra})` : ''}`);
}
if (explained) console.log(`explained differences (TLS 1.3 compat-mode session ID never issued in the capture): ${explained}, listed above, not counted`);
if (newestMtime(join(repo, 'dist')) !== distBefore) {
  console.log('warning: dist/ was rebuilt while this ran; results may mix two builds (run again for a clean picture)');
}
if (crashes) console.log(`tlsflight crashed or printed invalid JSON on ${crashes} file(s)`);
console.log(`crosscheck: ${checked} files, ${compared} connections compared, ${disagreements} disagreements`);
process.exit(crashes ? 1 : 0);
