import slugify from '@sindresorhus/slugify';
import { is, trimEndWhere, trimWhere } from './trim.ts';

export const SLUG_PATTERN = '^[\\p{Ll}\\p{Lo}\\p{Lm}\\p{N}]+(?:-[\\p{Ll}\\p{Lo}\\p{Lm}\\p{N}]+)*$';
const SLUG_RE = new RegExp(SLUG_PATTERN, 'u');
export const SLUG_MAX = 120;
/** What a 400 says of a slug that does not match SLUG_PATTERN. */
export const SLUG_MESSAGE = 'must be lowercase letters, digits and single dashes';

/**
 * A URL slug from any title: Latin, Cyrillic, Greek… are transliterated
 * ("Héllo Wörld" → "hello-woerld", "Привет" → "privet"); scripts without a
 * transliteration (CJK…) keep their letters ("日本語" → "日本語").
 */
export function toSlug(text: string): string {
  let s = slugify(text);
  if (!s) {
    s = text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, '-');
    s = trimWhere(s, is('-'));
  }
  return trimEndWhere(s.slice(0, SLUG_MAX), is('-'));
}

export function isSlug(s: string): boolean {
  return s.length > 0 && s.length <= SLUG_MAX && SLUG_RE.test(s);
}
