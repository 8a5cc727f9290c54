#!/usr/bin/env node
// Throughput and memory benchmark of tlsflight against tshark and a header-walk floor.
//
//   node bench/run.mjs [--runs N] [--sizes 250M,1G,4G] [--hs-size 200M] [--keep] [--skip-tshark]
//                      [--no-reader-thread] [--no-jobs] [--only bulk|handshake] [--dir DIR] [--seed N] [--json FILE]
//                      [--live]
//
// For each file (the `bulk` profile at every --sizes size, then the `handshake` profile at --hs-size),
// one at a time: generate it into a fresh temp folder (bench/generate.mjs), read it once to have it in
// the page cache, run tlsflight once with its JSON captured and compare the counts with
// FILE.expected.json (OK / MISMATCH), then time every tool --runs times, round-robin:
//   tlsflight   node bin/tlsflight.js analyze -f json -q FILE   (report to /dev/null)
//   tlsflight-text  node bin/tlsflight.js analyze -q FILE       (the default terminal report, to /dev/null:
//               summary and findings, no per-connection JSON)
//   tlsflight-rt  the same with --reader-thread (reading on a second thread; not with --no-reader-thread)
//   2 files -j1 / -jN  node bin/tlsflight.js analyze -q -j 1|N FILE FILE   (the file given twice, in one thread
//               and in N = os.availableParallelism() threads, the -j N one with TLSFLIGHT_PARALLEL_MIN_BYTES=0
//               so that small files go to workers too; not with --no-jobs): how several files scale
//   floor       node bench/headerwalk.mjs FILE                   (walks pcap record headers only)
//   tshark      tshark -r FILE -n -Y 'tls.handshake.type==1 or tls.handshake.type==2'
//                      -T fields -e tcp.stream -e tls.handshake.type   (when installed; to /dev/null)
// Wall time, CPU time (user+sys) and peak RSS of each child come from /usr/bin/time when present,
// otherwise from polling /proc/<pid>/status (VmHWM) and /proc/<pid>/stat. Medians are reported.
// The file is deleted before the next one is made, and the folder at the end, unless --keep.
//
// tlsflight runs from a copy of bin/ and dist/ taken at the start (others may rebuild dist/ meanwhile;
// --live runs the repository's own): build it first (npx tsc -p .). Node.js 20+, built-in modules only.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generate, parseSize } from './generate.mjs';
import { headerWalk } from './headerwalk.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const HEADERWALK = path.join(HERE, 'headerwalk.mjs');
const TSHARK_FILTER = 'tls.handshake.type==1 or tls.handshake.type==2';

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { live: false, runs: 3, sizes: ['1G'], hsSize: '200M', keep: false, skipTshark: false, only: null, dir: null, seed: 1, json: null, readerThread: true, jobs: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs') o.runs = Number(val());
    else if (a === '--sizes' || a === '--size') o.sizes = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--hs-size') o.hsSize = val();
    else if (a === '--keep') o.keep = true;
    else if (a === '--live') o.live = true;
    else if (a === '--skip-tshark') o.skipTshark = true;
    else if (a === '--no-reader-thread') o.readerThread = false;
    else if (a === '--no-jobs') o.jobs = false;
    else if (a === '--only') o.only = val();
    else if (a === '--dir') o.dir = val();
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--json') o.json = val();
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 0) throw new Error('--runs must be 0 (counts check only) or more');
  for (const s of [...o.sizes, o.hsSize]) parseSize(s);
  if (o.only && o.only !== 'bulk' && o.only !== 'handshake') throw new Error('--only is bulk or handshake');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Measuring a child
// ---------------------------------------------------------------------------------------------

const GNU_TIME = (() => {
  if (!fs.existsSync('/usr/bin/time')) return null;
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /^\d+(\.\d+)? \d+\s*$/m.test(r.stderr) ? '/usr/bin/time' : null;
})();

function which(cmd) {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return null;
}

const CLK_TCK = 100;

