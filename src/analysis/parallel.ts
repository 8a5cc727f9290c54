import { Worker } from 'node:worker_threads';
import type { CaptureSummary, ConnectionResult, OriginJson, PacketStats, Report } from '../report/model.js';
import { originJson } from './result.js';
import type { Offer } from './types.js';
import { IssuedRegistry, type IssueRecord } from './linker.js';
import { Analyzer } from './analyzer.js';
import { readOneFile, type Collector, type RunOptions } from './run.js';
import type { Batch, FileJob, IssueEvent, WorkerMessage } from './worker.js';

type Done = Extract<WorkerMessage, { type: 'done' }>;

/** What a client can offer to resume, in the order an origin is looked for. */
const VIAS = ['ticket', 'session-id', 'psk'] as const;

/** The key of what `c`'s ClientHello offered by `via`, as the registry knows it. */
function offeredKey(c: ConnectionResult, via: OriginJson['via']): string | null {
  return (via === 'ticket' ? c.ticketOffered?.hash : via === 'session-id' ? c.sessionId.client : c.psk?.identityHashes[0]) ?? null;
}

const TICKET_ISSUED = 'ticket was issued by NewSessionTicket in connection #';
const SESSION_ID_ISSUED = 'session ID was issued by the ServerHello of connection #';
const BOTH_OFFERED = 'both a ticket and a session ID were offered';
const MAYBE_COMPAT_ID = 'TLS 1.3-capable ClientHello with a 32-byte session ID never issued in this capture';

/**
 * Cross-file links. Inside a file the worker linked offers to their origins; an offer whose origin
 * is in an earlier file is linked here, from what earlier files' connections issued. The registry
 * is fed with the issues the workers saw, in capture order, file after file: the same first issuer
 * of each key as a sequential run's registry.
 */
class CrossFileLinker {
  private readonly reg = new IssuedRegistry();

  /** What the files merged so far issued: at a file boundary, what a sequential run's analyzer holds. */
  get registry(): IssuedRegistry {
    return this.reg;
  }

  /** Issues `from` to `to` of a batch, with connection ids continued from the earlier files. */
  remember(issued: IssueEvent[], from: number, to: number, offset: number): void {
    for (let i = from; i < to; i++) {
      const e = issued[i];
      this.reg.issue(e.kind, e.key, offset === 0 ? e.rec : { ...e.rec, conn: e.rec.conn + offset });
    }
  }

  /**
   * Links `c` as a sequential run would have: its origin is the first of ticket, session ID and
   * PSK (the order result.ts looks in) whose key an earlier file issued (connection ids up to
   * `lastEarlierId`) or its own file did, an earlier file's first.
   */
  link(c: ConnectionResult, lastEarlierId: number, helloTime: number): void {
    const compat = c.sessionId.client !== null ? c.evidence.findIndex((e) => e.startsWith(MAYBE_COMPAT_ID)) : -1;
    if (compat >= 0) {
      const rec = this.reg.get('session-id', c.sessionId.client!);
      if (rec && rec.conn <= lastEarlierId) this.offeredAfterAll(c, compat);
    }
    if (!c.offered || c.offered.length === 0) return;
    for (const via of VIAS) {
      if (!c.offered.includes(via)) continue;
      const key = offeredKey(c, via);
      const rec = key ? this.reg.get(via, key) : null;
      if (rec && rec.conn <= lastEarlierId) {
        this.linkTo(c, via, rec, helloTime);
        return;
      }
      if (c.origin?.via === via) return;
    }
  }

  /**
   * A TLS 1.3-capable client's 32-byte session ID that its own file never issued reads as a
   * compatibility-mode random ID; an earlier file issued it, so it was an offer, and classify.ts,
   * given that registry, would have said so: first among the offers, and a full handshake
   * rejected it.
   */
  private offeredAfterAll(c: ConnectionResult, compatLine: number): void {
    const offered: Offer[] = ['session-id', ...(c.offered ?? [])];
    c.offered = offered;
    const ev = c.evidence.filter((_, i) => i !== compatLine);
    if (c.kind === 'full' && c.resumed === false) {
      c.rejected = true;
      const line = `client offered ${offered.join(' + ')}; server did a full handshake`;
      const had = ev.findIndex((e) => e.startsWith('client offered ') && e.endsWith('; server did a full handshake'));
      if (had >= 0) ev[had] = line;
      else {
        const add = [line];
        if (c.sessionId.server && c.sessionId.server !== c.sessionId.client) add.push('ServerHello has a new session ID');
        // classify12 ends with these; only an alert's line comes after them.
        const alert = ev.findIndex((e) => /^(client|server|plaintext) alert /.test(e));
        ev.splice(alert < 0 ? ev.length : alert, 0, ...add);
      }
    } else if (c.resumed !== true && c.rejected === false) {
      // No (final) ServerHello: nothing offered was answered; classify.ts says false there only
      // when nothing was offered. An abbreviated handshake stays false: an offer was accepted.
      c.rejected = null;
    }
    c.evidence = ev;
  }

