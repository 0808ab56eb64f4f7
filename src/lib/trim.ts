// Trimming runs of characters off the ends of a string in one pass. A regular expression
// such as /-+$/ or /[\s.,]+$/ looks equivalent but is quadratic: on a long run that does
// not end the string, the engine retries the run from each of its characters.

/** `s` without the characters at its end for which `drop` is true. */
export function trimEndWhere(s: string, drop: (ch: string) => boolean): string {
  let end = s.length;
  while (end > 0 && drop(s[end - 1])) end--;
  return s.slice(0, end);
}

/** `s` without the characters at its start and end for which `drop` is true. */
export function trimWhere(s: string, drop: (ch: string) => boolean): string {
  let start = 0;
  while (start < s.length && drop(s[start])) start++;
  return trimEndWhere(s.slice(start), drop);
}

/** One character (a UTF-16 code unit) equal to `c`. */
export const is =
  (c: string) =>
  (ch: string): boolean =>
    ch === c;

/** Punctuation and spaces that may end a cut-off excerpt before its ellipsis. */
export const isTrailingPunctuation = (ch: string): boolean => /^[\s,;:.!?—–-]$/u.test(ch);
