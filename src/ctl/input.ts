/**
 * Reading `-f` arguments into validated resources. Every document of every file is
 * parsed, converted (Kubernetes kinds) and validated before the caller may write
 * anything, and every problem is collected, so one run shows the user all of them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CalicoResource,
  formatFieldError,
  lookupKind,
  ManifestParseError,
  parseManifests,
  validateAnyResource,
  validateResource,
} from '../api/index.js';
import { convertK8sNamespace, convertK8sNetworkPolicy } from '../policy/index.js';
import { CtlError } from './errors.js';

export interface InputText {
  source: string;
  text: string;
}

export interface InputResource {
  source: string;
  documentIndex: number;
  itemIndex?: number;
  line: number;
  /** how the user wrote it, e.g. `NetworkPolicy(networking.k8s.io/v1) prod/db` */
  given: string;
  /** the Calico resource to store: validated, defaulted, converted from Kubernetes */
  resource: CalicoResource;
}

const MANIFEST = /\.(ya?ml|json)$/i;

function walk(dir: string, recursive: boolean, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) {
      if (recursive) walk(path, recursive, out);
    } else if (MANIFEST.test(name)) out.push(path);
  }
}

/** `-f FILE|DIR|-` (repeatable); directories contribute their manifests, sorted. */
export function readInputs(files: readonly string[], recursive: boolean): InputText[] {
  if (files.length === 0) throw new CtlError('No input: give -f FILE, -f DIR or -f - (stdin)');
  const out: InputText[] = [];
  for (const f of files) {
    if (f === '-') {
      out.push({ source: '<stdin>', text: readFileSync(0, 'utf8') });
      continue;
    }
    let paths: string[];
    try {
      if (statSync(f).isDirectory()) {
        paths = [];
        walk(f, recursive, paths);
      } else paths = [f];
    } catch (err) {
      throw new CtlError(`Cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    for (const p of paths) {
      try {
        out.push({ source: p, text: readFileSync(p, 'utf8') });
      } catch (err) {
        throw new CtlError(
          `Cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        );
      }
    }
  }
  return out;
}

export interface LoadOptions {
  /** `-n`: the namespace of namespaced documents that name none; others must agree */
  namespace?: string;
  /** `--skip-empty`: a file without documents is not an error */
  skipEmpty?: boolean;
  /** validate only: the report does not speak of writing */
  validateOnly?: boolean;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `Kind "ns/name"` for messages, from whatever the document holds. */
function describeDoc(v: Record<string, unknown>): string {
  const meta = (typeof v.metadata === 'object' && v.metadata !== null ? v.metadata : {}) as Record<
    string,
    unknown
  >;
  const kind = str(v.kind) ?? '(no kind)';
  const name = str(meta.name);
  const ns = str(meta.namespace);
  if (name === undefined) return kind;
  return `${kind} "${ns === undefined ? name : `${ns}/${name}`}"`;
}

/**
 * Parses and validates everything; returns the resources only if there is no problem
 * at all, else throws one CtlError listing each problem on its own line.
 */
export function loadResources(inputs: readonly InputText[], options: LoadOptions = {}) {
  const problems: string[] = [];
  const resources: InputResource[] = [];
  for (const input of inputs) {
    let docs: ReturnType<typeof parseManifests>;
    try {
      docs = parseManifests(input.text, { source: input.source });
    } catch (err) {
      if (err instanceof ManifestParseError) {
        problems.push(err.message);
        continue;
      }
      throw err;
    }
    if (docs.length === 0 && !options.skipEmpty) {
      problems.push(`${input.source}: contains no resources (use --skip-empty to allow this)`);
    }
    for (const d of docs) {
      const where = `${d.source}:${d.line}: document ${d.documentIndex}${d.itemIndex === undefined ? '' : ` item ${d.itemIndex}`}`;
      const value = structuredClone(d.value);
      const given = describeDoc(value);
      const report = (msg: string) => problems.push(`${where} (${given}): ${msg}`);
      const isK8s = value.apiVersion === 'v1' || value.apiVersion === 'networking.k8s.io/v1';
      const info = isK8s
        ? undefined
        : typeof value.kind === 'string'
          ? lookupKind(value.kind)
          : undefined;
      const namespaced =
        info?.namespaced === true ||
        (value.apiVersion === 'networking.k8s.io/v1' && value.kind === 'NetworkPolicy');
      if (namespaced && typeof value.metadata === 'object' && value.metadata !== null) {
        const meta = value.metadata as Record<string, unknown>;
        const ns = str(meta.namespace);
        if (ns === undefined) meta.namespace = options.namespace ?? 'default';
        else if (options.namespace !== undefined && ns !== options.namespace) {
          report(
            `metadata.namespace: "${ns}" does not match the namespace given with -n ("${options.namespace}") [namespace-mismatch]`,
          );
          continue;
        }
      }
      const checked = validateAnyResource(value);
      if (!checked.ok) {
        for (const e of checked.errors) report(formatFieldError(e));
        continue;
      }
      let calico: unknown = checked.value;
      if (isK8s) {
        try {
          calico =
            value.kind === 'Namespace'
              ? convertK8sNamespace(checked.value as never)
              : convertK8sNetworkPolicy(checked.value as never);
        } catch (err) {
          report(`${(err as Error).message} [k8s-conversion]`);
          continue;
        }
      }
      const final = isK8s
        ? validateResource(calico)
        : { ok: true as const, value: calico as CalicoResource };
      if (!final.ok) {
        for (const e of final.errors) report(`after conversion: ${formatFieldError(e)}`);
        continue;
      }
      const r: InputResource = {
        source: d.source,
        documentIndex: d.documentIndex,
        line: d.line,
        given,
        resource: final.value,
      };
      if (d.itemIndex !== undefined) r.itemIndex = d.itemIndex;
      resources.push(r);
    }
  }
  if (problems.length > 0) {
    throw new CtlError(
      `Invalid input: ${problems.length} problem${problems.length === 1 ? '' : 's'}${options.validateOnly ? '' : ', nothing was written'}\n${problems.join('\n')}`,
    );
  }
  return resources;
}
