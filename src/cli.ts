import { createWriteStream, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { checkExpectations, parseExpectation, type Expectation } from './analysis/expect.js';
import { buildFilter, type FilterOptions } from './analysis/filter.js';
import { analyzeCaptures } from './analysis/run.js';
import type { ConnectionResult, Report } from './report/model.js';
import type { HandshakeTimes } from './report/diff.js';
import type { ChartConnection } from './report/html.js';
import { CONNECTION_INDENT, connectionJsonPieces, jsonPieces, renderJsonlSummary } from './report/json.js';
import { LineSpool, writePieces } from './report/spool.js';
import { Progress } from './progress.js';
import { TOOL_VERSION } from './version.js';

export const EXIT_OK = 0;
/** An --expect-resumption policy was not met. */
export const EXIT_EXPECTATION = 1;
export const EXIT_USAGE = 2;

const FORMATS = ['text', 'json', 'jsonl', 'markdown', 'html'] as const;
type Format = (typeof FORMATS)[number];

// yargs' CommonJS build, one bundled file: its ESM entry compiled ~40 modules and built an
// Intl.Segmenter at every start, 75 ms of the ~330 ms a small capture takes.
const yargs: (args: string[]) => Argv = createRequire(import.meta.url)('yargs/yargs');

/** yargs drops a lone '-' argument; it stands for standard input, so it is carried under another name. */
const STDIN_ARG = '\u0000stdin';

class UsageError extends Error {}

/** Writes to a file or stdout; resolves once everything is flushed. */
class Out {
  private readonly file: WriteStream | null;
  private failed: Error | null = null;

  constructor(path: string | undefined) {
    this.file = path ? createWriteStream(path) : null;
    this.file?.on('error', (e) => (this.failed = e));
    if (!this.file) {
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        // The reader went away (`tlsflight … | head`): nobody wants the rest, stop quietly as
        // Unix tools do on SIGPIPE (which Node ignores) instead of failing on every later write.
        if (e.code === 'EPIPE') process.exit(EXIT_OK);
        this.failed = e;
      });
    }
  }

  get isTty(): boolean {
    return !this.file && process.stdout.isTTY === true;
  }

  /** False when the stream wants the writer to wait for drain(). */
  write(s: string | Uint8Array): boolean {
    return this.file ? this.file.write(s) : process.stdout.write(s);
  }

  /** Writes `b` and resolves once the stream is done with it, so the caller may reuse it. */
  async writeAndRelease(b: Uint8Array): Promise<void> {
    const stream = this.file ?? process.stdout;
    if (this.failed || stream.destroyed) return;
    await new Promise<void>((res) => {
      stream.write(b, () => res());
    });
  }

  async drain(): Promise<void> {
    const stream = this.file ?? process.stdout;
    // Without a pending 'drain' none will come: waiting would leave nothing to keep Node running,
    // and it would exit with the rest of the output unwritten.
    if (this.failed || stream.destroyed || !stream.writableNeedDrain) return;
    await new Promise<void>((res) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('error', done);
        stream.off('close', done);
        res();
      };
      stream.once('drain', done);
      stream.once('error', done);
      stream.once('close', done);
    });
  }

  async close(): Promise<Error | null> {
    if (this.file) await new Promise<void>((res) => this.file!.end(res));
    else if (!this.failed && !process.stdout.destroyed) {
      // A write to a full disk or a closed file fails after write() returned: wait for what was
      // written to be written, so that failure reaches the exit code.
      await new Promise<void>((res) =>
        process.stdout.write('', (e) => {
          if (e) this.failed ??= e;
          res();
        }),
      );
    }
    return this.failed;
  }
}

/** Closes the report's output; a write that failed is told on stderr (true: the run failed). */
async function closeFailed(out: Out, a: { output?: string }): Promise<boolean> {
  const err = await out.close();
  if (err) process.stderr.write(`tlsflight: ${a.output ?? 'standard output'}: ${err.message}\n`);
  return err !== null;
}

