// Frontend permalinks: SITE_URL + PERMALINK, both ways.
import type { Config } from '../config.ts';

export interface PermalinkParts {
  id: number;
  slug: string;
  publishedAt: Date | null;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The public URL of an article on the frontend. Dates are UTC. */
export function permalinkFor(config: Pick<Config, 'siteUrl' | 'permalink'>, a: PermalinkParts): string {
  const d = a.publishedAt ?? new Date();
  const path = config.permalink
    .replaceAll('{slug}', encodeURIComponent(a.slug))
    .replaceAll('{id}', String(a.id))
    .replaceAll('{yyyy}', String(d.getUTCFullYear()))
    .replaceAll('{mm}', pad(d.getUTCMonth() + 1))
    .replaceAll('{dd}', pad(d.getUTCDate()));
  return config.siteUrl + path;
}

export interface ParsedPermalink {
  slug?: string;
  id?: number;
  /** date parts, when the pattern has them: callers should check they match the article */
  yyyy?: string;
  mm?: string;
  dd?: string;
}

/**
 * Reads a URL back into the parts of the PERMALINK pattern, or null when it is not
 * one of our permalinks (other host, other path). Query and fragment are ignored;
 * a missing trailing slash is tolerated, as WordPress does.
 */
export function parsePermalink(config: Pick<Config, 'siteUrl' | 'permalink'>, url: string): ParsedPermalink | null {
  let u: URL;
  let site: URL;
  try {
    u = new URL(url);
    site = new URL(config.siteUrl);
  } catch {
    return null;
  }
  if (u.protocol !== site.protocol || u.host.toLowerCase() !== site.host.toLowerCase()) return null;
  const base = site.pathname.replace(/\/$/, '');
  if (!u.pathname.startsWith(base + '/')) return null;
  const path = u.pathname.slice(base.length);
  const names: string[] = [];
  const pattern = config.permalink
    .split(/(\{(?:slug|id|yyyy|mm|dd)\})/)
    .map((part) => {
      const m = /^\{(slug|id|yyyy|mm|dd)\}$/.exec(part);
      if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      return m[1] === 'slug' ? '([^/]+)' : m[1] === 'id' ? '(\\d+)' : m[1] === 'yyyy' ? '(\\d{4})' : '(\\d{2})';
    })
    .join('')
    .replace(/\/$/, '/?');
  const m = new RegExp(`^${pattern}$`).exec(path);
  if (!m) return null;
  const out: ParsedPermalink = {};
  names.forEach((name, i) => {
    const v = m[i + 1];
    if (name === 'id') out.id = Number(v);
    else if (name === 'slug') {
      try {
        out.slug = decodeURIComponent(v);
      } catch {
        out.slug = v;
      }
    } else out[name as 'yyyy' | 'mm' | 'dd'] = v;
  });
  return out;
}
