// Bluesky's length rule: 300 graphemes of the whole text (links count in full: the
// link itself is a facet over the text, in UTF-8 byte offsets), and the facets.
import { RichText, type AppBskyRichtextFacet } from '@atproto/api';
import type { LengthRule } from '../announcements/announcement-text.ts';

export const BLUESKY_MAX_GRAPHEMES = 300;

export function blueskyLength(text: string): number {
  return new RichText({ text }).graphemeLength;
}

export const blueskyLengthRule: LengthRule = {
  network: 'Bluesky',
  templateVariable: 'BLUESKY_TEMPLATE (or ANNOUNCE_TEMPLATE)',
  max: BLUESKY_MAX_GRAPHEMES,
  unit: 'graphemes',
  measure: blueskyLength,
};

/**
 * The text's links and hashtags as facets (UTF-8 byte offsets), by @atproto/api's own
 * detection. @mentions are left as plain text: making them facets needs each handle
 * resolved to a DID, a request per name for a title that merely contains an "@".
 */
export function facetsOf(text: string): AppBskyRichtextFacet.Main[] {
  const rt = new RichText({ text });
  rt.detectFacetsWithoutResolution();
  return (rt.facets ?? []).filter((f) => f.features.every((x) => x.$type !== 'app.bsky.richtext.facet#mention'));
}
