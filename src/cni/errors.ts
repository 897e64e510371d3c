// CNI error codes (spec 1.1.0 §"Error"): well-known codes below 100, ours from 100 up.
// Runtimes branch on the code, so every failure leaves the plugin as one of these.
export const CNI_CODES = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO: 5,
  DECODE: 6,
  INVALID_CONFIG: 7,
  TRY_LATER: 11,
  NOT_AVAILABLE: 50,
  /** IPAM could not hand out (or release) the addresses */
  IPAM_FAILED: 100,
  /** ADD for a container + interface that already has one */
  INTERFACE_EXISTS: 101,
  /** the kernel refused a link, address, route or sysctl change */
  PLUMBING_FAILED: 102,
  /** the datastore refused a WorkloadEndpoint / Profile write */
  DATASTORE_FAILED: 103,
  /** CHECK found the container's networking differs from what ADD set up */
  CHECK_FAILED: 104,
  /** a delegated plugin (IPAM or chained) failed without a CNI error of its own */
  DELEGATE_FAILED: 105,
  INTERNAL: 999,
} as const;

export class CniError extends Error {
  override readonly name = 'CniError';
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
  }
}

/**
 * By shape, not instanceof: the entry bundle and the lazily loaded commands bundle each
 * carry their own copy of this class.
 */
export function isCniError(err: unknown): err is CniError {
  return (
    err instanceof Error && err.name === 'CniError' && typeof (err as CniError).code === 'number'
  );
}

/** The spec's error object; msg is one line so log scrapers keep it whole. */
export function errorJson(cniVersion: string, err: unknown): Record<string, unknown> {
  if (isCniError(err)) {
    return {
      cniVersion,
      code: err.code,
      msg: err.message,
      ...(err.details === '' ? {} : { details: err.details }),
    };
  }
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  // Datastore "unavailable" is transient by nature: ask the runtime to retry.
  if (e?.code === 'UNAVAILABLE' || e?.code === 'TIMEOUT') {
    return { cniVersion, code: CNI_CODES.TRY_LATER, msg: String(e.message ?? err) };
  }
  return {
    cniVersion,
    code: CNI_CODES.INTERNAL,
    msg: String(e?.message ?? err),
    ...(typeof e?.name === 'string' ? { details: e.name } : {}),
  };
}
