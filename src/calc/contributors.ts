// The graph's contributors (anything a rule selector can select: an endpoint or a
// network set) as a table of columns indexed by a small integer id rather than one
// object each. A cluster has up to millions of them, nearly all remote endpoints
// that never change after the sync: as objects they were that many young survivors
// for the scavenger to copy and that many old objects for the marker to trace,
// while here they add a few array slots, and the maps that find them hold numbers.
// Ids of removed contributors are reused (last freed, first reused). A contributor's
// name is not kept: the maps that find it hold it as their key.

const NO_NETS: readonly string[] = [];

/** Contributor kinds (the `kind` column). */
export const ENDPOINT = 0;
export const NETWORK_SET = 1;

/** No contributor (the end of a `nextWep` chain). */
export const NONE = -1;

export class ContributorTable<Cls, Local> {
  /** ENDPOINT or NETWORK_SET */
  kind = new Uint8Array(1024);
  /**
   * The only address, as a number, when the contributor has exactly one and it is an
   * IPv4 host (then `nets` is empty); else -1. An IP set packs it without making its
   * text (packed-members.ts).
   */
  v4 = new Float64Array(1024);
  /** the index in its class's member list */
  slot = new Int32Array(1024);
  /** the next workload endpoint of the same name, in another namespace; else NONE */
  nextWep = new Int32Array(1024);
  /** a workload endpoint's namespace; else undefined */
  readonly ns: (string | undefined)[] = [];
  /** the label class (undefined while the id is free) */
  readonly cls: (Cls | undefined)[] = [];
  /** host CIDRs of an endpoint but `v4`, a network set's CIDRs */
  readonly nets: (readonly string[])[] = [];
  /** the local endpoint's state of an endpoint of this host (a few among many, so by id) */
  readonly local = new Map<number, Local>();
  private readonly freeIds: number[] = [];
  private live = 0;

  /** Contributors in the table. */
  get size(): number {
    return this.live;
  }

  add(kind: number, ns: string | undefined, cls: Cls, v4: number, nets: readonly string[]): number {
    this.live++;
    const id = this.freeIds.pop() ?? this.cls.length;
    if (id === this.cls.length) {
      if (id === this.kind.length) this.grow();
      this.ns.push(ns);
      this.cls.push(cls);
      this.nets.push(nets);
    } else {
      this.ns[id] = ns;
      this.cls[id] = cls;
      this.nets[id] = nets;
    }
    this.kind[id] = kind;
    this.v4[id] = v4;
    this.slot[id] = 0;
    this.nextWep[id] = NONE;
    return id;
  }

  /** Frees the id, dropping what its columns referred to. */
  delete(id: number): void {
    if (this.cls[id] === undefined) throw new RangeError(`contributor ${id} is not in the table`);
    this.live--;
    this.ns[id] = undefined;
    this.cls[id] = undefined;
    this.nets[id] = NO_NETS;
    this.local.delete(id);
    this.freeIds.push(id);
  }

  has(id: number): boolean {
    return id >= 0 && id < this.cls.length && this.cls[id] !== undefined;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    this.kind = grown(this.kind, n);
    this.v4 = grown(this.v4, n);
    this.slot = grown(this.slot, n);
    this.nextWep = grown(this.nextWep, n);
  }
}

/** A copy of `a` with room for `n` entries. */
function grown<A extends Uint8Array | Int32Array | Float64Array>(a: A, n: number): A {
  const b = new (a.constructor as new (length: number) => A)(n);
  b.set(a);
  return b;
}
