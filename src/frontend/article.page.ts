// The article page: the article, its conversation (comments threaded, pingbacks and
// webmentions alongside, oldest first, as WordPress shows them) and a reply form that
// is a plain HTML form: it works without JavaScript and survives validation errors.
import type { Article, FieldError, Network, Response, Site } from './api.ts';
import { html, safeUrl, trusted, type Markup } from './html.ts';
import { featureImageMarkup, layout, time, type Paths } from './layout.ts';
import { responsesCount, tagLinks } from './list.page.ts';

/** The reply form's fields, as the comments API names them. */
export const FORM_FIELDS = ['authorName', 'authorEmail', 'authorUrl', 'body', 'parentId'] as const;
export type FormValues = Partial<Record<(typeof FORM_FIELDS)[number], string>>;

export interface FormState {
  values?: FormValues;
  /** field errors from the API (`/body/<field>` pointers) */
  errors?: FieldError[];
  /** why the comment was refused as a whole (closed, duplicate, too fast…) */
  problem?: string;
  /** after Post/Redirect/Get: the comment awaits moderation, or was published with this id */
  posted?: { pending: true } | { id: number };
  /** ?replytocom=: the comment being answered */
  replyTo?: Response;
  /** the comment to answer is gone (removed, or never public): the form posts a new thread */
  replyGone?: boolean;
}

export interface ArticlePage {
  site: Site;
  paths: Paths;
  article: Article;
  responses: Response[];
  form: FormState;
  /** a draft preview: a banner, no conversation, no reply form, not indexed */
  preview?: boolean;
}

interface Node {
  r: Response;
  children: Node[];
}

/** Builds the reply tree. A reply whose parent is not shown (held, deleted) stands at the top level. */
function thread(responses: Response[]): Node[] {
  const nodes = new Map(responses.map((r) => [r.id, { r, children: [] as Node[] }]));
  const roots: Node[] = [];
  for (const node of nodes.values()) {
    const parent = node.r.parentId !== null ? nodes.get(node.r.parentId) : undefined;
    (parent && parent !== node ? parent.children : roots).push(node);
  }
  return roots;
}

export function responsesHeading(n: number, title: string): string {
  const count = n === 0 ? 'No Responses' : n === 1 ? 'One Response' : `${n} Responses`;
  return `${count} to “${title}”`;
}

const TYPE_LABEL = { comment: '', pingback: 'Pingback:', webmention: 'Webmention:', social: '' } as const;

const NETWORK_NAME: Record<Network, string> = { mastodon: 'Mastodon', bluesky: 'Bluesky', x: 'X', web: 'the web' };

/** Reactions without words (likes, reposts, bookmarks) go in a facepile; replies and mentions in the thread. */
const isReaction = (r: Response) => r.type === 'social' && (r.kind === 'like' || r.kind === 'repost' || r.kind === 'bookmark');

function socialLabel(r: Response): string {
  const on = r.network && r.network !== 'web' ? ` on ${NETWORK_NAME[r.network]}` : '';
  return r.kind === 'reply' ? `Reply${on}:` : `Mention${on}:`;
}

/**
 * "Mentioned on Bluesky by Ana, Ben and 3 others": one line per network, naming the
 * first two people who reacted there in any way — the seed blog's "This post was mentioned
 * on Twitter by CareerSpace, RecruitersWorld".
 */
export function networkSummaries(responses: Response[]): string[] {
  const byNetwork = new Map<Network, string[]>();
  for (const r of responses) {
    if (r.type !== 'social' || !r.network) continue;
    const names = byNetwork.get(r.network) ?? [];
    const name = r.author?.name ?? r.authorName;
    if (!names.includes(name)) names.push(name);
    byNetwork.set(r.network, names);
  }
  return [...byNetwork].map(([network, names]) => {
    const shown = names.slice(0, names.length === 3 ? 3 : 2);
    const others = names.length - shown.length;
    const who = others > 0 ? `${shown.join(', ')} and ${others === 1 ? '1 other' : `${others} others`}` : shown.length > 1 ? `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}` : shown[0];
    return `Mentioned on ${NETWORK_NAME[network]} by ${who}`;
  });
}

/**
 * Faces of who liked or reposted. Their pictures live on strangers' hosts, with no size
 * cap: the reference frontend does not hot-link them; each face is the person's initial,
 * linked to their profile.
 */
function facepile(title: string, people: Response[]): Markup {
  if (!people.length) return html``;
  return html`<div class="facepile"><h3>${title} <span class="count">${people.length}</span></h3><ul>${people.map((r) => {
    const name = r.author?.name ?? r.authorName;
    const href = safeUrl(r.author?.url ?? r.url ?? null);
    const face = html`<span class="face" aria-hidden="true">${[...name][0]?.toUpperCase() ?? '?'}</span><span class="visually-hidden">${name}</span>`;
    return html`<li class="h-card" title="${name}${r.network && r.network !== 'web' ? ` on ${NETWORK_NAME[r.network]}` : ''}">${href ? html`<a class="u-url" href="${href}" rel="external nofollow ugc">${face}</a>` : face}</li>`;
  })}</ul></div>`;
}

