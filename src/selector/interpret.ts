import type { SelectorNode } from './ast.js';

type Labels = Readonly<Record<string, string>>;

function get(labels: Labels, key: string): string | undefined {
  if (!Object.hasOwn(labels, key)) return undefined;
  const v = labels[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * The plain tree-walking evaluator: written for obviousness, not speed. It is the
 * oracle the compiled form is tested against and the benchmark's baseline.
 * A label is present when `labels` has it as an own string-valued property.
 */
export function evaluateInterpreted(node: SelectorNode, labels: Labels): boolean {
  switch (node.kind) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return get(labels, node.key) !== undefined;
    case 'eq': {
      const v = get(labels, node.key);
      return v !== undefined && v === node.value;
    }
    case 'neq': {
      const v = get(labels, node.key);
      return v === undefined || v !== node.value;
    }
    case 'contains': {
      const v = get(labels, node.key);
      return v?.includes(node.value) === true;
    }
    case 'startsWith': {
      const v = get(labels, node.key);
      return v?.startsWith(node.value) === true;
    }
    case 'endsWith': {
      const v = get(labels, node.key);
      return v?.endsWith(node.value) === true;
    }
    case 'in': {
      const v = get(labels, node.key);
      return v !== undefined && node.values.includes(v);
    }
    case 'notIn': {
      const v = get(labels, node.key);
      return v === undefined || !node.values.includes(v);
    }
    case 'not':
      return !evaluateInterpreted(node.operand, labels);
    case 'and':
      return node.operands.every((o) => evaluateInterpreted(o, labels));
    case 'or':
      return node.operands.some((o) => evaluateInterpreted(o, labels));
  }
}
