// The schema layer under src/api: the part of zod's API the resource schemas use
// (strict and loose objects, arrays, records, unions, enums, literals, strings, ints,
// optional, leaf checks and cross-field refinements, OpenAPI output), with zod 4's
// issue shapes and abort rules. It exists for start-up time: zod costs ~100 ms to load
// and build our schemas, which alone broke calicoctl's 150 ms budget; this builds
// every kind's schema in a few milliseconds. The schema files import it as `z`.

/** One problem, shaped like zod's issues so validate.ts can map them to field errors. */
export type Issue =
  | {
      code: 'custom';
      path: PropertyKey[];
      message: string;
      input?: unknown;
      params?: Record<string, unknown>;
      continue?: boolean;
    }
  | {
      code: 'invalid_type';
      path: PropertyKey[];
      expected: string;
      input?: unknown;
      continue?: boolean;
      message?: string;
    }
  | {
      code: 'invalid_value';
      path: PropertyKey[];
      values: readonly unknown[];
      input?: unknown;
      continue?: boolean;
      message?: string;
    }
  | {
      code: 'invalid_union';
      path: PropertyKey[];
      errors: Issue[][];
      input?: unknown;
      continue?: boolean;
      message?: string;
    }
  | {
      code: 'unrecognized_keys';
      path: PropertyKey[];
      keys: string[];
      input?: unknown;
      continue?: boolean;
      message?: string;
    }
  | {
      code: 'invalid_key';
      path: PropertyKey[];
      origin: 'record';
      issues: Issue[];
      input?: unknown;
      continue?: boolean;
      message?: string;
    }
  | {
      code: 'too_big' | 'too_small';
      path: PropertyKey[];
      origin: 'string' | 'array' | 'number';
      maximum?: number;
      minimum?: number;
      inclusive: boolean;
      input?: unknown;
      continue?: boolean;
      message?: string;
    };

/** What a custom issue may carry; code, input and path are filled in. */
export interface CustomIssueInput {
  code?: 'custom';
  message: string;
  path?: PropertyKey[];
  params?: Record<string, unknown>;
  input?: unknown;
  continue?: boolean;
}

/** An issue a `.check` pushes; the path defaults to the checked value's own. */
export type CheckIssue = CustomIssueInput & { code: 'custom'; input: unknown };

export interface RefinementCtx<T = unknown> {
  readonly value: T;
  addIssue(issue: CustomIssueInput): void;
}

interface Payload {
  value: unknown;
  issues: Issue[];
}

/** A check runs after the type parse; `always` ones (lengths) run even after a type error. */
interface Check {
  run(p: Payload): void;
  /** length checks: run whenever the value has a length, unless explicitly aborted */
  lengthCheck?: boolean;
  /** `max` of an array: checked before the elements are parsed */
  arrayCap?: number;
  min?: number;
  max?: number;
}

export type SafeParseResult<T> =
  | { success: true; data: T; error?: undefined }
  | { success: false; data?: undefined; error: { issues: Issue[] } };

type Json = Record<string, unknown>;

function aborted(issues: readonly Issue[], from: number): boolean {
  for (let i = from; i < issues.length; i++) if (issues[i]?.continue !== true) return true;
  return false;
}

function explicitlyAborted(issues: readonly Issue[]): boolean {
  for (const i of issues) if (i.continue === false) return true;
  return false;
}