  private linkTo(c: ConnectionResult, via: OriginJson['via'], rec: IssueRecord, helloTime: number): void {
    c.origin = originJson(via, rec, helloTime, c.server);
    // TLS <= 1.2 abbreviated handshakes say what was resumed from the same lookups (classify12):
    // a ticket issued earlier first, then a session ID. A TLS 1.3 PSK's origin is the first
    // connection that offered it, not an issuer: no resumedFrom there, as in a sequential run.
    if (via === 'psk' || c.resumed !== true || (c.kind !== 'resumed-ticket' && c.kind !== 'resumed-session-id')) return;
    c.kind = via === 'ticket' ? 'resumed-ticket' : 'resumed-session-id';
    c.ambiguous = false;
    c.resumedFrom = rec.conn;
    const said = `${via === 'ticket' ? TICKET_ISSUED : SESSION_ID_ISSUED}${rec.conn}`;
    const ev = c.evidence.filter((e) => !e.startsWith(TICKET_ISSUED) && !e.startsWith(SESSION_ID_ISSUED) && !e.startsWith(BOTH_OFFERED));
    // Where classify12 puts it: after the ticket's line, or the session ID echo's without a ticket.
    let at = ev.findIndex((e) => e.startsWith('ClientHello carried a session ticket'));
    if (at < 0) at = ev.indexOf('ServerHello echoes client session ID');
    ev.splice(at < 0 ? ev.length : at + 1, 0, said);
    c.evidence = ev;
  }
}

/** Connection results per message from a worker. */
const BATCH = 500;
/** Batches a worker may have on their way before it waits for the main thread to merge them. */
const CREDITS = 4;

/**
 * Connections per MiB read above which the rest of the run goes on in this thread. Every result a
 * worker finds is copied to this thread and merged here: about 40 µs a connection (serializing,
 * deserializing and their garbage), more than analyzing it, while a second thread saves about
 * 0.2 ms per MiB on two cores. Two files of 256 connections per MiB took 1.4-1.6 times as long
 * in workers as in one thread (bench/README.md).
 */
const DENSE_PER_MIB = 4;
/**
 * MiB read per thread before a density above DENSE_PER_MIB is believed: a capture often starts
 * with a burst of connections opening (64 in the first few MiB of the bulk benchmark's file).
 */
const SAMPLE_MIB = 64;

function envCount(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v >= 1 ? v : fallback;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const v = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(v) && v >= 0 ? v : fallback;
}

/**
 * Analyzes files in this thread and a pool of worker threads, and merges the results in file order.
 * This thread analyzes the first file itself, as a sequential run would, while workers take the
 * later ones; workers send their results in batches as connections end, and this thread merges
 * the batches of the file whose turn it is. A worker that runs ahead (on a later file) stops after
 * a few batches until its file's turn comes, so memory stays bounded however many connections the
 * files hold. On dense input (see DENSE_PER_MIB) the run goes on in this thread alone.
 */