function responseItem(node: Node, article: Article): Markup {
  const { r } = node;
  const href = safeUrl(r.authorUrl);
  // links left by strangers must not pass reputation (ugc) nor the referrer's context
  const name = href ? html`<a class="url" href="${href}" rel="external nofollow ugc">${r.authorName}</a>` : html`${r.authorName}`;
  const avatar = safeUrl(r.avatarUrl);
  const canReply = article.commentsOpen && r.type === 'comment';
  const label = r.type === 'social' ? socialLabel(r) : TYPE_LABEL[r.type];
  const original = r.type === 'social' ? safeUrl(r.url ?? null) : null;
  return html`<li id="comment-${r.id}" class="response ${r.type}">
<article aria-labelledby="comment-${r.id}-by">
  <header>
    ${avatar ? html`<img class="avatar" src="${avatar}" alt="" width="40" height="40" loading="lazy">` : ''}
    <p class="response-author" id="comment-${r.id}-by">${label ? html`<span class="response-type">${label}</span> ` : ''}${name}${r.type === 'comment' ? html` <span class="says">says:</span>` : ''}</p>
    <p class="meta"><a href="#comment-${r.id}">${time(r.createdAt)}</a>${original ? html` · <a href="${original}" rel="external nofollow ugc">original</a>` : ''}</p>
  </header>
  <div class="response-body">${trusted(r.html)}</div>
  ${canReply ? html`<p class="reply"><a href="?replytocom=${r.id}#respond" aria-label="Reply to ${r.authorName}">Reply</a></p>` : ''}
</article>
${node.children.length ? html`<ol class="children">${node.children.map((c) => responseItem(c, article))}</ol>` : ''}
</li>`;
}

const LABELS: Record<(typeof FORM_FIELDS)[number], string> = {
  authorName: 'Name',
  authorEmail: 'Email',
  authorUrl: 'Website',
  body: 'Comment',
  parentId: 'Reply to',
};

/** the errors that belong beside a visible field */
const FIELD_POINTER = /^\/body\/(authorName|authorEmail|authorUrl|body)$/;

