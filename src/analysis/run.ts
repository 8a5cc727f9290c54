import { availableParallelism } from 'node:os';
import { readCapture, sourceSize } from '../capture/open.js';
import type { CaptureInfo } from '../capture/types.js';
import { isoTime } from './result.js';
import { Analyzer } from './analyzer.js';
import { isSupportedLinkType } from '../net/decode.js';
import { SummaryBuilder } from './summary.js';
import { FindingsBuilder } from './findings.js';
import { SCHEMA_VERSION, type CaptureSummary, type ConnectionResult, type PacketStats, type Report } from '../report/model.js';
import { TOOL_VERSION } from '../version.js';

const LINK_NAMES: Record<number, string> = {
  9: 'PPP',
  50: 'PPP_HDLC',
  104: 'C_HDLC',
  10: 'FDDI',
  105: 'IEEE802_11',
  127: 'IEEE802_11_RADIOTAP',
  147: 'USER0',
  192: 'PPI',
  220: 'USB_LINUX_MMAPPED',
  0: 'NULL',
  1: 'ETHERNET',
  12: 'RAW',
  14: 'RAW',
  101: 'RAW',
  108: 'LOOP',
  113: 'LINUX_SLL',
  228: 'IPV4',
  229: 'IPV6',
  276: 'LINUX_SLL2',
};

export function linkTypeName(lt: number): string {
  return LINK_NAMES[lt] ?? `LINKTYPE_${lt}`;
}

export interface RunOptions {
  /** Streaming consumer: connections as they end. The report still collects them unless `keep` is false. */
  onConnection?: (c: ConnectionResult) => void;
  keep?: boolean;
  /**
   * Asked between chunks of input; reading waits for a promise it returns. For a streamed report
   * whose reader is slower than the analysis. Not with worker threads or --reader-thread, which
   * read on their own.
   */
  pause?: () => Promise<void> | null;
  /** `index`: the file's position in the list given (the same path may be given twice). */
  onProgress?: (file: string, bytesRead: number, total: number | null, index: number) => void;
  /** Only connections passing this count anywhere in the report. */
  filter?: (c: ConnectionResult) => boolean;
  /**
   * Worker threads for several files (default 1: in this thread). Each file is one unit of work;
   * results are merged in file order, so the report is the same as a sequential run's.
   */
  jobs?: number;
  /**
   * Keep only the first N TLS connections (by id) in the report: enough for a report that lists N,
   * with memory bounded however many connections the capture has. 0 or unset: keep all.
   */
  keepFirstTls?: number;
  /** As keepFirstTls, counting every connection, TLS or not. */
  keepFirst?: number;
  /** Total input size below which several files are still read in this thread (default 256 MiB). */
  parallelMinBytes?: number;
  /**
   * Read and decode each large file on a thread of its own while this one analyzes (one file at a
   * time; not with `jobs`, where each file already has a thread). Off by default: on the 2-core
   * machine the figures were measured on, V8's own GC threads already use the second core, and
   * the extra thread made no run faster (README, performance).
   */
  readerThread?: boolean;
}

const PARALLEL_MIN_BYTES = 256 * 1024 * 1024;

/**
 * With `readerThread`, files from this size on are read (and decoded by pcap-parser or the pcapng
 * reader) on a thread of their own, so reading overlaps the analysis; smaller ones are not worth a
 * thread's start-up (50–100 ms).
 */
const READER_THREAD_MIN_BYTES = 8 * 1024 * 1024;

function readerThreadMinBytes(): number {
  const env = process.env.TLSFLIGHT_READER_THREAD_MIN_BYTES;
  return env !== undefined && env !== '' && Number.isFinite(Number(env)) ? Number(env) : READER_THREAD_MIN_BYTES;
}

/**
 * Reads one capture file through `analyzer` and describes the file. `readerThread` reads it on a
 * thread of its own (see RunOptions.readerThread).
 */
