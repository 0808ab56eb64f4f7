// The media library: uploads become a row and a set of immutable files, or nothing at
// all; articles point at library images, and the library refuses to delete one in use.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import type { ContentEvents } from '../events/content-events.ts';
import { isUniqueViolation, type Db } from '../db/client.ts';
import { AppError, notFound } from '../http/errors.ts';
import type { Logger } from '../jobs/kernel.ts';
import { escapeHtml } from '../lib/html.ts';
import { Limiter, QueueFullError } from '../lib/limiter.ts';
import { pageMeta, type PageMeta } from '../lib/pagination.ts';
import { CONTENT_TYPES, inspect, render, type RenderedFile } from './images.ts';
import * as repo from './media.repository.ts';
import type { MediaRecord } from './media.repository.ts';
import type { MediaFormat, StoredVariant } from './media.table.ts';
import type { MediaStorage, StoredRead } from './storage.ts';
import type { Static } from 'typebox';
import type { FeatureImage, Media } from './media.schemas.ts';

export type MediaView = Static<typeof Media>;

/** What an article shows of its feature image. */
export type FeatureImageView = NonNullable<Static<typeof FeatureImage>>;

/** A received upload: a temporary file of `bytes` bytes whose content address is `hash`. */
export interface Upload {
  path: string;
  bytes: number;
  hash: string;
  alt: string;
}

/** The fields of a media row that URLs and views are built from (also what the articles query selects). */
export type MediaRef = Pick<MediaRecord, 'id' | 'hash' | 'format' | 'width' | 'height' | 'alt' | 'variants'>;

/** A link card's image (Bluesky's thumb): about 1200 px is what the cards show; JPEG first, every client decodes it. */
const CARD_MAX_WIDTH = 1280;
const CARD_FORMATS: readonly MediaFormat[] = ['jpeg', 'webp', 'png'];

/**
 * The rendition of an image for a link card: the widest one up to CARD_MAX_WIDTH whose
 * stored size is at most `maxBytes`, JPEG before WebP before PNG at the same width; null
 * when none fits (AVIF and GIF are not offered: not every card renderer reads them).
 */
export function cardRendition(m: Pick<MediaRecord, 'variants'>, maxBytes: number): StoredVariant | null {
  const fits = m.variants.filter((v) => v.width <= CARD_MAX_WIDTH && v.bytes <= maxBytes && CARD_FORMATS.includes(v.format));
  fits.sort((a, b) => b.width - a.width || CARD_FORMATS.indexOf(a.format) - CARD_FORMATS.indexOf(b.format));
  return fits[0] ?? null;
}

/** srcset is offered in WebP: every browser of the last five years shows it, and it is lighter than JPEG or PNG. */
const SRCSET_FORMAT: MediaFormat = 'webp';
/** waiting uploads beyond those being processed; more answer 503 with Retry-After */
const MAX_WAITING = 16;

export const mediaKey = (hash: string, width: number, format: MediaFormat) => `${hash}/${width}.${format}`;

export interface MediaDeps {
  db: Db;
  config: Pick<Config, 'apiUrl' | 'media'>;
  storage: MediaStorage;
  log: Logger;
  /** called after a change that public reads can see (alt text of a feature image) */
  /** an image's alt text shows in public articles: caches must forget */
  events: ContentEvents;
}

export class MediaService {
  private readonly limiter: Limiter;

  constructor(private readonly deps: MediaDeps) {
    this.limiter = new Limiter(deps.config.media.concurrency, MAX_WAITING);
  }

  get storage(): MediaStorage {
    return this.deps.storage;
  }

  // ---------- addresses and views ----------

  url(hash: string, width: number, format: MediaFormat): string {
    return `${this.deps.config.apiUrl}/media/${mediaKey(hash, width, format)}`;
  }

  srcset(m: MediaRef): string {
    return m.variants
      .filter((v) => v.format === SRCSET_FORMAT)
      .map((v) => `${this.url(m.hash, v.width, v.format)} ${v.width}w`)
      .join(', ');
  }

  view(m: MediaRecord): MediaView {
    return {
      id: m.id,
      url: this.url(m.hash, m.width, m.format),
      width: m.width,
      height: m.height,
      alt: m.alt,
      format: m.format,
      bytes: m.bytes,
      srcset: this.srcset(m),
      variants: m.variants.map((v) => ({ width: v.width, height: v.height, format: v.format, url: this.url(m.hash, v.width, v.format) })),
      createdAt: m.createdAt.toISOString(),
    };
  }

  featureImage(m: MediaRef | null): FeatureImageView | null {
    if (!m) return null;
    return { id: m.id, url: this.url(m.hash, m.width, m.format), alt: m.alt, width: m.width, height: m.height, srcset: this.srcset(m) };
  }

