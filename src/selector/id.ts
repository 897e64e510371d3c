import { createHash } from 'node:crypto';

/**
 * Calico's unique id for a canonical selector: "s:" + base64url (unpadded) of
 * SHA-224 over "s:" + canonical (libcalico-go/lib/hash/unique_id.go). It names the
 * selector's IP set, so it must stay stable across releases.
 */
export function selectorId(canonical: string): string {
  return (
    's:' +
    createHash('sha224')
      .update('s:' + canonical, 'utf8')
      .digest('base64url')
  );
}
