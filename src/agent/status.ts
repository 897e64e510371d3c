// Endpoint status: one file per local workload endpoint under
// `<endpointStatusPathPrefix>/endpoint-status/` (what a CNI plugin can wait on), and one
// JSON record per host in the datastore. Files are written only when their content
// changes; stale files are removed only after the first in-sync apply, as with kernel
// state, so a restart never makes a plugin see an endpoint vanish and come back.
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { WorkloadEndpointState } from '../calc/index.js';

const run = promisify(execFile);

export interface EndpointStatus {
  readonly status: 'up' | 'down';
  readonly policyProgrammed: boolean;
  readonly interfaceName: string;
}

/** The status file name of an endpoint id (`<namespace>/<name>` → `<namespace>%2F<name>`). */
export function statusFileName(id: string): string {
  return encodeURIComponent(id);
}

/** Links that exist and are up in the namespace, by name. */
export async function upInterfaces(netns: string | undefined): Promise<Set<string>> {
  const { stdout } = await run('ip', [...(netns ? ['-n', netns] : []), '-j', 'link', 'show']);
  const links = JSON.parse(stdout || '[]') as { ifname: string; flags?: string[] }[];
  return new Set(links.filter((l) => l.flags?.includes('UP')).map((l) => l.ifname));
}

export function endpointStatuses(
  endpoints: Iterable<WorkloadEndpointState>,
  up: ReadonlySet<string>,
): Map<string, EndpointStatus> {
  const out = new Map<string, EndpointStatus>();
  for (const e of endpoints) {
    out.set(e.id, {
      status: e.adminUp && up.has(e.interfaceName) ? 'up' : 'down',
      policyProgrammed: true,
      interfaceName: e.interfaceName,
    });
  }
  return out;
}

export class StatusFiles {
  private readonly written = new Map<string, string>();
  private cleaned = false;

  constructor(private dir: string) {}

  setPrefix(prefix: string): void {
    const dir = join(prefix, 'endpoint-status');
    if (dir === this.dir) return;
    this.dir = dir;
    this.written.clear();
    this.cleaned = false;
  }

  get directory(): string {
    return this.dir;
  }

  async sync(statuses: ReadonlyMap<string, EndpointStatus>): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const wanted = new Set<string>();
    for (const [id, s] of statuses) {
      const name = statusFileName(id);
      wanted.add(name);
      const text = `${JSON.stringify({ id, ...s })}\n`;
      if (this.written.get(name) === text) continue;
      // rename is atomic: a reader never sees a half-written file
      const tmp = join(this.dir, `.${name}.tmp`);
      await writeFile(tmp, text);
      await rename(tmp, join(this.dir, name));
      this.written.set(name, text);
    }
    for (const name of [...this.written.keys()]) {
      if (!wanted.has(name)) {
        await rm(join(this.dir, name), { force: true });
        this.written.delete(name);
      }
    }
    if (!this.cleaned) {
      this.cleaned = true;
      for (const name of await readdir(this.dir)) {
        if (!wanted.has(name)) await rm(join(this.dir, name), { force: true });
      }
    }
  }
}

/** The datastore key of a host's status record (Felix's v2 layout, region `no-region`). */
export function hostStatusKey(node: string): string {
  return `/calico/felix/v2/no-region/host/${node}/status`;
}
