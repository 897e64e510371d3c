/**
 * The two patch formats `calicoctl patch` takes: JSON merge patch (RFC 7386) and
 * JSON patch (RFC 6902). Both work on plain JSON values and never mutate their input.
 */
import { CtlError } from './errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own-key copy, so a `__proto__` key in a patch is data, never a prototype. */
function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** RFC 7386: objects merge key by key, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = {};
  if (isObject(target)) for (const [k, v] of Object.entries(target)) setKey(out, k, v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setKey(out, k, mergePatch(out[k], v));
  }
  return out;
}

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

function fail(i: number, message: string): never {
  throw new CtlError(`Cannot apply JSON patch: operation ${i}: ${message}`);
}

/** RFC 6901: "" is the whole document; `~1` is `/`, `~0` is `~`. */
export function parsePointer(pointer: string, i = 0): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) fail(i, `path ${JSON.stringify(pointer)} must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: unknown[], token: string, i: number, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) fail(i, `${JSON.stringify(token)} is not an array index`);
  const n = Number(token);
  if (n > arr.length || (!forAdd && n === arr.length)) fail(i, `index ${n} is out of range`);
  return n;
}

function getAt(doc: unknown, tokens: readonly string[], i: number): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, i, false)];
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else fail(i, `path /${tokens.join('/')} does not exist`);
  }
  return cur;
}

function parentOf(doc: unknown, tokens: readonly string[], i: number) {
  const parent = getAt(doc, tokens.slice(0, -1), i);
  if (!Array.isArray(parent) && !isObject(parent))
    fail(i, `the parent of /${tokens.join('/')} is not an object or array`);
  return { parent: parent as unknown[] | Record<string, unknown>, last: tokens.at(-1)! };
}

function add(doc: unknown, tokens: string[], value: unknown, i: number): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, i);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, i, true), 0, value);
  else setKey(parent, last, value);
  return doc;
}

function remove(doc: unknown, tokens: string[], i: number): { doc: unknown; removed: unknown } {
  if (tokens.length === 0) fail(i, 'cannot remove the whole document');
  const { parent, last } = parentOf(doc, tokens, i);
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(parent, last, i, false), 1);
    return { doc, removed };
  }
  if (!Object.hasOwn(parent, last)) fail(i, `path /${tokens.join('/')} does not exist`);
  const removed = parent[last];
  delete parent[last];
  return { doc, removed };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, k) => deepEqual(v, b[k]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Applies every operation in order, all or nothing (the input is never touched). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new CtlError('Cannot apply JSON patch: it must be a JSON array');
  let doc = structuredClone(target);
  ops.forEach((raw, i) => {
    if (!isObject(raw)) fail(i, 'must be an object with "op" and "path"');
    const op = raw as unknown as JsonPatchOp;
    if (typeof op.path !== 'string') fail(i, '"path" must be a string');
    const tokens = parsePointer(op.path, i);
    const needValue = () => {
      if (!Object.hasOwn(raw, 'value')) fail(i, `"${op.op}" needs a "value"`);
      return structuredClone(op.value) as Json;
    };
    const from = () => {
      if (typeof op.from !== 'string') fail(i, `"${op.op}" needs a string "from"`);
      return parsePointer(op.from, i);
    };
    switch (op.op) {
      case 'add':
        doc = add(doc, tokens, needValue(), i);
        break;
      case 'remove':
        doc = remove(doc, tokens, i).doc;
        break;
      case 'replace': {
        const value = needValue();
        if (tokens.length === 0) {
          doc = value;
          break;
        }
        getAt(doc, tokens, i);
        const { parent, last } = parentOf(doc, tokens, i);
        if (Array.isArray(parent)) parent[arrayIndex(parent, last, i, false)] = value;
        else setKey(parent, last, value);
        break;
      }
      case 'move': {
        const src = from();
        if (tokens.length > src.length && src.every((t, k) => tokens[k] === t))
          fail(i, 'cannot move a value into one of its own children');
        const r = remove(doc, src, i);
        doc = add(r.doc, tokens, r.removed, i);
        break;
      }
      case 'copy':
        doc = add(doc, tokens, structuredClone(getAt(doc, from(), i)), i);
        break;
      case 'test':
        if (!deepEqual(getAt(doc, tokens, i), needValue()))
          fail(i, `test failed: ${op.path} is not ${JSON.stringify(op.value)}`);
        break;
      default:
        fail(i, `unknown op ${JSON.stringify(op.op)}`);
    }
  });
  return doc;
}
