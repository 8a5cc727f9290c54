import { parentPort } from 'node:worker_threads';
import type { ConnectionResult } from '../report/model.js';
import { Analyzer } from './analyzer.js';
import { readOneFile } from './run.js';

/** A worker analyzes whole files, one message each, and sends back everything the merge needs. */
export interface FileJob {
  index: number;
  path: string;
}

export type WorkerMessage =
  | { type: 'progress'; index: number; bytes: number; total: number | null }
  | {
      type: 'done';
      index: number;
      capture: Awaited<ReturnType<typeof readOneFile>>;
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
        const connections: ConnectionResult[] = [];
        const analyzer = new Analyzer({ onConnection: (c) => connections.push(c) });
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
