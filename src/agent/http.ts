// Health (/liveness, /readiness) and metrics (/metrics) over plain node:http. Felix
// answers 200 when healthy and 503 otherwise; the body says which check failed.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  live(): { ok: boolean; detail: Record<string, unknown> };
  ready(): { ok: boolean; detail: Record<string, unknown> };
}

export async function listen(
  host: string,
  port: number,
  handlers: { health?: HealthSource; metrics?: Registry },
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const h = handlers.health;
    if (h && (path === '/liveness' || path === '/readiness')) {
      const r = path === '/liveness' ? h.live() : h.ready();
      res.writeHead(r.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ ok: r.ok, ...r.detail })}\n`);
      return;
    }
    if (handlers.metrics && path === '/metrics') {
      const reg = handlers.metrics;
      reg.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': reg.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    res.writeHead(404);
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host === 'localhost' ? '127.0.0.1' : host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function closeServer(s: Server | undefined): Promise<void> {
  if (!s) return Promise.resolve();
  s.closeAllConnections();
  return new Promise((res) => s.close(() => res()));
}
