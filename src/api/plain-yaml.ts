/**
 * A reader for the plain YAML that manifests are nearly always written in: block mappings
 * and sequences, one-line flow collections, and scalars whose YAML 1.1 type is certain.
 * Anything else (anchors, tags, block scalars, multi-line scalars, escapes, keys or values
 * a YAML 1.1 reader might type differently, duplicate keys, errors) makes it return
 * `undefined`, and the caller reads the text with the `yaml` library instead.
 *
 * Why: the library is the larger part of a `calicoctl validate` after Node's own start,
 * because a short-lived process runs all of its code cold once (about 10 ms here). For the
 * text it accepts this reader gives the library's result exactly; `plain-yaml.test.ts`
 * checks that against the library on generated and mutated manifests.
 */

export interface PlainDocument {
  /** 0-based index of the document in the stream */
  documentIndex: number;
  /** the top-level mapping */
  value: Record<string, unknown>;
  /** 1-based line of its first key */
  line: number;
  /** 1-based line of each entry of a top-level `items` block sequence */
  itemLines?: number[];
}

interface Line {
  indent: number;
  /** the line after its indentation */
  text: string;
  /** 1-based */
  no: number;
}

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
class NotPlain extends Error {}
const notPlain = new NotPlain();

function leave(): never {
  throw notPlain;
}

// YAML 1.1 words a plain scalar resolves to a boolean or null (yaml's 1.1 schema), and a
// letter-led float (`e5`) that schema would take for a number.
const TRUE_WORD = /^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const FALSE_WORD = /^(?:N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
const NULL_WORD = /^(?:~|[Nn]ull|NULL)$/;
const EXPONENT_ONLY = /^[eE][-+]?[0-9]+$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,14})$/;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

/** The value of a plain scalar, when its YAML 1.1 type is certain. */
function plainScalar(text: string, flow: boolean): unknown {
  if (text === '') return null;
  if (text.includes(': ') || text.endsWith(':') || text.includes(' #')) leave();
  if (flow && /[,[\]{}]/.test(text)) leave();
  if (TRUE_WORD.test(text)) return true;
  if (FALSE_WORD.test(text)) return false;
  if (NULL_WORD.test(text)) return null;
  const first = text.charCodeAt(0);
  const letter = (first >= 65 && first <= 90) || (first >= 97 && first <= 122) || first === 95;
  if (letter && !EXPONENT_ONLY.test(text)) return text;
  if (first >= 48 && first <= 57) {
    if (DECIMAL.test(text)) return Number(text);
    // no YAML 1.1 number, timestamp or sexagesimal form has a slash: a CIDR stays text
    if (text.includes('/') && !/\s/.test(text)) return text;
  }
  return leave();
}

/** A quoted scalar at `from` (the quote); returns it and the index after the closing quote. */
function quoted(text: string, from: number): [string, number] {
  const quote = text[from];
  if (quote === '"') {
    const end = text.indexOf('"', from + 1);
    if (end < 0) leave();
    const body = text.slice(from + 1, end);
    if (body.includes('\\')) leave();
    return [body, end + 1];
  }
  let out = '';
  let i = from + 1;
  for (;;) {
    const end = text.indexOf("'", i);
    if (end < 0) leave();
    out += text.slice(i, end);
    if (text[end + 1] === "'") {
      out += "'";
      i = end + 2;
    } else return [out, end + 1];
  }
}

/** What may follow a complete value on its line: spaces, then perhaps a comment. */
function restIsEmpty(text: string, from: number): boolean {
  const rest = text.slice(from);
  const trimmed = rest.trimStart();
  return trimmed === '' || (trimmed.startsWith('#') && rest.length > trimmed.length);
}