function replyForm(article: Article, paths: Paths, form: FormState): Markup {
  const values = form.values ?? {};
  // the first error of each field sits beside it; the summary above the form lists them all
  const errors = new Map<string, string>();
  for (const e of form.errors ?? []) {
    const field = FIELD_POINTER.exec(e.pointer)?.[1];
    if (field && !errors.has(field)) errors.set(field, e.message);
  }
  const parentId = form.replyTo ? String(form.replyTo.id) : values.parentId;

  const field = (name: 'authorName' | 'authorEmail' | 'authorUrl', type: string, autocomplete: string, required: boolean, hint?: string) => {
    const error = errors.get(name);
    const describedBy = [hint ? `f-${name}-hint` : '', error ? `f-${name}-error` : ''].filter(Boolean).join(' ');
    return html`<p class="field${error ? ' invalid' : ''}">
  <label for="f-${name}">${LABELS[name]}${required ? html` <span class="required" aria-hidden="true">*</span>` : ' (optional)'}</label>
  ${hint ? html`<span class="hint" id="f-${name}-hint">${hint}</span>` : ''}
  <input id="f-${name}" name="${name}" type="${type}" autocomplete="${autocomplete}"${required ? html` required` : ''} value="${values[name] ?? ''}"${error ? html` aria-invalid="true"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}>
  ${error ? html`<span class="field-error" id="f-${name}-error">${error}</span>` : ''}
</p>`;
  };
  const bodyError = errors.get('body');

  return html`<form class="reply-form" method="post" action="${paths.comment(article.slug)}">
  <p class="form-note">Your email address will not be published. Required fields are marked <span aria-hidden="true">*</span><span class="visually-hidden">as required</span>.</p>
  ${field('authorName', 'text', 'name', true)}
  ${field('authorEmail', 'email', 'email', true, 'Never shown; used to recognise you when you comment again.')}
  ${field('authorUrl', 'url', 'url', false)}
  <p class="field${bodyError ? ' invalid' : ''}">
    <label for="f-body">Comment <span class="required" aria-hidden="true">*</span></label>
    <span class="hint" id="f-body-hint">Plain text; links become clickable.</span>
    <textarea id="f-body" name="body" rows="7" required aria-describedby="f-body-hint${bodyError ? ' f-body-error' : ''}"${bodyError ? html` aria-invalid="true"` : ''}>${values.body ?? ''}</textarea>
    ${bodyError ? html`<span class="field-error" id="f-body-error">${bodyError}</span>` : ''}
  </p>
  <p class="hp" aria-hidden="true"><label for="f-website">Leave this field empty</label><input id="f-website" name="website" tabindex="-1" autocomplete="off"></p>
  ${parentId ? html`<input type="hidden" name="parentId" value="${parentId}">` : ''}
  <p><button type="submit">Post comment</button></p>
</form>`;
}

function formMessages(form: FormState): Markup {
  const fieldErrors = (form.errors ?? []).filter((e) => FIELD_POINTER.test(e.pointer));
  const otherErrors = (form.errors ?? []).filter((e) => !fieldErrors.includes(e));
  if (form.problem || form.errors?.length) {
    return html`<div class="error-summary" role="alert">
  <h3>Your comment was not posted</h3>
  ${form.problem ? html`<p>${form.problem}</p>` : ''}
  ${fieldErrors.length || otherErrors.length
    ? html`<ul>${fieldErrors.map((e) => {
        const name = e.pointer.slice('/body/'.length) as keyof typeof LABELS;
        return html`<li><a href="#f-${name}">${LABELS[name]}: ${e.message}</a></li>`;
      })}${otherErrors.map((e) => html`<li>${e.message}</li>`)}</ul>`
    : ''}
</div>`;
  }
  if (form.replyGone) {
    return html`<p class="notice" role="status">The comment you wanted to reply to is no longer here. Your comment will start a new thread.</p>`;
  }
  if (form.posted && 'pending' in form.posted) {
    return html`<p class="notice" role="status">Thank you! Your comment is awaiting moderation and will appear here once approved.</p>`;
  }
  if (form.posted) {
    return html`<p class="notice" role="status">Thank you! <a href="#comment-${form.posted.id}">Your comment</a> is published.</p>`;
  }
  return html``;
}

/** The networks' names, for "Also on Mastodon · Bluesky · X" (links a backfeed service reads: u-syndication, rel=syndication). */
const NETWORK_NAMES: Record<string, string> = { mastodon: 'Mastodon', bluesky: 'Bluesky', x: 'X' };

export function articlePage({ site, paths, article, responses, form, preview }: ArticlePage): string {
  const total = responsesCount(article);
  const conversation = responses.filter((r) => !isReaction(r));
  const summaries = networkSummaries(responses);
  const copies = (article.syndication ?? [])
    .map((s) => ({ name: NETWORK_NAMES[s.network] ?? s.network, href: safeUrl(s.url) }))
    .filter((s) => s.href);
  const banner = preview ? html`<p class="preview-banner" role="status"><strong>Preview</strong> · ${article.status} · not public${article.status === 'published' ? ' as shown here' : ''}; this link expires.</p>
` : '';
  const main = html`${banner}<article class="post h-entry" aria-labelledby="post-title">
  <header>
    <h1 id="post-title" class="p-name">${article.title}</h1>
    <p class="meta"><a class="u-url" href="${article.url}">${time(article.publishedAt)}</a>${article.author ? html` · by <span class="p-author">${article.author.name}</span>` : ''} · ${article.readingTimeMinutes} min read</p>
  </header>
  ${featureImageMarkup(article.featureImage, { lazy: false, className: 'feature-image' })}
  <div class="content e-content">
${trusted(article.html)}
  </div>
  <footer class="post-footer">
    ${article.tags.length ? html`<p class="tags">Tagged ${tagLinks(article, paths)}</p>` : ''}
    ${copies.length
      ? html`<p class="syndication">Also on ${copies.map((c, i) => html`${i ? ' · ' : ''}<a class="u-syndication" rel="syndication" href="${c.href}">${c.name}</a>`)}</p>`
      : ''}
  </footer>
</article>
${preview ? '' : html`<section id="responses" class="responses" aria-labelledby="responses-title">
  <h2 id="responses-title">${responsesHeading(total, article.title)}</h2>
  ${summaries.length ? html`<ul class="echo-summary">${summaries.map((line) => html`<li>${line}</li>`)}</ul>` : ''}
  ${facepile('Likes', responses.filter((r) => r.kind === 'like'))}
  ${facepile('Reposts', responses.filter((r) => r.kind === 'repost'))}
  ${facepile('Bookmarks', responses.filter((r) => r.kind === 'bookmark'))}
  ${conversation.length ? html`<ol class="response-list">${thread(conversation).map((n) => responseItem(n, article))}</ol>` : ''}
</section>
<section id="respond" class="respond" aria-labelledby="respond-title">
  <h2 id="respond-title">${form.replyTo ? `Reply to ${form.replyTo.authorName}` : 'Leave a reply'}</h2>
  ${form.replyTo ? html`<p><a href="${article.url}#respond">Cancel reply</a></p>` : ''}
  ${formMessages(form)}
  ${article.commentsOpen ? replyForm(article, paths, form) : html`<p>Comments are closed.</p>`}
</section>`}`;

  return layout({
    site,
    paths,
    title: article.title,
    description: article.excerpt,
    canonical: article.url,
    head: preview ? html`<meta name="robots" content="noindex">` : html`<link rel="pingback" href="${site.pingbackUrl}">
<link rel="webmention" href="${site.webmentionUrl}">`,
    main,
  });
}