function prefix(key: PropertyKey, issues: Issue[], into: Issue[]): void {
  for (const i of issues) {
    i.path.unshift(key);
    into.push(i);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!isObject(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function lengthOf(v: unknown): number | undefined {
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) return v.length;
  return undefined;
}

export abstract class Schema<Out> {
  /** the parsed type; only for inference */
  declare readonly _output: Out;
  protected checks: readonly Check[] = [];
  protected metaData: Json | undefined = undefined;

  /** Parse the type (no checks): replace p.value with the output, push issues. */
  protected abstract parseType(p: Payload): void;
  /** The JSON Schema body of the type (meta is added around it). */
  protected abstract jsonBody(): Json;

  /** @internal run type parse and checks, zod's order and abort rules */
  run(p: Payload): void {
    const checks = this.checks;
    this.parseType(p);
    if (checks.length === 0) return;
    let isAborted = aborted(p.issues, 0);
    for (const ch of checks) {
      if (ch.lengthCheck === true) {
        if (explicitlyAborted(p.issues) || lengthOf(p.value) === undefined) continue;
      } else if (isAborted) continue;
      const before = p.issues.length;
      ch.run(p);
      if (!isAborted && p.issues.length !== before) isAborted = aborted(p.issues, before);
    }
  }

  safeParse(input: unknown): SafeParseResult<Out> {
    const p: Payload = { value: input, issues: [] };
    this.run(p);
    if (p.issues.length > 0) return { success: false, error: { issues: p.issues } };
    return { success: true, data: p.value as Out };
  }

  protected clone(): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this)), this) as this;
  }

  protected withCheck(ch: Check): this {
    const c = this.clone();
    c.checks = [...this.checks, ch];
    return c;
  }

  optional(): OptionalSchema<this> {
    return new OptionalSchema(this);
  }

  /** A leaf check: push issues onto `ctx.issues` (zod's `.check`). */
  check(fn: (ctx: { value: Out; issues: CheckIssue[] }) => void): this {
    return this.withCheck({
      run: (p) => {
        const issues: CheckIssue[] = [];
        fn({ value: p.value as Out, issues });
        for (const i of issues) p.issues.push({ ...i, path: i.path ?? [] } as Issue);
      },
    });
  }

  /** A cross-field rule; skipped when the value already has a type error below it. */
  superRefine(fn: (value: Out, ctx: RefinementCtx<Out>) => void): this {
    return this.withCheck({
      run: (p) => {
        fn(p.value as Out, {
          value: p.value as Out,
          addIssue(issue) {
            p.issues.push({
              code: 'custom',
              message: issue.message,
              path: issue.path === undefined ? [] : [...issue.path],
              input: issue.input ?? p.value,
              ...(issue.params === undefined ? {} : { params: issue.params }),
              continue: issue.continue ?? true,
            });
          },
        });
      },
    });
  }

  /** Documentation for the JSON Schema output (description, default). */
  meta(data: Json): this {
    const c = this.clone();
    c.metaData = { ...this.metaData, ...data };
    return c;
  }

  /** @internal the OpenAPI 3.0 node of this schema */
  toJson(): Json {
    return this.metaData === undefined ? this.jsonBody() : { ...this.metaData, ...this.jsonBody() };
  }

  protected lengthChecks(): { min?: number; max?: number } {
    let min: number | undefined;
    let max: number | undefined;
    for (const ch of this.checks) {
      if (ch.min !== undefined) min = min === undefined ? ch.min : Math.max(min, ch.min);
      if (ch.max !== undefined) max = max === undefined ? ch.max : Math.min(max, ch.max);
    }
    return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
  }
}

export type ZodType = Schema<unknown>;
type Output<S> = S extends Schema<infer O> ? O : never;

export type { Output as infer, Output as output };

/** zod's too_big / too_small issue for a bound that `input` broke. */
function boundIssue(
  kind: 'min' | 'max',
  origin: 'string' | 'array' | 'number',
  bound: number,
  input: unknown,
): Issue {
  return kind === 'max'
    ? { code: 'too_big', origin, maximum: bound, inclusive: true, input, path: [], continue: true }
    : {
        code: 'too_small',
        origin,
        minimum: bound,
        inclusive: true,
        input,
        path: [],
        continue: true,
      };
}

function lengthCheck(kind: 'min' | 'max', bound: number, origin: 'string' | 'array'): Check {
  const run = (p: Payload) => {
    const v = p.value as string | unknown[];
    const units = v.length;
    const length =
      typeof v === 'string' &&
      (kind === 'max' ? units > bound : units >= bound && units < bound * 2)
        ? codePoints(v)
        : units;
    if (kind === 'max' ? length <= bound : length >= bound) return;
    const found = typeof v === 'string' ? 'string' : Array.isArray(v) ? 'array' : origin;
    p.issues.push(boundIssue(kind, found, bound, v));
  };
  return kind === 'max'
    ? { run, lengthCheck: true, max: bound }
    : { run, lengthCheck: true, min: bound };
}

