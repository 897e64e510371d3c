// Reading and writing manifests the way kubectl and calicoctl do: multi-document
// YAML read as YAML 1.1 (so `natOutgoing: yes` is a boolean), JSON, top-level
// arrays, and `List` / `<Kind>List` documents flattened into their items.
import type * as Yaml from 'yaml';
import type { Document, LineCounter, Tags, Node as YamlNode } from 'yaml';
import { ManifestParseError, type ManifestParseErrorCode } from './errors.js';
import { findJsonSyntaxError } from './json-check.js';
import { API_VERSION } from './meta.js';
import { type PlainDocument, readPlainYaml } from './plain-yaml.js';

declare const require: ((id: string) => unknown) | undefined;

let yamlLibrary: typeof Yaml | undefined;

/**
 * The yaml library, loaded on first use: loading it builds enough objects to cost a
 * short-lived process a garbage collection and ~8 ms, and most manifests never need it
 * (see plain-yaml.ts). In a bundle esbuild turns this `require` into the bundled module;
 * under tsx (ES modules, no `require`) Node's own loader reads it.
 */
function yaml(): typeof Yaml {
  yamlLibrary ??= (
    typeof require === 'function'
      ? require('yaml')
      : process.getBuiltinModule('node:module').createRequire(import.meta.url)('yaml')
  ) as typeof Yaml;
  return yamlLibrary;
}

export interface ManifestDocument {
  /** position in the returned array */
  index: number;
  /** file name (or `<stdin>`), as given in options.source */
  source: string;
  /** 0-based index of the YAML document in the stream */
  documentIndex: number;
  /** 0-based index inside a List document or top-level array, when the value came from one */
  itemIndex?: number;
  /** 1-based line where the value starts */
  line: number;
  value: Record<string, unknown>;
}

export interface ParseManifestsOptions {
  source?: string;
}

/**
 * go-yaml v2, which kubectl and calicoctl use, has YAML 1.1 booleans, octal and
 * `_` separators but no sexagesimal numbers, timestamps, sets or binary. Without
 * these tags an unquoted port range like `80:59` stays a string, as in Calico.
 */
function goYamlTags(tags: Tags): Tags {
  return tags.filter((t) => {
    if (typeof t === 'string')
      return !/^(timestamp|binary|omap|pairs|set|intTime|floatTime)$/.test(t);
    return !(t.format === 'TIME' || /:(timestamp|binary|omap|pairs|set)$/.test(t.tag));
  });
}

const MAX_ALIAS_COUNT = 100;

/** 1-based line and column of a UTF-16 offset. */
function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * Rebuild the parsed tree from own keys only, so a `__proto__` key is ordinary
 * data and every object has the normal prototype whatever the reader did.
 */
