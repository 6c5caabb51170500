// WWW-Authenticate challenges (RFC 7235 section 4.1; RFC 9110 section 11.6.1):
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
// A header may hold several challenges separated by commas, which also separate parameters: a
// token not followed by '=' starts the next challenge. Registries answer a 401 on /v2/ with
// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"` (distribution
// docs/spec/auth/token.md) or `Basic realm="..."`.

export interface AuthChallenge {
  /** Lower case: `bearer`, `basic`. */
  readonly scheme: string;
  /** Parameter names in lower case (they are case-insensitive). */
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function parseWwwAuthenticate(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  if (typeof header !== 'string') return header.flatMap((h) => parseWwwAuthenticate(h));
  const s = header;
  let i = 0;
  const out: AuthChallenge[] = [];
  const skip = (chars: RegExp): void => {
    while (i < s.length && chars.test(s[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const bare = (): string => {
    const start = i;
    while (i < s.length && !/[\s,]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const quoted = (): string | undefined => {
    if (s[i] !== '"') return undefined;
    i++;
    let v = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    if (s[i] !== '"') return undefined; // unterminated: the header is malformed from here
    i++;
    return v;
  };
  while (i < s.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === '') break; // malformed: keep what was understood
    const params: Record<string, string> = {};
    let token68: string | undefined;
    skip(/[ \t]/);
    for (;;) {
      skip(/[\s,]/);
      const save = i;
      const name = token();
      if (name === '') break;
      skip(/[ \t]/);
      if (s[i] !== '=') {
        i = save; // the next challenge's scheme
        break;
      }
      // token68 ends in '='s and is followed by nothing or a comma.
      let eqs = i;
      while (s[eqs] === '=') eqs++;
      const after = s.slice(eqs).trimStart();
      if (Object.keys(params).length === 0 && token68 === undefined && (eqs - i > 1 || after === '' || after.startsWith(',')) && !/^"/.test(after)) {
        token68 = s.slice(save, eqs);
        i = eqs;
        break;
      }
      i++;
      skip(/[ \t]/);
      // Strictly a token, but unquoted URLs (`realm=https://…`) are seen in the wild: up to ',' or space.
      const value = quoted() ?? bare();
      params[name.toLowerCase()] = value;
    }
    out.push({ scheme: scheme.toLowerCase(), params, ...(token68 === undefined ? {} : { token68 }) });
  }
  return out;
}