/**
 * Run cmd args with stdout to `stdoutFile` (default /dev/null); resolves
 * {code, wall, cpu, rssKiB, stderr}. wall is measured here (hrtime), cpu and peak RSS by /usr/bin/time
 * (or /proc polling).
 */
function measure(cmd, args, { stdoutFile = '/dev/null', tmp, env } = {}) {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(stdoutFile, 'w');
    const timeFile = path.join(tmp, `time-${process.pid}-${Date.now()}.txt`);
    const argv = GNU_TIME ? ['-f', '%e %M %U %S', '-o', timeFile, cmd, ...args] : args;
    const t0 = process.hrtime.bigint();
    const child = spawn(GNU_TIME ?? cmd, argv, { stdio: ['ignore', out, 'pipe'], env: env ? { ...process.env, ...env } : process.env });
    let stderr = '';
    child.stderr.on('data', (d) => { if (stderr.length < 20000) stderr += d; });
    let hwm = 0;
    let cpuTicks = 0;
    let poll = null;
    if (!GNU_TIME) {
      const sample = () => {
        try {
          const st = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const m = /VmHWM:\s+(\d+) kB/.exec(st);
          if (m) hwm = Math.max(hwm, Number(m[1]));
          const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
          const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          cpuTicks = Number(f[11]) + Number(f[12]); // utime + stime
        } catch { /* exited */ }
      };
      poll = setInterval(sample, 20);
    }
    child.on('error', (e) => { clearInterval(poll); fs.closeSync(out); reject(e); });
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      clearInterval(poll);
      fs.closeSync(out);
      let cpu = cpuTicks / CLK_TCK;
      let rssKiB = hwm;
      if (GNU_TIME) {
        try {
          const lines = fs.readFileSync(timeFile, 'utf8').trim().split('\n');
          const [, m, u, s] = lines[lines.length - 1].split(/\s+/).map(Number);
          rssKiB = m;
          cpu = u + s;
          // GNU time's first line is "Command exited with non-zero status N" when it failed.
        } catch { /* keep polled values */ }
        fs.rmSync(timeFile, { force: true });
      }
      resolve({ code, wall, cpu, rssKiB, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Checking tlsflight's counts against the generator's
// ---------------------------------------------------------------------------------------------

/** The parts of a (possibly huge) JSON report we need: summary, packets, captures. */
function readReport(file) {
  const size = fs.statSync(file).size;
  if (size < 400 * 2 ** 20) return JSON.parse(fs.readFileSync(file, 'utf8'));
  // Too big for one string: the top-level keys before "connections" are small; cut them out.
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(8 * 2 ** 20);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const text = head.subarray(0, n).toString('utf8');
  const out = {};
  for (const key of ['captures', 'summary', 'packets']) {
    const at = text.indexOf(`"${key}":`);
    if (at < 0) continue;
    let i = text.indexOf(':', at) + 1;
    while (text[i] === ' ' || text[i] === '\n') i++;
    const open = text[i];
    const close = open === '{' ? '}' : ']';
    let depth = 0;
    let inStr = false;
    let j = i;
    for (; j < text.length; j++) {
      const ch = text[j];
      if (inStr) {
        if (ch === '\\') j++;
        else if (ch === '"') inStr = false;
      } else if (ch === '"') inStr = true;
      else if (ch === open) depth++;
      else if (ch === close && --depth === 0) break;
    }
    out[key] = JSON.parse(text.slice(i, j + 1));
  }
  return out;
}

function compareCounts(expected, report) {
  const s = report.summary ?? {};
  const got = {
    connections: s.connections,
    tlsConnections: s.tlsConnections,
    nonTlsConnections: s.nonTlsConnections,
    'byKind.full': s.byKind?.full ?? 0,
    'byKind.resumed-session-id': s.byKind?.['resumed-session-id'] ?? 0,
    'byKind.resumed-ticket': s.byKind?.['resumed-ticket'] ?? 0,
    'byKind.resumed-psk': s.byKind?.['resumed-psk'] ?? 0,
    'byKind.unknown': s.byKind?.unknown ?? 0,
    offeredResumption: s.offeredResumption,
    resumed: s.resumed,
    rejected: s.rejected,
    helloRetry: s.helloRetry,
    complete: s.complete,
    'versions.TLS1.2': s.versions?.['TLS1.2'] ?? 0,
    'versions.TLS1.3': s.versions?.['TLS1.3'] ?? 0,
    udpPackets: s.udpPackets,
    packets: report.captures?.[0]?.packets,
    'packets.tcp': report.packets?.tcp,
  };
  const want = {
    connections: expected.connections,
    tlsConnections: expected.tlsConnections,
    nonTlsConnections: expected.nonTlsConnections,
    'byKind.full': expected.byKind.full,
    'byKind.resumed-session-id': expected.byKind['resumed-session-id'],
    'byKind.resumed-ticket': expected.byKind['resumed-ticket'],
    'byKind.resumed-psk': expected.byKind['resumed-psk'],
    'byKind.unknown': 0,
    offeredResumption: expected.offeredResumption,
    resumed: expected.resumed,
    rejected: expected.rejected,
    helloRetry: expected.helloRetry,
    complete: expected.complete,
    'versions.TLS1.2': expected.versions['TLS1.2'],
    'versions.TLS1.3': expected.versions['TLS1.3'],
    udpPackets: expected.udpPackets,
    packets: expected.packets,
    'packets.tcp': expected.tcpPackets,
  };
  const diffs = [];
  for (const k of Object.keys(want)) if (got[k] !== want[k]) diffs.push({ field: k, expected: want[k], got: got[k] });
  return diffs;
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};

function fmt(n, digits = 1) {
  if (n == null || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return n.toFixed(digits);
}

function table(rows, headers, alignLeft = 3) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i < alignLeft ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(headers), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

const log = (m = '') => process.stdout.write(`${m}\n`);

/** A copy of bin/ + dist/ + package.json (node_modules linked), checked on a sample: immune to rebuilds. */
function snapshotTlsflight(tmp) {
  const dir = path.join(tmp, 'tlsflight');
  for (let attempt = 1; ; attempt++) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    fs.cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const sample = path.join(ROOT, 'samples', 'mix.pcap');
    const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'tlsflight.js'), 'analyze', '-f', 'json', '-q', sample], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (r.status === 0 || attempt >= 5) {
      if (r.status !== 0) log(`WARNING: the dist/ snapshot fails on ${sample}: ${r.stderr.trim().split('\n').pop()}`);
      return path.join(dir, 'bin', 'tlsflight.js');
    }
    spawnSync('sleep', ['3']); // dist/ was probably being rebuilt: try again
  }
}

function gitDescribe() {
  const head = spawnSync('git', ['-C', ROOT, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).stdout.trim();
  let built = '';
  try { built = `, dist/cli.js built ${fs.statSync(path.join(ROOT, 'dist', 'cli.js')).mtime.toISOString()}`; } catch { /* none */ }
  return `${head.slice(0, 70)}${dirty ? ' (+ uncommitted changes in src/)' : ''}${built}`;
}
const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${e.message}\n`);
    return 2;
  }
  if (o.help) {
    log('usage: node bench/run.mjs [--runs N] [--sizes 250M,1G,4G] [--hs-size 200M] [--keep] [--skip-tshark]');
    log('                          [--no-reader-thread] [--no-jobs] [--only bulk|handshake] [--dir DIR] [--seed N]');
    log('                          [--json FILE] [--live]');
    return 0;
  }
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) {
    process.stderr.write('bench: dist/cli.js is missing: build tlsflight first (npx tsc -p .)\n');
    return 2;
  }
  const tshark = o.skipTshark ? null : which('tshark');
  const tmp = fs.mkdtempSync(path.join(o.dir ?? os.tmpdir(), 'tlsflight-bench-'));
  const TLSFLIGHT = o.live ? path.join(ROOT, 'bin', 'tlsflight.js') : snapshotTlsflight(tmp);
  log(`tlsflight bench: node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? '?'}), `
    + `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, load ${loadAvg()}`);
  log(`folder ${tmp}; ${o.runs} run(s) per tool; measured with ${GNU_TIME ? '/usr/bin/time' : '/proc polling'}; `
    + `tlsflight ${gitDescribe()}${o.live ? '' : ' (run from a copy)'}; tshark ${tshark ? spawnSync(tshark, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] : o.skipTshark ? 'skipped' : 'not installed'}`);

  const plan = [];
  if (o.only !== 'handshake') for (const s of o.sizes) plan.push({ profile: 'bulk', size: s });
  if (o.only !== 'bulk') plan.push({ profile: 'handshake', size: o.hsSize });

  const results = { started: new Date().toISOString(), node: process.version, cpus: os.cpus().length, tlsflight: gitDescribe(), files: [] };
  const rows = [];
  /** One line per file: what -j N gains over -j 1 on two copies of it. */
  const scaling = [];
  const genRows = [];
  const checks = [];
  let mismatches = 0;
  let keepDir = null;
  let failures = 0;

  try {
    for (const { profile, size } of plan) {
      const name = `${profile}-${size}.pcap`;
      const file = path.join(tmp, name);
      log(`\n== ${name}: generating (load ${loadAvg()})`);
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const { expected } = await generate({ profile, size, seed: o.seed, out: file });
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpuU = process.cpuUsage(cpu0);
      const cpu = (cpuU.user + cpuU.system) / 1e6;
      const mb = expected.bytes / 1e6;
      genRows.push([name, fmt(expected.bytes / 2 ** 20), fmt(expected.packets, 0), fmt(expected.handshakes, 0),
        wall.toFixed(2), cpu.toFixed(2), fmt(mb / wall), fmt(mb / cpu)]);
      log(`   ${(expected.bytes / 2 ** 20).toFixed(1)} MiB, ${expected.packets} packets, ${expected.handshakes} TLS handshakes, `
        + `${expected.nonTlsConnections} plain TCP, ${expected.udpPackets} UDP packets; ${wall.toFixed(2)} s `
        + `(${(mb / wall).toFixed(0)} MB/s; ${cpu.toFixed(2)} CPU s in this process, ${(mb / cpu).toFixed(0)} MB/s)`);

      // Page cache warm-up + floor sanity check.
      const hw = headerWalk(file, { checkOrder: true });
      if (hw.packets !== expected.packets || hw.outOfOrder || hw.truncated) {
        log(`   WARNING: generated file is off: header walk counted ${hw.packets} packets (generator: ${expected.packets}), `
          + `${hw.outOfOrder} timestamps going backwards, truncated=${hw.truncated}`);
      }

      // Correctness: tlsflight once with its JSON kept.
      const reportFile = path.join(tmp, `${name}.report.json`);
      log(`   checking tlsflight's counts (load ${loadAvg()})`);
      const chk = await measure(process.execPath, [TLSFLIGHT, 'analyze', '-f', 'json', '-q', file], { stdoutFile: reportFile, tmp });
      let diffs = null;
      let keepForDiagnosis = false;
      if (chk.code !== 0) {
        keepForDiagnosis = true;
        failures++;
        log(`   tlsflight exited ${chk.code}: ${chk.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      } else {
        const report = readReport(reportFile);
        diffs = compareCounts(expected, report);
        if (diffs.length) {
          mismatches++;
          keepForDiagnosis = true;
          log(`   MISMATCH: ${diffs.map((d) => `${d.field} expected ${d.expected} got ${d.got}`).join('; ')}`);
          // Every generated connection starts with a SYN, is TLS with a complete handshake or plain HTTP on
          // :80, and closes with FIN: anything else is where tlsflight went wrong.
          const odd = (report.connections ?? []).filter((c) => c.roleBasis !== 'syn' || c.closed !== 'fin'
            || (c.tls && (c.kind === 'unknown' || !c.complete)) || (!c.tls && c.server?.port !== 80)
            || (c.losses ?? []).length || (c.problems ?? []).length);
          for (const c of odd.slice(0, 12)) {
            log(`     suspect #${c.id} ${c.client?.ip}:${c.client?.port} -> ${c.server?.ip}:${c.server?.port} frames ${c.firstFrame}-${c.lastFrame} `
              + `role=${c.roleBasis} tls=${c.tls} kind=${c.kind} complete=${c.complete} closed=${c.closed} `
              + `flights="${c.flightSummary}" losses=${JSON.stringify(c.losses ?? []).slice(0, 200)} problems=${JSON.stringify(c.problems ?? []).slice(0, 200)} reason=${c.reason ?? ''}`);
          }
          if (odd.length > 12) log(`     ... ${odd.length - 12} more`);
        } else {
          log(`   OK: counts per kind match ${path.basename(file)}.expected.json`);
        }
      }
      checks.push({ file: name, ok: chk.code === 0 && diffs && diffs.length === 0, exitCode: chk.code, diffs });
      if (keepForDiagnosis) {
        keepDir = tmp;
        log(`   kept for diagnosis: ${file} (+ .expected.json, .report.json) and the tlsflight copy that ran`);
      } else fs.rmSync(reportFile, { force: true });

      // Timed runs, round-robin over the tools.
      const tools = [
        { tool: 'tlsflight', cmd: process.execPath, args: [TLSFLIGHT, 'analyze', '-f', 'json', '-q', file] },
        // What `tlsflight analyze FILE` costs: the same analysis without a JSON line per connection.
        { tool: 'tlsflight-text', cmd: process.execPath, args: [TLSFLIGHT, 'analyze', '-q', file] },
        { tool: 'floor', cmd: process.execPath, args: [HEADERWALK, file] },
      ];
      // Parallelism inside one file: reading and decoding on a second thread (see README).
      if (o.readerThread) tools.splice(1, 0, { tool: 'tlsflight-rt', cmd: process.execPath, args: [TLSFLIGHT, 'analyze', '-f', 'json', '-q', '--reader-thread', file] });
      // Several files: the same file twice, in one thread and in as many as there are cores.
      if (o.jobs) {
        const n = String(os.availableParallelism());
        tools.push({ tool: '2 files -j1', files: 2, cmd: process.execPath, args: [TLSFLIGHT, 'analyze', '-q', '-j', '1', file, file] });
        tools.push({ tool: `2 files -j${n}`, files: 2, cmd: process.execPath, args: [TLSFLIGHT, 'analyze', '-q', '-j', n, file, file], env: { TLSFLIGHT_PARALLEL_MIN_BYTES: '0' } });
      }
      if (tshark) {
        tools.push({ tool: 'tshark', cmd: tshark, args: ['-r', file, '-n', '-Y', TSHARK_FILTER, '-T', 'fields', '-e', 'tcp.stream', '-e', 'tls.handshake.type'] });
      }
      const samples = Object.fromEntries(tools.map((t) => [t.tool, []]));
      for (let run = 1; run <= o.runs; run++) {
        for (const t of tools) {
          const r = await measure(t.cmd, t.args, { tmp, env: t.env });
          samples[t.tool].push(r);
          log(`   run ${run} ${t.tool.padEnd(14)} ${r.wall.toFixed(2).padStart(7)} s wall ${r.cpu.toFixed(2).padStart(7)} s cpu `
            + `${(r.rssKiB / 1024).toFixed(0).padStart(6)} MiB peak RSS${r.code !== 0 ? `  EXIT ${r.code}: ${r.stderr.trim().split('\n').pop()}` : ''}  (load ${loadAvg()})`);
          if (r.code !== 0) failures++;
        }
      }
      const stat = {};
      if (o.runs === 0) {
        results.files.push({ name, profile, size, expected, generator: { wall, cpu }, check: checks[checks.length - 1] });
        if (!o.keep && !keepForDiagnosis) {
          fs.rmSync(file, { force: true });
          fs.rmSync(`${file}.expected.json`, { force: true });
        }
        continue;
      }
      for (const t of tools) {
        const ss = samples[t.tool];
        stat[t.tool] = { wall: median(ss.map((x) => x.wall)), cpu: median(ss.map((x) => x.cpu)), rssMiB: median(ss.map((x) => x.rssKiB)) / 1024 };
      }
      for (const t of tools) {
        const st = stat[t.tool];
        // Two files: twice the bytes, packets and handshakes; no ratio to one file's tshark or floor.
        const k = t.files ?? 1;
        rows.push([
          name, fmt((k * expected.bytes) / 2 ** 20, 0), t.tool,
          st.wall.toFixed(2), st.cpu.toFixed(2),
          fmt((k * mb) / st.wall), fmt((k * expected.packets) / st.wall, 0), t.tool === 'floor' ? '-' : fmt((k * expected.handshakes) / st.wall, 0),
          fmt(st.rssMiB, 0),
          stat.tshark && k === 1 ? `${(stat.tshark.wall / st.wall).toFixed(1)}x` : '-',
          k === 1 ? `${(st.wall / stat.floor.wall).toFixed(1)}x` : '-',
        ]);
      }
      const multi = tools.filter((t) => t.files === 2);
      if (multi.length === 2) {
        const speedup = stat[multi[0].tool].wall / stat[multi[1].tool].wall;
        scaling.push(`  ${name}: ${multi[1].tool.slice(8)} ${speedup.toFixed(2)}x the speed of -j1 on two copies (${os.availableParallelism()} cores)`);
      }
      results.files.push({ name, profile, size, expected, generator: { wall, cpu }, check: checks[checks.length - 1], stat, samples });
      if (!o.keep && !keepForDiagnosis) {
        fs.rmSync(file, { force: true });
        fs.rmSync(`${file}.expected.json`, { force: true });
      }
    }
  } finally {
    if (!o.keep && !keepDir) fs.rmSync(tmp, { recursive: true, force: true });
  }

  log('\nGenerator (bench/generate.mjs; wall includes waiting for the disk, CPU is this process)');
  log(table(genRows, ['file', 'MiB', 'packets', 'handshakes', 'wall s', 'cpu s', 'MB/s wall', 'MB/s cpu'], 1));
  if (rows.length) log(`\nResults (median of ${o.runs}; MB/s, packets/s and handshakes/s from wall time; "vs tshark" = tshark wall / tool wall,`);
  if (rows.length) log('"vs floor" = tool wall / header-walk wall; cpu = user+sys of the child)');
  if (rows.length) log(table(rows, ['file', 'MiB', 'tool', 'wall s', 'cpu s', 'MB/s', 'packets/s', 'handshakes/s', 'RSS MiB', 'vs tshark', 'vs floor']));
  if (scaling.length) log('\nSeveral files (the same file twice, tlsflight analyze -q -j N FILE FILE)');
  for (const line of scaling) log(line);
  log('\nCounts check (tlsflight JSON vs generator .expected.json)');
  for (const c of checks) {
    log(`  ${c.file}: ${c.ok ? 'OK' : c.exitCode !== 0 ? `tlsflight exited ${c.exitCode}` : `MISMATCH ${c.diffs.map((d) => `${d.field} expected ${d.expected} got ${d.got}`).join('; ')}`}`);
  }
  log(`\nload average at the end: ${loadAvg()} (${os.cpus().length} CPUs: wall times are only comparable on an otherwise idle machine)`);
  if (o.keep || keepDir) log(`files kept in ${tmp}${keepDir && !o.keep ? ' (a check failed: delete it when done)' : ''}`);
  if (o.json) {
    results.finished = new Date().toISOString();
    fs.writeFileSync(o.json, `${JSON.stringify(results, null, 1)}\n`);
  }
  return mismatches || failures ? 1 : 0;
}

process.exitCode = await main();