function plainData(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plainData);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k, {
      value: plainData((v as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isListKind(v: Record<string, unknown>): boolean {
  return typeof v.kind === 'string' && /^[A-Za-z0-9]*List$/.test(v.kind) && 'items' in v;
}

/** Line (1-based) of a node, or of the fallback offset when the node has no range. */
function lineOf(lc: LineCounter, node: YamlNode | null | undefined, fallback: number): number {
  const offset = node?.range?.[0] ?? fallback;
  return lc.linePos(offset).line;
}

/** `items` node of a List document's map, to report each item's own line. */
function itemsNode(contents: YamlNode | null): YamlNode | undefined {
  if (!yaml().isMap(contents)) return undefined;
  for (const pair of contents.items) {
    const key = pair.key as { value?: unknown } | null;
    if (key?.value === 'items') return (pair.value ?? undefined) as YamlNode | undefined;
  }
  return undefined;
}

/** One document as either reader saw it, with the lines the flattening step reports. */
interface ReadDocument {
  documentIndex: number;
  value: unknown;
  /** line of the document's contents */
  line: number;
  /** line of a top-level sequence's entry i */
  arrayItemLine(i: number): number;
  /** line of a List's `items` value, and of its entry i */
  listLine(): number;
  listItemLine(i: number): number;
}

/**
 * Parse a manifest stream into documents. Throws ManifestParseError (a SyntaxError)
 * for text that is not YAML/JSON, for documents that are not objects and for
 * malformed Lists; never anything else.
 */
export function parseManifests(
  text: string,
  options: ParseManifestsOptions = {},
): ManifestDocument[] {
  return readManifests(text, options, true);
}

/** parseManifests with the YAML library alone: the reference the plain reader is tested against. */
export function parseManifestsWithLibrary(
  text: string,
  options: ParseManifestsOptions = {},
): ManifestDocument[] {
  return readManifests(text, options, false);
}

function readManifests(
  text: string,
  options: ParseManifestsOptions,
  tryPlain: boolean,
): ManifestDocument[] {
  const source = options.source ?? '<input>';
  const fail = (
    code: ManifestParseErrorCode,
    detail: string,
    documentIndex: number,
    line: number,
    column: number,
  ): never => {
    throw new ManifestParseError(code, detail, { source, documentIndex, line, column });
  };
  if (typeof text !== 'string') fail('NOT_AN_OBJECT', 'manifest text must be a string', 0, 1, 1);
  // Editors on Windows write a byte-order mark; it is not part of the document.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const out: ManifestDocument[] = [];
  // Text that starts like JSON is held to JSON's grammar, as kubectl's decoder does;
  // YAML's flow syntax would otherwise accept `{"a": 1,}`.
  const json = /^\s*[[{]/.test(text);
  if (json) {
    const bad = findJsonSyntaxError(text);
    if (bad !== undefined) {
      const pos = positionOf(text, bad.offset);
      fail('JSON_SYNTAX', bad.message, 0, pos.line, pos.column);
    }
  }
  const plain = tryPlain && !json ? readPlainYaml(text) : undefined;
  const docs = plain !== undefined ? plain.map(plainDocument) : libraryDocuments(text, fail);
  for (const doc of docs) flatten(doc, source, out, fail);
  return out;
}

type Fail = (
  code: ManifestParseErrorCode,
  detail: string,
  documentIndex: number,
  line: number,
  column: number,
) => never;

function plainDocument(doc: PlainDocument): ReadDocument {
  return {
    documentIndex: doc.documentIndex,
    value: doc.value,
    line: doc.line,
    // the plain reader takes only mappings, and a List's items only as a block sequence
    arrayItemLine: () => doc.line,
    listLine: () => doc.line,
    listItemLine: (i) => doc.itemLines?.[i] ?? doc.line,
  };
}

/** Lazily, so each document's problems are reported in stream order with flatten's. */
function* libraryDocuments(text: string, fail: Fail): Generator<ReadDocument> {
  const { LineCounter, isSeq, parseAllDocuments } = yaml();
  const lc = new LineCounter();
  let docs: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, {
      version: '1.1',
      customTags: goYamlTags,
      lineCounter: lc,
      logLevel: 'error',
      prettyErrors: false,
    });
    // With an empty stream the library returns an EmptyStream, which is array-like.
    docs = Array.from(parsed);
  } catch (err) {
    if (err instanceof ManifestParseError) throw err;
    return fail('YAML_SYNTAX', err instanceof Error ? err.message : String(err), 0, 1, 1);
  }
  for (const [documentIndex, doc] of docs.entries()) {
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = lc.linePos(err.pos[0]);
      fail('YAML_SYNTAX', err.message.split('\n')[0]!, documentIndex, pos.line, pos.col);
    }
    const docStart = doc.range?.[0] ?? 0;
    const docLine = lineOf(lc, doc.contents, docStart);
    let value: unknown;
    try {
      value = plainData(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (e) {
      fail('YAML_SYNTAX', e instanceof Error ? e.message : String(e), documentIndex, docLine, 1);
    }
    const seqItemLine = (node: YamlNode | null | undefined, i: number) =>
      isSeq(node) ? lineOf(lc, node.items[i] as YamlNode, node.range?.[0] ?? 0) : docLine;
    yield {
      documentIndex,
      value,
      line: docLine,
      arrayItemLine: (i) => seqItemLine(doc.contents, i),
      listLine: () => lineOf(lc, itemsNode(doc.contents), docStart),
      listItemLine: (i) => seqItemLine(itemsNode(doc.contents), i),
    };
  }
}

/** One document's resources: itself, the entries of a top-level array, or a List's items. */
function flatten(doc: ReadDocument, source: string, out: ManifestDocument[], fail: Fail): void {
  const { documentIndex, value } = doc;
  // An empty document (a stray `---`, only comments) is skipped, as kubectl does.
  if (value === null || value === undefined) return;

  const push = (v: unknown, line: number, itemIndex?: number) => {
    if (!isPlainObject(v))
      fail(
        'NOT_AN_OBJECT',
        `expected a resource (a mapping with apiVersion and kind), got ${Array.isArray(v) ? 'a list' : typeof v}`,
        documentIndex,
        line,
        1,
      );
    const d: ManifestDocument = {
      index: out.length,
      source,
      documentIndex,
      line,
      value: v as Record<string, unknown>,
    };
    if (itemIndex !== undefined) d.itemIndex = itemIndex;
    out.push(d);
  };

  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      push(v, doc.arrayItemLine(i), i);
    });
    return;
  }
  if (isPlainObject(value) && isListKind(value)) {
    const items = value.items;
    if (items === null || items === undefined) return;
    if (!Array.isArray(items))
      fail(
        'BAD_LIST',
        `${String(value.kind)} "items" must be a list`,
        documentIndex,
        doc.listLine(),
        1,
      );
    const kind = String(value.kind);
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    (items as unknown[]).forEach((item, i) => {
      // A typed list (`IPPoolList`) may omit each item's apiVersion and kind.
      if (itemKind !== undefined && isPlainObject(item)) {
        if (item.kind === undefined) item.kind = itemKind;
        if (item.apiVersion === undefined && typeof value.apiVersion === 'string')
          item.apiVersion = value.apiVersion;
      }
      push(item, doc.listItemLine(i), i);
    });
    return;
  }
  push(value, doc.line);
}

/** Wrap resources of one kind as calicoctl prints them: `<Kind>List` with `items`. */
export function toList(
  kind: string,
  items: readonly unknown[],
  apiVersion: string = API_VERSION,
): { apiVersion: string; kind: string; metadata: Record<string, unknown>; items: unknown[] } {
  return { apiVersion, kind: `${kind}List`, metadata: {}, items: [...items] };
}

/**
 * YAML as YAML 1.1 readers expect it: strings such as `yes`, `on` or `0755` are
 * quoted so kubectl and calicoctl read them back as strings. An array is written
 * as a multi-document stream.
 */
export function toYaml(value: unknown): string {
  const one = (v: unknown) => yaml().stringify(v, { version: '1.1', lineWidth: 0 });
  if (Array.isArray(value)) return value.map(one).join('---\n');
  return one(value);
}

/** Indented JSON with a trailing newline; an array stays a JSON array. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
