// Where a JSON text first breaks the grammar. V8's JSON.parse messages do not
// always carry a position, and users need a line and column; this scanner only
// checks syntax (values come from the YAML reader, of which JSON is a subset).
// Iterative, so deeply nested input cannot overflow the stack.

// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw control characters
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null/y;

export interface JsonSyntaxProblem {
  offset: number;
  message: string;
}

export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  const n = text.length;
  const stack: ('{' | '[')[] = [];
  let i = 0;
  const skip = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r'))
      i++;
  };
  const match = (re: RegExp): boolean => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  const fail = (message: string): JsonSyntaxProblem => ({ offset: Math.min(i, n), message });
  const found = () => (i >= n ? 'end of input' : JSON.stringify(text[i]));

  let mode: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    skip();
    if (mode === 'key') {
      if (!match(STRING)) return fail(`expected a quoted property name, found ${found()}`);
      skip();
      if (text[i] !== ':') return fail(`expected ':' after a property name, found ${found()}`);
      i++;
      mode = 'value';
      continue;
    }
    if (mode === 'value') {
      const ch = text[i];
      if (ch === '{' || ch === '[') {
        i++;
        skip();
        if (text[i] === (ch === '{' ? '}' : ']')) {
          i++;
          mode = 'after';
        } else {
          stack.push(ch);
          mode = ch === '{' ? 'key' : 'value';
        }
        continue;
      }
      if (ch === '"' ? match(STRING) : match(NUMBER) || match(LITERAL)) {
        mode = 'after';
        continue;
      }
      return fail(
        ch === '"' ? 'unterminated or invalid string' : `expected a value, found ${found()}`,
      );
    }
    const top = stack[stack.length - 1];
    if (top === undefined) {
      return i < n ? fail(`unexpected ${found()} after the JSON value`) : undefined;
    }
    const ch = text[i];
    if (ch === ',') {
      i++;
      mode = top === '{' ? 'key' : 'value';
    } else if (ch === (top === '{' ? '}' : ']')) {
      i++;
      stack.pop();
    } else {
      return fail(`expected ',' or '${top === '{' ? '}' : ']'}', found ${found()}`);
    }
  }
}
