import {
  type Compare,
  isRevision,
  type KeyValue,
  type Revision,
  type Txn,
  type TxnOp,
} from './backend.js';
import { DatastoreError } from './errors.js';

/** Keys are non-empty text without NUL; both backends reject the same inputs the same way. */
export function checkKey(key: unknown, what: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.includes('\0')) {
    throw new DatastoreError(
      'INVALID_ARGUMENT',
      `Cannot ${what}: key must be a non-empty string without NUL characters, got ${JSON.stringify(key)}`,
    );
  }
}

export function checkValue(value: unknown, key: string, what: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new DatastoreError(
      'INVALID_ARGUMENT',
      `Cannot ${what} "${key}": value must be a string`,
      {
        key,
      },
    );
  }
}

export function checkRevision(rev: unknown, key: string, what: string): asserts rev is Revision {
  if (!isRevision(rev)) {
    throw new DatastoreError(
      'INVALID_ARGUMENT',
      `Cannot ${what} "${key}": revision must be a decimal int64 string, got ${JSON.stringify(rev)}`,
      { key },
    );
  }
}

/** A write that must find an existing key cannot name revision "0" (which means absent). */
export function checkExistingRevision(
  rev: unknown,
  key: string,
  what: string,
): asserts rev is Revision {
  checkRevision(rev, key, what);
  if (rev === '0') {
    throw new DatastoreError(
      'INVALID_ARGUMENT',
      `Cannot ${what} "${key}": revision "0" names an absent key; use create()`,
      { key },
    );
  }
}

/**
 * etcd refuses a transaction that touches one key twice in a branch; we refuse it on
 * both backends so code written against the embedded store keeps working on etcd.
 */
export function checkTxn(txn: Txn): void {
  if (
    txn === null ||
    typeof txn !== 'object' ||
    !Array.isArray(txn.compare) ||
    !Array.isArray(txn.success)
  ) {
    throw new DatastoreError(
      'INVALID_ARGUMENT',
      'Cannot run txn: expected {compare: [], success: [], failure?: []}',
    );
  }
  for (const c of txn.compare) checkCompare(c);
  checkOps(txn.success, 'success');
  if (txn.failure !== undefined) checkOps(txn.failure, 'failure');
}

function checkCompare(c: Compare): void {
  checkKey(c?.key, 'compare in txn');
  const key: string = c.key;
  if ('modRevision' in c) checkRevision(c.modRevision, c.key, 'compare in txn');
  else if ('value' in c) checkValue(c.value, c.key, 'compare in txn');
  else
    throw new DatastoreError(
      'INVALID_ARGUMENT',
      `Cannot compare "${key}" in txn: give modRevision or value`,
      {
        key,
      },
    );
}

function checkOps(ops: TxnOp[], branch: string): void {
  if (!Array.isArray(ops)) {
    throw new DatastoreError('INVALID_ARGUMENT', `Cannot run txn: ${branch} must be an array`);
  }
  const seen = new Set<string>();
  for (const op of ops) {
    checkKey(op?.key, `run txn ${branch} op`);
    const key: string = op.key;
    if (op.type === 'put') checkValue(op.value, op.key, `put in txn ${branch}`);
    else if (op.type !== 'delete') {
      throw new DatastoreError(
        'INVALID_ARGUMENT',
        `Cannot run txn ${branch} op on "${key}": type must be "put" or "delete"`,
        { key },
      );
    }
    if (seen.has(op.key)) {
      throw new DatastoreError(
        'INVALID_ARGUMENT',
        `Cannot run txn: key "${op.key}" appears twice in the ${branch} branch`,
        { key: op.key },
      );
    }
    seen.add(op.key);
  }
}

export function kv(
  key: string,
  value: string,
  createRevision: Revision,
  modRevision: Revision,
): KeyValue {
  return { key, value, createRevision, modRevision };
}
