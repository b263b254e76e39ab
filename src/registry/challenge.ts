/**
 * `WWW-Authenticate` parsing (RFC 7235 section 4.1): one header may hold several challenges,
 * parameters are `name=token` or `name="quoted string"` (commas and `\"` allowed inside), the
 * scheme is case-insensitive. Several headers are the same as one joined by commas.
 *
 *   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull,push"
 *   Basic realm="Registry Realm", Bearer realm="https://x/token"
 */
export interface Challenge {
  /** Lowercased: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameter names lowercased; values unquoted and unescaped. */
  params: Record<string, string>;
  /** A token68 credential blob, for schemes that carry one instead of parameters. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? '';
  }
  skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  /** Skip whitespace and list separators. */
  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  /** An unquoted value: a token by the RFC, but servers send URLs unquoted too; read to `,` or space. */
  bare(): string {
    const start = this.pos;
    while (!this.done && !/[\s,]/.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  quoted(): string {
    // assumes peek() === '"'
    this.pos++;
    let out = '';
    while (!this.done) {
      const c = this.s[this.pos++]!;
      if (c === '\\' && !this.done) out += this.s[this.pos++]!;
      else if (c === '"') return out;
      else out += c;
    }
    return out; // unterminated: take what there is
  }
}

/**
 * Is there a `name =` parameter at the scanner's position (as opposed to the next challenge's
 * scheme, or a token68)? Does not move the scanner.
 */
function atParam(sc: Scanner): boolean {
  const save = sc.pos;
  const name = sc.token();
  sc.skipSpace();
  const isParam = name !== '' && sc.peek() === '=' && sc.s[sc.pos + 1] !== '=';
  sc.pos = save;
  return isParam;
}

function tryToken68(sc: Scanner): string | undefined {
  const save = sc.pos;
  let end = sc.pos;
  while (end < sc.s.length && TOKEN68_CHAR.test(sc.s[end]!)) end++;
  if (end === sc.pos) return undefined;
  while (sc.s[end] === '=') end++;
  let after = end;
  while (sc.s[after] === ' ' || sc.s[after] === '\t') after++;
  if (after < sc.s.length && sc.s[after] !== ',') {
    sc.pos = save;
    return undefined;
  }
  sc.pos = end;
  return sc.s.slice(save, end);
}

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const sc = new Scanner(Array.isArray(header) ? header.join(', ') : header);
  const out: Challenge[] = [];
  while (true) {
    sc.skipSeparators();
    if (sc.done) break;
    const scheme = sc.token();
    if (scheme === '') {
      sc.pos++; // junk character: skip it
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    sc.skipSpace();
    if (!atParam(sc) && sc.peek() !== ',') {
      const t68 = tryToken68(sc);
      if (t68 !== undefined) {
        challenge.token68 = t68;
        continue;
      }
    }
    // Parameters until something that is not `name=` (the next challenge's scheme).
    while (true) {
      sc.skipSeparators();
      if (sc.done || !atParam(sc)) break;
      const name = sc.token().toLowerCase();
      sc.skipSpace();
      sc.pos++; // '='
      sc.skipSpace();
      const value = sc.peek() === '"' ? sc.quoted() : sc.bare();
      if (!(name in challenge.params)) challenge.params[name] = value;
    }
  }
  return out;
}

/** The challenge we act on: Bearer if offered (token auth), else Basic, else none we support. */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}
