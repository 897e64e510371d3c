// node:crypto is loaded on first use: it pulls in ~20 internal modules, and most
// calicoctl commands (validate, version) never name a selector's IP set. Through
// process.getBuiltinModule (Node 20.16+), not createRequire: node:module would load
// Node's ESM loader into calicoctl's CommonJS start.
let createHash: typeof import('node:crypto').createHash | undefined;

/**
 * Calico's unique id for a canonical selector: "s:" + base64url (unpadded) of
 * SHA-224 over "s:" + canonical (libcalico-go/lib/hash/unique_id.go). It names the
 * selector's IP set, so it must stay stable across releases.
 */
export function selectorId(canonical: string): string {
  createHash ??= process.getBuiltinModule('node:crypto').createHash;
  return (
    's:' +
    createHash('sha224')
      .update('s:' + canonical, 'utf8')
      .digest('base64url')
  );
}
