// Bringing a WordPress blog over (SPEC §14): posts, their conversation and their old
// addresses, from a WXR export read as a stream.
//
// - Quiet: rows are written with the repositories in the importer's own transactions,
//   never through the articles service's publishing transaction, whose listeners queue
//   announcements and outgoing pings. Published posts come in with `announce` off.
// - Idempotent: each post and comment is keyed by its WordPress id per source site in
//   `wordpress_imports`, with a digest of what the export said. The same export again
//   changes nothing; a newer one adds what is new and updates what changed there, unless
//   it was edited here since (then it is left alone and reported).
// - `media` (--media): the images the posts show are fetched and re-hosted (media.ts),
//   a batch's before its transaction, and their addresses in the HTML replaced; posts
//   imported earlier without them get them on the next import with --media.
// - Safe to stop: the file is read once first without writing (so a malformed file stops
//   before anything is written, with its line and reason), then imported in batches of
//   whole posts (with their comments), one transaction each: a stop leaves every batch
//   committed or not, and running the import again continues.
// - `dryRun`: every batch runs and is rolled back, so the report is the real one.
import { is, trimEndWhere } from '../../lib/trim.ts';
import { createHash } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { excerptOf, htmlToText, readingTimeMinutes } from '../../lib/html.ts';
import { isSlug, toSlug } from '../../lib/slug.ts';
import * as articlesRepo from '../../articles/articles.repository.ts';
import { enqueuePublish } from '../../articles/articles.scheduling.ts';
import type { ArticleStatus } from '../../articles/articles.table.ts';
import { responses, type ResponseStatus } from '../../comments/responses.table.ts';
import { safeHttpUrl } from '../../comments/responses.service.ts';
import { authorIdBySlug, ensureTags, existingTagSlugs, insertAuthor } from '../../taxonomy/taxonomy.repository.ts';
import { redirectKey } from '../../redirects/redirect-path.ts';
import { addRedirects, redirectsElsewhere } from '../../redirects/redirects.repository.ts';
import { commentToSafeHtml, plainText, postToHtml, SiteClock } from './content.ts';
import { ImportReport } from './report.ts';
import { findMappings, saveMappings, type Mapping } from './wordpress.repository.ts';
import { ImageRehoster, type ImageRef, type MediaImportDeps } from './media.ts';
import { readWxr, WxrError, type WxrChannel, type WxrComment, type WxrItem } from './wxr.reader.ts';
import { eq, sql } from 'drizzle-orm';

export interface ImportDeps {
  db: Db;
  config: Pick<Config, 'siteUrl' | 'permalink'>;
  /**
   * called once after the import committed anything, with when it began: public caches must
   * forget what they hold, and /v1/changes must list what came in (through the content events)
   */
  onChange?: (since: Date) => Promise<void> | void;
  /** what `media` needs: the library, the outbound guard, the limits */
  media?: Omit<MediaImportDeps, 'db'>;
}

export interface ImportOptions {
  dryRun?: boolean;
  /** posts per transaction */
  batchSize?: number;
  /** after each item and comment: how many are done out of how many there are */
  onProgress?: (done: number, total: number) => void;
  /** aborted: stop after the batch being written commits (the report says how far it got) */
  signal?: AbortSignal;
  /** --media: fetch the images the posts show and re-host them (a dry run fetches nothing) */
  media?: boolean;
}

/** Opens the export's bytes; called twice (the check, then the import). */
export type ExportSource = () => AsyncIterable<Uint8Array>;

/** Thrown to roll a dry run's batch back. */
class DryRun extends Error {}

const POST_STATUS: Record<string, ArticleStatus> = {
  publish: 'published',
  draft: 'draft',
  pending: 'draft',
  private: 'draft',
  future: 'scheduled',
};

const COMMENT_STATUS: Record<string, ResponseStatus> = { '1': 'approved', '0': 'pending', spam: 'spam', trash: 'trash', 'post-trashed': 'trash' };

