// `--media`: the images imported posts show (`<img>` src and srcset, the featured image),
// fetched through the outbound guard (http(s) only, no private addresses unless
// OUTBOUND_ALLOW_PRIVATE, a deadline, a byte cap: MEDIA_MAX_BYTES), re-hosted through the
// media library as an upload is (type from the bytes, variants), and their addresses in
// the posts' HTML replaced by the library's. Keyed by the address they had: an image
// brought over once is never fetched again. A failure is one line of the report and leaves
// the original address; it never stops the import.
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/errors.ts';
import { parseExternalUrl } from '../../lib/external-url.ts';
import { decodeEntities } from '../../lib/html.ts';
import { OutboundError, type Outbound } from '../../lib/outbound.ts';
import type { MediaService } from '../../media/media.service.ts';
import { uploadFromBytes } from '../../media/upload.ts';
import type { ImportReport } from './report.ts';
import { findRehosted, saveRehosted } from './wordpress.repository.ts';

export interface MediaImportDeps {
  db: Db;
  media: MediaService;
  /** the outbound guard (the one linkbacks use, with the same OUTBOUND_ALLOW_PRIVATE) */
  outbound: Outbound;
  /** MEDIA_MAX_BYTES: an image larger than an upload may be is not fetched whole */
  maxBytes: number;
  /** per image, the whole exchange */
  timeoutMs: number;
  /** API_URL: images already in the library (`{apiUrl}/media/…`) are left alone */
  apiUrl: string;
}

/** An image a post refers to: its absolute address, the alt text it goes with, where. */
export interface ImageRef {
  url: string;
  alt: string;
  line: number;
  label: string;
}

type Outcome = { ok: true; url: string; id: number } | { ok: false };

/** Bodies read as images: image types, and the generic type servers send for any file (the bytes decide). */
const IMAGE_TYPES = ['image/*', 'application/octet-stream', 'binary/octet-stream'] as const;
const FETCHERS = 4;
const IMG = /<img\b[^<>]*>/g;
const SRC = /\ssrc="([^"]*)"/;
const SRCSET = /\ssrcset="([^"]*)"/;
const ALT = /\salt="([^"]*)"/;

const mb = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;

/** srcset's candidates: an address and its descriptor (`300w`, `2x`, or none). */
function candidates(srcset: string): { url: string; descriptor: string }[] {
  return srcset
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => {
      const [url, ...rest] = c.split(/\s+/);
      return { url, descriptor: rest.join(' ') };
    });
}

export class ImageRehoster {
  /** address → what became of it in this run (or an earlier one) */
  private readonly outcomes = new Map<string, Outcome>();
  /** addresses a dry run would fetch */
  private readonly pending = new Set<string>();

  constructor(
    private readonly deps: MediaImportDeps,
    /** the old site's address: relative image addresses are read against it */
    private readonly base: string,
    private readonly report: ImportReport,
  ) {}

  /** An attribute's address as an absolute http(s) URL, or null (data:, ours, unparseable). */
  private absolute(raw: string): string | null {
    const url = parseExternalUrl(decodeEntities(raw).trim(), this.base);
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null;
    if (url.href.startsWith(`${this.deps.apiUrl}/media/`)) return null;
    return url.href;
  }

  /** Every image address in (sanitised) HTML: each `<img>`'s src and srcset candidates. */
  refs(html: string, where: { line: number; label: string }): ImageRef[] {
    const out: ImageRef[] = [];
    for (const tag of html.match(IMG) ?? []) {
      const alt = decodeEntities(ALT.exec(tag)?.[1] ?? '');
      const src = SRC.exec(tag)?.[1];
      const urls = [src ?? '', ...candidates(SRCSET.exec(tag)?.[1] ?? '').map((c) => c.url)];
      for (const raw of urls) {
        const url = raw && this.absolute(raw);
        if (url) out.push({ url, alt, ...where });
      }
    }
    return out;
  }

