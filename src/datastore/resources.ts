/**
 * Calico v3 resources over any {@link Backend}: validation before every write,
 * `metadata.resourceVersion` as the optimistic-concurrency token (the key's mod
 * revision), and `uid` / `creationTimestamp` owned by the store.
 *
 * Stored values are the validated, defaulted resource as JSON, without
 * resourceVersion (which is only ever the key's mod revision, filled in on read).
 */
import { randomUUID } from 'node:crypto';
import {
  type CalicoKind,
  type CalicoResource,
  type CalicoResourceByKind,
  KINDS,
  type KindInfo,
  lookupKind,
  ValidationError,
  validateResource,
} from '../api/index.js';
import type { Backend, Revision, Watch, WatchEvent } from './backend.js';
import { ConflictError, DatastoreError, KeyExistsError, NotFoundError } from './errors.js';
import { RESOURCES_PREFIX, resourceKey, resourcePrefix } from './keys.js';

/** Namespaced resources without one land here, as with kubectl and calicoctl. */
export const DEFAULT_NAMESPACE = 'default';

export interface ResourceListResult<T> {
  items: T[];
  /** watch from revision + 1 to follow this listing without a gap */
  revision: Revision;
}

export type ResourceEvent<T> =
  | { type: 'added'; resource: T; revision: Revision }
  | { type: 'modified'; resource: T; previous?: T; revision: Revision }
  /** resource is the last stored state, revision the delete's */
  | { type: 'deleted'; resource?: T; key: string; revision: Revision }
  /** a stored value that is not a readable resource; reported, never silently skipped */
  | { type: 'error'; key: string; revision: Revision; message: string }
  | { type: 'resync-needed'; reason: string };

export interface ResourceWatch<T> extends AsyncIterable<ResourceEvent<T>> {
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface ScopeOptions {
  /** for namespaced kinds; omitted: "default" for single objects, all namespaces for list/watch */
  namespace?: string;
}

export interface DeleteOptions extends ScopeOptions {
  /** delete only if the resource is still at this version */
  resourceVersion?: Revision;
}

/** The stored type of a document's kind, whatever shape the caller's literal had. */
export type ResourceOf<T extends CalicoResource> = CalicoResourceByKind[T['kind'] & CalicoKind];

type Doc = { kind?: unknown; metadata?: Record<string, unknown> } & Record<string, unknown>;

/** How many times apply() re-reads after losing a race before it reports the conflict. */
const APPLY_RETRIES = 20;

function kindInfo(kind: string): KindInfo {
  const info = lookupKind(kind);
  if (info === undefined || !KINDS.includes(info)) {
    throw new DatastoreError('INVALID_ARGUMENT', `Unknown resource kind "${kind}"`);
  }
  return info;
}

function rfc3339Now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function describe(info: KindInfo, name: string, namespace?: string): string {
  return namespace === undefined ? `${info.kind} "${name}"` : `${info.kind} "${namespace}/${name}"`;
}

export class ResourceClient {
  constructor(readonly backend: Backend) {}

  /** The key a resource is stored under (namespace defaulted for namespaced kinds). */
  keyFor(kind: string, name: string, namespace?: string): string {
    const info = kindInfo(kind);
    return resourceKey(info.plural, name, this.namespaceFor(info, namespace));
  }

  async get<K extends CalicoKind>(
    kind: K,
    name: string,
    options: ScopeOptions = {},
  ): Promise<CalicoResourceByKind[K] | undefined> {
    const info = kindInfo(kind);
    const kv = await this.backend.get(
      resourceKey(info.plural, name, this.namespaceFor(info, options.namespace)),
    );
    return kv === undefined
      ? undefined
      : (this.decode(kv.key, kv.value, kv.modRevision) as CalicoResourceByKind[K]);
  }

  async list<K extends CalicoKind>(
    kind: K,
    options: ScopeOptions = {},
  ): Promise<ResourceListResult<CalicoResourceByKind[K]>> {
    const info = kindInfo(kind);
    const ns = info.namespaced ? options.namespace : undefined;
    const res = await this.backend.list(resourcePrefix(info.plural, ns));
    return {
      items: res.items.map(
        (kv) => this.decode(kv.key, kv.value, kv.modRevision) as CalicoResourceByKind[K],
      ),
      revision: res.revision,
    };
  }

  /** Stores a new resource; KeyExistsError if one of that name exists. */
  async create<T extends CalicoResource>(resource: T): Promise<ResourceOf<T>> {
    const { info, value, key, name, namespace } = this.prepare(resource);
    const meta = value.metadata as Record<string, unknown>;
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339Now();
    delete meta.resourceVersion;
    try {
      const kv = await this.backend.create(key, JSON.stringify(value));
      return this.withVersion(value, kv.modRevision) as ResourceOf<T>;
    } catch (err) {
      if (err instanceof DatastoreError && err.code === 'KEY_EXISTS') {
        throw new KeyExistsError(key, describe(info, name, namespace));
      }
      throw err;
    }
  }