/** Schemas with `min`/`max` (string and list lengths, number values). */
abstract class Bounded<Out> extends Schema<Out> {
  protected abstract bound(kind: 'min' | 'max', n: number): Check;
  min(n: number): this {
    return this.withCheck(this.bound('min', n));
  }
  max(n: number): this {
    return this.withCheck(this.bound('max', n));
  }
}

export class StringSchema extends Bounded<string> {
  protected parseType(p: Payload): void {
    if (typeof p.value !== 'string')
      p.issues.push({ code: 'invalid_type', expected: 'string', input: p.value, path: [] });
  }
  protected bound(kind: 'min' | 'max', n: number): Check {
    return lengthCheck(kind, n, 'string');
  }
  protected jsonBody(): Json {
    const { min, max } = this.lengthChecks();
    return {
      type: 'string',
      ...(min === undefined ? {} : { minLength: min }),
      ...(max === undefined ? {} : { maxLength: max }),
    };
  }
}

export class BooleanSchema extends Schema<boolean> {
  protected parseType(p: Payload): void {
    if (typeof p.value !== 'boolean')
      p.issues.push({ code: 'invalid_type', expected: 'boolean', input: p.value, path: [] });
  }
  protected jsonBody(): Json {
    return { type: 'boolean' };
  }
}

export class NullSchema extends Schema<null> {
  protected parseType(p: Payload): void {
    if (p.value !== null)
      p.issues.push({ code: 'invalid_type', expected: 'null', input: p.value, path: [] });
  }
  protected jsonBody(): Json {
    return { type: 'string', nullable: true, enum: [null] };
  }
}

function boundCheck(kind: 'min' | 'max', bound: number): Check {
  const run = (p: Payload) => {
    const v = p.value as number;
    if (kind === 'min' ? v >= bound : v <= bound) return;
    p.issues.push(boundIssue(kind, 'number', bound, v));
  };
  return kind === 'min' ? { run, min: bound } : { run, max: bound };
}

/** Integers within ±(2^53-1): a non-integer is a type error that stops later checks. */
const SAFE_INT_CHECK: Check = {
  run(p) {
    const v = p.value as number;
    if (!Number.isInteger(v)) {
      p.issues.push({ code: 'invalid_type', expected: 'int', input: v, path: [], continue: false });
      return;
    }
    if (!Number.isSafeInteger(v))
      p.issues.push(
        v > 0
          ? boundIssue('max', 'number', Number.MAX_SAFE_INTEGER, v)
          : boundIssue('min', 'number', Number.MIN_SAFE_INTEGER, v),
      );
  },
};

export class NumberSchema extends Bounded<number> {
  constructor(private readonly integer: boolean) {
    super();
    if (integer) this.checks = [SAFE_INT_CHECK];
  }
  protected parseType(p: Payload): void {
    const v = p.value;
    if (typeof v !== 'number' || !Number.isFinite(v))
      p.issues.push({ code: 'invalid_type', expected: 'number', input: v, path: [] });
  }
  protected bound(kind: 'min' | 'max', n: number): Check {
    return boundCheck(kind, n);
  }
  protected jsonBody(): Json {
    const { min, max } = this.lengthChecks();
    return {
      type: this.integer ? 'integer' : 'number',
      ...(min === undefined ? {} : { minimum: min }),
      ...(max === undefined ? {} : { maximum: max }),
    };
  }
}

export class ValuesSchema<T extends string | number> extends Schema<T> {
  constructor(private readonly values: readonly T[]) {
    super();
  }
  protected parseType(p: Payload): void {
    if (!this.values.includes(p.value as T))
      p.issues.push({ code: 'invalid_value', values: this.values, input: p.value, path: [] });
  }
  protected jsonBody(): Json {
    const v = this.values;
    const type = v.every((x) => typeof x === 'string')
      ? { type: 'string' }
      : v.every((x) => typeof x === 'number')
        ? { type: 'number' }
        : {};
    return { ...type, enum: [...v] };
  }
}

