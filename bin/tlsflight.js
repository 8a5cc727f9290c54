#!/usr/bin/env node
import { main } from '../dist/cli.js';

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
