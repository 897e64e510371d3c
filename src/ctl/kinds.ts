import { KINDS, type KindInfo, lookupKind } from '../api/index.js';
import { CtlError } from './errors.js';

/** A KIND argument (kind, plural or short name, any case) → its registry entry. */
export function resolveKind(arg: string): KindInfo {
  const info = lookupKind(arg);
  if (info === undefined) {
    throw new CtlError(
      `Resource type "${arg}" is not supported; use one of: ${KINDS.map((k) => k.singular).join(', ')}`,
    );
  }
  return info;
}