function useColor(flag: boolean | undefined, out: Out): boolean {
  if (flag !== undefined) return flag;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return out.isTty;
}

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

interface CommonArgs {
  format: Format;
  jobs: number;
  output?: string;
  limit: number;
  color?: boolean;
  quiet: boolean;
  readerThread: boolean;
  filter: ((c: ConnectionResult) => boolean) | null;
  command: string;
}

function filterFrom(args: Record<string, unknown>): ((c: ConnectionResult) => boolean) | null {
  // Repeating an option (--sni a --sni b) gives alternatives; options are not greedy arrays so
  // they cannot swallow the capture file names that follow them.
  const list = (k: string) => (args[k] === undefined ? undefined : ([] as unknown[]).concat(args[k]).map(String));
  const o: FilterOptions = {
    server: list('server'),
    sni: list('sni'),
    client: list('client'),
    kind: list('kind')?.flatMap((k) => k.split(',')),
    port: list('port')?.map(Number),
  };
  if (o.port?.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) throw new UsageError('--port takes port numbers (0-65535)');
  const f = buildFilter(o);
  if (f && 'error' in f) throw new UsageError(f.error);
  return f;
}

/**
 * Analyzes captures for a report in `a.format`, keeping only the connections that report lists;
 * `connections: 'none'` keeps none (a diff reads summaries, and times through `onConnection`).
 */
async function analyzeOne(
  captures: string[],
  a: CommonArgs,
  onConnection?: (c: ConnectionResult) => void,
  connections: 'listed' | 'none' = 'listed',
  pause?: () => Promise<void> | null,
): Promise<Report> {
  const progress = a.quiet ? null : Progress.forStderr(captures);
  const listed = connections === 'listed';
  try {
    return await analyzeCaptures(captures, {
      keep: listed && a.format !== 'jsonl' && a.format !== 'json',
      // Text and Markdown list the first --limit connections; holding more would only cost memory.
      keepFirstTls: listed && (a.format === 'text' || a.format === 'markdown') && a.limit > 0 ? a.limit : undefined,
      // HTML lists the first --limit connections of any kind; its charts get a small record of each.
      keepFirst: listed && a.format === 'html' && a.limit > 0 ? a.limit : undefined,
      jobs: a.jobs,
      readerThread: a.readerThread,
      // For tests and measurements: the input size from which files go to worker threads.
      parallelMinBytes: process.env.TLSFLIGHT_PARALLEL_MIN_BYTES ? Number(process.env.TLSFLIGHT_PARALLEL_MIN_BYTES) : undefined,
      filter: a.filter ?? undefined,
      onConnection,
      pause,
      onProgress: progress ? (_file, n, total, i) => progress.update(i, n, total) : undefined,
    });
  } finally {
    progress?.done();
  }
}

/** Reports read problems on stderr; returns EXIT_USAGE when a file yielded nothing. */
function reportProblems(report: Report, quiet: boolean): number {
  let code = EXIT_OK;
  for (const cap of report.captures) {
    if (cap.error !== null) {
      // A file that yielded nothing is unusable input (exit 2); one cut short keeps its results.
      if (!quiet || !cap.usable) {
        process.stderr.write(`tlsflight: ${cap.file}: ${cap.error}${cap.usable ? ` (results up to packet ${cap.packets} kept)` : ''}\n`);
      }
      if (!cap.usable) code = EXIT_USAGE;
    }
    if (!quiet) for (const w of cap.warnings) process.stderr.write(`tlsflight: ${cap.file}: warning: ${w}\n`);
  }
  return code;
}

