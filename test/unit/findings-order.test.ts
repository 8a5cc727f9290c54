import { describe, expect, it } from 'vitest';
import { FindingsBuilder } from '../../src/analysis/findings.js';
import { analyze, sample } from '../helpers/analyze.js';

describe('server table order', () => {
  it('puts servers with as many connections in address order: IPv4 by value, then IPv6, then port', async () => {
    const report = await analyze(sample('mix.pcap'));
    const model = report.connections.find((c) => c.tls && c.kind === 'full');
    expect(model).toBeDefined();
    const servers = ['[2001:db8::1]:443', '10.0.0.10:443', '10.0.0.2:8443', '9.255.0.1:443', '10.0.0.2:443', '[2001:db8::]:443'];
    const f = new FindingsBuilder();
    servers.forEach((text, i) => {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text)!;
      f.add({ ...model!, id: i + 1, server: { ip: m[1], port: Number(m[2]) } });
    });
    const order = f.serverStats().map((s) => (s.server.ip.includes(':') ? `[${s.server.ip}]:${s.server.port}` : `${s.server.ip}:${s.server.port}`));
    expect(order).toEqual(['9.255.0.1:443', '10.0.0.2:443', '10.0.0.2:8443', '10.0.0.10:443', '[2001:db8::]:443', '[2001:db8::1]:443']);
  });
});
