// The small servers inside a workload (run there with `ip netns exec`): TCP ports accept
// and close, UDP ports echo each datagram back, which is what `probe` counts as
// connected.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { PortSpec } from './state.js';

export async function runListeners(ports: readonly PortSpec[]): Promise<void> {
  await Promise.all(
    ports.map(
      (p) =>
        new Promise<void>((resolve, reject) => {
          if (p.protocol === 'TCP') {
            const srv = createServer((sock) => {
              sock.on('error', () => {});
              sock.end(`${p.name ?? p.port}\n`);
            });
            srv.on('error', reject);
            srv.listen(p.port, '0.0.0.0', () => resolve());
          } else {
            const sock = createSocket('udp4');
            sock.on('error', reject);
            sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
            sock.bind(p.port, '0.0.0.0', () => resolve());
          }
        }),
    ),
  );
  process.on('SIGTERM', () => process.exit(0));
}
