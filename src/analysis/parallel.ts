import { Worker } from 'node:worker_threads';
import type { CaptureSummary, ConnectionResult, PacketStats, Report } from '../report/model.js';
import { IssuedRegistry } from './linker.js';
import type { Collector, RunOptions } from './run.js';
import type { FileJob, WorkerMessage } from './worker.js';

type Done = Extract<WorkerMessage, { type: 'done' }>;

/** Capture time (seconds) of the first flight from `from` that carries `message`. */
function messageTime(c: ConnectionResult, message: string): number {
  const start = Date.parse(c.start) / 1000;
  const f = c.flights.find((x) => x.messages.includes(message));
  return start + (f ? f.atMs / 1000 : 0);
}

/**
 * Cross-file links: inside a file the worker linked offers to their origins; an offer whose origin
 * is in an earlier file is linked here, from what earlier files' connections issued.
 */
class CrossFileLinker {
  private readonly reg = new IssuedRegistry();

  link(c: ConnectionResult): void {
    if (c.origin === null && c.offered && c.offered.length > 0) {
      const tries: [ 'ticket' | 'session-id' | 'psk', string | null][] = [
        ['ticket', c.offered.includes('ticket') ? (c.ticketOffered?.hash ?? null) : null],
        ['session-id', c.offered.includes('session-id') ? c.sessionId.client : null],
        ['psk', c.offered.includes('psk') ? (c.psk?.identityHashes[0] ?? null) : null],
      ];
      for (const [via, key] of tries) {
        if (!key) continue;
        const rec = this.reg.get(via, key);
        if (!rec) continue;
        c.origin = {
          via,
          connection: rec.conn,
          server: { ip: rec.serverIp, port: rec.serverPort },
          sni: rec.sni,
          ageS: Math.round((messageTime(c, 'CH') - rec.time) * 1000) / 1000,
          lifetimeHint: rec.lifetimeHint,
          sameServer: rec.serverIp === c.server.ip && rec.serverPort === c.server.port,
        };
        const said = via === 'ticket' ? `ticket was issued by NewSessionTicket in connection #${rec.conn}` : `session ID was issued by the ServerHello of connection #${rec.conn}`;
        if (c.ambiguous && via !== 'psk') {
          // Both a ticket and a session ID were offered: the earlier file says which was issued.
          c.kind = via === 'ticket' ? 'resumed-ticket' : 'resumed-session-id';
          c.ambiguous = false;
          c.evidence = c.evidence.map((e) => (e.startsWith('both a ticket and a session ID were offered') ? said : e));
        }
        const kindVia = c.kind === 'resumed-ticket' ? 'ticket' : c.kind === 'resumed-session-id' ? 'session-id' : c.kind === 'resumed-psk' ? 'psk' : null;
        if (kindVia === via && c.resumedFrom === null) {
          c.resumedFrom = rec.conn;
          if (via !== 'psk' && !c.evidence.includes(said)) c.evidence.push(said);
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
    for (const t of c.tickets) this.reg.issue('ticket', t.hash, rec(messageTime(c, 'NST'), t.lifetimeHint));
    if (c.sessionId.server && c.version !== 'TLS1.3') this.reg.issue('session-id', c.sessionId.server, rec(messageTime(c, 'SH'), null));
    for (const h of c.psk?.identityHashes.slice(0, 1) ?? []) this.reg.issue('psk', h, rec(messageTime(c, 'CH'), null));
  }
}

/** Analyzes files in a pool of worker threads and merges the results in file order. */
export async function analyzeInWorkers(paths: string[], jobs: number, opts: RunOptions, collector: Collector): Promise<Report> {
  const results: (Done | undefined)[] = new Array(paths.length);
  const waiters: ((d: Done) => void)[] = [];
  const ready = paths.map((_, i) => new Promise<Done>((res) => (waiters[i] = res)));
  let next = 0;
  let failure: Error | null = null;
  const workers: Worker[] = [];
  const start = (w: Worker) => {
    if (next >= paths.length) {
      void w.terminate();
      return;
    }
    const job: FileJob = { index: next, path: paths[next] };
    next++;
    w.postMessage(job);
  };
  const failAll = (err: Error) => {
    failure = err;
    for (let i = 0; i < paths.length; i++) if (!results[i]) waiters[i]({ type: 'done', index: i } as Done);
  };
  for (let k = 0; k < Math.min(jobs, paths.length); k++) {
    const w = new Worker(new URL('./worker.js', import.meta.url));
    workers.push(w);
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') {
        opts.onProgress?.(paths[m.index], m.bytes, m.total);
      } else if (m.type === 'done') {
        results[m.index] = m;
        waiters[m.index](m);
        start(w);
      } else {
        failAll(new Error(`worker failed on ${paths[m.index]}: ${m.message}`));
      }
    });
    w.on('error', (err) => failAll(err));
    start(w);
  }
  const captures: CaptureSummary[] = [];
  const stats: PacketStats = { tcp: 0, udp: 0, otherIp: 0, notIp: 0, ipFragments: 0, malformed: 0, truncated: 0, unsupportedLink: 0, afterClose: 0 };
  const unsupported = new Set<number>();
  const linker = new CrossFileLinker();
  let offset = 0;
  try {
    for (let i = 0; i < paths.length; i++) {
      const d = await ready[i];
      if (failure) throw failure;
      captures.push(d.capture);
      for (const k of Object.keys(stats) as (keyof PacketStats)[]) stats[k] += d.stats[k];
      for (const t of d.unsupported) unsupported.add(t);
      // Ids continue from the previous file, as in a sequential run.
      const conns = d.connections;
      for (const c of conns) {
        c.id += offset;
        if (c.resumedFrom !== null) c.resumedFrom += offset;
        if (c.origin) c.origin.connection += offset;
        if (offset > 0) c.evidence = c.evidence.map((e) => e.replace(/connection #(\d+)/g, (_, n: string) => `connection #${Number(n) + offset}`));
      }
      const inOrder = [...conns].sort((a, b) => a.id - b.id);
      for (const c of inOrder) linker.link(c);
      for (const c of conns) collector.add(c);
      offset += d.count;
      results[i] = undefined;
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return collector.report(captures, stats, unsupported);
}
