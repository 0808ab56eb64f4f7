// Mastodon's length rule: 500 characters (grapheme clusters), every link counted as
// 23 whatever its length. Mastodon finds links with twitter-text's extractor, only
// those with a scheme (StatusLengthValidator: extract_url_without_protocol: false),
// so a bare "README.md" is text here, unlike on X.
import twitter from 'twitter-text';
import type { LengthRule } from '../announcements/announcement-text.ts';

export const MASTODON_MAX_CHARACTERS = 500;
export const MASTODON_URL_LENGTH = 23;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemeCount = (s: string) => {
  let n = 0;
  for (const _ of segmenter.segment(s)) n++;
  return n;
};

/** The length Mastodon counts for a status text. */
export function mastodonLength(text: string): number {
  const urls = twitter.extractUrlsWithIndices(text, { extractUrlsWithoutProtocol: false });
  let rest = '';
  let at = 0;
  for (const u of urls) {
    rest += text.slice(at, u.indices[0]);
    at = u.indices[1];
  }
  rest += text.slice(at);
  return graphemeCount(rest) + urls.length * MASTODON_URL_LENGTH;
}

export const mastodonLengthRule: LengthRule = {
  network: 'Mastodon',
  templateVariable: 'MASTODON_TEMPLATE (or ANNOUNCE_TEMPLATE)',
  max: MASTODON_MAX_CHARACTERS,
  unit: 'characters',
  measure: mastodonLength,
};