export async function readOneFile(
  analyzer: Analyzer,
  path: string,
  onProgress?: (bytesRead: number, total: number | null) => void,
  readerThread = false,
  pause?: () => Promise<void> | null,
): Promise<CaptureSummary> {
  const total = sourceSize(path);
  const threaded = readerThread && total !== null && total >= readerThreadMinBytes() && availableParallelism() > 1;
  const name = path === '-' ? '(stdin)' : path;
  const unsupportedBefore = analyzer.stats.unsupportedLink;
  let live: CaptureInfo | null = null;
  analyzer.startFile(name, () => live !== null && live.interfaces.some((i) => i.subMicrosecond === true));
  const read = threaded ? (await import('../capture/threaded.js')).readCaptureInThread : readCapture;
  const result = await read(path, (f) => analyzer.frame(f), {
    onStart: (info) => (live = info),
    onProgress: onProgress ? (n) => onProgress(n, total) : undefined,
    pause,
  });
  analyzer.endFile();
  const info = result.info;
  let error = result.problem ? result.problem.message : null;
  let usable = !(result.problem?.fatal ?? false) && info.packets > 0;
  const unsupported = analyzer.stats.unsupportedLink - unsupportedBefore;
  if (info.packets > 0 && unsupported === info.packets) {
    const types = [...new Set(info.interfaces.map((i) => i.linkType))].filter((t) => !isSupportedLinkType(t));
    error = `unsupported link type ${types.map((t) => `${t} (${linkTypeName(t)})`).join(', ')}: nothing could be analyzed`;
    usable = false;
  }
  if (info.packets === 0 && !result.problem) usable = true;
  const nanos = info.interfaces.some((i) => i.subMicrosecond === true);
  const first = info.firstTs ? isoTime(info.firstTs.sec, info.firstTs.nsec, nanos) : null;
  const last = info.lastTs ? isoTime(info.lastTs.sec, info.lastTs.nsec, nanos) : null;
  const dropped = info.interfaces.some((i) => i.dropped !== undefined) ? info.interfaces.reduce((n, i) => n + (i.dropped ?? 0), 0) : null;
  return {
    file: name,
    format: info.format,
    compressed: info.compressed,
    byteOrder: info.byteOrder,
    linkTypes: [...new Set(info.interfaces.map((i) => linkTypeName(i.linkType)))],
    snaplen: info.interfaces.length > 0 ? Math.max(...info.interfaces.map((i) => i.snaplen)) : null,
    packets: info.packets,
    bytes: info.bytes,
    firstTime: first,
    lastTime: last,
    durationS:
      info.firstTs && info.lastTs
        ? Math.round((info.lastTs.sec - info.firstTs.sec + (info.lastTs.nsec - info.firstTs.nsec) / 1e9) * 1e6) / 1e6
        : null,
    truncatedPackets: info.truncatedPackets,
    droppedPackets: dropped,
    secretsBlocks: info.secretsBlocks,
    error,
    usable,
    warnings: info.warnings,
  };
}

/** Collects connections into the summary, findings and (optionally) the report. */
class Collector {
  readonly connections: ConnectionResult[] = [];
  readonly summary = new SummaryBuilder();
  readonly findings = new FindingsBuilder();

  constructor(private readonly opts: RunOptions) {}

  add(c: ConnectionResult): void {
    if (this.opts.filter && !this.opts.filter(c)) return;
    this.summary.add(c);
    this.findings.add(c);
    const first = this.firstN();
    if (first > 0) {
      if (c.tls || (this.opts.keepFirst ?? 0) > 0) {
        this.connections.push(c);
        // Connections end out of order: trim to the lowest ids now and then, not on every add.
        if (this.connections.length >= first * 2) this.trim(first);
      }
    } else if (this.opts.keep ?? true) this.connections.push(c);
    this.opts.onConnection?.(c);
  }

  private firstN(): number {
    return this.opts.keepFirst ?? this.opts.keepFirstTls ?? 0;
  }

  private trim(n: number): void {
    this.connections.sort((a, b) => a.id - b.id);
    this.connections.length = Math.min(this.connections.length, n);
  }

  report(captures: CaptureSummary[], stats: PacketStats, unsupported: Set<number>): Report {
    const warnings: string[] = [];
    if (unsupported.size > 0) {
      warnings.push(`unsupported link type(s): ${[...unsupported].map(linkTypeName).join(', ')}; their packets were skipped`);
    }
    if (this.firstN() > 0) this.trim(this.firstN());
    this.connections.sort((a, b) => a.id - b.id);
    const sum = this.summary.result(stats.udp);
    const found = this.findings.findings();
    return {
      schemaVersion: SCHEMA_VERSION,
      tool: { name: 'tlsflight', version: TOOL_VERSION },
      captures,
      summary: sum,
      headline: this.findings.headline(sum, found),
      findings: found,
      servers: this.findings.serverStats(),
      packets: stats,
      connections: this.connections,
      warnings,
    };
  }
}

/** Analyzes capture files into one report: one after the other, or in worker threads (`jobs`). */
export async function analyzeCaptures(paths: string[], opts: RunOptions = {}): Promise<Report> {
  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  // A worker costs ~0.2 s to start and every connection result is copied back to this thread:
  // only inputs big enough to outweigh that go to workers (measured in the README's figures).
  const bytes = paths.reduce((n, p) => n + (sourceSize(p) ?? 0), 0);
  if (jobs > 1 && paths.length > 1 && !paths.includes('-') && bytes >= (opts.parallelMinBytes ?? PARALLEL_MIN_BYTES)) {
    const { analyzeInWorkers } = await import('./parallel.js');
    return analyzeInWorkers(paths, jobs, opts, new Collector(opts));
  }
  const collector = new Collector(opts);
  const analyzer = new Analyzer({ onConnection: (c) => collector.add(c) });
  const captures: CaptureSummary[] = [];
  for (const [i, path] of paths.entries()) {
    const progress = opts.onProgress ? (n: number, t: number | null) => opts.onProgress!(path, n, t, i) : undefined;
    captures.push(await readOneFile(analyzer, path, progress, opts.readerThread ?? false, opts.pause));
  }
  return collector.report(captures, analyzer.stats, analyzer.unsupportedLinkTypes);
}

export type { Collector };
