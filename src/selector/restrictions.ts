// Necessary conditions a selector places on individual labels, for indexes that
// want to skip endpoints which cannot match (as Calico's label index does). They
// are sound, not complete: an endpoint that breaks any restriction never matches,
// but one that meets them all may still not match.
import { type SelectorNode, sortedUniqueValues } from './ast.js';

export interface LabelRestriction {
  /** A matching endpoint always carries this label. */
  readonly mustBePresent: boolean;
  /** A matching endpoint never carries this label. */
  readonly mustBeAbsent: boolean;
  /**
   * When defined, a matching endpoint's value is one of these (sorted, unique).
   * An empty array means nothing can match.
   */
  readonly mustHaveOneOf?: readonly string[];
}

type Restrictions = Map<string, LabelRestriction>;

function single(key: string, r: LabelRestriction): Restrictions {
  return new Map([[key, r]]);
}

const PRESENT: LabelRestriction = { mustBePresent: true, mustBeAbsent: false };

function intersect(a: readonly string[], b: readonly string[]): string[] {
  const bs = new Set(b);
  return a.filter((v) => bs.has(v));
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return sortedUniqueValues([...a, ...b]);
}

function forAnd(operands: readonly SelectorNode[]): Restrictions {
  const out: Restrictions = new Map();
  for (const op of operands) {
    for (const [key, r] of labelRestrictions(op)) {
      const base = out.get(key);
      if (base === undefined) {
        out.set(key, r);
        continue;
      }
      let oneOf = base.mustHaveOneOf;
      if (oneOf === undefined) oneOf = r.mustHaveOneOf;
      else if (r.mustHaveOneOf !== undefined) oneOf = intersect(oneOf, r.mustHaveOneOf);
      out.set(key, {
        mustBePresent: base.mustBePresent || r.mustBePresent,
        mustBeAbsent: base.mustBeAbsent || r.mustBeAbsent,
        ...(oneOf === undefined ? {} : { mustHaveOneOf: oneOf }),
      });
    }
  }
  return out;
}

function forOr(operands: readonly SelectorNode[]): Restrictions {
  const [first, ...rest] = operands.map(labelRestrictions);
  const out: Restrictions = new Map(first);
  for (const other of rest) {
    for (const [key, r] of out) {
      const o = other.get(key);
      const present = r.mustBePresent && o?.mustBePresent === true;
      const absent = r.mustBeAbsent && o?.mustBeAbsent === true;
      if (!present && !absent) {
        out.delete(key);
        continue;
      }
      // A value list survives only if every branch that requires the label lists values.
      const oneOf =
        present && r.mustHaveOneOf !== undefined && o?.mustHaveOneOf !== undefined
          ? union(r.mustHaveOneOf, o.mustHaveOneOf)
          : undefined;
      out.set(key, {
        mustBePresent: present,
        mustBeAbsent: absent,
        ...(oneOf === undefined ? {} : { mustHaveOneOf: oneOf }),
      });
    }
  }
  return out;
}

/** Per-label necessary conditions for `node` to match (see LabelRestriction). */
export function labelRestrictions(node: SelectorNode): Map<string, LabelRestriction> {
  switch (node.kind) {
    case 'eq':
      return single(node.key, { ...PRESENT, mustHaveOneOf: [node.value] });
    case 'in':
      return single(node.key, { ...PRESENT, mustHaveOneOf: node.values });
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return single(node.key, PRESENT);
    case 'not': {
      const inner = node.operand;
      // Only negations that are themselves a positive label test restrict anything:
      // !(a == "x") does not require `a` to be absent.
      if (inner.kind === 'has')
        return single(inner.key, { mustBePresent: false, mustBeAbsent: true });
      if (inner.kind === 'neq') {
        return single(inner.key, { ...PRESENT, mustHaveOneOf: [inner.value] });
      }
      if (inner.kind === 'notIn')
        return single(inner.key, { ...PRESENT, mustHaveOneOf: inner.values });
      return new Map();
    }
    case 'and':
      return forAnd(node.operands);
    case 'or':
      return forOr(node.operands);
    default:
      return new Map();
  }
}