async function runAnalyze(captures: string[], a: CommonArgs, expectations: Expectation[], verbose: boolean): Promise<number> {
  const out = new Out(a.output);
  // JSON lists connections by id after a summary that needs all of them: their lines wait in a
  // spool (memory, then a temporary file), not as result objects. JSONL streams them as they end.
  const spool = a.format === 'json' ? new LineSpool(undefined, CONNECTION_INDENT) : null;
  const jsonl = a.format === 'jsonl' ? new Batcher(out) : null;
  const charts: ChartConnection[] | null = a.format === 'html' && a.limit > 0 ? [] : null;
  // Renderers are loaded when asked for: every run would otherwise compile all of them first.
  const chartConnection = charts ? (await import('./report/html.js')).chartConnection : null;
  try {
    const report = await analyzeOne(
      captures,
      a,
      spool
        ? (c) => spool.add(c.id, ...connectionJsonPieces(c))
        : jsonl
          ? (c) => jsonl.add(...connectionJsonPieces(c))
          : charts
            ? (c) => charts.push(chartConnection!(c))
            : undefined,
      'listed',
      jsonl ? () => jsonl.backpressure() : undefined,
    );
    charts?.sort((x, y) => x.id - y.id);
    return await writeReport(report, a, out, spool, jsonl, charts, expectations, verbose);
  } finally {
    spool?.close();
  }
}

/**
 * Lines encoded straight into ~1 MB buffers and written a buffer at a time: one write per
 * connection cost more than its JSON, and joining strings first cost a copy of each.
 */
class Batcher {
  private block = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;
  /** The output refused more: the analysis should wait for it to drain. */
  private congested = false;

  constructor(private readonly out: Out) {}

  /** What the reading of the capture should wait for, or null to go on. */
  backpressure(): Promise<void> | null {
    if (!this.congested) return null;
    this.congested = false;
    return this.out.drain();
  }

  /** Adds a line, given as one string or as pieces written one after the other. */
  add(line: string, more1 = '', more2 = ''): void {
    const max = (line.length + more1.length + more2.length) * 3 + 1;
    if (this.block.length - this.used < max) {
      if (!this.flush()) this.congested = true;
      if (max > this.block.length) this.block = Buffer.allocUnsafe(max);
    }
    this.used += writePieces(this.block, this.used, line, more1, more2);
    this.block[this.used++] = 0x0a;
  }

  /** False when the output wants the writer to wait for drain(). */
  flush(): boolean {
    if (this.used === 0) return true;
    // The stream may hold the buffer until it is written: the next lines go to a new one.
    const ok = this.out.write(this.block.subarray(0, this.used));
    this.block = Buffer.allocUnsafe(BATCH_BYTES);
    this.used = 0;
    return ok;
  }
}

const BATCH_BYTES = 1 << 20;

async function writeReport(
  report: Report,
  a: CommonArgs,
  out: Out,
  spool: LineSpool | null,
  jsonl: Batcher | null,
  charts: ChartConnection[] | null,
  expectations: Expectation[],
  verbose: boolean,
): Promise<number> {
  switch (a.format) {
    case 'json': {
      const lines = spool ? { count: spool.lines, lines: (sep: string, last: string) => spool.inIdOrder(sep, last) } : undefined;
      let pending: string[] = [];
      let size = 0;
      const flush = async () => {
        if (pending.length > 0 && !out.write(pending.join(''))) await out.drain();
        pending = [];
        size = 0;
      };
      for (const piece of jsonPieces(report, lines)) {
        if (typeof piece === 'string') {
          pending.push(piece);
          size += piece.length;
          if (size >= 1 << 20) await flush();
        } else {
          await flush();
          // Spool chunks share one buffer: it must be written before the next chunk is made.
          await out.writeAndRelease(piece);
        }
      }
      await flush();
      break;
    }
    case 'jsonl':
      jsonl?.flush();
      out.write(renderJsonlSummary(report));
      break;
    case 'markdown':
      out.write((await import('./report/markdown.js')).renderMarkdown(report, { limit: a.limit, command: a.command }));
      break;
    case 'html':
      out.write((await import('./report/html.js')).renderHtml(report, { limit: a.limit, command: a.command, generatedAt: new Date().toISOString(), all: charts ?? undefined }));
      break;
    default:
      out.write((await import('./report/text.js')).renderText(report, { color: useColor(a.color, out), verbose, limit: a.limit }));
  }
  if (await closeFailed(out, a)) return EXIT_USAGE;
  const code = reportProblems(report, a.quiet);
  if (code !== EXIT_OK) return code;
  const short = checkExpectations(report, expectations);
  for (const line of short) process.stderr.write(`tlsflight: expectation not met: ${line}\n`);
  return short.length > 0 ? EXIT_EXPECTATION : EXIT_OK;
}