export class ArraySchema<E extends ZodType> extends Bounded<Output<E>[]> {
  constructor(private readonly element: E) {
    super();
  }
  protected parseType(p: Payload): void {
    const input = p.value;
    if (!Array.isArray(input)) {
      p.issues.push({ code: 'invalid_type', expected: 'array', input, path: [] });
      return;
    }
    const out = new Array(input.length);
    for (let i = 0; i < input.length; i++) {
      const r: Payload = { value: input[i], issues: [] };
      this.element.run(r);
      if (r.issues.length > 0) prefix(i, r.issues, p.issues);
      out[i] = r.value;
    }
    p.value = out;
  }
  override run(p: Payload): void {
    // An over-long list is reported alone, before its elements are parsed (zod's size cap).
    if (Array.isArray(p.value)) {
      for (const ch of this.checks) {
        if (ch.max !== undefined && p.value.length > ch.max) {
          const start = p.issues.length;
          ch.run(p);
          const issue = p.issues[start];
          if (issue !== undefined) issue.continue = false;
          return;
        }
      }
    }
    super.run(p);
  }
  protected bound(kind: 'min' | 'max', n: number): Check {
    return lengthCheck(kind, n, 'array');
  }
  protected jsonBody(): Json {
    const { min, max } = this.lengthChecks();
    return {
      ...(min === undefined ? {} : { minItems: min }),
      ...(max === undefined ? {} : { maxItems: max }),
      type: 'array',
      items: this.element.toJson(),
    };
  }
}

export class OptionalSchema<S extends ZodType> extends Schema<Output<S> | undefined> {
  constructor(readonly inner: S) {
    super();
  }
  protected parseType(p: Payload): void {
    if (p.value !== undefined) this.inner.run(p);
  }
  protected jsonBody(): Json {
    return this.inner.toJson();
  }
}

type Shape = Record<string, ZodType>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalSchema<ZodType> ? K : never;
}[keyof S];
type Flat<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOutput<S extends Shape> = Flat<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Output<S[K]> } & {
    [K in OptionalKeys<S>]?: Output<S[K]>;
  }
>;

export class ObjectSchema<S extends Shape, Loose extends boolean = false> extends Schema<
  Loose extends true ? ObjectOutput<S> & Record<string, unknown> : ObjectOutput<S>
> {
  private readonly keys: readonly string[];
  constructor(
    readonly shape: S,
    private readonly loose: Loose,
  ) {
    super();
    this.keys = Object.keys(shape);
  }
  protected parseType(p: Payload): void {
    const input = p.value;
    if (!isObject(input)) {
      p.issues.push({ code: 'invalid_type', expected: 'object', input, path: [] });
      return;
    }
    const out: Record<string, unknown> = {};
    const shape = this.shape;
    for (const key of this.keys) {
      if (key === '__proto__') continue;
      const el = shape[key] as ZodType;
      const optional = el instanceof OptionalSchema;
      const present = key in input;
      if (!present && optional) continue;
      const r: Payload = { value: input[key], issues: [] };
      el.run(r);
      if (r.issues.length > 0) prefix(key, r.issues, p.issues);
      if (r.value !== undefined || present) out[key] = r.value;
    }
    let unknown: string[] | undefined;
    for (const key in input) {
      if (Object.hasOwn(shape, key)) continue;
      if (this.loose) {
        // never copy __proto__ onto the output: it would replace its prototype
        if (key !== '__proto__') out[key] = input[key];
      } else if (unknown === undefined) unknown = [key];
      else unknown.push(key);
    }
    if (unknown !== undefined)
      // describes the input's shape, not its values: the object's own rules still run
      p.issues.push({ code: 'unrecognized_keys', keys: unknown, input, path: [], continue: true });
    p.value = out;
  }
  protected jsonBody(): Json {
    const properties: Json = {};
    const required: string[] = [];
    for (const key of this.keys) {
      const el = this.shape[key] as ZodType;
      properties[key] = el.toJson();
      if (!(el instanceof OptionalSchema)) required.push(key);
    }
    return {
      type: 'object',
      properties,
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: this.loose ? {} : false,
    };
  }
}

