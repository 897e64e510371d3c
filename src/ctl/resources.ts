/**
 * The resource commands: apply, create, replace, delete, get, patch, label. Input is
 * fully validated first (input.ts); then existence is checked for every resource, so
 * a create that would collide or a replace of something missing writes nothing. Only
 * a race with another writer between that check and the writes can leave part of a
 * batch applied, and that is reported as such.
 */
import {
  type CalicoKind,
  type CalicoResource,
  formatFieldError,
  KINDS,
  type KindInfo,
  toJson,
  toList,
  toYaml,
  validateResource,
} from '../api/index.js';
import { ConflictError, DatastoreError, type ResourceClient } from '../datastore/index.js';
import { parseSelector, SelectorParseError } from '../selector/index.js';
import { tableFor } from './columns.js';
import { type Store, withStore } from './context.js';
import { CtlError } from './errors.js';
import { type InputResource, loadResources, readInputs } from './input.js';
import { resolveKind } from './kinds.js';
import { jsonPatch, mergePatch } from './patch.js';
import { formatTable } from './table.js';

export interface GlobalOptions {
  config?: string;
}

export interface FileOptions extends GlobalOptions {
  filename?: string[];
  recursive?: boolean;
  skipEmpty?: boolean;
  namespace?: string;
}

type Meta = {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
};
type Res = CalicoResource & { metadata: Meta };

function meta(r: CalicoResource): Meta {
  return (r as Res).metadata;
}

function infoOf(r: CalicoResource): KindInfo {
  return resolveKind(r.kind);
}

/** `IPPool "p1"` / `NetworkPolicy "ns/p1"`, as the datastore names them in errors. */
function subject(r: CalicoResource): string {
  const m = meta(r);
  return infoOf(r).namespaced ? `${r.kind} "${m.namespace}/${m.name}"` : `${r.kind} "${m.name}"`;
}

function write(text: string): void {
  process.stdout.write(text);
}

/** `Successfully applied 2 'IPPool' resource(s)`, or without the kind when mixed. */
function success(verb: string, items: readonly CalicoResource[]): string {
  const kinds = new Set(items.map((r) => r.kind));
  const what = kinds.size === 1 ? ` '${[...kinds][0]}'` : '';
  return `Successfully ${verb} ${items.length}${what} resource(s)\n`;
}

function load(opts: FileOptions): InputResource[] {
  return loadResources(readInputs(opts.filename ?? [], opts.recursive === true), {
    ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
    ...(opts.skipEmpty ? { skipEmpty: true } : {}),
  });
}

async function exists(client: ResourceClient, r: CalicoResource): Promise<boolean> {
  const m = meta(r);
  const got = await client.get(
    r.kind as CalicoKind,
    m.name,
    m.namespace === undefined ? {} : { namespace: m.namespace },
  );
  return got !== undefined;
}

/** Runs the writes in order; a failure after the first write names how far it got. */
async function writeAll(
  verb: string,
  items: readonly CalicoResource[],
  one: (r: CalicoResource) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    try {
      await one(items[i]!);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (i === 0) throw new CtlError(reason);
      throw new CtlError(
        `Partial success: ${verb} the first ${i} of ${items.length} resources; then: ${reason}`,
      );
    }
  }
}

export async function apply(opts: FileOptions): Promise<void> {
  const items = load(opts).map((i) => i.resource);
  await withStore(opts.config, async ({ client }) => {
    await writeAll('applied', items, async (r) => {
      await client.apply(r);
    });
  });
  write(success('applied', items));
}

export async function create(opts: FileOptions & { skipExists?: boolean }): Promise<void> {
  const items = load(opts).map((i) => i.resource);
  let created: CalicoResource[] = [];
  let skipped = 0;
  await withStore(opts.config, async ({ client }) => {
    const present: CalicoResource[] = [];
    for (const r of items) if (await exists(client, r)) present.push(r);
    if (present.length > 0 && !opts.skipExists) {
      throw new CtlError(
        present
          .map((r) => `Cannot create ${subject(r)}: it already exists (nothing was written)`)
          .join('\n'),
      );
    }
    created = items.filter((r) => !present.includes(r));
    skipped = present.length;
    await writeAll('created', created, async (r) => {
      try {
        await client.create(r);
      } catch (err) {
        if (opts.skipExists && err instanceof DatastoreError && err.code === 'KEY_EXISTS') return;
        throw err;
      }
    });
  });
  write(success('created', created));
  if (skipped > 0) write(`Skipped ${skipped} resource(s) that already exist\n`);
}

