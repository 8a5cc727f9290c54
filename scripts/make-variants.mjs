#!/usr/bin/env node
// Rewrites each real-stack sample in the other formats users bring, with Wireshark's own writer
// (editcap): pcapng, nanosecond pcap, gzip of both. Tests assert every variant classifies exactly
// like its classic original. Needs editcap (Debian: wireshark-common) and gzip.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const samples = join(root, 'samples');
const out = join(samples, 'variants');
const names = readdirSync(samples).filter((n) => n.endsWith('.pcap'));
for (const name of names) {
  const base = name.replace(/\.pcap$/, '');
  const src = join(samples, name);
  const ng = join(out, `${base}.pcapng`);
  const ns = join(out, `${base}.ns.pcap`);
  execFileSync('editcap', ['-F', 'pcapng', src, ng]);
  execFileSync('editcap', ['-F', 'nsecpcap', src, ns]);
  // mtime 0 in the gzip header keeps the output byte-identical between runs.
  writeFileSync(join(out, `${base}.pcap.gz`), gzipSync(readFileSync(src), { level: 9 }));
  writeFileSync(join(out, `${base}.pcapng.gz`), gzipSync(readFileSync(ng), { level: 9 }));
  console.log(`${name}: pcapng, nanosecond pcap, gzip`);
}
