#!/usr/bin/env node
// The floor for reading a classic pcap in Node: walk the 16-byte record headers, count packets and
// bytes, touch nothing else. Reads with one reused 16 MiB buffer (a record that straddles the end of a
// read is carried over to the next one).
//
//   node bench/headerwalk.mjs FILE     -> {"file":..,"packets":N,"bytes":N,"capturedBytes":N,"seconds":S}
//
// Handles both byte orders and both timestamp precisions (the magic only decides the byte order here).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BUF = 16 * 2 ** 20;

/**
 * `checkOrder`: also count records whose timestamp is earlier than the one before (`outOfOrder`);
 * run.mjs uses it once per generated file as a sanity check, the timed floor runs without it.
 */
export function headerWalk(file, { checkOrder = false } = {}) {
  const t0 = process.hrtime.bigint();
  const fd = fs.openSync(file, 'r');
  let buf = Buffer.allocUnsafe(BUF);
  try {
    let have = fs.readSync(fd, buf, 0, BUF, null);
    if (have < 24) throw new Error(`${file}: shorter than a pcap header`);
    const magic = buf.readUInt32LE(0);
    let le;
    if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
    else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
    else throw new Error(`${file}: not a classic pcap (magic ${magic.toString(16)})`);
    let pos = 24;
    let packets = 0;
    let captured = 0;
    let truncated = false;
    let outOfOrder = 0;
    let last = 0;
    for (;;) {
      // Walk every complete record in buf[pos, have).
      while (pos + 16 <= have) {
        const incl = le ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
        const next = pos + 16 + incl;
        if (next > have) break;
        if (checkOrder) {
          const sec = le ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos);
          const frac = le ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
          const t = sec * 1e9 + frac; // compared within one file: the unit does not matter
          if (t < last) outOfOrder++;
          last = t;
        }
        packets++;
        captured += incl;
        pos = next;
      }
      // Carry the partial record over, read more.
      const rest = have - pos;
      if (pos + 16 <= have) {
        const incl = le ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
        if (16 + incl > buf.length) {
          // A record larger than the buffer (not in our files, but be correct): grow once.
          const bigger = Buffer.allocUnsafe(16 + incl);
          buf.copy(bigger, 0, pos, have);
          buf = bigger;
          have = rest;
          pos = 0;
          const n = fs.readSync(fd, buf, have, buf.length - have, null);
          if (n === 0) { truncated = true; break; }
          have += n;
          continue;
        }
      }
      buf.copy(buf, 0, pos, have);
      have = rest;
      pos = 0;
      const n = fs.readSync(fd, buf, have, buf.length - have, null);
      if (n === 0) {
        truncated = have > 0;
        break;
      }
      have += n;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const r = { file, packets, bytes: fs.fstatSync(fd).size, capturedBytes: captured, truncated, seconds };
    if (checkOrder) r.outOfOrder = outOfOrder;
    return r;
  } finally {
    fs.closeSync(fd);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/headerwalk.mjs FILE\n');
    process.exit(2);
  }
  try {
    process.stdout.write(`${JSON.stringify(headerWalk(file))}\n`);
  } catch (e) {
    process.stderr.write(`headerwalk: ${e.message}\n`);
    process.exit(2);
  }
}
