// Calico's tokenizer is context-sensitive: right after a label, words such as
// `contains` or `in` are operators; anywhere else they are labels. We therefore lex
// on demand, one token ahead of the parser, remembering the previous token's kind.
import { isIdentifierChar, MAX_LABEL_KEY_LENGTH } from './ast.js';
import { SelectorParseError } from './errors.js';

export enum Tok {
  Label,
  String,
  LBrace,
  RBrace,
  Comma,
  Eq,
  Ne,
  In,
  Not,
  NotIn,
  Contains,
  StartsWith,
  EndsWith,
  All,
  Global,
  Has,
  LParen,
  RParen,
  And,
  Or,
  EOF,
}

export interface Token {
  readonly kind: Tok;
  /** label name, string contents or has() label; '' otherwise */
  readonly text: string;
  /** 0-based offset of the token's first character */
  readonly pos: number;
}

export const OPERATOR_EXPECTATION =
  'an operator (==, !=, in, not in, contains, starts with, ends with)';

const SPACE = 0x20;
const TAB = 0x09;

export class Lexer {
  private pos = 0;
  private last: Tok | undefined;
  private peeked: Token | undefined;

  constructor(private readonly input: string) {}

  /**
   * `expected` names what the parser can accept here; it becomes the error when
   * the input holds a character that starts no token at all.
   */
  peek(expected = 'an expression'): Token {
    if (this.peeked === undefined) this.peeked = this.lex(expected);
    return this.peeked;
  }

  next(expected = 'an expression'): Token {
    const t = this.peek(expected);
    this.peeked = undefined;
    return t;
  }

  fail(pos: number, expected: string): never {
    throw new SelectorParseError(this.input, pos + 1, expected);
  }

  private skipSpace(): void {
    const s = this.input;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c !== SPACE && c !== TAB) break;
      this.pos++;
    }
  }

  private startsWithAt(word: string, at: number): boolean {
    return this.input.startsWith(word, at);
  }

  private boundaryAt(at: number): boolean {
    return at >= this.input.length || !isIdentifierChar(this.input.charCodeAt(at));
  }

  /**
   * Matches words separated by optional spaces/tabs (so `notin`, `not in` and
   * `not   in` are one operator), requiring a word boundary only after the last.
   */
  private matchWords(words: readonly string[]): number | undefined {
    let at = this.pos;
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (!this.startsWithAt(w, at)) return undefined;
      at += w.length;
      if (i < words.length - 1) {
        while (at < this.input.length) {
          const c = this.input.charCodeAt(at);
          if (c !== SPACE && c !== TAB) break;
          at++;
        }
      }
    }
    return this.boundaryAt(at) ? at : undefined;
  }

  private identifierEnd(from: number): number {
    let at = from;
    while (at < this.input.length && isIdentifierChar(this.input.charCodeAt(at))) at++;
    return at;
  }

  private identifier(expected: string): string {
    const start = this.pos;
    const end = this.identifierEnd(start);
    if (end === start) this.fail(start, expected);
    if (end - start > MAX_LABEL_KEY_LENGTH) {
      this.fail(start, `a label name of at most ${MAX_LABEL_KEY_LENGTH} characters`);
    }
    this.pos = end;
    return this.input.slice(start, end);
  }

  private emit(kind: Tok, pos: number, text = ''): Token {
    this.last = kind;
    return { kind, text, pos };
  }

  private lex(expected: string): Token {
    this.skipSpace();
    const s = this.input;
    const start = this.pos;
    if (start >= s.length) return this.emit(Tok.EOF, start);
    const c = s[start]!;
    switch (c) {
      case '(':
        this.pos++;
        return this.emit(Tok.LParen, start);
      case ')':
        this.pos++;
        return this.emit(Tok.RParen, start);
      case '{':
        this.pos++;
        return this.emit(Tok.LBrace, start);
      case '}':
        this.pos++;
        return this.emit(Tok.RBrace, start);
      case ',':
        this.pos++;
        return this.emit(Tok.Comma, start);
      case '"':
      case "'": {
        // No escape sequences: the literal simply ends at the next matching quote.
        const close = s.indexOf(c, start + 1);
        if (close < 0) {
          this.fail(s.length, `a closing ${c} for the string opened at column ${start + 1}`);
        }
        this.pos = close + 1;
        return this.emit(Tok.String, start, s.slice(start + 1, close));
      }
      case '=':
        if (s[start + 1] !== '=') this.fail(start, "'=='");
        this.pos += 2;
        return this.emit(Tok.Eq, start);
      case '!':
        if (s[start + 1] === '=') {
          this.pos += 2;
          return this.emit(Tok.Ne, start);
        }
        this.pos++;
        return this.emit(Tok.Not, start);
      case '&':
        if (s[start + 1] !== '&') this.fail(start, "'&&'");
        this.pos += 2;
        return this.emit(Tok.And, start);
      case '|':
        if (s[start + 1] !== '|') this.fail(start, "'||'");
        this.pos += 2;
        return this.emit(Tok.Or, start);
    }
    if (this.last === Tok.Label) return this.lexOperator(start);
    if (this.startsWithAt('has(', start)) {
      this.pos += 4;
      this.skipSpace();
      const key = this.identifier('a label name');
      this.skipSpace();
      if (s[this.pos] !== ')') this.fail(this.pos, "')'");
      this.pos++;
      return this.emit(Tok.Has, start, key);
    }
    if (this.startsWithAt('all(', start)) return this.lexNullary(Tok.All, 4, start);
    if (this.startsWithAt('global(', start)) return this.lexNullary(Tok.Global, 7, start);
    const key = this.identifier(expected);
    return this.emit(Tok.Label, start, key);
  }

  private lexNullary(kind: Tok, width: number, start: number): Token {
    this.pos += width;
    this.skipSpace();
    if (this.input[this.pos] !== ')') this.fail(this.pos, "')'");
    this.pos++;
    return this.emit(kind, start);
  }

  private lexOperator(start: number): Token {
    for (const [kind, words] of OPERATOR_WORDS) {
      const end = this.matchWords(words);
      if (end !== undefined) {
        this.pos = end;
        return this.emit(kind, start);
      }
    }
    return this.fail(start, OPERATOR_EXPECTATION);
  }
}

// Order matters: `not in` must be tried before `in`.
const OPERATOR_WORDS: ReadonlyArray<readonly [Tok, readonly string[]]> = [
  [Tok.Contains, ['contains']],
  [Tok.StartsWith, ['starts', 'with']],
  [Tok.EndsWith, ['ends', 'with']],
  [Tok.NotIn, ['not', 'in']],
  [Tok.In, ['in']],
];
