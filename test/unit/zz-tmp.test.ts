import { it } from 'vitest';
import { MAX_PENDING_BYTES, TcpStream } from '../../src/net/tcp-stream.js';
it('x', () => {
  const s = new TcpStream({ onData() {}, onGap() {} });
  s.syn(0); s.segment(1, new Uint8Array(10), 10);
  try { s.segment(111, new Uint8Array(MAX_PENDING_BYTES + 1), MAX_PENDING_BYTES + 1); } catch (e) { console.log('THROWN', (e as Error).message); }
});