/** The key of a source site: its blog URL without scheme or trailing slash, so http → https moves keep it. */
export function siteKey(channel: WxrChannel): string {
  const raw = channel.baseBlogUrl || channel.baseSiteUrl || channel.link;
  try {
    const u = new URL(raw);
    return trimEndWhere((u.host + u.pathname).toLowerCase(), is('/'));
  } catch {
    return trimEndWhere(raw.toLowerCase().replace(/^[a-z]+:\/\//, ''), is('/'));
  }
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url');

/** WordPress stores non-ASCII slugs percent-encoded. */
function decodeSlug(s: string): string {
  try {
    return decodeURIComponent(s).toLowerCase();
  } catch {
    return s.toLowerCase();
  }
}

export async function importWordPress(deps: ImportDeps, source: ExportSource, opts: ImportOptions = {}): Promise<ImportReport> {
  // the check: the whole file is read once, nothing written, so a malformed one stops here
  let total = 0;
  let channel: WxrChannel | null = null;
  /** attachment id → its file and alt text, for featured images (--media) */
  const attachments = new Map<number, { url: string; alt: string }>();
  for await (const e of readWxr(source())) {
    if (e.kind === 'item') {
      total += 1 + e.item.comments.length;
      if (opts.media && e.item.postType === 'attachment' && e.item.attachmentUrl) attachments.set(e.item.postId, { url: e.item.attachmentUrl, alt: e.item.imageAlt });
    } else if (e.kind === 'channel') channel = e.channel;
  }
  const importer = new Importer(deps, siteKey(channel!), Boolean(opts.dryRun));
  if (opts.media) {
    if (!deps.media) throw new Error('importing with media needs the media library and the outbound guard');
    importer.withImages(new ImageRehoster({ db: deps.db, ...deps.media }, channel!.baseSiteUrl || channel!.link, importer.report), attachments);
  }
  importer.report.source = { site: importer.site, wxrVersion: channel!.wxrVersion, title: channel!.title };
  const batchSize = opts.batchSize ?? 100;
  let batch: WxrItem[] = [];
  let done = 0;
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(done, total);
  };
  try {
    for await (const e of readWxr(source(), { onRepair: (r) => importer.report.note(r.line, r.what, 'repaired') })) {
      if (e.kind === 'author') importer.authors.set(e.author.login, plainText(e.author.displayName) || e.author.login);
      else if (e.kind === 'item') {
        batch.push(e.item);
        if (batch.length >= batchSize) {
          await importer.batch(batch, progress);
          batch = [];
          if (opts.signal?.aborted) break;
        }
      }
    }
    if (batch.length && !opts.signal?.aborted) await importer.batch(batch, progress);
    importer.report.stoppedAt = opts.signal?.aborted && done < total ? { done, total } : null;
  } finally {
    await importer.finish();
  }
  return importer.report;
}

class Importer {
  readonly report = new ImportReport();
  /** login → display name, from the channel */
  readonly authors = new Map<string, string>();
  private readonly clock = new SiteClock();
  /** slug → author id, tag ids: found or made once per batch (a dry run's batch forgets its own) */
  private authorIds = new Map<string, number>();
  /** authors and tags already counted in the report */
  private readonly counted = new Set<string>();
  private committed = false;
  private readonly origin: string;
  private images: ImageRehoster | null = null;
  private attachments = new Map<number, { url: string; alt: string }>();
  /** a post's HTML from the export, made once (the images are looked for in it before its batch) */
  private readonly htmlOf = new WeakMap<WxrItem, string>();

  constructor(
    private readonly deps: ImportDeps,
    readonly site: string,
    private readonly dryRun: boolean,
  ) {
    this.origin = `wordpress:${site}`;
    this.report.dryRun = dryRun;
  }

  withImages(images: ImageRehoster, attachments: Map<number, { url: string; alt: string }>): void {
    this.images = images;
    this.attachments = attachments;
    this.report.media = true;
  }

  private postHtml(item: WxrItem): string {
    let html = this.htmlOf.get(item);
    if (html === undefined) this.htmlOf.set(item, (html = postToHtml(item.content)));
    return html;
  }

  /** The featured image's reference (`_thumbnail_id` → the attachment's file), or null. */
  private thumbnail(item: WxrItem): ImageRef | null {
    const a = item.thumbnailId ? this.attachments.get(item.thumbnailId) : undefined;
    return a && this.images ? this.images.ref(a.url, plainText(a.alt), { line: item.line, label: `post ${item.postId} (featured image)` }) : null;
  }

  async batch(items: WxrItem[], progress: (n: number) => void): Promise<void> {
    if (this.images) {
      // outside the transaction: no connection is held while the old site answers
      const refs: ImageRef[] = [];
      for (const item of items) {
        // what item() imports: posts with an id and a status that maps
        if (item.postType !== 'post' || !item.postId || !(item.password || Object.hasOwn(POST_STATUS, item.status))) continue;
        refs.push(...this.images.refs(this.postHtml(item), { line: item.line, label: `post ${item.postId}` }));
        const thumb = this.thumbnail(item);
        if (thumb) refs.push(thumb);
      }
      await this.images.bring(refs, !this.dryRun);
      this.report.imagesToFetch = this.images.toFetch;
    }
    try {
      await this.deps.db.transaction(async (t) => {
        const tx = t as unknown as Db;
        for (const item of items) {
          await this.item(tx, item);
          progress(1 + item.comments.length);
        }
        if (this.dryRun) throw new DryRun();
      });
      if (!this.dryRun) this.committed = true;
    } catch (e) {
      if (!(e instanceof DryRun)) throw e;
    } finally {
      if (this.dryRun) this.authorIds = new Map();
    }
  }

  /** After the import (or its stop): one signal that content changed, in one place, if it did. */
  private readonly began = new Date();

  async finish(): Promise<void> {
    if (this.committed && this.report.changed) await this.deps.onChange?.(this.began);
  }

  private async item(tx: Db, item: WxrItem): Promise<void> {
    const label = `post ${item.postId}`;
    if (item.postType !== 'post') {
      this.report.skip('posts', `${item.postType || 'no'} type (not a post)`);
      this.skipComments(item, `on a ${item.postType || 'non-post'} (not a post)`);
      return;
    }
    const status = item.password ? 'draft' : POST_STATUS[item.status];
    if (!status) {
      this.report.skip('posts', `status "${item.status}"`);
      this.skipComments(item, `on a post with status "${item.status}"`);
      return;
    }
    if (!item.postId) {
      this.report.skip('posts', 'no wp:post_id');
      this.skipComments(item, 'on a post without id');
      return;
    }
    const date = this.clock.date(item.postDateGmt, item.postDate) ?? new Date();
    const modified = this.clock.date(item.postModifiedGmt, '') ?? date;
    const terms = item.terms
      .filter((t) => (t.domain === 'category' || t.domain === 'post_tag') && t.nicename !== 'uncategorized')
      .map((t) => plainText(t.name))
      .filter(Boolean);
    const wanted = {
      title: plainText(item.title),
      content: item.content,
      excerpt: item.excerpt,
      status,
      name: item.postName,
      date: date.toISOString(),
      author: item.creator,
      comments: item.commentStatus,
      pings: item.pingStatus,
      terms,
      oldSlugs: item.oldSlugs,
      link: item.link,
    };
    const postDigest = digest(wanted);
    const mapping = (await findMappings(tx, this.site, 'post', [item.postId])).get(item.postId);

    let articleId: number;
    if (mapping && mapping.current !== null) {
      articleId = mapping.localId;
      if (mapping.digest === postDigest) this.report.count('posts', (await this.rehostInPlace(tx, item, mapping)) ? 'updated' : 'unchanged');
      else if (mapping.current !== mapping.stamp) {
        this.report.skip('posts', 'edited in Inkwell since the last import (left as it is)');
      } else {
        await this.updatePost(tx, item, mapping, wanted, date, modified);
        this.report.count('posts', 'updated');
      }
    } else {
      articleId = await this.insertPost(tx, item, wanted, date, modified);
      this.report.count('posts', 'imported');
    }
    if (!mapping || mapping.current === null || mapping.digest !== postDigest) {
      await this.redirects(tx, articleId, item, label);
    }
    await this.comments(tx, articleId, item);
  }

  private skipComments(item: WxrItem, reason: string) {
    for (const c of item.comments) this.report.skip(kindOf(c) ?? 'comments', reason);
  }

  /** The post's HTML, with its re-hosted images' addresses (and their srcset, sizes, width, height, as an upload's). */
  private async html(tx: Db, item: WxrItem, html = this.postHtml(item)): Promise<string> {
    return this.images && this.deps.media ? this.deps.media.media.decorateHtml(tx, this.images.rewrite(html)) : html;
  }

  /** The featured image's library id, when it was brought over. */
  private featureImageId(item: WxrItem): number | null {
    return this.images?.hosted(this.thumbnail(item)?.url ?? null)?.id ?? null;
  }

  /**
   * An unchanged post imported before its images were brought over: their addresses and
   * its featured image, and nothing else. True when it changed.
   */
  private async rehostInPlace(tx: Db, item: WxrItem, mapping: Mapping): Promise<boolean> {
    if (!this.images) return false;
    const current = (await articlesRepo.findArticleById(tx, mapping.localId))!;
    const html = await this.html(tx, item, current.html);
    const featureImageId = current.featureImage ? null : this.featureImageId(item);
    if (html === current.html && !featureImageId) return false;
    await articlesRepo.updateArticle(tx, mapping.localId, { html, ...(featureImageId ? { featureImageId } : {}) });
    await saveMappings(tx, this.site, 'post', [{ wpId: item.postId, localId: mapping.localId, digest: mapping.digest, stamp: String(current.version + 1) }]);
    return true;
  }

  private async body(tx: Db, item: WxrItem, wanted: { excerpt: string }) {
    const html = await this.html(tx, item);
    const text = htmlToText(html);
    const ownExcerpt = plainText(wanted.excerpt).replace(/\s+/g, ' ');
    return {
      html,
      text,
      readingTimeMinutes: readingTimeMinutes(text),
      excerpt: ownExcerpt || excerptOf(text),
      customExcerpt: Boolean(ownExcerpt),
    };
  }

  private async authorId(tx: Db, login: string): Promise<number | null> {
    if (!login) return null;
    const slug = toSlug(login);
    if (!slug) return null;
    let id = this.authorIds.get(slug);
    if (id === undefined) {
      const created = await insertAuthor(tx, { slug, name: this.authors.get(login) ?? login });
      if (!this.counted.has(`author:${slug}`)) {
        this.counted.add(`author:${slug}`);
        this.report.count('authors', created ? 'imported' : 'unchanged');
      }
      id = (await authorIdBySlug(tx, slug))!;
      this.authorIds.set(slug, id);
    }
    return id;
  }

  private async tagIds(tx: Db, names: string[]): Promise<number[]> {
    const fresh = [...new Set(names.map(toSlug))].filter((s) => s && !this.counted.has(`tag:${s}`));
    if (fresh.length) {
      const known = await existingTagSlugs(tx, fresh);
      for (const s of fresh) {
        this.counted.add(`tag:${s}`);
        this.report.count('tags', known.has(s) ? 'unchanged' : 'imported');
      }
    }
    return ensureTags(tx, names);
  }

  /** The post's slug, or the next free one with a suffix (reported). */
  private async slugFor(tx: Db, item: WxrItem, title: string, exceptId?: number): Promise<string> {
    const given = decodeSlug(item.postName);
    const base = (isSlug(given) ? given : toSlug(given)) || toSlug(title) || `post-${item.postId}`;
    for (let n = 1; n < 1000; n++) {
      const candidate = n === 1 ? base : `${base.slice(0, 110)}-${n}`;
      if (!(await articlesRepo.slugInUse(tx, candidate, exceptId))) {
        if (n > 1) this.report.note(item.line, `post ${item.postId} "${title}": the slug "${base}" is taken here; imported as "${candidate}"`, 'slug');
        return candidate;
      }
    }
    return `${base.slice(0, 100)}-${item.postId}`;
  }

  private async insertPost(tx: Db, item: WxrItem, wanted: PostWanted, date: Date, modified: Date): Promise<number> {
    const title = wanted.title || '(untitled)';
    const slug = await this.slugFor(tx, item, title);
    const published = wanted.status === 'published';
    const id = await articlesRepo.insertArticle(tx, {
      slug,
      title,
      markdown: null,
      ...(await this.body(tx, item, wanted)),
      featureImageId: this.featureImageId(item),
      status: wanted.status,
      publishAt: wanted.status === 'scheduled' ? date : null,
      publishedAt: published ? date : null,
      firstPublishedAt: published ? date : null,
      authorId: await this.authorId(tx, item.creator),
      commentsOpen: item.commentStatus === 'open',
      pingsOpen: item.pingStatus === 'open',
      // an old post going public again here is not news; a draft or scheduled one will be
      announce: !published,
      createdAt: date,
      updatedAt: modified,
    });
    if (wanted.terms.length) await articlesRepo.setArticleTags(tx, id, await this.tagIds(tx, wanted.terms));
    if (wanted.status === 'scheduled') await enqueuePublish(tx, id, date);
    await saveMappings(tx, this.site, 'post', [{ wpId: item.postId, localId: id, digest: digest(wanted), stamp: '1' }]);
    return id;
  }

  private async updatePost(tx: Db, item: WxrItem, mapping: Mapping, wanted: PostWanted, date: Date, modified: Date): Promise<void> {
    const id = mapping.localId;
    const current = (await articlesRepo.findArticleById(tx, id))!;
    const title = wanted.title || '(untitled)';
    const published = wanted.status === 'published';
    const values: articlesRepo.ArticleInsert = {
      slug: current.slug,
      title,
      ...(await this.body(tx, item, wanted)),
      ...(current.featureImage ? {} : { featureImageId: this.featureImageId(item) }),
      status: wanted.status,
      publishAt: wanted.status === 'scheduled' ? date : null,
      publishedAt: published ? date : current.publishedAt,
      firstPublishedAt: current.firstPublishedAt ?? (published ? date : null),
      authorId: await this.authorId(tx, item.creator),
      commentsOpen: item.commentStatus === 'open',
      pingsOpen: item.pingStatus === 'open',
    };
    const given = decodeSlug(item.postName);
    if (given && given !== current.slug && isSlug(given) && !(await articlesRepo.slugInUse(tx, given, id))) {
      values.slug = given;
      await articlesRepo.renameSlug(tx, id, current.slug, given);
    }
    await articlesRepo.updateArticle(tx, id, values);
    if (modified) await tx.execute(sql`update articles set updated_at = ${modified.toISOString()}::timestamptz where id = ${id}`);
    await articlesRepo.setArticleTags(tx, id, await this.tagIds(tx, wanted.terms));
    if (wanted.status === 'scheduled') await enqueuePublish(tx, id, date);
    await saveMappings(tx, this.site, 'post', [{ wpId: item.postId, localId: id, digest: digest(wanted), stamp: String(current.version + 1) }]);
  }

  /** The post's old permalink path, `/?p=<id>`, and its earlier slugs (as paths and as slugs). */
  private async redirects(tx: Db, articleId: number, item: WxrItem, label: string): Promise<void> {
    const keys = new Set<string>();
    const add = (path: string | null) => path && path !== '/' && keys.add(path);
    add(redirectKey(`/?p=${item.postId}`));
    let linkPath: string | null = null;
    try {
      const link = new URL(item.link);
      linkPath = link.pathname;
      if (link.search && !/^\?p=\d+$/.test(link.search)) linkPath = null; // ?page_id=…, ?attachment_id=…
      add(redirectKey(link.pathname + link.search));
    } catch {
      /* no link: only ?p= */
    }
    const name = decodeSlug(item.postName);
    for (const raw of item.oldSlugs) {
      const old = decodeSlug(raw);
      if (!old || old === name) continue;
      // the old permalink: the link with its last segment (the slug) replaced
      if (linkPath && name) {
        const segments = trimEndWhere(linkPath, is('/')).split('/');
        if (decodeSlug(segments[segments.length - 1]) === name) {
          segments[segments.length - 1] = encodeURIComponent(old);
          add(redirectKey(segments.join('/') + '/'));
        }
      }
      if (isSlug(old) && (await articlesRepo.addSlugRedirect(tx, articleId, old))) this.report.count('redirects', 'imported');
    }
    const list = [...keys];
    const elsewhere = new Set(await redirectsElsewhere(tx, articleId, list));
    for (const path of elsewhere) {
      this.report.note(item.line, `${label}: the old address ${path} already leads to another article; kept as it is`, 'redirect');
      this.report.skip('redirects', 'the address leads to another article already');
    }
    const mine = list.filter((k) => !elsewhere.has(k));
    const added = await addRedirects(tx, articleId, this.origin, mine);
    for (let i = 0; i < added; i++) this.report.count('redirects', 'imported');
    for (let i = added; i < mine.length; i++) this.report.count('redirects', 'unchanged');
  }

  /** The post's comments, pingbacks and trackbacks: parents before their replies, one insert per thread level. */
  private async comments(tx: Db, articleId: number, item: WxrItem): Promise<void> {
    if (!item.comments.length) return;
    const byId = new Map(item.comments.map((c) => [c.id, c]));
    const mappings = await findMappings(tx, this.site, 'comment', [...byId.keys()].filter(Boolean));
    /** WordPress comment id → local response id and depth */
    const local = new Map<number, { id: number; depth: number }>();
    for (const [wpId, m] of mappings) if (m.current !== null) local.set(wpId, { id: m.localId, depth: 0 });

    // depth first: a reply must find its parent inserted
    const depthOf = new Map<number, number>();
    const depth = (c: WxrComment, seen = new Set<number>()): number => {
      const known = depthOf.get(c.id);
      if (known !== undefined) return known;
      const parent = c.parent ? byId.get(c.parent) : undefined;
      const d = parent && kindOf(parent) === 'comments' && !seen.has(c.id) ? depth(parent, seen.add(c.id)) + 1 : 0;
      depthOf.set(c.id, d);
      return d;
    };
    const ordered = [...item.comments].sort((a, b) => depth(a) - depth(b) || a.id - b.id);

    const saved: { wpId: number; localId: number; digest: string; stamp: string }[] = [];
    let level: { c: WxrComment; values: ReturnType<Importer['commentValues']>; digest: string }[] = [];
    let levelDepth = 0;
    const flush = async () => {
      if (!level.length) return;
      const rows = await tx
        .insert(responses)
        .values(level.map((l) => l.values))
        .returning({ id: responses.id, depth: responses.depth });
      rows.forEach((r, i) => {
        local.set(level[i].c.id, { id: r.id, depth: r.depth });
        saved.push({ wpId: level[i].c.id, localId: r.id, digest: level[i].digest, stamp: String(level[i].values.updatedAt.getTime()) });
      });
      for (let n = 0; n < level.length; n++) this.report.count('comments', 'imported');
      level = [];
    };

    for (const c of ordered) {
      const kind = kindOf(c);
      if (!kind) {
        this.report.skip('comments', `type "${c.type}"`);
        continue;
      }
      const status = COMMENT_STATUS[c.approved];
      if (!status) {
        this.report.skip(kind, `status "${c.approved}"`);
        continue;
      }
      if (!c.id) {
        this.report.skip(kind, 'no wp:comment_id');
        continue;
      }
      const d = depth(c);
      if (kind === 'comments' && d !== levelDepth) {
        await flush();
        levelDepth = d;
      }
      const mapping = mappings.get(c.id);
      const parentWp = c.parent && kind === 'comments' ? c.parent : 0;
      const parent = parentWp ? local.get(parentWp) : undefined;
      if (parentWp && !byId.has(parentWp)) {
        this.report.note(item.line, `comment ${c.id} on post ${item.postId}: its parent ${parentWp} is not in the export (spam is never exported); imported at the top level`, 'parent');
      }
      const values = this.commentValues(articleId, c, status, kind, parent, item.link);
      const commentDigest = digest({ ...values, parentWp, updatedAt: undefined, depth: undefined, parentId: undefined });
      if (mapping && mapping.current !== null) {
        if (mapping.digest === commentDigest) this.report.count(kind, 'unchanged');
        else if (mapping.current !== mapping.stamp) this.report.skip(kind, 'moderated or edited in Inkwell since the last import (left as it is)');
        else {
          await tx.update(responses).set(values).where(eq(responses.id, mapping.localId));
          saved.push({ wpId: c.id, localId: mapping.localId, digest: commentDigest, stamp: String(values.updatedAt.getTime()) });
          this.report.count(kind, 'updated');
        }
        continue;
      }
      if (kind === 'pingbacks') {
        if (!values.sourceUrl) {
          this.report.skip('pingbacks', 'no http(s) source URL');
          continue;
        }
        // one mention per source page per article: a second one from the same page is the same mention
        const [row] = await tx
          .insert(responses)
          .values(values)
          .onConflictDoNothing({ target: [responses.articleId, responses.sourceUrl], where: sql`${responses.sourceUrl} IS NOT NULL` })
          .returning({ id: responses.id });
        if (!row) {
          this.report.skip('pingbacks', 'the same source already has a response on this post');
          continue;
        }
        local.set(c.id, { id: row.id, depth: 0 });
        saved.push({ wpId: c.id, localId: row.id, digest: commentDigest, stamp: String(values.updatedAt.getTime()) });
        this.report.count('pingbacks', 'imported');
        continue;
      }
      level.push({ c, values, digest: commentDigest });
    }
    await flush();
    await saveMappings(tx, this.site, 'comment', saved);
  }

  private commentValues(articleId: number, c: WxrComment, status: ResponseStatus, kind: 'comments' | 'pingbacks', parent: { id: number; depth: number } | undefined, link: string) {
    const createdAt = this.clock.date(c.dateGmt, c.date) ?? new Date();
    const url = c.authorUrl ? safeHttpUrl(c.authorUrl) : null;
    const email = c.authorEmail.trim().toLowerCase() || null;
    return {
      articleId,
      type: kind === 'comments' ? ('comment' as const) : ('pingback' as const),
      status,
      parentId: parent?.id ?? null,
      depth: parent ? parent.depth + 1 : 0,
      authorName: plainText(c.author).slice(0, 500) || (kind === 'pingbacks' ? (url ?? 'Pingback') : 'Anonymous'),
      authorEmail: kind === 'comments' ? email : null,
      authorUrl: url,
      html: commentToSafeHtml(c.content),
      sourceUrl: kind === 'pingbacks' ? url : null,
      targetUrl: kind === 'pingbacks' ? safeHttpUrl(link) : null,
      createdAt,
      // the stamp: a change here (moderation) makes it differ
      updatedAt: createdAt,
    };
  }
}

type PostWanted = { title: string; content: string; excerpt: string; status: ArticleStatus; terms: string[] };

function kindOf(c: WxrComment): 'comments' | 'pingbacks' | null {
  if (c.type === '' || c.type === 'comment') return 'comments';
  if (c.type === 'pingback' || c.type === 'trackback') return 'pingbacks';
  return null;
}

export { WxrError };
