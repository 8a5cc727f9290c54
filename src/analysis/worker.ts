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

/**
 * Connections as they ended, and what the file's connections issued meanwhile, in capture order.
 * Per connection: the capture time of its ClientHello (for origin ages, as result.ts measures
 * them) and how many of the file's issues came before its end (so the merge's registry holds, at
 * each connection, what a sequential run's held, evictions included).
 */
export interface Batch {
  connections: ConnectionResult[];
  helloTimes: number[];
  issuedBefore: number[];
  issued: IssueEvent[];
}

export type WorkerMessage =
  /** `conns`: connections started so far in the file (for the merge's density estimate). */
  | { type: 'progress'; index: number; bytes: number; total: number | null; conns: number }
  | ({ type: 'batch'; index: number } & Batch)
  | {
      type: 'done';
      index: number;
      capture: Awaited<ReturnType<typeof readOneFile>>;
      /** What was not sent in batches yet. */
      batch: Batch;
      count: number;
      /** Bytes read from the file. */
      bytes: number;
      stats: Analyzer['stats'];
      unsupported: number[];
    }
  | { type: 'error'; index: number; message: string };

const port = parentPort;
/** Tests only: the worker exits, without a word, when given the file of this index. */
const exitAt = process.env.TLSFLIGHT_TEST_WORKER_EXIT;
if (port) {
  port.on('message', (job: FileJob) => {
    if (exitAt !== undefined && Number(exitAt) === job.index) process.exit(3);
    void (async () => {
      try {
        const credit = new Int32Array(job.credit);
        let batch: Batch = { connections: [], helloTimes: [], issuedBefore: [], issued: [] };
        let issuedSoFar = 0;
        const send = () => {
          // Blocks this thread until the main thread has room; the timeout only re-checks.
          while (Atomics.load(credit, 0) <= 0) Atomics.wait(credit, 0, 0, 1000);
          Atomics.sub(credit, 0, 1);
          port.postMessage({ type: 'batch', index: job.index, ...batch } satisfies WorkerMessage);
          batch = { connections: [], helloTimes: [], issuedBefore: [], issued: [] };
        };
        const analyzer = new Analyzer({
          onConnection: (c, helloTime) => {
            batch.connections.push(c);
            batch.helloTimes.push(helloTime);
            batch.issuedBefore.push(issuedSoFar);
            if (batch.connections.length >= job.batch) send();
          },
          onIssue: (kind, key, rec) => {
            batch.issued.push({ kind, key, rec });
            issuedSoFar++;
          },
        });
        let last = 0;
        let bytesRead = 0;
        const capture = await readOneFile(analyzer, job.path, (bytes, total) => {
          bytesRead = bytes;
          const now = Date.now();
          // Often at first: the merge judges from these how dense the input is (parallel.ts).
          if (now - last < 25) return;
          last = now;
          port.postMessage({ type: 'progress', index: job.index, bytes, total, conns: analyzer.connectionCount } satisfies WorkerMessage);
        });
        port.postMessage({
          type: 'done',
          index: job.index,
          capture,
          batch,
          count: analyzer.connectionCount,
          bytes: bytesRead,
          stats: analyzer.stats,
          unsupported: [...analyzer.unsupportedLinkTypes],
        } satisfies WorkerMessage);
      } catch (err) {
        port.postMessage({ type: 'error', index: job.index, message: (err as Error).stack ?? String(err) } satisfies WorkerMessage);
      }
    })();
  });
}
