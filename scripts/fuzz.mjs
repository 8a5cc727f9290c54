#!/usr/bin/env node
// Soak fuzzing of the capture decoders and the analyzer, against the compiled dist/ (build first:
// `npx tsc -p .`). The mutators and invariants are test/fuzz/core.mjs, shared with the vitest run.
//
//   node scripts/fuzz.mjs --minutes 5 [--seed S] [--workers K] [--strict]
//   node scripts/fuzz.mjs --seed S --case I [--save] [--minimize]    replay one case
//   node scripts/fuzz.mjs --input a.bin [--input b.bin]              run saved input(s) every way
//
// Cases run in worker threads; the main thread is a watchdog: a case running longer than
// --hang-ms (or a worker running out of memory) is reported with its seed and case number, and its
// input is regenerated and saved. Failing inputs go to fuzz-failures/ (one directory per failure
// signature, the first inputs of each, plus a minimized one). Exit status 1 on any new failure
// (failures matching test/fuzz/known-bugs.json are reported but only fail with --strict).

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const core = await import(pathToFileURL(join(ROOT, 'test', 'fuzz', 'core.mjs')).href);

/** Compiled code under test: dist/, or --dist DIR (e.g. another checkout's build). */
function distDir() {
  const i = process.argv.indexOf('--dist');
  return i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : join(ROOT, 'dist');
}

async function loadApi(dist = isMainThread ? distDir() : workerData.dist) {
  const d = (p) => import(pathToFileURL(join(dist, p)).href);
  return {
    ...(await d('capture/pcap.js')),
    ...(await d('capture/pcapng.js')),
    ...(await d('analysis/analyzer.js')),
    ...(await d('analysis/summary.js')),
    ...(await d('analysis/run.js')),
    ...(await d('report/text.js')),
    ...(await d('report/json.js')),
  };
}

function knownBugs() {
  const p = join(ROOT, 'test', 'fuzz', 'known-bugs.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : [];
}

function exposeGc() {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc');
  } catch {
    return null;
  }
}

const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Worker: runs cases i = first, first + step, ... until told to stop.

