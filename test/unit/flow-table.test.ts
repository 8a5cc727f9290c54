import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../src/analysis/flow-table.js';
import { newPacket, type Packet } from '../../src/net/types.js';

function pkt(src: number[], sp: number, dst: number[], dp: number): Packet {
  const p = newPacket();
  p.ipVersion = src.length === 4 ? 4 : 6;
  // Addresses are read from the frame by offset: put them in a frame of their own.
  p.data = Uint8Array.from([0xee, ...src, ...dst]);
  p.srcOffset = 1;
  p.dstOffset = 1 + src.length;
  p.srcPort = sp;
  p.dstPort = dp;
  return p;
}

const v6a = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
const v6b = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2];

describe('FlowTable', () => {
  it('finds a flow from either direction, IPv4 and IPv6, and forgets it on delete', () => {
    const t = new FlowTable<string>();
    expect(t.probe(pkt([10, 0, 0, 1], 5000, [10, 0, 0, 2], 443))).toBeUndefined();
    const k4 = t.insertProbed('v4');
    expect(t.probe(pkt([10, 0, 0, 2], 443, [10, 0, 0, 1], 5000))).toBe('v4');
    expect(t.probe(pkt([10, 0, 0, 1], 5001, [10, 0, 0, 2], 443))).toBeUndefined();
    t.probe(pkt(v6b, 443, v6a, 6000));
    const k6 = t.insertProbed('v6');
    expect(t.probe(pkt(v6a, 6000, v6b, 443))).toBe('v6');
    expect(t.size).toBe(2);
    expect([...t.values()].sort()).toEqual(['v4', 'v6']);
    t.delete(k4);
    expect(t.probe(pkt([10, 0, 0, 1], 5000, [10, 0, 0, 2], 443))).toBeUndefined();
    t.delete(k6);
    expect(t.size).toBe(0);
  });

  it('answers a burst of one flow from its last lookup, never with a flow that ended or another tuple', () => {
    const t = new FlowTable<string>();
    const a = () => pkt([10, 0, 0, 1], 5000, [10, 0, 0, 2], 443);
    const aBack = () => pkt([10, 0, 0, 2], 443, [10, 0, 0, 1], 5000);
    t.probe(a());
    const ka = t.insertProbed('first');
    expect(t.probe(a())).toBe('first');
    expect(t.probe(aBack())).toBe('first');
    // Same addresses, another port: not the remembered flow.
    expect(t.probe(pkt([10, 0, 0, 1], 5001, [10, 0, 0, 2], 443))).toBeUndefined();
    const kb = t.insertProbed('other');
    expect(t.probe(a())).toBe('first');
    // The flow ends and its tuple is used again: the new flow, not the remembered one.
    t.delete(ka);
    expect(t.probe(a())).toBeUndefined();
    t.insertProbed('second');
    expect(t.probe(aBack())).toBe('second');
    expect(t.probe(aBack())).toBe('second');
    // An IPv6 probe in between, then the same IPv4 flow: found again through the table.
    t.probe(pkt(v6a, 1, v6b, 2));
    expect(t.probe(a())).toBe('second');
    // After the flow is deleted (without a probe in between), the next probe finds nothing.
    t.delete(t.probedKey());
    expect(t.probe(a())).toBeUndefined();
    t.delete(kb);
    expect(t.size).toBe(0);
    // clear() forgets the remembered flow too.
    t.probe(a());
    t.insertProbed('third');
    expect(t.probe(a())).toBe('third');
    t.clear();
    expect(t.probe(a())).toBeUndefined();
  });

  it('keeps many flows apart (hash chains resolved by the full tuple)', () => {
    const t = new FlowTable<number>();
    const keys = [];
    for (let i = 0; i < 20000; i++) {
      const p = pkt([10, (i >> 8) & 255, i & 255, 1], 1024 + (i % 7), [192, 0, 2, 1], 443);
      expect(t.probe(p)).toBeUndefined();
      keys.push(t.insertProbed(i));
    }
    for (let i = 0; i < 20000; i += 97) expect(t.probe(pkt([192, 0, 2, 1], 443, [10, (i >> 8) & 255, i & 255, 1], 1024 + (i % 7)))).toBe(i);
    for (const k of keys) t.delete(k);
    expect(t.size).toBe(0);
  });

  it('keeps many IPv6 flows apart, looked up from either side, and deletes each', () => {
    const t = new FlowTable<number>();
    const addr = (i: number) => [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255];
    const server = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x80];
    const keys = [];
    for (let i = 0; i < 5000; i++) {
      // Half the clients sort above the server address, half below: both canonical orders.
      const a = i % 2 === 0 ? addr(i) : [0xfe, 0x80, ...addr(i).slice(2)];
      expect(t.probe(pkt(a, 40000 + (i % 3), server, 443))).toBeUndefined();
      keys.push(t.insertProbed(i));
    }
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i += 7) {
      const a = i % 2 === 0 ? addr(i) : [0xfe, 0x80, ...addr(i).slice(2)];
      expect(t.probe(pkt(server, 443, a, 40000 + (i % 3)))).toBe(i);
      expect(t.probe(pkt(a, 40000 + (i % 3), server, 443))).toBe(i);
      // Same addresses, another port: another flow.
      expect(t.probe(pkt(a, 39999, server, 443))).toBeUndefined();
    }
    for (const k of keys) t.delete(k);
    expect(t.size).toBe(0);
    expect([...t.values()]).toEqual([]);
  });

  it('stays right through connection churn: ended flows are gone, live ones found, eviction goes oldest first', () => {
    const t = new FlowTable<number>();
    const at = (i: number) => pkt([10, (i >> 16) & 255, (i >> 8) & 255, i & 255], 1024 + (i % 50), [192, 0, 2, 1], 443);
    const keys = new Map<number, ReturnType<typeof t.insertProbed>>();
    // 300 flows open at a time, 40,000 opened and ended in turn: the maps are rebuilt many times.
    for (let i = 0; i < 40000; i++) {
      expect(t.probe(at(i))).toBeUndefined();
      keys.set(i, t.insertProbed(i));
      if (i >= 300) {
        t.delete(keys.get(i - 300)!);
        keys.delete(i - 300);
      }
      if (i % 997 === 0) {
        expect(t.probe(at(i - 299 < 0 ? 0 : i - 299))).toBe(i - 299 < 0 ? 0 : i - 299);
        if (i >= 300) expect(t.probe(at(i - 300))).toBeUndefined();
      }
    }
    expect(t.size).toBe(300);
    expect([...t.values()].sort((a, b) => a - b)).toEqual([...keys.keys()]);
    // Evicting one after another (a full table of closed flows) walks the oldest first and ends empty.
    const evicted: number[] = [];
    while (t.size > 0) {
      const k = t.anyKey()!;
      const p = newPacket();
      p.ipVersion = 4;
      p.data = Uint8Array.from([0, k.lo >>> 24, (k.lo >>> 16) & 255, (k.lo >>> 8) & 255, k.lo & 255, k.hi >>> 24, (k.hi >>> 16) & 255, (k.hi >>> 8) & 255, k.hi & 255]);
      p.srcOffset = 1;
      p.dstOffset = 5;
      p.srcPort = Math.floor(k.ports / 65536);
      p.dstPort = k.ports % 65536;
      evicted.push(t.probe(p)!);
      t.delete(k);
    }
    expect(evicted).toEqual([...keys.keys()]);
    expect(t.anyKey()).toBeNull();
    expect([...t.values()]).toEqual([]);
  });

  it('a 4-tuple used again after its flow ended is evicted after the flows older than its return', () => {
    const t = new FlowTable<string>();
    const a = pkt([10, 0, 0, 1], 40000, [10, 0, 0, 2], 443);
    t.probe(a);
    const ka = t.insertProbed('a, first time');
    for (const [n, port] of [['b', 40001], ['c', 40002]] as const) {
      t.probe(pkt([10, 0, 0, 1], port, [10, 0, 0, 2], 443));
      t.insertProbed(n);
    }
    t.delete(ka);
    expect(t.probe(a)).toBeUndefined();
    t.insertProbed('a, again');
    const order: string[] = [];
    for (let k = t.anyKey(); k; k = t.anyKey()) {
      const p = pkt([10, 0, 0, 1], Math.floor(k.ports / 65536), [10, 0, 0, 2], k.ports % 65536);
      order.push(t.probe(p)!);
      t.delete(k);
    }
    expect(order).toEqual(['b', 'c', 'a, again']);
  });

  it('flows whose hashes collide: the older one is evicted first', () => {
    const t = new FlowTable<string>();
    const key = (lo: number, hash: number) => ({ v6: null, hash, lo, hi: 99, ports: 1 });
    const old = key(1, 7);
    t.insertKey(old, 'old');
    t.insertKey(key(2, 8), 'other');
    t.insertKey(key(3, 7), 'newer, same hash');
    expect(t.anyKey()).toBe(old);
    expect([...t.values()].sort()).toEqual(['newer, same hash', 'old', 'other']);
  });
});

