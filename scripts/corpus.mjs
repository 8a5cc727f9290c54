#!/usr/bin/env node
// Runs the analyzer over every capture in ../shared/corpus (or the folder given) and prints one
// line per file. Exits 1 if any file crashes the analyzer or takes longer than the per-file limit.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(process.argv[2] ?? join(here, '..', '..', 'shared', 'corpus'));
const PER_FILE_MS = 30_000;

if (!existsSync(root)) {
  console.log(`corpus folder ${root} not found: nothing to do`);
  process.exit(0);
}
const { analyzeCaptures } = await import('../dist/analysis/run.js');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (!name.endsWith('.md')) out.push(p);
  }
  return out;
}

let failures = 0;
const files = walk(root);
for (const file of files) {
  const started = process.hrtime.bigint();
  const watchdog = setTimeout(() => {
    console.log(`HANG  ${relative(root, file)}: over ${PER_FILE_MS} ms`);
    process.exit(1);
  }, PER_FILE_MS);
  try {
    const r = await analyzeCaptures([file]);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const s = r.summary;
    const cap = r.captures[0];
    const kinds = Object.entries(s.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(' ');
    const err = cap.error ? `  [${cap.error}]` : '';
    console.log(
      `ok    ${relative(root, file)}: ${cap.format ?? '-'} ${cap.packets} pkts, ${s.tlsConnections}/${s.connections} TLS conns ${kinds} offered=${s.offeredResumption} rejected=${s.rejected} (${ms.toFixed(0)} ms)${err}`,
    );
  } catch (e) {
    failures++;
    console.log(`CRASH ${relative(root, file)}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  } finally {
    clearTimeout(watchdog);
  }
}
console.log(`${files.length} files, ${failures} crashed`);
process.exit(failures > 0 ? 1 : 0);
