// One IP set's members, counted per contributor, and what the dataplane has seen of
// it. IPv4 members are packed (packed-members.ts); the rest (IPv6, CIDRs of network
// sets) are text. Which representation a member gets depends only on the member, so
// contributors may add a member in either form and the counts still meet.
import type { IpSetMember, IpSetType } from './desired-state.js';
import { formatMember, MemberFormatter, PackedMembers, packMember } from './packed-members.js';

export class IpSetData {
  private readonly packed = new PackedMembers();
  /**
   * Members kept as text. A member almost always has one contributor, so its count
   * is kept only above one, in `extra`: a new member is one hash-table probe.
   */
  private readonly text = new Set<IpSetMember>();
  /** contributors beyond the first, for text members that have more than one */
  private readonly extra = new Map<IpSetMember, number>();
  /** the dataplane holds this incarnation; changes since go out as deltas */
  emitted = false;
  readonly added = new Set<IpSetMember>();
  readonly removed = new Set<IpSetMember>();

  constructor(
    readonly id: string,
    readonly type: IpSetType,
    private readonly onDirty: (s: IpSetData) => void,
  ) {}

  get size(): number {
    return this.packed.size + this.text.size;
  }

  /** One more contributor of the IPv4 member (address, tag) (packed-members.ts). */
  incPacked(ip: number, tag: number): void {
    if (this.packed.add(ip, tag) && this.emitted) this.noteAdded(formatMember(this.type, ip, tag));
  }

  decPacked(ip: number, tag: number): void {
    if (this.packed.remove(ip, tag) && this.emitted) {
      this.noteRemoved(formatMember(this.type, ip, tag));
    }
  }

  inc(m: IpSetMember): void {
    const p = packMember(this.type, m);
    if (p !== undefined) {
      this.incPacked(p[0], p[1]);
      return;
    }
    const size = this.text.size;
    this.text.add(m);
    if (this.text.size === size) {
      this.extra.set(m, (this.extra.get(m) ?? 0) + 1);
      return;
    }
    if (this.emitted) this.noteAdded(m);
  }

  dec(m: IpSetMember): void {
    const p = packMember(this.type, m);
    if (p !== undefined) {
      this.decPacked(p[0], p[1]);
      return;
    }
    if (this.extra.size > 0) {
      const n = this.extra.get(m);
      if (n !== undefined) {
        if (n > 1) this.extra.set(m, n - 1);
        else this.extra.delete(m);
        return;
      }
    }
    if (!this.text.delete(m)) return;
    if (this.emitted) this.noteRemoved(m);
  }

  /** Every member's text (made here, for the dataplane's full update). */
  members(): IpSetMember[] {
    const out = new Array<IpSetMember>(this.size);
    let i = 0;
    const f = new MemberFormatter(this.type);
    this.packed.forEach((ip, tag) => {
      out[i++] = f.format(ip, tag);
    });
    for (const m of this.text) out[i++] = m;
    return out;
  }

  private noteAdded(m: IpSetMember): void {
    if (!this.removed.delete(m)) this.added.add(m);
    this.onDirty(this);
  }

  private noteRemoved(m: IpSetMember): void {
    if (!this.added.delete(m)) this.removed.add(m);
    this.onDirty(this);
  }
}
