#!/usr/bin/env node
// Runs vitest and ends with the plain "N passed, N failed" line CI reads (vitest's own summary is
// not recognised). Extra arguments go to vitest (e.g. a test file filter).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Build first: the CLI and corpus tests run the compiled program, as users do.
const tsc = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'tlsflight-vitest-'));
const out = join(dir, 'results.json');
const vitest = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(out)) {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  passed = j.numPassedTests ?? 0;
  failed = j.numFailedTests ?? 0;
  // A file that failed to load has no failed tests of its own: count it once.
  if (failed === 0 && (j.numFailedTestSuites ?? 0) > 0) failed = j.numFailedTestSuites;
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
} else {
  failed = 1;
}
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
const code = r.status === null ? 1 : r.status;
process.exit(code !== 0 ? code : failed > 0 || passed === 0 ? 1 : 0);
