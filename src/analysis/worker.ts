import { parentPort } from 'node:worker_threads';
import type { ConnectionResult } from '../report/model.js';
import { Analyzer } from './analyzer.js';
import { readOneFile } from './run.js';

/** A worker analyzes whole files, one message each, and sends back everything the merge needs. */
export interface FileJob {
  index: number;
  path: string;
  /** Connection results per 'batch' message. */
  batch: number;
  /**
   * Batches this worker may still send (Int32 at 0). The main thread gives one back for each
   * batch it has merged; it merges files in order, so a worker ahead of the others waits here
   * instead of piling up results in memory.
   */
  credit: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'progress'; index: number; bytes: number; total: number | null }
  | { type: 'batch'; index: number; connections: ConnectionResult[] }
  | {
      type: 'done';
      index: number;
      capture: Awaited<ReturnType<typeof readOneFile>>;
      /** The results not sent in batches yet. */
      connections: ConnectionResult[];
      count: number;
      stats: Analyzer['stats'];
      unsupported: number[];
    }
  | { type: 'error'; index: number; message: string };

const port = parentPort;
if (port) {
  port.on('message', (job: FileJob) => {
    void (async () => {
      try {
        const credit = new Int32Array(job.credit);
        let connections: ConnectionResult[] = [];
        const send = () => {
          // Blocks this thread until the main thread has room; the timeout only re-checks.
          while (Atomics.load(credit, 0) <= 0) Atomics.wait(credit, 0, 0, 1000);
          Atomics.sub(credit, 0, 1);
          port.postMessage({ type: 'batch', index: job.index, connections } satisfies WorkerMessage);
          connections = [];
        };
        const analyzer = new Analyzer({
          onConnection: (c) => {
            connections.push(c);
            if (connections.length >= job.batch) send();
          },
        });
        let last = 0;
        const capture = await readOneFile(analyzer, job.path, (bytes, total) => {
          const now = Date.now();
          if (now - last < 100) return;
          last = now;
          port.postMessage({ type: 'progress', index: job.index, bytes, total } satisfies WorkerMessage);
        });
        port.postMessage({
          type: 'done',
          index: job.index,
          capture,
          connections,
          count: analyzer.connectionCount,
          stats: analyzer.stats,
          unsupported: [...analyzer.unsupportedLinkTypes],
        } satisfies WorkerMessage);
      } catch (err) {
        port.postMessage({ type: 'error', index: job.index, message: (err as Error).stack ?? String(err) } satisfies WorkerMessage);
      }
    })();
  });
}
