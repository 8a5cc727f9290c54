import { describe, expect, it } from 'vitest';
import { IssuedRegistry } from '../../src/analysis/linker.js';

const rec = (conn: number) => ({ conn, serverIp: '192.0.2.1', serverPort: 443, sni: null, time: conn, lifetimeHint: null });

describe('IssuedRegistry', () => {
  it('keeps the first issuer of a key and answers for other connections only', () => {
    const r = new IssuedRegistry();
    r.issue('ticket', 'aa', rec(1));
    r.issue('ticket', 'aa', rec(2));
    r.issue('session-id', '', rec(3));
    expect(r.get('ticket', 'aa')?.conn).toBe(1);
    expect(r.get('session-id', '')).toBeNull();
    expect(r.excluding(2).ticketOrigin('aa')).toBe(1);
    expect(r.excluding(1).ticketOrigin('aa')).toBeNull();
  });

  it('forgets the oldest keys of a kind once full, however many come after', () => {
    const r = new IssuedRegistry(1000);
    for (let i = 0; i < 250_000; i++) r.issue('psk', `k${i}`, rec(i));
    r.issue('ticket', 't', rec(7));
    expect(r.size('psk')).toBe(1000);
    expect(r.get('psk', 'k248999')).toBeNull();
    expect(r.get('psk', 'k249000')?.conn).toBe(249_000);
    expect(r.get('psk', 'k249999')?.conn).toBe(249_999);
    // Another kind has its own room.
    expect(r.get('ticket', 't')?.conn).toBe(7);
    // A forgotten key issued again is remembered anew, as the newest.
    r.issue('psk', 'k0', rec(300_000));
    expect(r.get('psk', 'k0')?.conn).toBe(300_000);
    expect(r.get('psk', 'k249000')).toBeNull();
    expect(r.size('psk')).toBe(1000);
  });
});