export async function analyzeInWorkers(paths: string[], jobs: number, opts: RunOptions, collector: Collector): Promise<Report> {
  const batch = envCount('TLSFLIGHT_WORKER_BATCH', BATCH);
  const credits = envCount('TLSFLIGHT_WORKER_CREDITS', CREDITS);
  // For tests and measurements: when the run goes on in this thread, and a line on stderr when it does.
  const densePerMiB = envNumber('TLSFLIGHT_DENSE_PER_MIB', DENSE_PER_MIB);
  const sampleMiB = envNumber('TLSFLIGHT_DENSITY_SAMPLE_MIB', SAMPLE_MIB);
  const trace = process.env.TLSFLIGHT_TRACE_PARALLEL === '1';
  const captures: CaptureSummary[] = [];
  const stats: PacketStats = { tcp: 0, udp: 0, otherIp: 0, notIp: 0, ipFragments: 0, malformed: 0, truncated: 0, unsupportedLink: 0, afterClose: 0 };
  const unsupported = new Set<number>();
  const linker = new CrossFileLinker();
  /** Batches of files whose turn has not come, with the credit to give back once merged. */
  const queued: { batch: Batch; credit: Int32Array }[][] = paths.map(() => []);
  const done: (Done | undefined)[] = new Array(paths.length);
  /** The file being merged; 0 while this thread analyzes the first file. */
  let current = 0;
  let offset = 0;
  /** The next file for a worker. */
  let next = 1;
  const workers: Worker[] = [];
  /** The file each running worker is on. */
  const fileOf = new Map<Worker, number>();
  // Bytes read and connections started per file, as last told, and their sums.
  const seenBytes: number[] = paths.map(() => 0);
  const seenConns: number[] = paths.map(() => 0);
  /** File sizes, as the workers' progress tells them (readOneFile has them from the file system). */
  const sizes: (number | null)[] = paths.map(() => null);
  /** Results received per file: a worker waiting for credit sends no progress. */
  const received: number[] = paths.map(() => 0);
  let totalBytes = 0;
  let totalConns = 0;
  /** From this file on, files are analyzed in this thread once the merge gets there (-1: none). */
  let serialFrom = -1;
  let settle!: (err: Error | null) => void;
  const finished = new Promise<Error | null>((res) => (settle = res));
  /** Set when the run has failed: the main thread's own reading stops at its next chunk. */
  let failure: Error | null = null;
  const fail = (err: Error) => {
    failure ??= err;
    settle(err);
  };

  /** Issues of the current file handed to the linker so far. */
  let remembered = 0;
  const merge = (b: Batch) => {
    const conns = b.connections;
    // Ids continue from the previous file, as in a sequential run.
    for (const c of conns) {
      c.id += offset;
      if (c.resumedFrom !== null) c.resumedFrom += offset;
      if (c.origin) c.origin.connection += offset;
      if (offset > 0) c.evidence = c.evidence.map((e) => e.replace(/connection #(\d+)/g, (_, n: string) => `connection #${Number(n) + offset}`));
    }
    // Each connection is linked against what was issued before it ended, as in a sequential run.
    const first = remembered;
    const upTo = (n: number) => {
      if (n <= remembered) return;
      linker.remember(b.issued, remembered - first, n - first, offset);
      remembered = n;
    };
    for (let i = 0; i < conns.length; i++) {
      upTo(b.issuedBefore[i]);
      linker.link(conns[i], offset, b.helloTimes[i]);
    }
    upTo(first + b.issued.length);
    for (const c of conns) collector.add(c);
  };
  const giveBack = (credit: Int32Array) => {
    Atomics.add(credit, 0, 1);
    Atomics.notify(credit, 0);
  };
  /** Merges what the workers sent, file after file, from `current` on (never the first file). */
  const advance = () => {
    if (current === 0) return;
    while (current < paths.length) {
      if (serialFrom >= 0 && current >= serialFrom) break;
      for (const q of queued[current]) {
        merge(q.batch);
        giveBack(q.credit);
      }
      queued[current] = [];
      const d = done[current];
      if (!d) return;
      merge(d.batch);
      remembered = 0;
      captures.push(d.capture);
      addStats(d.stats, d.unsupported);
      offset += d.count;
      done[current] = undefined;
      current++;
    }
    settle(null);
  };
  const addStats = (s: PacketStats, types: Iterable<number>) => {
    for (const k of Object.keys(stats) as (keyof PacketStats)[]) stats[k] += s[k];
    for (const t of types) unsupported.add(t);
  };
  const start = (w: Worker, credit: SharedArrayBuffer) => {
    if (next >= paths.length || serialFrom >= 0) {
      // Its last file is done (the 'done' message came after all its batches): nothing is lost.
      fileOf.delete(w);
      void w.terminate();
      return;
    }
    const job: FileJob = { index: next, path: paths[next], batch, credit };
    fileOf.set(w, next);
    next++;
    w.postMessage(job);
  };
  const seen = (i: number, bytes: number, conns: number) => {
    totalBytes += bytes - seenBytes[i];
    seenBytes[i] = bytes;
    totalConns += conns - seenConns[i];
    seenConns[i] = conns;
    if (serialFrom < 0 && totalConns > densePerMiB * Math.max(totalBytes / 2 ** 20, sampleMiB * (workers.length + 1))) goSerial();
  };
  /**
   * Dense input: results would cost more to move than the workers save. The file being merged
   * finishes where it is, as do files ahead of it that are done or at least half read; the first
   * one that is not, and every file after it, will be analyzed in this thread.
   */
  const goSerial = () => {
    let cut = next;
    for (let i = current + 1; i < next; i++) {
      if (done[i] !== undefined) continue;
      const size = sizes[i];
      if (size === null || seenBytes[i] * 2 < size) {
        cut = i;
        break;
      }
    }
    serialFrom = cut;
    for (const [w, i] of fileOf) {
      if (i < cut) continue;
      fileOf.delete(w);
      void w.terminate();
    }
    for (let i = cut; i < paths.length; i++) {
      queued[i] = [];
      done[i] = undefined;
      // What a stopped worker read is read again: progress counts it once.
      if (seenBytes[i] > 0) opts.onProgress?.(paths[i], 0, sizes[i], i);
    }
    if (trace) {
      const at = `${totalConns} connections in ${(totalBytes / 2 ** 20).toFixed(1)} MiB`;
      const what = cut < paths.length ? `files from #${cut + 1} on in the main thread` : 'no file left for the main thread';
      process.stderr.write(`tlsflight: ${at}: ${what} (${Math.round(process.uptime() * 1000)} ms)\n`);
    }
  };

  /** A worker thread, started on the next file. */
  const addWorker = () => {
    const w = new Worker(new URL('./worker.js', import.meta.url));
    const shared = new SharedArrayBuffer(4);
    const credit = new Int32Array(shared);
    credit[0] = credits;
    workers.push(w);
    w.on('message', (m: WorkerMessage) => {
      try {
        // A stopped worker's last messages: its file is analyzed again in this thread.
        if (serialFrom >= 0 && m.index >= serialFrom) return;
        if (m.type === 'progress') {
          sizes[m.index] = m.total;
          opts.onProgress?.(paths[m.index], m.bytes, m.total, m.index);
          seen(m.index, m.bytes, m.conns);
        } else if (m.type === 'batch') {
          if (m.index === current) {
            merge(m);
            giveBack(credit);
          } else {
            queued[m.index].push({ batch: m, credit });
            received[m.index] += m.connections.length;
            seen(m.index, seenBytes[m.index], Math.max(seenConns[m.index], received[m.index]));
          }
        } else if (m.type === 'done') {
          done[m.index] = m;
          // The last progress message may be up to 25 ms old.
          opts.onProgress?.(paths[m.index], m.bytes, sizes[m.index], m.index);
          seen(m.index, m.bytes, m.count);
          // The density check may have just handed this file to this thread.
          if (serialFrom >= 0 && m.index >= serialFrom) return;
          start(w, shared);
          if (m.index === current) advance();
        } else {
          fail(new Error(`worker failed on ${paths[m.index]}: ${m.message}`));
        }
      } catch (err) {
        fail(err as Error);
      }
    });
    // Only a worker on a file still wanted can fail the run: one stopped by goSerial is off the list.
    w.on('error', (err) => {
      if (fileOf.has(w)) fail(err);
    });
    w.on('exit', (code) => {
      if (fileOf.has(w)) fail(new Error(`worker for ${paths[fileOf.get(w)!]} exited (code ${code})`));
    });
    start(w, shared);
  };
  // `jobs` threads in all: this one on the first file, and one worker more once it is done.
  for (let k = 0; k < Math.min(jobs - 1, paths.length - 1); k++) addWorker();
  try {
    // The first file here, while the workers start on the next ones: on dense input this thread
    // is the limit anyway, and its own results need no copying.
    const here = new Analyzer({ onConnection: (c) => collector.add(c), issued: linker.registry });
    const progress = (n: number, t: number | null) => {
      // Thrown here, it ends the read like a read error; the run then fails with it below.
      if (failure) throw failure;
      opts.onProgress?.(paths[0], n, t, 0);
      seen(0, n, here.connectionCount);
    };
    const capture = await readOneFile(here, paths[0], progress, opts.readerThread ?? false, opts.pause);
    // Progress comes before each chunk is analyzed: the file's last connections count only now.
    seen(0, seenBytes[0], here.connectionCount);
    captures.push(capture);
    addStats(here.stats, here.unsupportedLinkTypes);
    offset = here.connectionCount;
    current = 1;
    if (serialFrom < 0 && next < paths.length && workers.length < jobs) addWorker();
    advance();
    const err = await finished;
    if (err) throw err;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (current < paths.length) {
    // The rest in this thread, as a sequential run would go on: ids and the registry of issues continue.
    const analyzer = new Analyzer({ onConnection: (c) => collector.add(c), firstId: offset + 1, issued: linker.registry });
    for (let i = current; i < paths.length; i++) {
      const progress = opts.onProgress ? (n: number, t: number | null) => opts.onProgress!(paths[i], n, t, i) : undefined;
      captures.push(await readOneFile(analyzer, paths[i], progress, opts.readerThread ?? false, opts.pause));
    }
    addStats(analyzer.stats, analyzer.unsupportedLinkTypes);
  }
  return collector.report(captures, stats, unsupported);
}
