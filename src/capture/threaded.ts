import { Worker } from 'node:worker_threads';
import { applySnapshot, countFrame, settle } from './info-sync.js';
import { readCapture, type ReadOptions } from './open.js';
import type { ReaderDone, ReaderJob } from './reader-worker.js';
import { createRing, CTL_BYTES, DEFAULT_RING_BYTES, RingReader } from './ring.js';
import { emptyCaptureInfo, type CaptureInfo, type FrameSink, type ReadResult } from './types.js';

export interface ThreadedReadOptions extends ReadOptions {
  /** Size of the shared frame ring (rounded up to a power of two, 4 KiB to 1 GiB; default 8 MiB). */
  ringBytes?: number;
}

/** @internal Test hooks: a different worker script, or a worker that dies part-way. */
export interface ReaderTestHooks {
  workerUrl?: URL;
  crash?: ReaderJob['crash'];
}

/** Ring bytes consumed between hand-backs of space to the writer (also how often progress is reported). */
const MAX_STEP_BYTES = 256 * 1024;
/** Longest stretch of consuming without letting timers, I/O callbacks and signals run. */
const YIELD_MS = 10;
/** Safety net only: a wait normally ends by notification from the writer or the worker's exit. */
const WAIT_MS = 250;

type Outcome = { ok: true; result: ReadResult } | { ok: false; message: string };

/**
 * readCapture with the file reading, decompression and decoding on a worker thread: frames come
 * back through a shared ring (see ring.ts) and reach `sink` synchronously on this thread, in order,
 * with the same fields; `frame.data` is then a view into the ring, valid only during the call.
 * `onStart` gets a CaptureInfo kept in step with the frames (see info-sync.ts) and the result is
 * the one readCapture gives. Never throws; a reader thread that dies yields a problem.
 *
 * stdin ('-') is read in this thread by readCapture: process.stdin belongs to the main thread, and
 * a worker could only get it by this thread pumping it across chunk by chunk, which is the work
 * we want off this thread. The same fallback applies when the worker cannot be started at all.
 */
export async function readCaptureInThread(
  path: string,
  sink: FrameSink,
  opts: ThreadedReadOptions = {},
  hooks: ReaderTestHooks = {},
): Promise<ReadResult> {
  if (path === '-') return readCapture(path, sink, opts);
  const ring = createRing(opts.ringBytes ?? DEFAULT_RING_BYTES);
  const job: ReaderJob = { path, ring, crash: hooks.crash };
  let worker: Worker;
  try {
    worker = new Worker(hooks.workerUrl ?? new URL('./reader-worker.js', import.meta.url), { workerData: job });
  } catch {
    return readCapture(path, sink, opts);
  }

  let live: CaptureInfo = emptyCaptureInfo();
  let started = false;
  const reader = new RingReader(ring, {
    frame: (f) => {
      countFrame(live, f);
      sink(f);
    },
    start: () => {
      live = emptyCaptureInfo();
      started = true;
      opts.onStart?.(live);
    },
    info: (json) => applySnapshot(live, json),
  });

  let outcome: Outcome | null = null;
  let resolveOutcome!: (o: Outcome) => void;
  const outcomeReady = new Promise<Outcome>((res) => (resolveOutcome = res));
  const conclude = (o: Outcome): void => {
    if (outcome) return;
    outcome = o;
    resolveOutcome(o);
    reader.wake();
  };
  worker.on('message', (m: ReaderDone) => conclude({ ok: true, result: m.result }));
  worker.on('messageerror', (err) => conclude({ ok: false, message: err.message }));
  worker.on('error', (err) => conclude({ ok: false, message: err.message }));
  worker.on('exit', (code) => conclude({ ok: false, message: `it exited (code ${code}) before finishing` }));

  let reported = 0;
  const progress = (): void => {
    if (!opts.onProgress) return;
    const n = reader.progressBytes;
    if (n !== reported) {
      reported = n;
      opts.onProgress(n);
    }
  };

  const step = Math.min(MAX_STEP_BYTES, (ring.byteLength - CTL_BYTES) / 8);
  let consumed = false;
  try {
    let lastYield = performance.now();
    for (;;) {
      const n = reader.consume(step);
      if (n > 0) {
        consumed = true;
        progress();
        if (performance.now() - lastYield >= YIELD_MS) {
          await new Promise((res) => setImmediate(res));
          lastYield = performance.now();
        }
        continue;
      }
      // Nothing left that was published: done, or the worker is gone, or more is on its way.
      if (reader.drained || outcome) break;
      await reader.wait(WAIT_MS);
      lastYield = performance.now();
    }
    progress();
  } catch (err) {
    // The sink (or a callback) threw: readCapture reports that as a non-fatal problem, and so do we.
    reader.abort();
    stopWorker(worker);
    return { info: started ? live : emptyCaptureInfo(), problem: { fatal: false, message: describe(err) } };
  }

  const o = await outcomeReady;
  stopWorker(worker);
  if (!o.ok) {
    if (!reader.started && !consumed) return readCapture(path, sink, opts);
    return {
      info: started ? live : emptyCaptureInfo(),
      problem: { fatal: !started || live.packets === 0, message: `capture reader thread failed: ${o.message}` },
    };
  }
  if (!started) return o.result;
  settle(live, o.result.info);
  return { info: live, problem: o.result.problem };
}

function stopWorker(w: Worker): void {
  // A finished worker exits by itself; this covers one blocked on a full ring or misbehaving, and
  // unref() makes sure it can never keep the process alive.
  w.unref();
  w.terminate().catch(() => undefined);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