if (!isMainThread) {
  const { seed, first, step, caseLimitMs, memMb, minimizeMs, strategy, mode, shared, tmp, strict } = workerData;
  const cur = new Float64Array(shared); // [case index, case start (performance.timeOrigin-relative ms), stop flag]
  const api = await loadApi();
  const corpus = core.loadCorpus(ROOT);
  const gc = exposeGc();
  const seen = new Set();
  const known = knownBugs();
  const opts = { ...(strategy ? { strategy } : {}), ...(mode ? { mode } : {}) };
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc?.();
  let base = mem();
  let peakGrowth = 0;
  let cases = 0;
  const skipped = {};
  let worstMs = 0;
  let worstCase = -1;
  let lastPost = performance.now();
  const post = () => {
    parentPort.postMessage({ type: 'stats', cases, skipped: { ...skipped }, worstMs, worstCase, peakGrowth, heap: process.memoryUsage().heapUsed });
    cases = 0;
    for (const k of Object.keys(skipped)) delete skipped[k];
  };
  const fail = async (c, kind, err) => {
    const sig = kind === 'exception' ? core.signature(err) : `${kind}: ${err.message.replace(/\d+/g, 'N')}`;
    let minimized = null;
    // Shrink the first input of each new signature (known bugs already have a minimal regression input).
    if (!seen.has(sig) && c.files.length === 1 && kind !== 'memory' && !core.knownBugFor(known, sig, c)) {
      seen.add(sig);
      const fails = async (bytes) => {
        const c2 = { ...c, files: [{ ...c.files[0], bytes }] };
        const t0 = performance.now();
        try {
          await core.runCase(api, c2, { tmpDir: tmp });
        } catch (e) {
          return kind === 'exception' && core.signature(e) === sig;
        }
        return kind === 'slow' && performance.now() - t0 > caseLimitMs;
      };
      try {
        minimized = await core.minimize(c.files[0].bytes, fails, minimizeMs);
      } catch {
        minimized = null;
      }
    }
    parentPort.postMessage({
      type: 'failure',
      kind,
      index: c.index,
      signature: sig,
      message: err?.message ?? String(err),
      stack: err?.stack ?? String(err),
      description: core.describeCase(c),
      minimized,
    });
  };
  for (let i = first; cur[2] === 0; i += step) {
    const c = core.makeCase(corpus, seed, i, opts);
    // Cases that would hit an open, known hang are skipped (see known-bugs.json "guard").
    const guarded = strict ? null : core.guardedBy(known, c);
    if (guarded) {
      skipped[guarded] = (skipped[guarded] ?? 0) + 1;
      continue;
    }
    cur[0] = i;
    cur[1] = performance.timeOrigin + performance.now();
    let ms = 0;
    try {
      ms = (await core.runCase(api, c, { tmpDir: tmp })).ms;
    } catch (err) {
      await fail(c, 'exception', err);
    }
    // Slow once may be the machine; slow twice is the case.
    if (ms > caseLimitMs) {
      try {
        cur[1] = performance.timeOrigin + performance.now();
        ms = Math.min(ms, (await core.runCase(api, c, { tmpDir: tmp })).ms);
      } catch {
        // already reported
      }
    }
    cur[1] = 0;
    if (ms > caseLimitMs) await fail(c, 'slow', new Error(`case took ${ms.toFixed(0)} ms (limit ${caseLimitMs} ms)`));
    if (ms > worstMs) {
      worstMs = ms;
      worstCase = i;
    }
    cases++;
    if (cases % 16 === 0) await core.yieldToEventLoop();
    if (cases % 64 === 0) {
      const g = mem() - base;
      if (g > peakGrowth) peakGrowth = g;
    }
    if (performance.now() - lastPost > 500) {
      // Growth that survives a full GC is retained memory, not garbage.
      gc?.();
      const g = mem() - base;
      if (g > peakGrowth) peakGrowth = g;
      if (gc && g > memMb * MB) {
        await fail(c, 'memory', new Error(`retained memory grew by ${(g / MB).toFixed(0)} MB (bound ${memMb} MB) by case ${i}`));
        base = mem();
      }
      post();
      lastPost = performance.now();
    }
  }
  post();
  parentPort.postMessage({ type: 'done' });
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------
// Main thread

function usage(msg) {
  if (msg) console.error(`fuzz: ${msg}`);
  console.error(
    'usage: node scripts/fuzz.mjs [--minutes N] [--seed S] [--workers K] [--strict] [--strategy NAME] [--mode mem|file|gzip] [--dist DIR]\n' +
      '       node scripts/fuzz.mjs --seed S --case I [--save] [--minimize]\n' +
      '       node scripts/fuzz.mjs --input FILE [--input FILE2]\n' +
      `strategies: ${Object.keys(core.STRATEGIES).join(', ')}`,
  );
  process.exit(2);
}

function checkDist() {
  const marker = join(distDir(), 'analysis', 'analyzer.js');
  if (!existsSync(marker)) usage(`${distDir()} has no build: build first with \`npx tsc -p .\``);
  if (distDir() !== join(ROOT, 'dist')) return;
  const built = statSync(marker).mtimeMs;
  const stale = [];
  const walk = (d) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.ts') && statSync(p).mtimeMs > built) stale.push(p.slice(ROOT.length + 1));
    }
  };
  walk(join(ROOT, 'src'));
  if (stale.length > 0) {
    console.warn(`fuzz: warning: dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}; rebuild with \`npx tsc -p .\``);
  }
}

function slug(s) {
  return s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'failure';
}