export class RecordSchema<V extends ZodType> extends Schema<Record<string, Output<V>>> {
  constructor(
    private readonly keySchema: Schema<string>,
    private readonly valueSchema: V,
  ) {
    super();
  }
  protected parseType(p: Payload): void {
    const input = p.value;
    if (!isPlainObject(input)) {
      p.issues.push({ code: 'invalid_type', expected: 'record', input, path: [] });
      return;
    }
    const out: Record<string, unknown> = {};
    for (const key of Reflect.ownKeys(input)) {
      if (typeof key !== 'string' || key === '__proto__') continue;
      const k: Payload = { value: key, issues: [] };
      this.keySchema.run(k);
      if (k.issues.length > 0) {
        p.issues.push({
          code: 'invalid_key',
          origin: 'record',
          issues: k.issues,
          input: key,
          path: [key],
        });
        continue;
      }
      const r: Payload = { value: input[key], issues: [] };
      this.valueSchema.run(r);
      if (r.issues.length > 0) prefix(key, r.issues, p.issues);
      out[k.value as string] = r.value;
    }
    p.value = out;
  }
  protected jsonBody(): Json {
    return { type: 'object', additionalProperties: this.valueSchema.toJson() };
  }
}

export class UnionSchema<O extends readonly ZodType[]> extends Schema<Output<O[number]>> {
  constructor(private readonly options: O) {
    super();
  }
  protected parseType(p: Payload): void {
    const errors: Issue[][] = [];
    for (const option of this.options) {
      const r: Payload = { value: p.value, issues: [] };
      option.run(r);
      if (r.issues.length === 0) {
        p.value = r.value;
        return;
      }
      errors.push(r.issues);
    }
    // One option that failed only softly (a bound, not a type) is the answer, with its issues.
    const soft = errors.filter((issues) => !aborted(issues, 0));
    if (soft.length === 1 || this.options.length === 1) {
      p.issues.push(...((soft.length === 1 ? soft[0] : errors[0]) ?? []));
      return;
    }
    p.issues.push({ code: 'invalid_union', errors, input: p.value, path: [] });
  }
  protected jsonBody(): Json {
    return { anyOf: this.options.map((o) => o.toJson()) };
  }
}

export const string = (): StringSchema => new StringSchema();
export const boolean = (): BooleanSchema => new BooleanSchema();
export const number = (): NumberSchema => new NumberSchema(false);
export const int = (): NumberSchema => new NumberSchema(true);
const NULL = new NullSchema();
const nullSchema = (): NullSchema => NULL;

export { nullSchema as null };
export const array = <E extends ZodType>(element: E): ArraySchema<E> => new ArraySchema(element);
export const strictObject = <S extends Shape>(shape: S): ObjectSchema<S, false> =>
  new ObjectSchema(shape, false);
export const looseObject = <S extends Shape>(shape: S): ObjectSchema<S, true> =>
  new ObjectSchema(shape, true);
export const record = <V extends ZodType>(key: Schema<string>, value: V): RecordSchema<V> =>
  new RecordSchema(key, value);
export const union = <const O extends readonly ZodType[]>(options: O): UnionSchema<O> =>
  new UnionSchema(options);
function enumSchema<const T extends readonly string[]>(values: T): ValuesSchema<T[number]> {
  return new ValuesSchema<T[number]>(values);
}

export { enumSchema as enum };
export function literal<const T extends string | number>(value: T | readonly T[]): ValuesSchema<T> {
  return new ValuesSchema<T>(Array.isArray(value) ? (value as readonly T[]) : [value as T]);
}

/** The OpenAPI 3.0 document of a schema (what zod's toJSONSchema gave for these types). */
export function toJSONSchema(schema: ZodType): Json {
  return schema.toJson();
}
