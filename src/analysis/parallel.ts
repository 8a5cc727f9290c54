import { Worker } from 'node:worker_threads';
import type { CaptureSummary, ConnectionResult, OriginJson, PacketStats, Report } from '../report/model.js';
import { originJson } from './result.js';
import type { Offer } from './types.js';
import { IssuedRegistry, type IssueRecord } from './linker.js';
import type { Collector, RunOptions } from './run.js';
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

function envCount(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v >= 1 ? v : fallback;
}

/**
 * Analyzes files in a pool of worker threads and merges the results in file order. Workers send
 * their results in batches as connections end, and the main thread merges the batches of the
 * file whose turn it is; a worker that runs ahead (on a later file) stops after a few batches
 * until its file's turn comes, so memory stays bounded however many connections the files hold.
 */
export async function analyzeInWorkers(paths: string[], jobs: number, opts: RunOptions, collector: Collector): Promise<Report> {
  const batch = envCount('TLSFLIGHT_WORKER_BATCH', BATCH);
  const credits = envCount('TLSFLIGHT_WORKER_CREDITS', CREDITS);
  const captures: CaptureSummary[] = [];
  const stats: PacketStats = { tcp: 0, udp: 0, otherIp: 0, notIp: 0, ipFragments: 0, malformed: 0, truncated: 0, unsupportedLink: 0, afterClose: 0 };
  const unsupported = new Set<number>();
  const linker = new CrossFileLinker();
  /** Batches of files whose turn has not come, with the credit to give back once merged. */
  const queued: { batch: Batch; credit: Int32Array }[][] = paths.map(() => []);
  const done: (Done | undefined)[] = new Array(paths.length);
  let current = 0;
  let offset = 0;
  let next = 0;
  const workers: Worker[] = [];
  let settle!: (err: Error | null) => void;
  const finished = new Promise<Error | null>((res) => (settle = res));

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
  const advance = () => {
    while (current < paths.length) {
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
      for (const k of Object.keys(stats) as (keyof PacketStats)[]) stats[k] += d.stats[k];
      for (const t of d.unsupported) unsupported.add(t);
      offset += d.count;
      done[current] = undefined;
      current++;
    }
    settle(null);
  };
  const start = (w: Worker, credit: SharedArrayBuffer) => {
    if (next >= paths.length) {
      // Its last file is done (the 'done' message came after all its batches): nothing is lost.
      void w.terminate();
      return;
    }
    const job: FileJob = { index: next, path: paths[next], batch, credit };
    next++;
    w.postMessage(job);
  };

  for (let k = 0; k < Math.min(jobs, paths.length); k++) {
    const w = new Worker(new URL('./worker.js', import.meta.url));
    const shared = new SharedArrayBuffer(4);
    const credit = new Int32Array(shared);
    credit[0] = credits;
    workers.push(w);
    w.on('message', (m: WorkerMessage) => {
      try {
        if (m.type === 'progress') {
          opts.onProgress?.(paths[m.index], m.bytes, m.total, m.index);
        } else if (m.type === 'batch') {
          if (m.index === current) {
            merge(m);
            giveBack(credit);
          } else queued[m.index].push({ batch: m, credit });
        } else if (m.type === 'done') {
          done[m.index] = m;
          start(w, shared);
          if (m.index === current) advance();
        } else {
          settle(new Error(`worker failed on ${paths[m.index]}: ${m.message}`));
        }
      } catch (err) {
        settle(err as Error);
      }
    });
    w.on('error', (err) => settle(err));
    start(w, shared);
  }
  try {
    const failure = await finished;
    if (failure) throw failure;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return collector.report(captures, stats, unsupported);
}