export async function replace(opts: FileOptions): Promise<void> {
  const items = load(opts).map((i) => i.resource);
  await withStore(opts.config, async ({ client }) => {
    const missing: CalicoResource[] = [];
    for (const r of items) if (!(await exists(client, r))) missing.push(r);
    if (missing.length > 0) {
      throw new CtlError(
        missing
          .map((r) => `Cannot replace ${subject(r)}: it does not exist (nothing was written)`)
          .join('\n'),
      );
    }
    await writeAll('replaced', items, async (r) => {
      await client.update(r);
    });
  });
  write(success('replaced', items));
}

interface Target {
  info: KindInfo;
  name: string;
  namespace: string | undefined;
}

function targetSubject(t: Target): string {
  return t.namespace === undefined
    ? `${t.info.kind} "${t.name}"`
    : `${t.info.kind} "${t.namespace}/${t.name}"`;
}

function targetsFromArgs(
  kindArg: string | undefined,
  names: readonly string[],
  namespace: string | undefined,
): Target[] {
  if (kindArg === undefined) throw new CtlError('Give -f FILE or a KIND and at least one NAME');
  const info = resolveKind(kindArg);
  if (names.length === 0) throw new CtlError(`Give the name of the ${info.kind} to act on`);
  return names.map((name) => ({
    info,
    name,
    namespace: info.namespaced ? (namespace ?? 'default') : undefined,
  }));
}

function targetsFromFiles(opts: FileOptions): Target[] {
  return load(opts).map(({ resource }) => {
    const info = infoOf(resource);
    const m = meta(resource);
    return { info, name: m.name, namespace: info.namespaced ? m.namespace : undefined };
  });
}

export async function del(
  kindArg: string | undefined,
  names: string[],
  opts: FileOptions & { skipNotExists?: boolean },
): Promise<void> {
  if (opts.filename !== undefined && kindArg !== undefined)
    throw new CtlError('Give either -f FILE or KIND NAME..., not both');
  const targets =
    opts.filename !== undefined
      ? targetsFromFiles(opts)
      : targetsFromArgs(kindArg, names, opts.namespace);
  const deleted: CalicoResource[] = [];
  await withStore(opts.config, async ({ client }) => {
    const present: Target[] = [];
    const missing: Target[] = [];
    for (const t of targets) {
      const got = await client.get(
        t.info.kind as CalicoKind,
        t.name,
        t.namespace === undefined ? {} : { namespace: t.namespace },
      );
      (got === undefined ? missing : present).push(t);
    }
    if (missing.length > 0 && !opts.skipNotExists) {
      throw new CtlError(
        missing
          .map((t) => `Cannot delete ${targetSubject(t)}: it does not exist (nothing was deleted)`)
          .join('\n'),
      );
    }
    for (let i = 0; i < present.length; i++) {
      const t = present[i]!;
      try {
        deleted.push(
          await client.delete(
            t.info.kind as CalicoKind,
            t.name,
            t.namespace === undefined ? {} : { namespace: t.namespace },
          ),
        );
      } catch (err) {
        if (opts.skipNotExists && err instanceof DatastoreError && err.code === 'NOT_FOUND')
          continue;
        const reason = err instanceof Error ? err.message : String(err);
        throw new CtlError(
          i === 0
            ? reason
            : `Partial success: deleted the first ${i} of ${present.length} resources; then: ${reason}`,
        );
      }
    }
  });
  write(success('deleted', deleted));
}

export type OutputFormat = 'ps' | 'wide' | 'yaml' | 'json' | 'name';

export interface GetOptions extends FileOptions {
  output: OutputFormat;
  allNamespaces?: boolean;
  selector?: string;
}

/** Drops what only makes sense inside one cluster (calicoctl get --export). */
function exportable(r: CalicoResource): CalicoResource {
  const c = structuredClone(r) as Res;
  const m = c.metadata as Record<string, unknown>;
  delete m.resourceVersion;
  delete m.uid;
  delete m.creationTimestamp;
  return c;
}

