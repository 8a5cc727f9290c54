#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from '../dist/cli.js';

// While collecting is cheap, V8 lets the old generation grow to about four times what survives a
// full collection. tlsflight's live heap stays near 40 MB however long the capture, but with that
// headroom peak RSS on handshake-heavy captures rose with their size (127 MiB at 200 MiB, 247 MiB
// at 4 GiB); at twice the live heap it was 174 MiB, for ~1 % more GC (bench/README.md). The flag
// is read at every collection, so setting it here works. A value given to node is left alone
// (`node --heap-growing-percent=0 bin/tlsflight.js` runs with V8's own growth).
const given = process.execArgv.some((a) => /heap[-_]growing[-_]percent/.test(a));
if (!given) setFlagsFromString('--heap-growing-percent=100');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main() reports every expected failure itself; this is a bug in tlsflight.
    process.stderr.write(`tlsflight: internal error: ${err && err.message ? err.message : err}\n`);
    if (process.env.TLSFLIGHT_DEBUG) process.stderr.write(`${err && err.stack}\n`);
    process.exitCode = 70;
  },
);