async function runDiff(before: string, after: string, a: CommonArgs): Promise<number> {
  if (a.format === 'jsonl' || a.format === 'html') throw new UsageError(`diff writes text, json or markdown, not ${a.format}`);
  const { addHandshakeTime, buildDiff, renderDiffMarkdown, renderDiffText } = await import('./report/diff.js');
  // Medians need every connection's handshake time, not every connection.
  const tb: HandshakeTimes = { full: [], resumed: [] };
  const ta: HandshakeTimes = { full: [], resumed: [] };
  const rb = await analyzeOne([before], a, (c) => addHandshakeTime(tb, c), 'none');
  const ra = await analyzeOne([after], a, (c) => addHandshakeTime(ta, c), 'none');
  const code = Math.max(reportProblems(rb, a.quiet), reportProblems(ra, a.quiet));
  const d = buildDiff(rb, ra, { before: tb, after: ta });
  const out = new Out(a.output);
  out.write(a.format === 'json' ? JSON.stringify(d, null, 2) + '\n' : a.format === 'markdown' ? renderDiffMarkdown(d, a.command) : renderDiffText(d));
  if (await closeFailed(out, a)) return EXIT_USAGE;
  return code;
}

function commonOptions<T>(y: Argv<T>) {
  return y
    .option('format', { alias: 'f', choices: FORMATS, default: 'text' as Format, describe: 'report format' })
    .option('output', { alias: 'o', type: 'string', describe: 'write the report to FILE instead of stdout' })
    .option('limit', { type: 'number', default: 50, describe: 'text/markdown/html: connections listed (0 = all)' })
    .option('server', { type: 'string', describe: 'only connections to this server (ip, ip:port, [v6]:port)' })
    .option('sni', { type: 'string', describe: 'only connections whose SNI matches (glob: *.example.com)' })
    .option('client', { type: 'string', describe: 'only connections from this client (ip or ip:port)' })
    .option('kind', { type: 'string', describe: 'only these outcomes: full, resumed, resumed-session-id, resumed-ticket, resumed-psk, unknown, rejected' })
    .option('port', { type: 'number', describe: 'only connections to this server port (repeat for several)' })
    .option('color', { type: 'boolean', describe: 'colour the text report (default: when stdout is a terminal and NO_COLOR is unset)' })
    .option('jobs', { alias: 'j', type: 'number', default: availableParallelism(), describe: 'threads analyzing several capture files at once (one file per thread)' })
    .option('reader-thread', { type: 'boolean', default: false, describe: 'read and decode each large capture on a thread of its own, beside the analysis' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings or progress on stderr' })
    .option('debug', { type: 'boolean', default: false, describe: 'show stack traces of internal errors' });
}

function common(args: Record<string, unknown>, command: string): CommonArgs {
  const limit = args.limit as number;
  const jobs = args.jobs as number;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('--jobs takes a whole number of at least 1');
  return {
    format: args.format as Format,
    jobs,
    output: args.output as string | undefined,
    limit: Number.isFinite(limit) && limit >= 0 ? Math.floor(limit) : 50,
    color: args.color as boolean | undefined,
    quiet: args.quiet as boolean,
    readerThread: args['reader-thread'] as boolean,
    filter: filterFrom(args),
    command,
  };
}

function capturePath(c: string): string {
  return c === STDIN_ARG ? '-' : c;
}

/** Runs the command line; resolves to the exit code. Never throws for bad input or usage. */
export async function main(rawArgv: string[]): Promise<number> {
  const argv = rawArgv.map((a) => (a === '-' ? STDIN_ARG : a));
  const command = ['tlsflight', ...rawArgv.map(shellQuote)].join(' ');
  let code = EXIT_OK;
  const debug = rawArgv.includes('--debug');
  const parser = yargs(argv)
    .scriptName('tlsflight')
    .usage('$0 <command> [options]\n\nClassify every TLS handshake in a packet capture: full, resumed by session ID, ticket or PSK, and why resumption failed.')
    .command(
      'analyze <captures..>',
      'Analyze capture files (pcap, pcapng, gzip-compressed, or - for stdin)',
      (y) =>
        commonOptions(y)
          .positional('captures', { type: 'string', array: true, describe: 'capture files; - reads standard input', demandOption: true })
          .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'text: flights, evidence and details per connection' })
          .option('expect-resumption', {
            type: 'string',
            describe: 'exit 1 when resumed ÷ offered falls below RATIO (0.8 or 80%), overall or per server as SERVER=RATIO (SNI glob or address)',
          })
          .example('$0 analyze capture.pcap', 'summary, findings and connection table')
          .example('$0 analyze -v --limit 0 capture.pcapng', 'every connection with its flights and evidence')
          .example('$0 analyze -f markdown -o incident.md capture.pcap', 'a report to paste into an incident ticket')
          .example('$0 analyze -f html -o report.html capture.pcap', 'a self-contained HTML report with charts')
          .example('$0 analyze -f json -o report.json a.pcap b.pcap.gz', 'machine-readable report of two captures')
          .example("$0 analyze --sni '*.example.com' --kind rejected capture.pcap", 'only rejected resumptions to example.com hosts')
          .example("$0 analyze --expect-resumption 0.9 --expect-resumption 'api.example.com=95%' cap.pcap", 'fail (exit 1) below a resumption rate')
          .example('tcpdump -i any -w - port 443 | $0 analyze -f jsonl -', 'stream results from a live capture'),
      async (args) => {
        const captures = (args.captures as string[]).map(capturePath);
        if (captures.length === 0) throw new UsageError('name at least one capture file (or - for standard input)');
        if (captures.filter((c) => c === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
        const exps: Expectation[] = [];
        const specs = args['expect-resumption'] === undefined ? [] : ([] as unknown[]).concat(args['expect-resumption']).map(String);
        for (const spec of specs) {
          const e = parseExpectation(spec);
          if ('error' in e) throw new UsageError(e.error);
          exps.push(e);
        }
        code = await runAnalyze(captures, common(args, command), exps, args.verbose);
      },
    )
    .command(
      'diff <before> <after>',
      'Compare two captures: resumption rate per server, handshake times, findings that appeared or disappeared',
      (y) =>
        commonOptions(y)
          .positional('before', { type: 'string', demandOption: true, describe: 'capture before the change' })
          .positional('after', { type: 'string', demandOption: true, describe: 'capture after the change' })
          .example('$0 diff before.pcap after.pcap', 'what a server configuration change did')
          .example('$0 diff -f markdown before.pcap after.pcap', 'the same, to paste into a ticket'),
      async (args) => {
        const before = capturePath(String(args.before));
        const after = capturePath(String(args.after));
        if (before === '-' && after === '-') throw new UsageError('standard input (-) can be read only once');
        code = await runDiff(before, after, common(args, command));
      },
    )
    .demandCommand(1, 'name a command: analyze or diff')
    .strict()
    .version(TOOL_VERSION)
    .help()
    .alias('h', 'help')
    // yargs renders the whole help before running any command; wrapping it to the terminal cost
    // ~40 ms per run, so it is only wrapped when asked for.
    .wrap(rawArgv.some((a) => a === '--help' || a === '-h') ? Math.min(110, process.stdout.columns || 100) : null)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .exitProcess(false);
  try {
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof UsageError || (err as Error).name === 'YError') {
      process.stderr.write(`tlsflight: ${(err as Error).message.replace(/\n\s*/g, ' ')}\nRun 'tlsflight --help' for usage.\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`tlsflight: internal error: ${(err as Error).message}\n`);
    if (debug) process.stderr.write(`${(err as Error).stack}\n`);
    return 70;
  }
  return code;
}
