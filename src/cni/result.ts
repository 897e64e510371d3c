// Result shaping per requested version: before 1.0.0 every ip carried a "version".
export function shapeResult(cniVersion: string, result: Record<string, unknown>) {
  const out: Record<string, unknown> = { cniVersion, ...result };
  if (cniVersion.startsWith('0.') && Array.isArray(result.ips)) {
    out.ips = (result.ips as { address: string }[]).map((ip) => ({
      version: ip.address.includes(':') ? '6' : '4',
      ...ip,
    }));
  }
  return out;
}

export function log(level: string, want: string, msg: string): void {
  const order = ['debug', 'info', 'warning', 'error'];
  const w = want === 'warn' ? 'warning' : want;
  if (w === 'none' || order.indexOf(level) < order.indexOf(w)) return;
  process.stderr.write(`${new Date().toISOString()} [${level}] ${msg}\n`);
}
