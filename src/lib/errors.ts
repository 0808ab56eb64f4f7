// Walking an error's `cause` chain: drivers and ORMs wrap the error that says what happened
// (postgres.js, PGlite and Drizzle each wrap differently), so a check looks a few levels down.

/** Does `err`, or one of the (at most `depth`) causes under it, satisfy `test`? */
export function anyCause(err: unknown, test: (e: object) => boolean, depth = 5): boolean {
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < depth; e = (e as { cause?: unknown }).cause, i++) {
    if (test(e)) return true;
  }
  return false;
}
