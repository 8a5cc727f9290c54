#!/usr/bin/env node
// Shows why src/analysis/flow-table.ts sets an ended flow's entry to null instead of deleting it:
// short-lived objects held in a Map and removed with Map.delete survive young-generation
// collections and are promoted to the old generation (Node 20 / V8 11); the same objects in a slot
// set to null are not. Each object lives for 150 insertions, far less than a scavenge interval.
//
//   node --trace-gc-nvp bench/map-delete-promotion.mjs map   | node bench/map-delete-promotion.mjs --sum
//   node --trace-gc-nvp bench/map-delete-promotion.mjs null  | node bench/map-delete-promotion.mjs --sum
//   node --trace-gc-nvp bench/map-delete-promotion.mjs array | node bench/map-delete-promotion.mjs --sum
import { createInterface } from 'node:readline';

const mode = process.argv[2] ?? 'map';
if (mode === '--sum') {
  // Sums the scavenge lines of --trace-gc-nvp read from standard input.
  let n = 0;
  let allocated = 0;
  let promoted = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.includes('gc=s ')) continue;
    n++;
    allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0);
    promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
  console.log(`scavenges ${n}, allocated ${(allocated / 2 ** 20).toFixed(0)} MB, promoted ${(promoted / 2 ** 20).toFixed(1)} MB`);
} else {
  const LIVE = 150;
  const map = new Map();
  const slots = new Array(4096).fill(null);
  let sink = 0;
  for (let i = 0; i < 1e6; i++) {
    const o = { n: i, pad: new Array(200).fill(0) };
    if (mode === 'map') {
      map.set(i, o);
      map.delete(i - LIVE);
    } else if (mode === 'null') {
      map.set(i & 4095, o);
      map.set((i - LIVE) & 4095, null);
    } else {
      slots[i & 4095] = o;
      slots[(i - LIVE) & 4095] = null;
    }
    for (let g = 0; g < 30; g++) sink += [g, i].length;
  }
  console.log(`${mode}: done (${sink})`);
}