async function main() {
  let a;
  try {
    a = parseArgs({
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        case: { type: 'string' },
        workers: { type: 'string' },
        strict: { type: 'boolean', default: false },
        save: { type: 'boolean', default: false },
        minimize: { type: 'boolean', default: false },
        input: { type: 'string', multiple: true },
        strategy: { type: 'string' },
        mode: { type: 'string' },
        out: { type: 'string' },
        'case-limit-ms': { type: 'string' },
        'hang-ms': { type: 'string' },
        'mem-mb': { type: 'string' },
        dist: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    usage(e.message);
  }
  if (a.help) usage();
  if (a.strategy && !core.STRATEGIES[a.strategy]) usage(`unknown strategy ${a.strategy}`);
  if (a.mode && !['mem', 'file', 'gzip'].includes(a.mode)) usage(`unknown mode ${a.mode}`);
  checkDist();
  const out = resolve(a.out ?? join(ROOT, 'fuzz-failures'));
  const caseLimitMs = Number(a['case-limit-ms'] ?? 2000);
  const hangMs = Number(a['hang-ms'] ?? 10_000);
  const memMb = Number(a['mem-mb'] ?? 200);
  const tmp = join(tmpdir(), `tlsflight-fuzz-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

  if (a.input) return replayInputs(a.input, tmp);

  const seed = a.seed !== undefined ? Number(a.seed) >>> 0 : randomInt(2 ** 31);
  const corpus = core.loadCorpus(ROOT);
  const opts = { ...(a.strategy ? { strategy: a.strategy } : {}), ...(a.mode ? { mode: a.mode } : {}) };

  if (a.case !== undefined) return replayCase(corpus, seed, Number(a.case), opts, { out, save: a.save, minimize: a.minimize, tmp });

  const minutes = Number(a.minutes ?? 1);
  if (!(minutes > 0)) usage('--minutes must be a positive number');
  // One core is left to the main thread (watchdog) and the rest of the machine.
  const nWorkers = Math.max(1, Number(a.workers ?? availableParallelism() - 1));
  const known = knownBugs();
  console.log(
    `fuzz: seed=${seed} workers=${nWorkers} minutes=${minutes} corpus=${corpus.length} captures (${(corpus.reduce((n, s) => n + s.bytes.length, 0) / 1024).toFixed(0)} KiB)` +
      ` limits: ${caseLimitMs} ms/case, hang ${hangMs} ms, retained memory ${memMb} MB` +
      (a.strategy ? ` strategy=${a.strategy}` : '') +
      (a.mode ? ` mode=${a.mode}` : ''),
  );

  const t0 = Date.now();
  const deadline = t0 + minutes * 60_000;
  let total = 0;
  let worstMs = 0;
  let worstCase = -1;
  let peakRss = 0;
  let peakGrowth = 0;
  let lastHeap = 0;
  const skippedTotal = {};
  const failures = new Map(); // signature -> { count, kind, known, first, saved }
  const workers = [];

  const record = (f) => {
    const c = core.makeCase(corpus, seed, f.index, opts);
    const knownAs = core.knownBugFor(known, f.signature, c);
    const key = `${knownAs ?? ''}|${f.signature}`;
    let e = failures.get(key);
    const isNew = !e;
    if (!e) {
      e = { count: 0, kind: f.kind, known: knownAs, signature: f.signature, first: f, saved: [] };
      failures.set(key, e);
    }
    e.count++;
    // First inputs of each signature (three of a new one, one of a known one).
    if (e.saved.length < (e.known ? 1 : 3)) {
      const dir = join(out, `${e.known ? `known-${e.known}` : slug(f.kind + '-' + f.signature)}`);
      mkdirSync(dir, { recursive: true });
      const base = join(dir, `seed${seed}-case${f.index}`);
      c.files.forEach((file, i) => writeFileSync(`${base}${c.files.length > 1 ? `-file${i}` : ''}.bin`, file.bytes));
      if (f.minimized) writeFileSync(`${base}.min.bin`, f.minimized);
      writeFileSync(
        `${base}.txt`,
        `${f.kind}: ${f.message}\n${f.description}\nsignature: ${f.signature}\n` +
          `replay: node scripts/fuzz.mjs --seed ${seed} --case ${f.index}${a.strategy ? ` --strategy ${a.strategy}` : ''}${a.mode ? ` --mode ${a.mode}` : ''}\n` +
          `mode ${c.mode}${c.mode !== 'mem' ? ' (through analyzeCaptures on a file' + (c.mode === 'gzip' ? ', gzipped' + (c.gzip?.truncate != null ? ', truncated' : '') + (c.gzip?.flip != null ? ', bit flipped' : '') : '') + ')' : ''}\n\n${f.stack}\n`,
      );
      e.saved.push(base);
    }
    if (isNew) {
      console.log(
        `\n${e.known ? `KNOWN (${e.known})` : 'FAILURE'} [${f.kind}] ${f.description}\n  ${f.message}\n` +
          (f.stack ? `${f.stack.split('\n').slice(0, 8).join('\n')}\n` : '') +
          `  input saved to ${e.saved[e.saved.length - 1]}.bin${f.minimized ? ` (minimized: ${f.minimized.length} bytes, .min.bin)` : ''}\n`,
      );
    }
  };

  const start = (w, first) => {
    const shared = new SharedArrayBuffer(3 * 8);
    const cur = new Float64Array(shared);
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: {
        seed,
        first,
        step: nWorkers,
        caseLimitMs,
        memMb,
        minimizeMs: 10_000,
        strategy: a.strategy,
        mode: a.mode,
        shared,
        tmp,
        strict: a.strict,
        dist: distDir(),
      },
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
    const slot = { w, worker, cur, done: false, dead: false };
    worker.on('message', (m) => {
      if (m.type === 'stats') {
        total += m.cases;
        if (m.worstMs > worstMs) {
          worstMs = m.worstMs;
          worstCase = m.worstCase;
        }
        if (m.peakGrowth > peakGrowth) peakGrowth = m.peakGrowth;
        lastHeap = m.heap;
        for (const [k, n] of Object.entries(m.skipped ?? {})) skippedTotal[k] = (skippedTotal[k] ?? 0) + n;
      } else if (m.type === 'failure') record(m);
      else if (m.type === 'done') slot.done = true;
    });
    worker.on('error', (err) => {
      if (slot.dead) return;
      slot.dead = true;
      const i = cur[0];
      const c = core.makeCase(corpus, seed, i, opts);
      const oom = /out of memory|ERR_WORKER_OUT_OF_MEMORY/i.test(`${err.code} ${err.message}`);
      record({
        type: 'failure',
        kind: oom ? 'memory' : 'crash',
        index: i,
        signature: `${oom ? 'memory' : 'crash'}: ${String(err.message).replace(/\d+/g, 'N')}`,
        message: `worker died on this case: ${err.message}`,
        stack: err.stack ?? '',
        description: core.describeCase(c),
        minimized: null,
      });
      if (Date.now() < deadline) restart(slot, i + nWorkers);
    });
    worker.on('exit', () => {
      slot.done = true;
    });
    workers[w] = slot;
    return slot;
  };
  const restart = (slot, next) => {
    start(slot.w, next);
  };

  for (let w = 0; w < nWorkers; w++) start(w, w);

  let lastReport = Date.now();
  const report = () => {
    const el = (Date.now() - t0) / 1000;
    const nFail = [...failures.values()].filter((f) => !f.known).length;
    const nKnown = [...failures.values()].filter((f) => f.known).length;
    console.log(
      `[${el.toFixed(0).padStart(4)}s] ${total} cases (${(total / el).toFixed(0)}/s) | worst ${worstMs.toFixed(0)} ms (case ${worstCase})` +
        ` | peak RSS ${(peakRss / MB).toFixed(0)} MB | heap ${(lastHeap / MB).toFixed(0)} MB, peak growth ${(peakGrowth / MB).toFixed(0)} MB` +
        ` | failures: ${nFail} new, ${nKnown} known` +
        (Object.keys(skippedTotal).length ? ` | skipped (known hangs): ${Object.entries(skippedTotal).map(([k, n]) => `${k} ${n}`).join(', ')}` : ''),
    );
  };

  await new Promise((resolveDone) => {
    const tick = setInterval(async () => {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
      const now = performance.timeOrigin + performance.now();
      for (const slot of workers) {
        if (slot.dead || slot.done) continue;
        const started = slot.cur[1];
        if (started > 0 && now - started > hangMs) {
          slot.dead = true;
          const i = slot.cur[0];
          await slot.worker.terminate();
          const c = core.makeCase(corpus, seed, i, opts);
          record({
            type: 'failure',
            kind: 'hang',
            index: i,
            signature: `hang: case ran over ${hangMs} ms`,
            message: `case still running after ${hangMs} ms: worker terminated`,
            stack: '',
            description: core.describeCase(c),
            minimized: null,
          });
          if (Date.now() < deadline) restart(slot, i + nWorkers);
        }
      }
      if (Date.now() - lastReport >= 10_000) {
        report();
        lastReport = Date.now();
      }
      if (Date.now() >= deadline) {
        for (const slot of workers) slot.cur[2] = 1;
        if (workers.every((s) => s.done || s.dead)) {
          clearInterval(tick);
          resolveDone();
        } else if (Date.now() > deadline + hangMs + 5000) {
          for (const s of workers) if (!s.done && !s.dead) await s.worker.terminate();
          clearInterval(tick);
          resolveDone();
        }
      }
    }, 100);
  });
  report();
  const newOnes = [...failures.entries()].filter(([, f]) => !f.known);
  const knownOnes = [...failures.entries()].filter(([, f]) => f.known);
  console.log(`\nfuzz: done. seed=${seed} cases=${total} worst case ${worstMs.toFixed(0)} ms (case ${worstCase}) peak RSS ${(peakRss / MB).toFixed(0)} MB`);
  for (const [, f] of [...newOnes, ...knownOnes]) {
    console.log(`  ${f.known ? `known ${f.known}` : 'NEW'} ${f.count}x [${f.kind}] ${f.signature}\n    e.g. ${f.saved[0] ?? '(not saved)'}.bin`);
  }
  for (const [k, n] of Object.entries(skippedTotal)) console.log(`  skipped ${n} case(s) guarded for open hang ${k} (--strict runs them)`);
  if (newOnes.length === 0 && knownOnes.length === 0) console.log('  no failures');
  process.exit(newOnes.length > 0 || (a.strict && knownOnes.length > 0) ? 1 : 0);
}

/** Replays run on the main thread: a hang there is reported (with the stack) by the watchdog. */
async function replayWatchdog(what) {
  const { startWatchdog } = await import(pathToFileURL(join(ROOT, 'test', 'fuzz', 'watchdog.mjs')).href);
  const i = process.argv.indexOf('--hang-ms');
  const dog = startWatchdog({ hangMs: i > 0 ? Number(process.argv[i + 1]) : 10_000 });
  dog.begin(what);
  return dog;
}

async function replayCase(corpus, seed, index, opts, { out, save, minimize, tmp }) {
  const api = await loadApi();
  const c = core.makeCase(corpus, seed, index, opts);
  console.log(core.describeCase(c));
  await replayWatchdog(core.describeCase(c));
  let err = null;
  let ms = 0;
  try {
    ms = (await core.runCase(api, c, { tmpDir: tmp })).ms;
  } catch (e) {
    err = e;
  }
  if (err) console.log(`FAILS: ${err.stack ?? err}\nsignature: ${core.signature(err)}`);
  else console.log(`ok (${ms.toFixed(1)} ms)`);
  if (save || minimize) {
    mkdirSync(out, { recursive: true });
    const base = join(out, `seed${seed}-case${index}`);
    c.files.forEach((f, i) => writeFileSync(`${base}${c.files.length > 1 ? `-file${i}` : ''}.bin`, f.bytes));
    console.log(`saved ${base}*.bin`);
    if (minimize && err && c.files.length === 1) {
      const sig = core.signature(err);
      const m = await core.minimize(
        c.files[0].bytes,
        async (bytes) => {
          try {
            await core.runCase(api, { ...c, files: [{ ...c.files[0], bytes }] }, { tmpDir: tmp });
            return false;
          } catch (e) {
            return core.signature(e) === sig;
          }
        },
        30_000,
      );
      writeFileSync(`${base}.min.bin`, m);
      console.log(`minimized to ${m.length} bytes: ${base}.min.bin`);
    }
  }
  process.exit(err ? 1 : 0);
}

/** Saved inputs through the in-memory pipeline (whole, 1-byte, 7-byte and random chunks) and the file path. */
async function replayInputs(paths, tmp) {
  const api = await loadApi();
  const files = paths.map((p, i) => ({ name: `input-${i}`, bytes: readFileSync(p) }));
  const dog = await replayWatchdog(`--input ${paths.join(' ')}`);
  let bad = 0;
  const plans = [{ kind: 'whole' }, { kind: 'fixed', n: 1 }, { kind: 'fixed', n: 7 }, { kind: 'random', max: 300, seed: 1 }];
  for (const plan of plans) {
    const c = { seed: 0, index: 0, strategies: [], notes: [], sources: paths, files, mode: 'mem', plan };
    dog.begin(`--input ${paths.join(' ')}, in memory, chunks ${JSON.stringify(plan)}`);
    try {
      const { ms } = await core.runCase(api, c, { tmpDir: tmp });
      console.log(`mem ${JSON.stringify(plan)}: ok (${ms.toFixed(1)} ms)`);
    } catch (e) {
      bad++;
      console.log(`mem ${JSON.stringify(plan)}: FAILS\n${e.stack}`);
    }
  }
  for (const mode of ['file', 'gzip']) {
    const c = { seed: 0, index: 0, strategies: [], notes: [], sources: paths, files, mode, plan: { kind: 'whole' } };
    try {
      const { ms } = await core.runCase(api, c, { tmpDir: tmp });
      console.log(`${mode}: ok (${ms.toFixed(1)} ms)`);
    } catch (e) {
      bad++;
      console.log(`${mode}: FAILS\n${e.stack}`);
    }
  }
  process.exit(bad > 0 ? 1 : 0);
}