  /**
   * Replaces an existing resource. With metadata.resourceVersion the write happens only
   * if the stored resource is still at that version (ConflictError otherwise); without
   * it, whatever is stored is replaced. uid and creationTimestamp are kept from the
   * stored resource either way.
   */
  async update<T extends CalicoResource>(resource: T): Promise<ResourceOf<T>> {
    const prepared = this.prepare(resource);
    const expected = (resource as Doc).metadata?.resourceVersion;
    if (expected !== undefined && typeof expected !== 'string') {
      throw new DatastoreError(
        'INVALID_ARGUMENT',
        `Cannot update ${this.subject(prepared)}: resourceVersion must be a string`,
      );
    }
    return this.replace(prepared, expected, 'update') as Promise<ResourceOf<T>>;
  }

  /**
   * Creates the resource or replaces the stored one (calicoctl apply). A given
   * resourceVersion is honoured as a precondition; otherwise lost races are retried.
   */
  async apply<T extends CalicoResource>(resource: T): Promise<ResourceOf<T>> {
    const prepared = this.prepare(resource);
    const expected = (resource as Doc).metadata?.resourceVersion;
    if (typeof expected === 'string')
      return this.replace(prepared, expected, 'apply') as Promise<ResourceOf<T>>;
    for (let attempt = 0; ; attempt++) {
      try {
        const current = await this.backend.get(prepared.key);
        if (current === undefined) return await this.create(resource);
        return (await this.replace(
          prepared,
          undefined,
          'apply',
          current.modRevision,
        )) as ResourceOf<T>;
      } catch (err) {
        const retry =
          err instanceof DatastoreError &&
          (err.code === 'CONFLICT' || err.code === 'KEY_EXISTS' || err.code === 'NOT_FOUND');
        if (!retry || attempt >= APPLY_RETRIES) throw err;
      }
    }
  }

  /** Removes a resource and returns its last state. NotFoundError / ConflictError. */
  async delete<K extends CalicoKind>(
    kind: K,
    name: string,
    options: DeleteOptions = {},
  ): Promise<CalicoResourceByKind[K]> {
    const info = kindInfo(kind);
    const namespace = this.namespaceFor(info, options.namespace);
    const key = resourceKey(info.plural, name, namespace);
    try {
      const kv = await this.backend.delete(key, options.resourceVersion);
      return this.decode(key, kv.value, kv.modRevision) as CalicoResourceByKind[K];
    } catch (err) {
      throw this.rename(err, info, name, namespace, 'delete');
    }
  }

  /**
   * Follows one kind (optionally one namespace) as added / modified / deleted events.
   * From a list's revision + 1, nothing between the list and the watch is missed.
   */
  watch<K extends CalicoKind>(
    kind: K,
    options: ScopeOptions & { fromRevision?: Revision } = {},
  ): ResourceWatch<CalicoResourceByKind[K]> {
    const info = kindInfo(kind);
    const ns = info.namespaced ? options.namespace : undefined;
    const inner = this.backend.watch(
      resourcePrefix(info.plural, ns),
      options.fromRevision === undefined ? {} : { fromRevision: options.fromRevision },
    );
    return this.mapWatch<CalicoResourceByKind[K]>(inner);
  }

  private mapWatch<T>(inner: Watch): ResourceWatch<T> {
    const toEvent = (ev: WatchEvent): ResourceEvent<T> => {
      if (ev.type === 'resync-needed') return ev;
      try {
        if (ev.type === 'delete') {
          return ev.prevValue === undefined
            ? { type: 'deleted', key: ev.key, revision: ev.modRevision }
            : {
                type: 'deleted',
                key: ev.key,
                resource: this.decode(ev.key, ev.prevValue, undefined) as T,
                revision: ev.modRevision,
              };
        }
        const resource = this.decode(ev.key, ev.value, ev.modRevision) as T;
        if (ev.prevValue === undefined)
          return { type: 'added', resource, revision: ev.modRevision };
        return {
          type: 'modified',
          resource,
          previous: this.decode(ev.key, ev.prevValue, undefined) as T,
          revision: ev.modRevision,
        };
      } catch (err) {
        return {
          type: 'error',
          key: ev.key,
          revision: ev.modRevision,
          message: (err as Error).message,
        };
      }
    };
    return {
      ready: () => inner.ready(),
      close: () => inner.close(),
      [Symbol.asyncIterator]: () => {
        const it = inner[Symbol.asyncIterator]();
        return {
          next: async () => {
            const r = await it.next();
            return r.done
              ? { value: undefined, done: true }
              : { value: toEvent(r.value), done: false };
          },
          return: async () => {
            await it.return?.();
            return { value: undefined, done: true };
          },
        };
      },
    };
  }

  // ---- internals ---------------------------------------------------------------------

