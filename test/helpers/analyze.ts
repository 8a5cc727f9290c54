import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { Report } from '../../src/report/model.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SAMPLES = join(ROOT, 'samples');
export const CORPUS = resolve(ROOT, '..', 'shared', 'corpus');

export function sample(name: string): string {
  return join(SAMPLES, name);
}

export async function analyze(...files: string[]): Promise<Report> {
  return analyzeCaptures(files);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function corpusFiles(): string[] {
  if (!existsSync(CORPUS)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (!n.endsWith('.md')) out.push(p);
    }
  };
  walk(CORPUS);
  return out;
}
