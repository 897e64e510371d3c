// The seam between the agent and the BGP speaker (CALICO_NETWORKING_BACKEND). The agent
// tells the backend this host's identity and its affine blocks after every dataplane
// apply; the speaker announces them and programs what it learns. `none` does nothing;
// `builtin` will wrap src/bgp's speaker (the BGP engineer's follow-up) and until then
// only records what it would announce.
import type { RouteState } from '../calc/index.js';

export interface HostRouting {
  readonly nodeName: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly asNumber?: number;
  /** CIDRs of blocks affine to this host (what the speaker announces) */
  readonly localBlocks: readonly string[];
  /** every route the calc graph wants, for speakers that also learn or compare */
  readonly routes: readonly RouteState[];
}

export interface NetworkingBackend {
  readonly name: 'builtin' | 'none';
  start(): Promise<void>;
  update(view: HostRouting): void;
  stop(): Promise<void>;
}

export class NoNetworking implements NetworkingBackend {
  readonly name = 'none' as const;
  async start(): Promise<void> {}
  update(_view: HostRouting): void {}
  async stop(): Promise<void> {}
}

/** Placeholder until the speaker is wired in: keeps the latest view for inspection. */
export class BuiltinNetworkingPending implements NetworkingBackend {
  readonly name = 'builtin' as const;
  last: HostRouting | undefined;
  async start(): Promise<void> {}
  update(view: HostRouting): void {
    this.last = view;
  }
  async stop(): Promise<void> {}
}