function render(
  items: readonly CalicoResource[],
  kind: KindInfo | undefined,
  single: boolean,
  opts: GetOptions & { export?: boolean },
): string {
  const shown = opts.export ? items.map(exportable) : items;
  switch (opts.output) {
    case 'yaml':
    case 'json': {
      const value =
        single && shown.length === 1
          ? shown[0]
          : kind === undefined
            ? toList('', shown)
            : toList(kind.kind, shown);
      return opts.output === 'yaml' ? toYaml(value) : toJson(value);
    }
    case 'name':
      return shown.map((r) => `${r.kind.toLowerCase()}/${meta(r).name}\n`).join('');
    default: {
      if (kind === undefined) {
        return formatTable(
          ['KIND', 'NAMESPACE', 'NAME'],
          shown.map((r) => [r.kind, meta(r).namespace ?? '', meta(r).name]),
        );
      }
      const t = tableFor(kind.kind, kind.namespaced, opts.output === 'wide', shown);
      return formatTable(t.headers, t.rows);
    }
  }
}

export async function get(
  kindArg: string | undefined,
  names: string[],
  opts: GetOptions & { export?: boolean },
): Promise<void> {
  let matches: ((r: CalicoResource) => boolean) | undefined;
  if (opts.selector !== undefined) {
    try {
      const sel = parseSelector(opts.selector);
      matches = (r) => sel.matches(meta(r).labels ?? {});
    } catch (err) {
      if (err instanceof SelectorParseError)
        throw new CtlError(`Invalid --selector: ${err.message}`);
      throw err;
    }
  }
  if (opts.filename !== undefined) {
    if (kindArg !== undefined)
      throw new CtlError('Give either -f FILE or KIND [NAME...], not both');
    const targets = targetsFromFiles(opts);
    const { found, missing } = await withStore(opts.config, (s) => fetchTargets(s, targets));
    const kinds = new Set(found.map((r) => r.kind));
    const kind = kinds.size === 1 ? resolveKind([...kinds][0]!) : undefined;
    write(
      render(
        found.filter((r) => matches?.(r) ?? true),
        kind,
        targets.length === 1,
        opts,
      ),
    );
    if (missing.length > 0) throw new CtlError(missing.map(notFound).join('\n'));
    return;
  }
  if (kindArg === undefined) {
    throw new CtlError(`Give the KIND to get, one of: ${KINDS.map((k) => k.plural).join(', ')}`);
  }
  const info = resolveKind(kindArg);
  if (names.length === 0) {
    const ns = info.namespaced && !opts.allNamespaces ? (opts.namespace ?? 'default') : undefined;
    const { items } = await withStore(opts.config, ({ client }) =>
      client.list(info.kind as CalicoKind, ns === undefined ? {} : { namespace: ns }),
    );
    const shown = (items as CalicoResource[]).filter((r) => matches?.(r) ?? true);
    write(render(shown, info, false, opts));
    return;
  }
  if (opts.allNamespaces) throw new CtlError('Names cannot be combined with --all-namespaces');
  const targets = targetsFromArgs(kindArg, names, opts.namespace);
  const { found, missing } = await withStore(opts.config, (s) => fetchTargets(s, targets));
  write(
    render(
      found.filter((r) => matches?.(r) ?? true),
      info,
      names.length === 1,
      opts,
    ),
  );
  if (missing.length > 0) throw new CtlError(missing.map(notFound).join('\n'));
}

function notFound(t: Target): string {
  return `${targetSubject(t)} does not exist`;
}

async function fetchTargets({ client }: Store, targets: readonly Target[]) {
  const found: CalicoResource[] = [];
  const missing: Target[] = [];
  for (const t of targets) {
    const got = await client.get(
      t.info.kind as CalicoKind,
      t.name,
      t.namespace === undefined ? {} : { namespace: t.namespace },
    );
    if (got === undefined) missing.push(t);
    else found.push(got as CalicoResource);
  }
  return { found, missing };
}

const MAX_ATTEMPTS = 200;

/**
 * Read, change, write back conditionally on the version read; a concurrent writer makes
 * the write fail with a conflict and we start again from a fresh read, so no
 * concurrent update is ever lost.
 */
