import { parentPort } from 'node:worker_threads';
import type { ConnectionResult } from '../report/model.js';
import { Analyzer } from './analyzer.js';
import type { IssueKind, IssueRecord } from './linker.js';
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

/** What a connection of the file issued, in capture order (Analyzer's onIssue). */
export interface IssueEvent {
  kind: IssueKind;
  key: string;
  rec: IssueRecord;
}

export type WorkerMessage =
  | { type: 'progress'; index: number; bytes: number; total: number | null }
  | { type: 'batch'; index: number; connections: ConnectionResult[]; issued: IssueEvent[] }
  | {
      type: 'done';
      index: number;
      capture: Awaited<ReturnType<typeof readOneFile>>;
      /** The results (and issues) not sent in batches yet. */
      connections: ConnectionResult[];
      issued: IssueEvent[];
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
        let issued: IssueEvent[] = [];
        const send = () => {
          // Blocks this thread until the main thread has room; the timeout only re-checks.
          while (Atomics.load(credit, 0) <= 0) Atomics.wait(credit, 0, 0, 1000);
          Atomics.sub(credit, 0, 1);
          port.postMessage({ type: 'batch', index: job.index, connections, issued } satisfies WorkerMessage);
          connections = [];
          issued = [];
        };
        const analyzer = new Analyzer({
          onConnection: (c) => {
            connections.push(c);
            if (connections.length >= job.batch) send();
          },
          // In capture order, batch after batch: the merge remembers them as a sequential run would.
          onIssue: (kind, key, rec) => issued.push({ kind, key, rec }),
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
          issued,
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
