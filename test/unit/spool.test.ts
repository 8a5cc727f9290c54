import { describe, expect, it } from 'vitest';
import { LineSpool } from '../../src/report/spool.js';

/** Lines of ids 1..n handed in a shuffled end order, some long and some non-ASCII. */
function lines(n: number, seed = 7): { id: number; line: string }[] {
  const out = Array.from({ length: n }, (_, i) => {
    const id = i + 1;
    const body = id % 97 === 0 ? 'x'.repeat(70_000) : id % 13 === 0 ? `sni-é-日本-${id}` : `conn-${id}`;
    return { id, line: JSON.stringify({ id, body }) };
  });
  // Connections end roughly in id order, with some long-lived ones ending much later.
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rnd() < 0.05 ? Math.floor(rnd() * (i + 1)) : Math.max(0, i - Math.floor(rnd() * 4));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function readBack(sp: LineSpool, chunk?: number): string {
  // A chunk is valid until the next is asked for: take each as it comes.
  let text = '';
  for (const b of sp.inIdOrder(',\n', '\n', chunk)) text += b.toString('utf8');
  return text;
}

describe('LineSpool', () => {
  for (const [name, memory] of [
    ['in memory', 64 * 1024 * 1024],
    ['spilled to a temporary file', 4096],
  ] as const) {
    it(`${name}: gives every line back once, in id order, bytes intact`, () => {
      const input = lines(3000);
      const sp = new LineSpool(memory);
      for (const { id, line } of input) sp.add(id, line);
      expect(sp.lines).toBe(3000);
      expect(sp.spilled).toBe(memory < 1024 * 1024);
      const want = [...input].sort((a, b) => a.id - b.id).map((x) => x.line).join(',\n') + '\n';
      expect(readBack(sp)).toBe(want);
      // Small output chunks (smaller than some lines) change nothing.
      expect(readBack(sp, 1000)).toBe(want);
      sp.close();
      sp.close();
    });
  }

  it('writes the prefix before every line', () => {
    const sp = new LineSpool(4096, '    ');
    for (const id of [3, 1, 2]) sp.add(id, `{"id":${id}}`);
    expect(readBack(sp)).toBe('    {"id":1},\n    {"id":2},\n    {"id":3}\n');
    sp.close();
  });

  it('an empty spool reads back nothing', () => {
    const sp = new LineSpool(0);
    expect(readBack(sp)).toBe('');
    sp.close();
  });
});