/** A one-line flow sequence or mapping, starting at `[` or `{`: its value and the index after it. */
function flowCollection(text: string, start: number): [unknown, number] {
  const close = text[start] === '[' ? ']' : '}';
  const isMap = close === '}';
  const out: unknown[] = [];
  const map: Record<string, unknown> = {};
  let i = start + 1;
  const skipSpaces = () => {
    while (text[i] === ' ') i++;
  };
  const entry = (): unknown => {
    skipSpaces();
    const c = text[i];
    if (c === '[' || c === '{') {
      const [v, next] = flowCollection(text, i);
      i = next;
      skipSpaces();
      return v;
    }
    if (c === "'" || c === '"') {
      const [s, next] = quoted(text, i);
      i = next;
      skipSpaces();
      return s;
    }
    let end = i;
    while (end < text.length && !',[]{}'.includes(text[end] as string)) {
      if (isMap && text[end] === ':' && text[end + 1] === ' ') break;
      end++;
    }
    const raw = text.slice(i, end).trimEnd();
    if (raw === '' || /^[-?:&*!|>'"%@`#]/.test(raw)) leave();
    i = end;
    return plainScalar(raw, true);
  };
  skipSpaces();
  if (text[i] === close) return [isMap ? map : out, i + 1];
  for (;;) {
    if (isMap) {
      const key = entry();
      if (typeof key !== 'string' || !validKey(key) || text[i] !== ':' || text[i + 1] !== ' ')
        leave();
      i += 2;
      if (Object.hasOwn(map, key)) leave();
      map[key] = entry();
    } else out.push(entry());
    if (text[i] === ',') {
      i++;
      skipSpaces();
      if (text[i] === close) leave(); // a trailing comma: left to the library
      continue;
    }
    if (text[i] !== close) leave();
    return [isMap ? map : out, i + 1];
  }
}

function validKey(key: string): boolean {
  // a key a YAML 1.1 reader would type (`on`, `null`, `e5`) is left to the library
  return (
    key !== '__proto__' &&
    key !== '' &&
    !TRUE_WORD.test(key) &&
    !FALSE_WORD.test(key) &&
    !NULL_WORD.test(key) &&
    !EXPONENT_ONLY.test(key)
  );
}

/** The value written on a line after `key: ` or `- `. */
function inlineValue(text: string): unknown {
  const c = text[0];
  if (c === "'" || c === '"') {
    const [s, next] = quoted(text, 0);
    if (!restIsEmpty(text, next)) leave();
    return s;
  }
  if (c === '[' || c === '{') {
    const [v, next] = flowCollection(text, 0);
    if (!restIsEmpty(text, next)) leave();
    return v;
  }
  if (c === '#') return null;
  if (c === undefined || /^[-?:,\]}&*!|>%@`]/.test(text)) leave();
  const hash = text.indexOf(' #');
  return plainScalar((hash < 0 ? text : text.slice(0, hash)).trimEnd(), false);
}

class Reader {
  private i = 0;
  constructor(private readonly lines: Line[]) {}

  done(): boolean {
    return this.i >= this.lines.length;
  }

  peek(): Line | undefined {
    return this.lines[this.i];
  }

  /** A block mapping whose keys sit at `indent`; `itemLines` collects a top-level `items`. */
  mapping(indent: number, itemLines?: number[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.peek(); line !== undefined && line.indent === indent; line = this.peek()) {
      const { text } = line;
      if (isSeqItem(text)) leave();
      let key: string;
      let at: number;
      if (text[0] === "'" || text[0] === '"') [key, at] = quoted(text, 0);
      else {
        at = text.search(/:( |$)/);
        if (at < 0) leave();
        key = text.slice(0, at);
        if (!PLAIN_KEY.test(key)) leave();
      }
      if (text[at] !== ':' || (text[at + 1] !== ' ' && at + 1 !== text.length)) leave();
      if (!validKey(key) || Object.hasOwn(out, key)) leave();
      const rest = text.slice(at + 1).trimStart();
      this.i++;
      if (rest === '' || rest.startsWith('#')) {
        const next = this.peek();
        if (next !== undefined && next.indent > indent)
          out[key] = this.block(next.indent, key === 'items' ? itemLines : undefined);
        else if (next !== undefined && next.indent === indent && isSeqItem(next.text))
          out[key] = this.sequence(indent, key === 'items' ? itemLines : undefined);
        else out[key] = null;
      } else {
        out[key] = inlineValue(rest);
        // a one-line flow `items` has all its entries on this line
        if (itemLines !== undefined && key === 'items' && Array.isArray(out[key]))
          for (const _ of out[key] as unknown[]) itemLines.push(line.no);
        // a more indented line here continues a multi-line scalar
        const next = this.peek();
        if (next !== undefined && next.indent > indent) leave();
      }
    }
    return out;
  }

  /** A block sequence whose dashes sit at `indent`. */
  sequence(indent: number, itemLines?: number[]): unknown[] {
    const out: unknown[] = [];
    for (let line = this.peek(); line !== undefined && line.indent === indent; line = this.peek()) {
      if (!isSeqItem(line.text)) break;
      const after = line.text.slice(1);
      const rest = after.trimStart();
      if (rest === '' || rest.startsWith('#')) {
        // `-` alone: the entry is the more indented block below (an empty entry is left
        // to the library)
        this.i++;
        const next = this.peek();
        if (next === undefined || next.indent <= indent) leave();
        itemLines?.push(next.no);
        out.push(this.block(next.indent));
        continue;
      }
      itemLines?.push(line.no);
      const column = indent + 1 + (after.length - rest.length);
      if (/^[A-Za-z_'"][^:]*:( |$)/.test(rest)) {
        // `- key: value` opens a mapping whose keys line up with this first one
        this.lines[this.i] = { indent: column, text: rest, no: line.no };
        out.push(this.mapping(column));
      } else {
        this.i++;
        out.push(inlineValue(rest));
        const next = this.peek();
        if (next !== undefined && next.indent > indent) leave();
      }
    }
    return out;
  }

  block(indent: number, itemLines?: number[]): unknown {
    const line = this.peek() as Line;
    return isSeqItem(line.text) ? this.sequence(indent, itemLines) : this.mapping(indent);
  }
}

function isSeqItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** One document's lines (after `---`): its top-level mapping, or undefined when it has none. */
function readDocument(lines: Line[], documentIndex: number): PlainDocument | undefined {
  if (lines.length === 0) return undefined;
  const first = lines[0] as Line;
  if (first.indent !== 0 || isSeqItem(first.text)) leave();
  const itemLines: number[] = [];
  const reader = new Reader(lines);
  const value = reader.mapping(0, itemLines);
  if (!reader.done()) leave();
  const doc: PlainDocument = { documentIndex, value, line: first.no };
  if (Array.isArray(value.items)) {
    if (itemLines.length !== value.items.length) leave();
    doc.itemLines = itemLines;
  } else if (value.items !== undefined && value.items !== null) leave();
  return doc;
}

/**
 * The documents of a manifest stream in the plain subset, or undefined when the text needs
 * the full YAML library. Documents without content are left out, as the caller skips them.
 */
export function readPlainYaml(text: string): PlainDocument[] | undefined {
  // Printable ASCII and newlines only: YAML's idea of spaces and line breaks (tabs, CR, NEL,
  // U+2028) and JavaScript's trimming (which also drops NBSP and BOM) then agree.
  if (/[^\n\x20-\x7e]/.test(text)) return undefined;
  const docs: PlainDocument[] = [];
  let lines: Line[] = [];
  let documentIndex = 0;
  let sawSeparator = false;
  try {
    const all = text.split('\n');
    for (let n = 0; n <= all.length; n++) {
      const raw = all[n];
      if (raw === undefined || /^---\s*$/.test(raw)) {
        // Comments before the first `---` belong to its document; content makes its own.
        if (raw !== undefined && !sawSeparator && lines.length === 0) {
          sawSeparator = true;
          continue;
        }
        const doc = readDocument(lines, documentIndex);
        if (doc !== undefined) docs.push(doc);
        else if (raw !== undefined) leave(); // an empty document mid-stream
        if (raw === undefined) break;
        sawSeparator = true;
        documentIndex++;
        lines = [];
        continue;
      }
      if (raw.startsWith('---') || raw.startsWith('...') || raw.startsWith('%')) leave();
      const body = raw.trimStart();
      if (body === '' || body.startsWith('#')) continue;
      lines.push({ indent: raw.length - body.length, text: body.trimEnd(), no: n + 1 });
    }
  } catch (err) {
    if (err === notPlain) return undefined;
    throw err;
  }
  return docs;
}
