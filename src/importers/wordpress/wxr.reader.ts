// Reading a WordPress export (WXR 1.0–1.2) as a stream: bytes → UTF-8 (refused when
// invalid) → the known slips repaired (a raw `&` WordPress wrote into an element) →
// saxes, a streaming XML parser → one event per author and per item, each item with its
// comments. Nothing holds more than the item being read, so a 200 MB export reads in
// flat memory. A DOCTYPE (and with it any entity declaration: the "billion laughs") is
// refused, as the XML-RPC endpoint refuses it; saxes would not expand entities anyway.
import { SaxesParser, type SaxesTagPlain } from 'saxes';

export interface WxrChannel {
  title: string;
  link: string;
  wxrVersion: string;
  baseSiteUrl: string;
  baseBlogUrl: string;
}

export interface WxrAuthor {
  login: string;
  displayName: string;
}

export interface WxrComment {
  id: number;
  author: string;
  authorEmail: string;
  authorUrl: string;
  date: string;
  dateGmt: string;
  content: string;
  /** `1`, `0`, `spam`, `trash`, `post-trashed` */
  approved: string;
  /** `comment` (or empty), `pingback`, `trackback`, others from plugins */
  type: string;
  parent: number;
}

export interface WxrItem {
  /** the line the item starts on, for reports */
  line: number;
  title: string;
  link: string;
  creator: string;
  content: string;
  excerpt: string;
  postId: number;
  postDate: string;
  postDateGmt: string;
  postModifiedGmt: string;
  commentStatus: string;
  pingStatus: string;
  postName: string;
  status: string;
  postType: string;
  password: string;
  terms: { domain: string; nicename: string; name: string }[];
  /** the post meta an import uses (`_wp_old_slug`) */
  oldSlugs: string[];
  /** a post's featured image: the attachment's id (`_thumbnail_id`), 0 for none */
  thumbnailId: number;
  /** an attachment's file (`wp:attachment_url`) and alt text (`_wp_attachment_image_alt`) */
  attachmentUrl: string;
  imageAlt: string;
  comments: WxrComment[];
}

export type WxrEvent = { kind: 'channel'; channel: WxrChannel } | { kind: 'author'; author: WxrAuthor } | { kind: 'item'; item: WxrItem };

/** What was repaired on the way, for the report. */
export interface WxrRepair {
  line: number;
  what: string;
}

