/**
 * Stable reasons a datastore call fails. Callers branch on these (retry on CONFLICT,
 * relist on COMPACTED, back off on UNAVAILABLE), never on message text.
 */
export type DatastoreErrorCode =
  | 'KEY_EXISTS'
  | 'CONFLICT'
  | 'NOT_FOUND'
  | 'UNAVAILABLE'
  | 'COMPACTED'
  | 'CLOSED'
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'VALIDATION';

export class DatastoreError extends Error {
  override readonly name: string = 'DatastoreError';
  readonly code: DatastoreErrorCode;
  /** the key the failing operation addressed, when there is exactly one */
  readonly key: string | undefined;

  constructor(
    code: DatastoreErrorCode,
    message: string,
    options?: { key?: string; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.key = options?.key;
  }
}

/** create() found the key already present. */
export class KeyExistsError extends DatastoreError {
  override readonly name = 'KeyExistsError';
  /** @param subject how to name the thing in the message (default: the quoted key) */
  constructor(key: string, subject = `"${key}"`) {
    super('KEY_EXISTS', `Cannot create ${subject}: it already exists`, { key });
  }
}

/**
 * A conditional write named a revision that is no longer current: someone else wrote
 * the key first. The caller must re-read and decide again; we never overwrite.
 */
export class ConflictError extends DatastoreError {
  override readonly name = 'ConflictError';
  /** the revision the caller expected */
  readonly expected: string;
  /** the revision actually stored, if the key still exists */
  readonly actual: string | undefined;
  constructor(
    key: string,
    expected: string,
    actual: string | undefined,
    what = 'update',
    subject = `"${key}"`,
  ) {
    super(
      'CONFLICT',
      `Cannot ${what} ${subject}: expected revision ${expected} but it is ${actual ?? 'deleted'} (modified concurrently; read it again)`,
      { key },
    );
    this.expected = expected;
    this.actual = actual;
  }
}

export class NotFoundError extends DatastoreError {
  override readonly name = 'NotFoundError';
  constructor(key: string, what = 'update', subject = `"${key}"`) {
    super('NOT_FOUND', `Cannot ${what} ${subject}: it does not exist`, { key });
  }
}

/** The store could not be reached or did not answer in time; retrying later may work. */
export class UnavailableError extends DatastoreError {
  override readonly name = 'UnavailableError';
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause });
  }
}

/** The requested revision is older than the compacted history. Relist. */
export class CompactedError extends DatastoreError {
  override readonly name = 'CompactedError';
  readonly revision: string;
  readonly compactRevision: string | undefined;
  constructor(revision: string, compactRevision: string | undefined) {
    super(
      'COMPACTED',
      `Revision ${revision} has been compacted` +
        (compactRevision === undefined ? '' : ` (history starts at ${compactRevision})`),
    );
    this.revision = revision;
    this.compactRevision = compactRevision;
  }
}

export class ClosedError extends DatastoreError {
  override readonly name = 'ClosedError';
  constructor(what: string) {
    super('CLOSED', `Cannot ${what}: the datastore client is closed`);
  }
}
