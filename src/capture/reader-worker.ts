import { parentPort, workerData } from 'node:worker_threads';
import { InfoWatch } from './info-sync.js';
import { readCapture } from './open.js';
import { RingWriter } from './ring.js';
import type { CaptureInfo, Frame, ReadResult } from './types.js';

/** What readCaptureInThread hands the worker (workerData). */
export interface ReaderJob {
  path: string;
  ring: SharedArrayBuffer;
  /** Tests only: make the thread die after this many frames, by an uncaught error or exit(). */
  crash?: { afterFrames: number; how: 'throw' | 'exit' };
}

/** The one message the worker sends: readCapture's result, once every frame is in the ring. */
export interface ReaderDone {
  type: 'done';
  result: ReadResult;
}

async function run(job: ReaderJob): Promise<ReadResult> {
  const writer = new RingWriter(job.ring);
  const watch = new InfoWatch();
  const encoder = new TextEncoder();
  let live: CaptureInfo | null = null;
  let sink = (f: Frame): void => {
    // Info changes go in the ring ahead of the frame, so the reader's copy of the info is what
    // the decoder knew when it produced this frame.
    if (live !== null && watch.changed(live)) writer.info(encoder.encode(watch.snapshot(live)));
    writer.frame(f);
  };
  if (job.crash) sink = crashingSink(sink, job.crash);
  const result = await readCapture(job.path, sink, {
    onStart: (info) => {
      live = info;
      writer.start();
    },
    onProgress: (bytes) => writer.progress(bytes),
  });
  writer.finish();
  return result;
}

function crashingSink(inner: (f: Frame) => void, crash: NonNullable<ReaderJob['crash']>): (f: Frame) => void {
  let n = 0;
  return (f) => {
    inner(f);
    if (++n !== crash.afterFrames) return;
    if (crash.how === 'exit') process.exit(3);
    // Thrown outside readCapture, which would otherwise turn it into a problem it returns.
    setImmediate(() => {
      throw new Error('simulated reader thread crash');
    });
  };
}

const port = parentPort;
if (port && workerData) {
  const job = workerData as ReaderJob;
  void run(job).then((result) => port.postMessage({ type: 'done', result } satisfies ReaderDone));
}
