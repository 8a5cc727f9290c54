import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/analysis/result.js';

describe('isoTime', () => {
  it('capture times with microsecond or nanosecond digits', () => {
    expect(isoTime(1_700_000_000, 123_456_789, true)).toBe('2023-11-14T22:13:20.123456789Z');
    expect(isoTime(1_700_000_000, 123_456_789, false)).toBe('2023-11-14T22:13:20.123456Z');
    expect(isoTime(0, 5_000, false)).toBe('1970-01-01T00:00:00.000005Z');
  });

  it('keeps the seconds of years written with six digits (corrupt timestamps), and is exact beyond Date', () => {
    expect(isoTime(400_000_000_000, 5_000, false)).toBe('+014645-06-30T15:06:40.000005Z');
    expect(isoTime(-1e12, 0, false)).toBe('-029719-04-05T22:13:20.000000Z');
    expect(isoTime(2 ** 44, 0, false)).toBe(`epoch+${2 ** 44}.000000s`);
  });
});
