// Announcing on Bluesky: an app.bsky.feed.post record under the announcement's fixed
// record key, with the link as a facet and a link card (app.bsky.embed.external: the
// article's title, excerpt and, when it has one, its image as a blob). The session is
// the site's one stored session (bluesky-session.ts): never a login per post.
import { Agent, XRPCError } from '@atproto/api';
import { TID } from '@atproto/common-web';
import type { AnnouncerFactory } from '../announcements/announcements.service.ts';
import { loadSession, storeSession } from '../announcements/network-state.repository.ts';
import { withDeadline, type Announcer, type Outgoing, type Sent } from '../announcements/network.ts';
import { AUTH_ERRORS, classifyBlueskyFailure, createPost, findPost, postRecord, postUrl, type Card } from './bluesky-client.ts';
import { BlueskySession, blueskyFingerprint } from './bluesky-session.ts';
import { blueskyLengthRule } from './bluesky-text.ts';

export const BLUESKY_JOB_KIND = 'announce.bluesky';

/** Bluesky refuses card thumbnails over 1 MB. */
const THUMB_MAX_BYTES = 1_000_000;

/** An article's image for the link card, when it has one, of at most `maxBytes`. */
export type ArticleImage = (articleId: number, maxBytes: number) => Promise<{ bytes: Uint8Array; mimeType: string } | null>;

const DESCRIPTION_MAX = 300;

export function blueskyAnnouncer(opts: { image?: ArticleImage } = {}): AnnouncerFactory {
  return ({ config, db, log, tuning }): Announcer => {
    const credentials = config.bluesky;
    const session = credentials
      ? new BlueskySession(credentials, { load: () => loadSession(db, 'bluesky'), save: (json) => storeSession(db, 'bluesky', json) }, tuning.requestTimeoutMs)
      : undefined;
    const agent = session ? new Agent(session) : undefined;

    async function card(out: Outgoing, signal: AbortSignal): Promise<Card> {
      const c: Card = { uri: out.article.url, title: out.article.title, description: [...out.article.excerpt].slice(0, DESCRIPTION_MAX).join('') };
      const image = await opts.image?.(out.article.id, THUMB_MAX_BYTES).catch((err: unknown) => {
        log.warn({ err, articleId: out.article.id }, 'bluesky: the article image could not be read; the card goes without it');
        return null;
      });
      if (image && agent) {
        if (image.bytes.byteLength > THUMB_MAX_BYTES) {
          log.warn({ articleId: out.article.id, bytes: image.bytes.byteLength }, 'bluesky: the article image is over 1 MB; the card goes without it');
        } else {
          try {
            const res = await agent.com.atproto.repo.uploadBlob(image.bytes, { encoding: image.mimeType, signal });
            c.thumb = res.data.blob;
          } catch (err) {
            // the PDS refused this image (400, 413): the post goes without it; anything else is the post's failure
            if (!(err instanceof XRPCError && (err.status === 400 || err.status === 413) && !AUTH_ERRORS.includes(err.error ?? ''))) throw err;
            log.warn({ err, articleId: out.article.id }, 'bluesky: the PDS refused the article image; the card goes without it');
          }
        }
      }
      return c;
    }

    return {
      network: 'bluesky',
      label: 'Bluesky',
      jobKind: BLUESKY_JOB_KIND,
      configured: credentials !== undefined,
      missingCredentials: 'No Bluesky account is configured (BLUESKY_HANDLE, BLUESKY_APP_PASSWORD)',
      recordSkipped: false,
      credentialsFingerprint: () => blueskyFingerprint(credentials),
      template: config.announceTemplates.bluesky,
      lengthRule: blueskyLengthRule,
      newRemoteKey: () => TID.nextStr(),
      resendNote: 'Before resending, the PDS is asked for the post under its fixed record key.',
      send(out, deadlineMs): Promise<Sent> {
        if (!session || !agent) throw new Error('Bluesky is not configured');
        const rkey = out.remoteKey;
        if (!rkey) throw new Error(`announcement ${out.id} has no record key`);
        return withDeadline(
          async (signal) => {
            const { did } = await session.current();
            const found = (uri: string, how: string): Sent => ({ postId: uri, url: postUrl(session.handle, rkey), note: how });
            if (out.ambiguous) {
              const uri = await findPost(agent, did, rkey, signal);
              if (uri) return found(uri, 'Posted by an earlier attempt whose answer was lost: the PDS has the record under its key; not sent again.');
            }
            const record = postRecord(out.text, await card(out, signal), new Date());
            try {
              const uri = await createPost(agent, did, rkey, record, signal);
              return { postId: uri, url: postUrl(session.handle, rkey) };
            } catch (err) {
              // the PDS answers a key it already has with a generic 500: ask it whether the post is there
              const uri = await findPost(agent, did, rkey, signal).catch(() => null);
              if (uri) return found(uri, 'The PDS refused the record but has it under its key (a repeated key, or the attempt landed before it failed): posted once.');
              throw err;
            }
          },
          deadlineMs,
          'Bluesky',
        );
      },
      classify: classifyBlueskyFailure,
    };
  };
}