  /** An attachment's address (a featured image), absolute, or null. */
  ref(raw: string, alt: string, where: { line: number; label: string }): ImageRef | null {
    const url = raw ? this.absolute(raw) : null;
    return url ? { url, alt, ...where } : null;
  }

  /**
   * Brings these images over: those re-hosted by an earlier import are found (counted
   * unchanged), the others fetched a few at a time, unless `fetch` is off (a dry run:
   * they are counted as to fetch). Each address once per run.
   */
  async bring(refs: ImageRef[], fetch: boolean): Promise<void> {
    const fresh = new Map<string, ImageRef>();
    for (const r of refs) if (!this.outcomes.has(r.url) && !fresh.has(r.url)) fresh.set(r.url, r);
    if (!fresh.size) return;
    const known = await findRehosted(this.deps.db, [...fresh.keys()]);
    for (const [url, m] of known) {
      this.outcomes.set(url, { ok: true, url: this.deps.media.url(m.hash, m.width, m.format), id: m.id });
      this.report.count('images', 'unchanged');
      fresh.delete(url);
    }
    if (!fetch) {
      for (const url of fresh.keys()) this.pending.add(url);
      return;
    }
    const queue = [...fresh.values()];
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) this.outcomes.set(r.url, await this.fetchOne(r));
    };
    await Promise.all(Array.from({ length: Math.min(FETCHERS, queue.length) }, worker));
  }

  get toFetch(): number {
    return this.pending.size;
  }

  private async fetchOne(r: ImageRef): Promise<Outcome> {
    const fail = (short: string, why: string): Outcome => {
      this.report.skip('images', short);
      this.report.note(r.line, `${r.label}: image ${r.url}: ${why}; the original address is kept`, 'media');
      return { ok: false };
    };
    const { maxBytes, timeoutMs } = this.deps;
    let res;
    try {
      res = await this.deps.outbound.fetch(r.url, { accept: IMAGE_TYPES, binary: true, maxBytes, timeoutMs, headers: { accept: 'image/avif,image/webp,image/*;q=0.8,*/*;q=0.1' } });
    } catch (e) {
      if (!(e instanceof OutboundError)) throw e;
      const short = { timeout: 'timed out', 'forbidden-address': 'address not allowed', 'invalid-url': 'invalid address', 'too-many-redirects': 'too many redirects' }[e.code as string] ?? 'network error';
      return fail(short, `${short} (${e.message})`);
    }
    if (res.status !== 200) return fail(`HTTP ${res.status}`, `the server answered HTTP ${res.status}`);
    if (!res.bodyRead || !res.bytes) return fail('not an image', `the server sent ${res.contentType || 'no content type'}, not an image`);
    if (res.truncated) return fail('too large', `larger than ${mb(maxBytes)} (MEDIA_MAX_BYTES)`);
    const upload = await uploadFromBytes(res.bytes, r.alt);
    try {
      const { media } = await this.deps.media.create(upload);
      await saveRehosted(this.deps.db, r.url, media.id);
      this.report.count('images', 'imported');
      return { ok: true, url: media.url, id: media.id };
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      return fail(e.status === 415 ? 'not an image' : e.status === 413 ? 'too large' : 'not usable', e.message);
    } finally {
      await upload.dispose();
    }
  }

  /** The library image an address became, or null. */
  hosted(url: string | null): { url: string; id: number } | null {
    const o = url ? this.outcomes.get(url) : undefined;
    return o?.ok ? o : null;
  }

  /** The HTML with every re-hosted image address (src, srcset) replaced by the library's. */
  rewrite(html: string): string {
    if (!this.outcomes.size) return html;
    const swap = (raw: string) => this.hosted(this.absolute(raw))?.url ?? raw;
    return html.replace(IMG, (tag) =>
      tag
        .replace(SRC, (_m, v: string) => ` src="${swap(v)}"`)
        .replace(SRCSET, (_m, v: string) => ` srcset="${candidates(v).map((c) => [swap(c.url), c.descriptor].filter(Boolean).join(' ')).join(', ')}"`),
    );
  }
}
