// Kernel object names. Everything we create lives in one table and carries the
// `cali` prefix, so ownership is never ambiguous (calico-dataplane.md §1 restart doctrine).

export const TABLE_NAME = 'calico';

/** FNV-1a, 32 bits, base 36: short stable tags for rule comments and legalised names. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

const LEGAL = /^[A-Za-z0-9_.-]+$/;

/**
 * An id as an nft identifier fragment. Ids that are already legal stay readable; others
 * have illegal characters replaced and a hash appended so distinct ids never collide.
 */
export function legal(id: string): string {
  if (LEGAL.test(id) && id.length <= 180) return id;
  return `${id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 180)}_${shortHash(id)}`;
}

export const chain = {
  policyIn: (id: string) => `cali-pi-${legal(id)}`,
  policyOut: (id: string) => `cali-po-${legal(id)}`,
  profileIn: (id: string) => `cali-pri-${legal(id)}`,
  profileOut: (id: string) => `cali-pro-${legal(id)}`,
  toWorkload: (ifname: string) => `cali-tw-${legal(ifname)}`,
  fromWorkload: (ifname: string) => `cali-fw-${legal(ifname)}`,
  spoof: (ifname: string) => `cali-sp-${legal(ifname)}`,
  fromHost: (hep: string) => `cali-fh-${legal(hep)}`,
  toHost: (hep: string) => `cali-th-${legal(hep)}`,
  fromHostFwd: (hep: string) => `cali-fhfw-${legal(hep)}`,
  toHostFwd: (hep: string) => `cali-thfw-${legal(hep)}`,
  fromHostUntracked: (hep: string) => `cali-fhu-${legal(hep)}`,
  toHostUntracked: (hep: string) => `cali-thu-${legal(hep)}`,
  fromHostPreDnat: (hep: string) => `cali-fhp-${legal(hep)}`,
};

/** The nft set holding one IP set's members of one family. */
export function ipSetName(id: string, family: 4 | 6): string {
  return `cali${family}s-${legal(id)}`;
}

export function quoteString(s: string, max: number): string {
  // nft strings cannot contain double quotes; keep them printable and bounded.
  const clean = s.replace(/["\\\n\r]/g, '_');
  return `"${Buffer.byteLength(clean) > max ? clean.slice(0, max) : clean}"`;
}

/** Every rule ends in a comment tagging it as ours, with a content hash for drift checks. */
export function withComment(body: string, desc?: string): string {
  const tag = `cali:${shortHash(body)}`;
  return `${body} comment ${quoteString(desc ? `${tag} ${desc}` : tag, 120)}`;
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}
