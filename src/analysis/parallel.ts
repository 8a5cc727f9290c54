import { Worker } from 'node:worker_threads';
import type { CaptureSummary, ConnectionResult, OriginJson, PacketStats, Report } from '../report/model.js';
import { IssuedRegistry, type IssueRecord } from './linker.js';
import type { Collector, RunOptions } from './run.js';
import type { FileJob, WorkerMessage } from './worker.js';

type Done = Extract<WorkerMessage, { type: 'done' }>;

/**
 * A connection's `start` (isoTime) in seconds, to its full precision: Date.parse keeps
 * milliseconds only, which moved ages computed across files by up to a millisecond.
 */
function startSeconds(start: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(start);
  if (m) return Date.parse(`${m[1]}Z`) / 1000 + (m[2] ? Number(m[2]) : 0);
  const e = /^epoch\+(-?[\d.e+]+)s$/.exec(start);
  return e ? Number(e[1]) : Date.parse(start) / 1000;
}

/** Capture time (seconds) of the first flight from `from` that carries `message`. */
function messageTime(c: ConnectionResult, message: string): number {
  const start = startSeconds(c.start);
  const f = c.flights.find((x) => x.messages.includes(message));
  return start + (f ? f.atMs / 1000 : 0);
}

/** What a client can offer to resume, in the order an origin is looked for. */
const VIAS = ['ticket', 'session-id', 'psk'] as const;

/** The key of what `c`'s ClientHello offered by `via`, as the registry knows it. */
function offeredKey(c: ConnectionResult, via: OriginJson['via']): string | null {
  return (via === 'ticket' ? c.ticketOffered?.hash : via === 'session-id' ? c.sessionId.client : c.psk?.identityHashes[0]) ?? null;
}

/** `c`'s origin in an earlier file's connection, from what the registry kept of it. */
function originFrom(c: ConnectionResult, via: OriginJson['via'], rec: IssueRecord): OriginJson {
  return {
    via,
    connection: rec.conn,
    server: { ip: rec.serverIp, port: rec.serverPort },
    sni: rec.sni,
    ageS: Math.round((messageTime(c, 'CH') - rec.time) * 1000) / 1000,
    lifetimeHint: rec.lifetimeHint,
    sameServer: rec.serverIp === c.server.ip && rec.serverPort === c.server.port,
  };
}

/**
 * Cross-file links: inside a file the worker linked offers to their origins; an offer whose origin
 * is in an earlier file is linked here, from what earlier files' connections issued, and so is one
 * the worker linked inside its file when an earlier file had issued the same key first.
 */
class CrossFileLinker {
  private readonly reg = new IssuedRegistry();

  /**
   * Links `c` to what an earlier file issued (connection ids up to `lastEarlierId`), then
   * remembers what `c` issued. Connections of a file come in the order they ended: where two
   * issued the same key, the one with the lower id (the one that started first) is kept.
   */
  link(c: ConnectionResult, lastEarlierId: number): void {
    if (c.origin !== null && c.origin.connection > lastEarlierId) this.relink(c, c.origin, lastEarlierId);
    if (c.origin === null && c.offered && c.offered.length > 0) {
      for (const via of VIAS) {
        const key = c.offered.includes(via) ? offeredKey(c, via) : null;
        if (!key) continue;
        const rec = this.reg.get(via, key);
        if (!rec || rec.conn > lastEarlierId) continue;
        c.origin = originFrom(c, via, rec);
        const said = via === 'ticket' ? `ticket was issued by NewSessionTicket in connection #${rec.conn}` : `session ID was issued by the ServerHello of connection #${rec.conn}`;
        if (c.ambiguous && via !== 'psk') {
          // Both a ticket and a session ID were offered: the earlier file says which was issued.
          c.kind = via === 'ticket' ? 'resumed-ticket' : 'resumed-session-id';
          c.ambiguous = false;
          c.evidence = c.evidence.map((e) => (e.startsWith('both a ticket and a session ID were offered') ? said : e));
        }
        const kindVia = c.kind === 'resumed-ticket' ? 'ticket' : c.kind === 'resumed-session-id' ? 'session-id' : null;
        // A PSK's origin is the first connection that offered it, not an issuer: no resumedFrom,
        // as in a sequential run.
        if (kindVia === via && c.resumedFrom === null) {
          c.resumedFrom = rec.conn;
          if (!c.evidence.includes(said)) c.evidence.push(said);
        }
        break;
      }
    }
    const rec = (time: number, lifetimeHint: number | null) => ({
      conn: c.id,
      serverIp: c.server.ip,
      serverPort: c.server.port,
      sni: c.sni,
      time,
      lifetimeHint,
    });
    for (const t of c.tickets) this.reg.issueEarliest('ticket', t.hash, rec(messageTime(c, 'NST'), t.lifetimeHint));
    if (c.sessionId.server && c.version !== 'TLS1.3') this.reg.issueEarliest('session-id', c.sessionId.server, rec(messageTime(c, 'SH'), null));
    for (const h of c.psk?.identityHashes.slice(0, 1) ?? []) this.reg.issueEarliest('psk', h, rec(messageTime(c, 'CH'), null));
  }

  /**
   * The worker linked `c` to a connection of its own file; an earlier file may have issued the
   * same key first, and a sequential run, whose first issuer wins across files, names that one.
   */
  private relink(c: ConnectionResult, o: NonNullable<ConnectionResult['origin']>, lastEarlierId: number): void {
    const key = offeredKey(c, o.via);
    const rec = key ? this.reg.get(o.via, key) : null;
    if (!rec || rec.conn > lastEarlierId) return;
    const was = o.connection;
    c.origin = originFrom(c, o.via, rec);
    if (c.resumedFrom === was) c.resumedFrom = rec.conn;
    c.evidence = c.evidence.map((e) =>
      (e.startsWith('ticket was issued by') || e.startsWith('session ID was issued by')) && e.endsWith(`connection #${was}`)
        ? `${e.slice(0, e.length - String(was).length)}${rec.conn}`
        : e,
    );
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
  const queued: { connections: ConnectionResult[]; credit: Int32Array }[][] = paths.map(() => []);
  const done: (Done | undefined)[] = new Array(paths.length);
  let current = 0;
  let offset = 0;
  let next = 0;
  const workers: Worker[] = [];
  let settle!: (err: Error | null) => void;
  const finished = new Promise<Error | null>((res) => (settle = res));

  const merge = (conns: ConnectionResult[]) => {
    // Ids continue from the previous file, as in a sequential run.
    for (const c of conns) {
      c.id += offset;
      if (c.resumedFrom !== null) c.resumedFrom += offset;
      if (c.origin) c.origin.connection += offset;
      if (offset > 0) c.evidence = c.evidence.map((e) => e.replace(/connection #(\d+)/g, (_, n: string) => `connection #${Number(n) + offset}`));
    }
    for (const c of [...conns].sort((a, b) => a.id - b.id)) linker.link(c, offset);
    for (const c of conns) collector.add(c);
  };
  const giveBack = (credit: Int32Array) => {
    Atomics.add(credit, 0, 1);
    Atomics.notify(credit, 0);
  };
  const advance = () => {
    while (current < paths.length) {
      for (const q of queued[current]) {
        merge(q.connections);
        giveBack(q.credit);
      }
      queued[current] = [];
      const d = done[current];
      if (!d) return;
      merge(d.connections);
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
            merge(m.connections);
            giveBack(credit);
          } else queued[m.index].push({ connections: m.connections, credit });
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