  private namespaceFor(info: KindInfo, namespace: string | undefined): string | undefined {
    if (!info.namespaced) return undefined;
    return namespace === undefined || namespace === '' ? DEFAULT_NAMESPACE : namespace;
  }

  /** Validates (with defaults) a copy of the caller's document and works out its key. */
  private prepare(resource: unknown) {
    const doc = resource as Doc;
    const kindName = typeof doc?.kind === 'string' ? doc.kind : undefined;
    const info = kindName === undefined ? undefined : lookupKind(kindName);
    const copy = structuredClone(resource) as Doc;
    if (info?.namespaced && copy.metadata !== null && typeof copy.metadata === 'object') {
      const ns = copy.metadata.namespace;
      if (ns === undefined || ns === '') copy.metadata.namespace = DEFAULT_NAMESPACE;
    }
    const result = validateResource(copy);
    if (!result.ok) {
      const name = typeof doc?.metadata?.name === 'string' ? doc.metadata.name : undefined;
      throw new ValidationError(result.errors, kindName, name);
    }
    const value = result.value as unknown as Doc & { metadata: Record<string, unknown> };
    const valInfo = kindInfo(value.kind as string);
    const name = value.metadata.name as string;
    const namespace = valInfo.namespaced ? (value.metadata.namespace as string) : undefined;
    return {
      info: valInfo,
      value,
      key: resourceKey(valInfo.plural, name, namespace),
      name,
      namespace,
    };
  }

  private subject(p: { info: KindInfo; name: string; namespace: string | undefined }): string {
    return describe(p.info, p.name, p.namespace);
  }

  /**
   * CAS-replaces the stored resource. `expected` is the caller's precondition; `seen`
   * the version apply() just read (a lost race there is retried by apply, not reported).
   */
  private async replace(
    p: ReturnType<ResourceClient['prepare']>,
    expected: string | undefined,
    what: string,
    seen?: string,
  ): Promise<CalicoResource> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.backend.get(p.key);
      if (current === undefined) throw new NotFoundError(p.key, what, this.subject(p));
      if (expected !== undefined && current.modRevision !== expected) {
        throw new ConflictError(p.key, expected, current.modRevision, what, this.subject(p));
      }
      if (seen !== undefined && current.modRevision !== seen) {
        throw new ConflictError(p.key, seen, current.modRevision, what, this.subject(p));
      }
      const stored = this.parse(p.key, current.value);
      const meta = p.value.metadata;
      meta.uid = stored.metadata?.uid;
      meta.creationTimestamp = stored.metadata?.creationTimestamp;
      delete meta.resourceVersion;
      try {
        const kv = await this.backend.update(p.key, JSON.stringify(p.value), current.modRevision);
        return this.withVersion(p.value, kv.modRevision);
      } catch (err) {
        // Without a caller precondition, someone writing between our read and our write
        // is not the caller's conflict: read again so uid and creationTimestamp stay right.
        const lostRace = err instanceof DatastoreError && err.code === 'CONFLICT';
        if (!lostRace || expected !== undefined || seen !== undefined || attempt >= APPLY_RETRIES) {
          throw this.rename(err, p.info, p.name, p.namespace, what);
        }
      }
    }
  }

  private rename(
    err: unknown,
    info: KindInfo,
    name: string,
    namespace: string | undefined,
    what: string,
  ): unknown {
    if (!(err instanceof DatastoreError) || err.key === undefined) return err;
    const subject = describe(info, name, namespace);
    if (err instanceof ConflictError)
      return new ConflictError(err.key, err.expected, err.actual, what, subject);
    if (err.code === 'NOT_FOUND') return new NotFoundError(err.key, what, subject);
    return err;
  }

  private withVersion(value: Doc, revision: Revision): CalicoResource {
    const out = structuredClone(value);
    (out.metadata as Record<string, unknown>).resourceVersion = revision;
    return out as unknown as CalicoResource;
  }

  private parse(key: string, text: string): Doc {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new DatastoreError(
        'INVALID_ARGUMENT',
        `Stored value at "${key}" is not JSON: ${(err as Error).message}`,
        {
          key,
          cause: err,
        },
      );
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new DatastoreError(
        'INVALID_ARGUMENT',
        `Stored value at "${key}" is not a resource object`,
        { key },
      );
    }
    return doc as Doc;
  }

  /** Stored JSON → resource, with resourceVersion set to the key's mod revision. */
  private decode(key: string, text: string, revision: Revision | undefined): CalicoResource {
    const doc = this.parse(key, text);
    if (!key.startsWith(RESOURCES_PREFIX)) return doc as unknown as CalicoResource;
    if (doc.metadata === null || typeof doc.metadata !== 'object') doc.metadata = {};
    if (revision === undefined) delete doc.metadata.resourceVersion;
    else doc.metadata.resourceVersion = revision;
    return doc as unknown as CalicoResource;
  }
}