async function readModifyWrite(
  config: string | undefined,
  t: Target,
  what: string,
  change: (current: Res) => Res | undefined,
): Promise<void> {
  await withStore(config, async ({ client }) => {
    for (let attempt = 0; ; attempt++) {
      const current = (await client.get(
        t.info.kind as CalicoKind,
        t.name,
        t.namespace === undefined ? {} : { namespace: t.namespace },
      )) as Res | undefined;
      if (current === undefined)
        throw new CtlError(`Cannot ${what} ${targetSubject(t)}: it does not exist`);
      const next = change(structuredClone(current));
      if (next === undefined) return;
      const checked = validateResource(next);
      if (!checked.ok) {
        throw new CtlError(
          `Cannot ${what} ${targetSubject(t)}: the result is invalid: ${checked.errors.map(formatFieldError).join('; ')}`,
        );
      }
      const versioned = checked.value as Res;
      versioned.metadata.resourceVersion = current.metadata.resourceVersion;
      try {
        await client.update(versioned);
        return;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= MAX_ATTEMPTS) {
          throw new CtlError(err instanceof Error ? err.message : String(err));
        }
        // Jitter, so two writers that collided do not collide again in lockstep.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  });
}

export async function patch(
  kindArg: string,
  name: string,
  opts: GlobalOptions & { patch: string; type: 'merge' | 'json' | 'strategic'; namespace?: string },
): Promise<void> {
  const [t] = targetsFromArgs(kindArg, [name], opts.namespace);
  let body: unknown;
  try {
    body = JSON.parse(opts.patch);
  } catch (err) {
    throw new CtlError(`Cannot parse --patch as JSON: ${(err as Error).message}`);
  }
  if (opts.type === 'json' && !Array.isArray(body))
    throw new CtlError('A JSON patch (--type json) must be an array of operations');
  if (opts.type !== 'json' && (typeof body !== 'object' || body === null || Array.isArray(body)))
    throw new CtlError('A merge patch must be a JSON object');
  await readModifyWrite(opts.config, t!, 'patch', (current) => {
    const next = (
      opts.type === 'json' ? jsonPatch(current, body) : mergePatch(current, body)
    ) as Res;
    const m = next?.metadata;
    if (
      next?.kind !== current.kind ||
      m?.name !== current.metadata.name ||
      (m?.namespace ?? undefined) !== (current.metadata.namespace ?? undefined)
    ) {
      throw new CtlError(
        `Cannot patch ${targetSubject(t!)}: a patch may not change kind, name or namespace`,
      );
    }
    return next;
  });
  write(`Successfully patched 1 '${t!.info.kind}' resource\n`);
}

export async function label(
  kindArg: string,
  name: string,
  labelArg: string,
  opts: GlobalOptions & { overwrite?: boolean; remove?: boolean; namespace?: string },
): Promise<void> {
  const [t] = targetsFromArgs(kindArg, [name], opts.namespace);
  const eq = labelArg.indexOf('=');
  let key: string;
  let value: string | undefined;
  if (opts.remove) {
    if (eq >= 0) throw new CtlError('With --remove give only the label key, not key=value');
    key = labelArg;
  } else {
    if (eq < 0) throw new CtlError(`Label "${labelArg}" must be key=value`);
    key = labelArg.slice(0, eq);
    value = labelArg.slice(eq + 1);
  }
  if (key === '') throw new CtlError('The label key is empty');
  await readModifyWrite(opts.config, t!, 'label', (current) => {
    const labels = { ...(current.metadata.labels ?? {}) };
    if (value === undefined) {
      if (!(key in labels))
        throw new CtlError(
          `Cannot remove label "${key}" from ${targetSubject(t!)}: it has no such label`,
        );
      delete labels[key];
    } else {
      if (labels[key] === value) return undefined;
      if (key in labels && !opts.overwrite) {
        throw new CtlError(
          `Cannot set label "${key}" on ${targetSubject(t!)}: it already has the value "${labels[key]}" (use --overwrite)`,
        );
      }
      labels[key] = value;
    }
    current.metadata.labels = labels;
    return current;
  });
  write(
    value === undefined
      ? `Successfully removed label ${key} from ${t!.info.kind}(${t!.name})\n`
      : `Successfully set label ${key} on ${t!.info.kind}(${t!.name})\n`,
  );
}
