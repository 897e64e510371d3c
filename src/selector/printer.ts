// Calico's canonical text (libcalico-go parser/ast.go): equal canonical strings
// mean one IP set, so every space and quote here is load-bearing.
import type { SelectorNode } from './ast.js';

function quote(value: string): string {
  // No escapes exist, so a value is wrapped in whichever quote it does not contain.
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

const VALUE_OP_TEXT = {
  eq: ' == ',
  neq: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
} as const;

function write(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case 'all':
      out.push('all()');
      return;
    case 'global':
      out.push('global()');
      return;
    case 'has':
      out.push('has(', node.key, ')');
      return;
    case 'eq':
    case 'neq':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      out.push(node.key, VALUE_OP_TEXT[node.kind], quote(node.value));
      return;
    case 'in':
    case 'notIn':
      out.push(node.key, node.kind === 'in' ? ' in {' : ' not in {');
      for (let i = 0; i < node.values.length; i++) {
        if (i > 0) out.push(', ');
        out.push(quote(node.values[i]!));
      }
      out.push('}');
      return;
    case 'not':
      out.push('!');
      write(node.operand, out);
      return;
    case 'and':
    case 'or': {
      const sep = node.kind === 'and' ? ' && ' : ' || ';
      out.push('(');
      for (let i = 0; i < node.operands.length; i++) {
        if (i > 0) out.push(sep);
        write(node.operands[i]!, out);
      }
      out.push(')');
      return;
    }
  }
}

/** The canonical text of a selector AST (calico-semantics.md §4.5). */
export function printSelector(node: SelectorNode): string {
  const out: string[] = [];
  write(node, out);
  return out.join('');
}
