// X's length rule: 280 weighted characters as twitter-text counts them (the library
// X's docs point to): every URL counts 23 whatever its length, CJK and emoji count 2,
// text is NFC.
import twitter from 'twitter-text';
import type { LengthRule } from '../announcements/announcement-text.ts';

export const X_MAX_WEIGHTED_LENGTH = 280;

/** X's weighted length of a text. */
export function weightedLength(text: string): number {
  return twitter.parseTweet(text).weightedLength;
}

export const xLengthRule: LengthRule = {
  network: 'X',
  templateVariable: 'X_TEMPLATE (or ANNOUNCE_TEMPLATE)',
  max: X_MAX_WEIGHTED_LENGTH,
  unit: 'weighted characters',
  measure: weightedLength,
  acceptable: (text) => twitter.parseTweet(text).valid,
};
