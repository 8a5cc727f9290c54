import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/analyze.js';

// Measured in a child with --expose-gc so retained memory, not garbage, is what counts.
describe('hostile traffic keeps memory bounded', () => {
  const r = spawnSync(process.execPath, ['--expose-gc', join(ROOT, 'test', 'fixtures', 'memory-probe.mjs')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const m = r.status === 0 ? (JSON.parse(r.stdout) as Record<string, number>) : null;

  it('the probe ran', () => {
    expect(r.stderr).toBe('');
    expect(m).not.toBeNull();
  });

  it('1,000 concurrent half-open handshakes stay under 20 MiB (about 6 MiB measured)', () => {
    expect(m!.halfOpenMiB).toBeLessThan(20);
  });

  it('a 200 MB endless handshake message is skipped, not buffered: under 4 MiB', () => {
    expect(m!.endlessMessageBytes).toBeGreaterThan(200e6);
    expect(m!.endlessMessageMiB).toBeLessThan(4);
  });

  it('1,000 connections holding data behind holes share one 32 MiB budget', () => {
    expect(m!.budgetUsedMiB).toBeLessThanOrEqual(32);
    expect(m!.outOfOrderFloodMiB).toBeLessThan(48);
  });
});
