/** One `WWW-Authenticate` challenge: the scheme and its auth-params (RFC 7235). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header into its challenges. Hand-written because
 * the grammar is small and no maintained library covers the Docker token
 * challenge (quoted values with commas inside, several challenges in one header).
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpaces = () => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && !/[\s,=]/.test(header[i] as string)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skipSpaces();
    while (i < n && header[i] === ",") {
      i++;
      skipSpaces();
    }
    if (i >= n) break;
    const scheme = readToken();
    if (scheme === "") break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skipSpaces();
      const save = i;
      const key = readToken();
      skipSpaces();
      if (key === "" || header[i] !== "=") {
        // Not an auth-param: the start of the next challenge (or the end).
        i = save;
        break;
      }
      i++;
      skipSpaces();
      let value = "";
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < n && header[i] !== "," && header[i] !== " ") i++;
        value = header.slice(start, i);
      }
      challenge.params[key.toLowerCase()] = value;
      skipSpaces();
      if (header[i] === ",") i++;
      else break;
    }
  }
  return challenges;
}
