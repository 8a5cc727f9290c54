import { createWriteStream, type WriteStream } from 'node:fs';
import yargs from 'yargs';
import { analyzeCaptures } from './analysis/run.js';
import type { Report } from './report/model.js';
import { renderJson, renderJsonlLine, renderJsonlSummary } from './report/json.js';
import { renderText } from './report/text.js';
import { TOOL_VERSION } from './version.js';

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;

type Format = 'text' | 'json' | 'jsonl';

interface AnalyzeArgs {
  captures: string[];
  format: Format;
  output?: string;
  verbose: boolean;
  limit: number;
  color?: boolean;
  quiet: boolean;
  debug: boolean;
}

/** Writes to a file or stdout; resolves once everything is flushed. */
class Out {
  private readonly file: WriteStream | null;
  private failed: Error | null = null;

  constructor(path: string | undefined) {
    this.file = path ? createWriteStream(path) : null;
    this.file?.on('error', (e) => (this.failed = e));
  }

  get isTty(): boolean {
    return !this.file && process.stdout.isTTY === true;
  }

  write(s: string): void {
    if (this.file) this.file.write(s);
    else process.stdout.write(s);
  }

  async close(): Promise<Error | null> {
    if (this.file) await new Promise<void>((res) => this.file!.end(res));
    return this.failed;
  }
}

function useColor(flag: boolean | undefined, out: Out): boolean {
  if (flag !== undefined) return flag;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return out.isTty;
}

async function runAnalyze(a: AnalyzeArgs): Promise<number> {
  const out = new Out(a.output);
  const report: Report = await analyzeCaptures(a.captures, {
    keep: a.format !== 'jsonl',
    onConnection: a.format === 'jsonl' ? (c) => out.write(renderJsonlLine(c)) : undefined,
  });
  if (a.format === 'json') out.write(renderJson(report));
  else if (a.format === 'jsonl') out.write(renderJsonlSummary(report));
  else out.write(renderText(report, { color: useColor(a.color, out), verbose: a.verbose, limit: a.limit }));
  const err = await out.close();
  if (err) {
    process.stderr.write(`tlsflight: ${a.output}: ${err.message}\n`);
    return EXIT_USAGE;
  }
  let code = EXIT_OK;
  for (const cap of report.captures) {
    if (cap.error === null) continue;
    // A file that yielded nothing is unusable input (exit 2); one cut short keeps its results.
    const unusable = !cap.usable;
    if (!a.quiet || unusable) {
      process.stderr.write(`tlsflight: ${cap.file}: ${cap.error}${unusable ? '' : ` (results up to packet ${cap.packets} kept)`}\n`);
    }
    if (unusable) code = EXIT_USAGE;
  }
  if (!a.quiet) {
    for (const cap of report.captures) for (const w of cap.warnings) process.stderr.write(`tlsflight: ${cap.file}: warning: ${w}\n`);
  }
  return code;
}

/** yargs drops a lone '-' argument; it stands for standard input, so it is carried under another name. */
const STDIN_ARG = '\u0000stdin';

class UsageError extends Error {}

/** Runs the command line; resolves to the exit code. Never throws for bad input or usage. */
export async function main(rawArgv: string[]): Promise<number> {
  const argv = rawArgv.map((a) => (a === '-' ? STDIN_ARG : a));
  let code = EXIT_OK;
  let debug = argv.includes('--debug');
  const parser = yargs(argv)
    .scriptName('tlsflight')
    .usage('$0 <command> [options]\n\nClassify every TLS handshake in a packet capture.')
    .command(
      'analyze <captures..>',
      'Analyze capture files (pcap, pcapng, gzip-compressed, or - for stdin)',
      (y) =>
        y
          .positional('captures', { type: 'string', array: true, describe: 'capture files; - reads standard input', demandOption: true })
          .option('format', { alias: 'f', choices: ['text', 'json', 'jsonl'] as const, default: 'text' as Format, describe: 'report format' })
          .option('output', { alias: 'o', type: 'string', describe: 'write the report to FILE instead of stdout' })
          .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'text: flights, evidence and details per connection' })
          .option('limit', { type: 'number', default: 50, describe: 'text: connections listed (0 = all)' })
          .option('color', { type: 'boolean', describe: 'colour the text report (default: when stdout is a terminal and NO_COLOR is unset)' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings on stderr' })
          .option('debug', { type: 'boolean', default: false, describe: 'show stack traces of internal errors' })
          .example('$0 analyze capture.pcap', 'summary and connection table')
          .example('$0 analyze -v --limit 0 capture.pcapng', 'every connection with its flights and evidence')
          .example('$0 analyze -f json -o report.json a.pcap b.pcap.gz', 'machine-readable report of two captures')
          .example('tcpdump -i any -w - port 443 | $0 analyze -f jsonl -', 'stream results from a live capture'),
      async (args) => {
        debug = args.debug;
        const captures = (args.captures as string[]).map((c) => (c === STDIN_ARG ? '-' : c));
        if (captures.length === 0) throw new UsageError('name at least one capture file (or - for standard input)');
        if (captures.filter((c) => c === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
        code = await runAnalyze({
          captures,
          format: args.format as Format,
          output: args.output,
          verbose: args.verbose,
          limit: Number.isFinite(args.limit) && args.limit >= 0 ? Math.floor(args.limit) : 50,
          color: args.color,
          quiet: args.quiet,
          debug: args.debug,
        });
      },
    )
    .demandCommand(1, 'name a command: analyze')
    .strict()
    .version(TOOL_VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
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
