// Hang watchdog for code that runs synchronously on the current thread (the decoders and the
// Analyzer never yield, so an infinite loop there cannot be interrupted from the same thread).
//
// A worker thread watches a shared "case started at" clock. When one case has run longer than
// `hangMs`, it connects to the main thread's inspector, pauses it to read its JavaScript stack,
// writes the case description and that stack straight to stderr (fd 2: the main thread's streams
// are blocked), and SIGKILLs the process: a test run fails at once with the culprit named, instead
// of spinning until someone notices. Used by fuzz.test.ts and by `scripts/fuzz.mjs` replays.

import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { writeSync } from 'node:fs';

const TEXT_BYTES = 4096;

export function startWatchdog({ hangMs = 15_000 } = {}) {
  const shared = new SharedArrayBuffer(16 + TEXT_BYTES);
  const started = new Float64Array(shared, 0, 1);
  const len = new Int32Array(shared, 8, 1);
  const text = new Uint8Array(shared, 16, TEXT_BYTES);
  const worker = new Worker(new URL(import.meta.url), { workerData: { fuzzWatchdog: true, shared, hangMs } });
  worker.unref();
  return {
    /** A case begins; `describe` says how to reproduce it. */
    begin(describe) {
      const b = Buffer.from(String(describe)).subarray(0, TEXT_BYTES);
      text.set(b);
      len[0] = b.length;
      started[0] = performance.timeOrigin + performance.now();
    },
    end() {
      started[0] = 0;
    },
    stop() {
      started[0] = 0;
      return worker.terminate();
    },
  };
}

if (!isMainThread && workerData?.fuzzWatchdog) {
  const { shared, hangMs } = workerData;
  const started = new Float64Array(shared, 0, 1);
  const len = new Int32Array(shared, 8, 1);
  const text = new Uint8Array(shared, 16, TEXT_BYTES);
  const report = (stack) => {
    const what = Buffer.from(text.subarray(0, len[0])).toString();
    writeSync(
      2,
      `\nfuzz watchdog: a case has run for more than ${(hangMs / 1000).toFixed(0)} s (hang); killing the process.\n` +
        `${what}\nmain thread stack:\n${stack}\n\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  };
  const tick = async () => {
    const t = started[0];
    if (t > 0 && performance.timeOrigin + performance.now() - t > hangMs) {
      let stack = '    (not available)';
      try {
        const { Session } = await import('node:inspector');
        const s = new Session();
        s.connectToMainThread();
        // Frames name their script by id; Debugger.enable replays scriptParsed for every script.
        const urls = new Map();
        s.on('Debugger.scriptParsed', (m) => urls.set(m.params.scriptId, m.params.url));
        stack = await new Promise((resolve) => {
          const timer = setTimeout(() => resolve('    (main thread did not pause)'), 3000);
          s.on('Debugger.paused', (m) => {
            clearTimeout(timer);
            resolve(
              m.params.callFrames
                .slice(0, 12)
                .map((f) => {
                  const url = f.url || urls.get(f.location.scriptId) || `script ${f.location.scriptId}`;
                  return `    at ${f.functionName || '(anonymous)'} (${url}:${f.location.lineNumber + 1}:${f.location.columnNumber + 1})`;
                })
                .join('\n'),
            );
          });
          s.post('Debugger.enable', () => s.post('Debugger.pause'));
        });
      } catch {
        // no inspector in this build: the description alone still names the case
      }
      report(stack);
      return;
    }
    setTimeout(tick, 250);
  };
  setTimeout(tick, 250);
}