/** The file cannot be read as a WordPress export: where and why. */
export class WxrError extends Error {
  constructor(
    readonly reason: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${reason}` : reason);
    this.name = 'WxrError';
  }
}

const SUPPORTED_VERSIONS = /^1\.[0-2]$/;
/** One element's text beyond this is not a blog post: stop instead of growing without bound. */
const MAX_TEXT = 64 * 1024 * 1024;

/**
 * Repairs, in a stream of XML text, what WordPress's exporter is known to get wrong: a
 * raw `&` outside CDATA (older versions wrote `comment_author_url` unescaped). Every `&`
 * that does not start one of XML's own references becomes `&amp;`. CDATA sections and
 * comments are passed through as they are. Chunk boundaries are handled by holding back
 * the few characters that cannot be decided yet.
 */
export class SlipRepair {
  private state: 'text' | 'cdata' | 'comment' = 'text';
  private held = '';
  private line = 1;
  readonly repairs: WxrRepair[] = [];
  repaired = 0;

  push(chunk: string, last = false): string {
    const s = this.held + chunk;
    this.held = '';
    let out = '';
    let from = 0; // start of what is not copied to `out` yet
    let i = 0;
    let counted = 0; // newlines are counted up to here
    const lineAt = (pos: number) => {
      for (let k = s.indexOf('\n', counted); k !== -1 && k < pos; k = s.indexOf('\n', k + 1)) this.line++;
      counted = pos;
      return this.line;
    };
    while (i < s.length) {
      if (this.state === 'cdata' || this.state === 'comment') {
        const end = s.indexOf(this.state === 'cdata' ? ']]>' : '-->', i);
        if (end === -1) {
          i = Math.max(i, s.length - 2);
          break;
        }
        i = end + 3;
        this.state = 'text';
        continue;
      }
      const amp = s.indexOf('&', i);
      const lt = s.indexOf('<', i);
      const next = amp === -1 ? lt : lt === -1 ? amp : Math.min(amp, lt);
      if (next === -1) {
        i = s.length;
        break;
      }
      i = next;
      if (s[i] === '<') {
        if (s.startsWith('<![CDATA[', i)) {
          this.state = 'cdata';
          i += 9;
        } else if (s.startsWith('<!--', i)) {
          this.state = 'comment';
          i += 4;
        } else if (!last && s.length - i < 9 && ('<![CDATA['.startsWith(s.slice(i)) || '<!--'.startsWith(s.slice(i)))) {
          break; // undecided: hold it back
        } else i++;
        continue;
      }
      REFERENCE.lastIndex = i;
      if (REFERENCE.test(s)) {
        i = REFERENCE.lastIndex;
        continue;
      }
      if (!last && s.length - i < 12) break; // maybe a reference cut by the chunk boundary
      out += s.slice(from, i) + '&amp;';
      from = i + 1;
      this.repaired++;
      this.repairs.push({ line: lineAt(i), what: 'a raw "&" escaped as "&amp;"' });
      i++;
    }
    const keep = last ? s.length : i;
    out += s.slice(from, keep);
    this.held = s.slice(keep);
    lineAt(keep);
    return out;
  }
}

const REFERENCE = /&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos);/y;

const int = (s: string) => {
  const n = Number(s.trim());
  return Number.isSafeInteger(n) ? n : 0;
};

function newItem(line: number): WxrItem {
  return {
    line,
    title: '',
    link: '',
    creator: '',
    content: '',
    excerpt: '',
    postId: 0,
    postDate: '',
    postDateGmt: '',
    postModifiedGmt: '',
    commentStatus: '',
    pingStatus: '',
    postName: '',
    status: '',
    postType: '',
    password: '',
    terms: [],
    oldSlugs: [],
    thumbnailId: 0,
    attachmentUrl: '',
    imageAlt: '',
    comments: [],
  };
}

function newComment(): WxrComment {
  return { id: 0, author: '', authorEmail: '', authorUrl: '', date: '', dateGmt: '', content: '', approved: '', type: '', parent: 0 };
}

const ITEM_FIELDS: Record<string, (item: WxrItem, text: string) => void> = {
  title: (it, t) => (it.title = t),
  link: (it, t) => (it.link = t.trim()),
  'dc:creator': (it, t) => (it.creator = t.trim()),
  'content:encoded': (it, t) => (it.content = t),
  'excerpt:encoded': (it, t) => (it.excerpt = t),
  'wp:post_id': (it, t) => (it.postId = int(t)),
  'wp:post_date': (it, t) => (it.postDate = t.trim()),
  'wp:post_date_gmt': (it, t) => (it.postDateGmt = t.trim()),
  'wp:post_modified_gmt': (it, t) => (it.postModifiedGmt = t.trim()),
  'wp:comment_status': (it, t) => (it.commentStatus = t.trim()),
  'wp:ping_status': (it, t) => (it.pingStatus = t.trim()),
  'wp:post_name': (it, t) => (it.postName = t.trim()),
  'wp:status': (it, t) => (it.status = t.trim()),
  'wp:post_type': (it, t) => (it.postType = t.trim()),
  'wp:post_password': (it, t) => (it.password = t),
  'wp:attachment_url': (it, t) => (it.attachmentUrl = t.trim()),
};

const META_FIELDS: Record<string, (item: WxrItem, value: string) => void> = {
  _wp_old_slug: (it, v) => v && it.oldSlugs.push(v),
  _thumbnail_id: (it, v) => (it.thumbnailId = int(v)),
  _wp_attachment_image_alt: (it, v) => (it.imageAlt = v),
};

const COMMENT_FIELDS: Record<string, (c: WxrComment, text: string) => void> = {
  'wp:comment_id': (c, t) => (c.id = int(t)),
  'wp:comment_author': (c, t) => (c.author = t),
  'wp:comment_author_email': (c, t) => (c.authorEmail = t.trim()),
  'wp:comment_author_url': (c, t) => (c.authorUrl = t.trim()),
  'wp:comment_date': (c, t) => (c.date = t.trim()),
  'wp:comment_date_gmt': (c, t) => (c.dateGmt = t.trim()),
  'wp:comment_content': (c, t) => (c.content = t),
  'wp:comment_approved': (c, t) => (c.approved = t.trim()),
  'wp:comment_type': (c, t) => (c.type = t.trim()),
  'wp:comment_parent': (c, t) => (c.parent = int(t)),
};

const CHANNEL_FIELDS: Record<string, (c: WxrChannel, text: string) => void> = {
  title: (c, t) => (c.title = t.trim()),
  link: (c, t) => (c.link = t.trim()),
  'wp:wxr_version': (c, t) => (c.wxrVersion = t.trim()),
  'wp:base_site_url': (c, t) => (c.baseSiteUrl = t.trim()),
  'wp:base_blog_url': (c, t) => (c.baseBlogUrl = t.trim()),
};

/**
 * Reads a WXR file's bytes and yields its channel (once, before the first item), its
 * authors and its items. Throws a WxrError (with the line) when the file is not UTF-8,
 * not well-formed XML even after the known repairs, truncated, or not a WordPress export.
 */
export async function* readWxr(bytes: AsyncIterable<Uint8Array>, opts: { onRepair?: (r: WxrRepair) => void } = {}): AsyncGenerator<WxrEvent> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const slips = new SlipRepair();
  const parser = new SaxesParser({ xmlns: false, position: true });
  const out: WxrEvent[] = [];

  const stack: string[] = [];
  let text: string[] = [];
  let textSize = 0;
  const channel: WxrChannel = { title: '', link: '', wxrVersion: '', baseSiteUrl: '', baseBlogUrl: '' };
  let channelSent = false;
  let item: WxrItem | null = null;
  let comment: WxrComment | null = null;
  let author: WxrAuthor | null = null;
  let term: { domain: string; nicename: string } | null = null;
  let metaKey = '';
  let sawRoot = false;

  const fail = (reason: string): never => {
    throw new WxrError(reason, parser.line);
  };
  const sendChannel = () => {
    if (channelSent) return;
    if (!channel.wxrVersion) fail('not a WordPress export (WXR): no <wp:wxr_version> in the channel before the first item');
    if (!SUPPORTED_VERSIONS.test(channel.wxrVersion)) fail(`WXR version ${channel.wxrVersion} is not supported (1.0 to 1.2 are)`);
    channelSent = true;
    out.push({ kind: 'channel', channel: { ...channel } });
  };

  parser.on('error', (e) => {
    throw new WxrError(e.message.replace(/^[^:\d]*:?\d+:\d+: /, ''), parser.line);
  });
  parser.on('doctype', () => fail('a DOCTYPE is not accepted in a WordPress export (entity declarations could expand without bound)'));
  parser.on('xmldecl', (d) => {
    if (d.encoding && !/^utf-?8$/i.test(d.encoding)) fail(`the file declares encoding ${d.encoding}; WordPress exports are UTF-8`);
  });
  const addText = (t: string) => {
    textSize += t.length;
    if (textSize > MAX_TEXT) fail(`an element holds more than ${MAX_TEXT / 1024 / 1024} MB of text`);
    text.push(t);
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('opentag', (tag: SaxesTagPlain) => {
    const name = tag.name;
    if (!sawRoot) {
      sawRoot = true;
      if (name !== 'rss') fail(`not a WordPress export (WXR): the document is <${name}>, not <rss>`);
    }
    stack.push(name);
    text = [];
    textSize = 0;
    const parent = stack[stack.length - 2];
    if (name === 'item' && parent === 'channel') {
      sendChannel();
      item = newItem(parser.line);
    } else if (name === 'wp:author' && parent === 'channel') author = { login: '', displayName: '' };
    else if (name === 'wp:comment' && item) comment = newComment();
    else if (name === 'category' && item && parent === 'item') {
      const attr = (k: string) => (typeof tag.attributes[k] === 'string' ? (tag.attributes[k] as string) : '');
      term = { domain: attr('domain'), nicename: attr('nicename') };
    } else if (name === 'wp:postmeta') metaKey = '';
  });
  parser.on('closetag', (tag: SaxesTagPlain) => {
    const name = tag.name;
    stack.pop();
    const parent = stack[stack.length - 1];
    const value = text.length === 1 ? text[0] : text.join('');
    text = [];
    textSize = 0;
    if (comment) {
      if (name === 'wp:comment') {
        item!.comments.push(comment);
        comment = null;
      } else if (parent === 'wp:comment') COMMENT_FIELDS[name]?.(comment, value);
    } else if (item) {
      if (name === 'item') {
        out.push({ kind: 'item', item });
        item = null;
      } else if (parent === 'item') {
        if (name === 'category' && term) {
          item.terms.push({ ...term, name: value.trim() });
          term = null;
        } else ITEM_FIELDS[name]?.(item, value);
      } else if (parent === 'wp:postmeta') {
        if (name === 'wp:meta_key') metaKey = value.trim();
        else if (name === 'wp:meta_value' && Object.hasOwn(META_FIELDS, metaKey)) META_FIELDS[metaKey](item, value.trim());
      }
    } else if (author) {
      if (name === 'wp:author') {
        if (author.login) out.push({ kind: 'author', author });
        author = null;
      } else if (name === 'wp:author_login') author.login = value.trim();
      else if (name === 'wp:author_display_name') author.displayName = value.trim();
    } else if (parent === 'channel') CHANNEL_FIELDS[name]?.(channel, value);
    else if (name === 'channel') sendChannel();
  });

  const feed = (s: string) => {
    if (s) parser.write(s);
  };
  let line = 1;
  for await (const chunk of bytes) {
    let s: string;
    try {
      s = decoder.decode(chunk, { stream: true });
    } catch {
      // where: the first replacement character a lenient decoder puts in this chunk
      const lenient = new TextDecoder('utf-8').decode(chunk);
      const at = lenient.indexOf('\uFFFD');
      throw new WxrError('invalid UTF-8 (WordPress exports are UTF-8)', parser.line + (at > 0 ? (lenient.slice(0, at).match(/\n/g)?.length ?? 0) : 0));
    }
    feed(slips.push(s));
    line = parser.line;
    while (out.length) {
      for (const r of drainRepairs(slips)) opts.onRepair?.(r);
      yield out.shift()!;
    }
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw new WxrError('invalid UTF-8 at the end of the file (truncated in the middle of a character?)', line);
  }
  feed(slips.push(rest, true));
  if (stack.length) throw new WxrError(`the file ends inside <${stack[stack.length - 1]}> (truncated?)`, parser.line);
  if (!sawRoot) throw new WxrError('the file is empty: not a WordPress export');
  parser.close();
  if (!channelSent) sendChannel();
  for (const r of drainRepairs(slips)) opts.onRepair?.(r);
  while (out.length) yield out.shift()!;
}

function drainRepairs(slips: SlipRepair): WxrRepair[] {
  return slips.repairs.splice(0);
}