  // ---------- uploads ----------

  /**
   * Stores an upload: checks it from its header, renders its variants (a few at a time,
   * on sharp's threads), writes every file, then the row. Any failure removes the files
   * this call wrote; the same bytes uploaded again answer the existing image.
   */
  async create(upload: Upload): Promise<{ media: MediaView; created: boolean }> {
    if (upload.bytes === 0) throw new AppError('bad-request', 'The file is empty (0 bytes).');
    const existing = await repo.findMediaByHash(this.deps.db, upload.hash);
    if (existing) return { media: this.view(existing), created: false };

    const info = await inspect(upload.path);
    let rendered: Awaited<ReturnType<typeof render>>;
    try {
      rendered = await this.limiter.run(() => render(upload.path, info));
    } catch (e) {
      if (e instanceof QueueFullError) {
        throw new AppError('unavailable', 'Too many images are being processed right now; try again in a few seconds.', { headers: { 'retry-after': '5' } });
      }
      throw e;
    }
    const { original, variants } = rendered;

    const files = new Map<string, RenderedFile>();
    for (const f of [original, ...variants]) files.set(mediaKey(upload.hash, f.width, f.format), f);
    const written: string[] = [];
    try {
      // a few at a time: an S3 bucket answers slower than a disk, and 16 puts at once cost nothing
      const queue = [...files.entries()];
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const [key, f] = next;
          await this.deps.storage.put(key, f.data, CONTENT_TYPES[f.format]);
          written.push(key);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]).catch((err) => {
        this.deps.log.error({ err, store: this.deps.storage.kind }, 'media: could not store a file');
        throw new AppError('unavailable', 'The media store could not take the files right now; nothing was kept. Try again shortly.', { headers: { 'retry-after': '10' } });
      });
      const row = await repo.insertMedia(this.deps.db, {
        hash: upload.hash,
        format: original.format,
        width: original.width,
        height: original.height,
        bytes: original.data.length,
        alt: upload.alt,
        variants: variants.map((v): StoredVariant => ({ width: v.width, height: v.height, format: v.format, bytes: v.data.length })),
      });
      return { media: this.view(row), created: true };
    } catch (e) {
      if (isUniqueViolation(e)) {
        // the same image uploaded twice at once: the other upload's row owns these very files
        const winner = await repo.findMediaByHash(this.deps.db, upload.hash);
        if (winner) return { media: this.view(winner), created: false };
      }
      await this.deps.storage.remove(written).catch((err) => this.deps.log.error({ err, keys: written }, 'media: could not remove the files of a failed upload'));
      throw e;
    }
  }

  // ---------- the library ----------

  async list(params: { page?: number; limit?: number }): Promise<{ data: MediaView[]; meta: { pagination: PageMeta } }> {
    const page = params.page ?? 1;
    const limit = params.limit ?? 20;
    const { rows, total } = await repo.listMedia(this.deps.db, { limit, offset: (page - 1) * limit });
    return { data: rows.map((r) => this.view(r)), meta: { pagination: pageMeta({ page, limit, total, nextCursor: null, hasMore: page * limit < total }) } };
  }

  async get(id: number): Promise<MediaView> {
    const row = await repo.findMediaById(this.deps.db, id);
    if (!row) throw notFound(`Media ${id}`);
    return this.view(row);
  }

  async updateAlt(id: number, alt: string): Promise<MediaView> {
    const row = await repo.updateMediaAlt(this.deps.db, id, alt);
    if (!row) throw notFound(`Media ${id}`);
    await this.deps.events.emit(this.deps.db, { type: 'media.changed', data: { id } });
    return this.view(row);
  }

  /** Deletes the row, then its files. 409 while an article shows the image. */
  async remove(id: number): Promise<void> {
    const row = await this.deps.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const m = await repo.findMediaById(db, id);
      if (!m) throw notFound(`Media ${id}`);
      const users = await repo.articlesUsingMedia(db, m);
      if (users.length) {
        throw new AppError('conflict', `The image is used by ${users.length === 20 ? 'at least 20 articles' : `${users.length} article${users.length > 1 ? 's' : ''}`} (${users.map((a) => `${a.id} "${a.slug}"`).join(', ')}): remove it from them first.`, {
          articles: users,
        });
      }
      await repo.deleteMedia(db, id);
      return m;
    });
    const keys = new Set([mediaKey(row.hash, row.width, row.format), ...row.variants.map((v) => mediaKey(row.hash, v.width, v.format))]);
    await this.deps.storage.remove([...keys]).catch((err) => this.deps.log.error({ err, id, hash: row.hash }, 'media: row deleted, files left behind'));
  }

  /** A stored file for GET/HEAD /media/{hash}/{width}.{format}. */
  read(hash: string, file: string, req: IncomingMessage): Promise<StoredRead | null> {
    return this.deps.storage.read(`${hash}/${file}`, req);
  }

  // ---------- articles ----------

  /**
   * An article's feature image as bytes for a link card (cardRendition: at most `maxBytes`),
   * read whole from the store; null when the article has none or no rendition fits.
   */
  async cardImage(articleId: number, maxBytes: number): Promise<{ bytes: Uint8Array; mimeType: string } | null> {
    const m = await repo.findFeatureImageOf(this.deps.db, articleId);
    const pick = m && cardRendition(m, maxBytes);
    if (!m || !pick) return null;
    const bytes = await this.deps.storage.bytes(mediaKey(m.hash, pick.width, pick.format));
    if (!bytes) throw new Error(`media ${m.id}: the file ${mediaKey(m.hash, pick.width, pick.format)} is missing from the ${this.deps.storage.kind} store`);
    // the row's figure, not the file's, chose it: a file that is not what the row says is not sent
    if (bytes.length > maxBytes) throw new Error(`media ${m.id}: the file is ${bytes.length} bytes, over ${maxBytes}`);
    return { bytes, mimeType: CONTENT_TYPES[pick.format] };
  }

  /** The library images of these ids, for articles' `featureImage` writes: unknown ids are missing from the map. */
  async byIds(db: Db, ids: number[]): Promise<Map<number, MediaRecord>> {
    return new Map((await repo.findMediaByIds(db, ids)).map((m) => [m.id, m]));
  }

  /** Feed enclosures of these images (the full-size file: its URL, type and length), by media id. */
  async enclosures(ids: number[]): Promise<Map<number, { url: string; type: string; length: number }>> {
    const rows = await repo.findMediaByIds(this.deps.db, [...new Set(ids)]);
    return new Map(rows.map((m) => [m.id, { url: this.url(m.hash, m.width, m.format), type: CONTENT_TYPES[m.format], length: m.bytes }]));
  }

  /**
   * Library images inside article HTML get what keeps a page from shifting and a phone
   * from loading a desktop image: `srcset` and `sizes`, `width` and `height`, and
   * `loading="lazy"`. Done on save (the stored HTML is what every read serves, feeds
   * included); saving again refreshes them. Other images are left as they are. The HTML
   * is the sanitiser's output: attributes double-quoted, `>` escaped inside them.
   */
  async decorateHtml(db: Db, html: string): Promise<string> {
    if (!html.includes('/media/')) return html;
    const api = this.deps.config.apiUrl;
    const ours = (src: string) => {
      const path = src.startsWith(`${api}/media/`) ? src.slice(api.length) : src;
      return /^\/media\/([a-f0-9]{32})\/(\d{1,5})\.(jpeg|png|webp|avif|gif)$/.exec(path);
    };
    const IMG = /<img\b[^<>]*>/g;
    const ATTR = /\s([a-zA-Z-]+)="([^"]*)"/g;
    const hashes = new Set<string>();
    for (const tag of html.match(IMG) ?? []) {
      const src = /\ssrc="([^"]*)"/.exec(tag)?.[1];
      const m = src && ours(src);
      if (m) hashes.add(m[1]);
    }
    if (!hashes.size) return html;
    const found = new Map((await repo.findMediaByHashes(db, [...hashes])).map((m) => [m.hash, m]));
    return html.replace(IMG, (tag) => {
      const attrs = new Map<string, string>();
      for (const [, k, v] of tag.matchAll(ATTR)) attrs.set(k.toLowerCase(), v);
      const m = ours(attrs.get('src') ?? '');
      const image = m && found.get(m[1]);
      if (!m || !image) return tag;
      const width = Number(m[2]);
      const height = Math.max(1, Math.round((image.height * width) / image.width));
      attrs.set('src', this.url(image.hash, width, m[3] as MediaFormat));
      if (!attrs.get('alt') && image.alt) attrs.set('alt', escapeHtml(image.alt));
      if (!attrs.has('alt')) attrs.set('alt', '');
      const srcset = image.variants
        .filter((v) => v.format === SRCSET_FORMAT && v.width <= width)
        .map((v) => `${this.url(image.hash, v.width, v.format)} ${v.width}w`)
        .join(', ');
      if (srcset) attrs.set('srcset', srcset);
      else attrs.delete('srcset');
      attrs.set('sizes', `(max-width: ${width}px) 100vw, ${width}px`);
      attrs.set('width', String(width));
      attrs.set('height', String(height));
      attrs.set('loading', 'lazy');
      return `<img ${[...attrs].map(([k, v]) => `${k}="${v}"`).join(' ')} />`;
    });
  }
}
