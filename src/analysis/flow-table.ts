import type { Packet } from '../net/types.js';

/** A connection's 4-tuple in canonical order (lower endpoint first), as the table stores it. */
export interface FlowKey {
  /** IPv6 flows are keyed by a string; IPv4 flows by numbers, without allocating per packet. */
  v6: string | null;
  hash: number;
  lo: number;
  hi: number;
  /** lower endpoint's port × 65536 + higher endpoint's port */
  ports: number;
}

interface Slot<V> {
  key: FlowKey;
  value: V;
  next: Slot<V> | null;
}

function u32(a: Uint8Array, at: number): number {
  return ((a[at] << 24) | (a[at + 1] << 16) | (a[at + 2] << 8) | a[at + 3]) >>> 0;
}

function hex16(a: Uint8Array, at: number): string {
  return Buffer.from(a.buffer, a.byteOffset + at, 16).toString('hex');
}

/**
 * Flows by 4-tuple. Looking up a packet computes its canonical tuple into scratch fields and a
 * 32-bit hash, so the per-packet path allocates nothing; collisions chain and are told apart by
 * the full tuple.
 */
export class FlowTable<V> {
  private readonly v4 = new Map<number, Slot<V>>();
  private readonly v6 = new Map<string, V>();
  private count = 0;
  // The last probed tuple.
  private pV6: string | null = null;
  private pHash = 0;
  private pLo = 0;
  private pHi = 0;
  private pPorts = 0;

  get size(): number {
    return this.count;
  }

  /** Finds the flow of packet `p` and remembers its tuple for a following insertProbed. */
  probe(p: Packet): V | undefined {
    if (p.ipVersion === 4) {
      const s = u32(p.data, p.srcOffset);
      const d = u32(p.data, p.dstOffset);
      const fwd = s < d || (s === d && p.srcPort <= p.dstPort);
      this.pV6 = null;
      this.pLo = fwd ? s : d;
      this.pHi = fwd ? d : s;
      this.pPorts = fwd ? p.srcPort * 65536 + p.dstPort : p.dstPort * 65536 + p.srcPort;
      let h = Math.imul(this.pLo ^ 0x9e3779b9, 0x85ebca6b);
      h = Math.imul(h ^ this.pHi ^ (h >>> 13), 0xc2b2ae35);
      h = Math.imul(h ^ this.pPorts ^ (h >>> 16), 0x27d4eb2f);
      this.pHash = (h ^ (h >>> 15)) | 0;
      for (let slot: Slot<V> | null = this.v4.get(this.pHash) ?? null; slot; slot = slot.next) {
        const k = slot.key;
        if (k.lo === this.pLo && k.hi === this.pHi && k.ports === this.pPorts) return slot.value;
      }
      return undefined;
    }
    const s = hex16(p.data, p.srcOffset);
    const d = hex16(p.data, p.dstOffset);
    const fwd = s < d || (s === d && p.srcPort <= p.dstPort);
    this.pV6 = fwd ? `${s}/${p.srcPort}/${d}/${p.dstPort}` : `${d}/${p.dstPort}/${s}/${p.srcPort}`;
    return this.v6.get(this.pV6);
  }

  /** The tuple of the last probe, as a key to keep. */
  probedKey(): FlowKey {
    return { v6: this.pV6, hash: this.pHash, lo: this.pLo, hi: this.pHi, ports: this.pPorts };
  }

  /** Adds `value` under the tuple of the last probe (which found nothing). */
  insertProbed(value: V): FlowKey {
    const key = this.probedKey();
    this.insertKey(key, value);
    return key;
  }

  /** Adds `value` under a key taken from this or another table (which must not hold it yet). */
  insertKey(key: FlowKey, value: V): void {
    if (key.v6 !== null) this.v6.set(key.v6, value);
    else this.v4.set(key.hash, { key, value, next: this.v4.get(key.hash) ?? null });
    this.count++;
  }

  delete(key: FlowKey): void {
    if (key.v6 !== null) {
      if (this.v6.delete(key.v6)) this.count--;
      return;
    }
    let prev: Slot<V> | null = null;
    for (let slot = this.v4.get(key.hash) ?? null; slot; prev = slot, slot = slot.next) {
      if (slot.key.lo !== key.lo || slot.key.hi !== key.hi || slot.key.ports !== key.ports) continue;
      if (prev) prev.next = slot.next;
      else if (slot.next) this.v4.set(key.hash, slot.next);
      else this.v4.delete(key.hash);
      this.count--;
      return;
    }
  }

  /** Some entry's key (the oldest inserted hash slot first): for evicting when a table is full. */
  anyKey(): FlowKey | null {
    const v6 = this.v6.keys().next();
    if (!v6.done) return { v6: v6.value, hash: 0, lo: 0, hi: 0, ports: 0 };
    const s = this.v4.values().next();
    return s.done ? null : s.value.key;
  }

  *values(): IterableIterator<V> {
    for (const v of this.v6.values()) yield v;
    for (let slot of this.v4.values()) {
      for (let s: Slot<V> | null = slot; s; s = s.next) yield s.value;
    }
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
    this.count = 0;
  }
}
