import type { ConnectionResult, Report } from './model.js';

/** The whole report as one JSON document (the pieces of jsonPieces, joined). */
export function renderJson(r: Report): string {
  const out: string[] = [];
  for (const p of jsonPieces(r)) out.push(typeof p === 'string' ? p : p.toString('utf8'));
  return out.join('');
}

/** Indentation of a connection's line inside the document. */
export const CONNECTION_INDENT = '    ';

const SUMMARY_KEY = '"flightSummary":';
const EMPTY_SUMMARY = '"flightSummary":""';

/**
 * A connection's compact JSON as three pieces that, written one after the other, are
 * JSON.stringify(c). The flight summary's '▸' is the only character beyond Latin-1 in most
 * connections, and it alone made V8 build every line as a two-byte string: twice the memory and
 * a slower UTF-8 encoding (18 % of all allocation on the handshake benchmark). Stringified with
 * an empty summary, the line stays one-byte and the summary goes in as a small piece of its own.
 */
export function connectionJsonPieces(c: ConnectionResult): [string, string, string] {
  const summary = c.flightSummary;
  c.flightSummary = '';
  let line: string;
  try {
    line = JSON.stringify(c);
  } finally {
    c.flightSummary = summary;
  }
  // Found exactly: in JSON only a key is followed by ':', and a quote inside a value is escaped.
  const at = line.lastIndexOf(EMPTY_SUMMARY);
  if (at < 0) return [JSON.stringify(c), '', ''];
  return [line.slice(0, at + SUMMARY_KEY.length), JSON.stringify(summary), line.slice(at + EMPTY_SUMMARY.length)];
}

/** One connection as the JSON document prints it: compact, on one indented line. */
export function jsonConnectionLine(c: ConnectionResult): string {
  return CONNECTION_INDENT + JSON.stringify(c);
}

/**
 * Lines of the connections, each CONNECTION_INDENT + the compact JSON, as chunks: every line followed by `sep`
 * except the last, followed by `last`.
 */
export type ConnectionLines = (sep: string, last: string) => Iterable<string | Buffer>;

/**
 * The JSON report in pieces, one connection at a time instead of one string of the whole report
 * (hundreds of megabytes on a capture of 50,000 connections). Everything is indented as usual
 * except the connections, one compact object per line: pretty-printing them took as long as the
 * analysis itself, and a line per connection is easy to grep. With `lines` (and `count`, how
 * many), the connections come from there instead of `r.connections`: from a spool that did not
 * keep them in memory. A Buffer piece is only valid until the next piece is asked for.
 */
export function* jsonPieces(r: Report, lines?: { count: number; lines: ConnectionLines }): Generator<string | Buffer> {
  const keys = Object.keys(r) as (keyof Report)[];
  yield '{\n';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const end = i === keys.length - 1 ? '\n' : ',\n';
    if (k === 'connections') {
      if (lines && lines.count > 0) {
        yield '  "connections": [\n';
        yield* lines.lines(',\n', '\n');
        yield '  ]' + end;
        continue;
      }
      if (!lines && r.connections.length > 0) {
        yield '  "connections": [\n';
        for (let j = 0; j < r.connections.length; j++) {
          yield jsonConnectionLine(r.connections[j]) + (j === r.connections.length - 1 ? '\n' : ',\n');
        }
        yield '  ]' + end;
        continue;
      }
    }
    yield `  ${JSON.stringify(k)}: ${JSON.stringify(r[k], null, 2).replace(/\n/g, '\n  ')}${end}`;
  }
  yield '}\n';
}

/** The closing line of a jsonl stream: the report without its connections. */
export function renderJsonlSummary(r: Report): string {
  const { connections: _c, ...rest } = r;
  return JSON.stringify({ type: 'summary', ...rest }) + '\n';
}
