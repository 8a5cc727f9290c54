#!/usr/bin/env node
// What it costs to move connection results between threads, per result: v8.serialize/deserialize
// (what postMessage does) against JSON.stringify/JSON.parse, on the results of a real capture.
// The main thread of `analyze -j N` pays the receiving side for every connection.
//
//   node bench/result-transfer.mjs FILE [--max N]     (tlsflight built: npx tsc -p .)

import v8 from 'node:v8';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Analyzer } = await import(pathToFileURL(path.join(root, 'dist/analysis/analyzer.js')).href);
const { readOneFile } = await import(pathToFileURL(path.join(root, 'dist/analysis/run.js')).href);

const file = process.argv[2];
const maxAt = process.argv.indexOf('--max');
const max = maxAt > 0 ? Number(process.argv[maxAt + 1]) : 20000;
if (!file) {
  console.error('usage: node bench/result-transfer.mjs FILE [--max N]');
  process.exit(2);
}
const all = [];
const analyzer = new Analyzer({ onConnection: (c) => { if (all.length < max) all.push(c); } });
await readOneFile(analyzer, file, () => {});
const batches = [];
for (let i = 0; i < all.length; i += 500) batches.push(all.slice(i, i + 500));
const n = all.length;
const us = (ms) => ((ms * 1000) / n).toFixed(1);
console.log(`${n} results in batches of 500; µs per result:`);
for (let rep = 0; rep < 3; rep++) {
  const t0 = performance.now();
  const ser = batches.map((b) => v8.serialize(b));
  const t1 = performance.now();
  for (const s of ser) v8.deserialize(s);
  const t2 = performance.now();
  const js = batches.map((b) => JSON.stringify(b));
  const t3 = performance.now();
  for (const s of js) JSON.parse(s);
  const t4 = performance.now();
  const bytes = (xs) => Math.round(xs.reduce((s, x) => s + x.length, 0) / n);
  console.log(`  v8.serialize ${us(t1 - t0)}  v8.deserialize ${us(t2 - t1)}  JSON.stringify ${us(t3 - t2)}  JSON.parse ${us(t4 - t3)}  (${bytes(ser)} and ${bytes(js)} bytes per result)`);
}
