import type { ConnectionResult, Report } from './model.js';

/** The whole report as one JSON document (the pieces of jsonPieces, joined). */
export function renderJson(r: Report): string {
  return [...jsonPieces(r)].join('');
}

/**
 * The JSON report in pieces, one connection at a time instead of one string of the whole report
 * (hundreds of megabytes on a capture of 50,000 connections). Everything is indented as usual
 * except the connections, one compact object per line: pretty-printing them took as long as the
 * analysis itself, and a line per connection is easy to grep.
 */
export function* jsonPieces(r: Report): Generator<string> {
  const keys = Object.keys(r) as (keyof Report)[];
  yield '{\n';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const end = i === keys.length - 1 ? '\n' : ',\n';
    if (k === 'connections' && r.connections.length > 0) {
      yield '  "connections": [\n';
      for (let j = 0; j < r.connections.length; j++) {
        yield '    ' + JSON.stringify(r.connections[j]) + (j === r.connections.length - 1 ? '\n' : ',\n');
      }
      yield '  ]' + end;
      continue;
    }
    yield `  ${JSON.stringify(k)}: ${JSON.stringify(r[k], null, 2).replace(/\n/g, '\n  ')}${end}`;
  }
  yield '}\n';
}

/** One line per connection, for streaming large captures. */
export function renderJsonlLine(c: ConnectionResult): string {
  return JSON.stringify(c) + '\n';
}

/** The closing line of a jsonl stream: the report without its connections. */
export function renderJsonlSummary(r: Report): string {
  const { connections: _c, ...rest } = r;
  return JSON.stringify({ type: 'summary', ...rest }) + '\n';
}
