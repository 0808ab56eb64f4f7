// Articles: the list by status with search, the editor (with a rendered preview), the
// conflict page of a lost update, and the delete confirmation.
import { html, safeUrl, trusted, type Markup } from '../../frontend/html.ts';
import type { AdminArticleView } from '../../articles/articles.schemas.ts';
import type { FieldError } from '../../http/errors.ts';
import type { PageMeta } from '../../lib/pagination.ts';
import { showTime, ZONES } from '../time.ts';
import { csrfField, DESK, page, pagination, type Viewer } from './layout.ts';

export const STATUSES = ['draft', 'scheduled', 'published', 'archived'] as const;
const STATUS_LABEL: Record<string, string> = { '': 'All', draft: 'Drafts', scheduled: 'Scheduled', published: 'Published', archived: 'Archived' };

export function articleListPage(v: Viewer, opts: { status?: string; q?: string; list: { data: AdminArticleView[]; meta: { pagination: PageMeta } }; notice?: string | null }): string {
  const { data, meta } = opts.list;
  const tabs = ['', ...STATUSES].map((s) => {
    const q = new URLSearchParams(Object.entries({ status: s || undefined, q: opts.q }).filter((e): e is [string, string] => Boolean(e[1])));
    const href = `${DESK}/articles${q.size ? `?${q}` : ''}`;
    return html`<li><a href="${href}"${(opts.status ?? '') === s ? html` aria-current="page"` : ''}>${STATUS_LABEL[s]}</a></li>`;
  });
  const rows = data.map(
    (a) => html`<tr>
  <td><a href="${DESK}/articles/${a.id}">${a.title}</a><br><span class="muted">/${a.slug}</span></td>
  <td><span class="status">${a.status}</span></td>
  <td>${a.status === 'scheduled' ? showTime(a.publishAt, v.zone) : showTime(a.publishedAt, v.zone)}</td>
  <td>${showTime(a.updatedAt, v.zone)}</td>
  <td>${a.author?.name ?? ''}</td>
</tr>`,
  );
  const heading = opts.status ? STATUS_LABEL[opts.status] : 'Articles';
  return page({
    title: heading,
    viewer: v,
    section: 'articles',
    notice: opts.notice,
    main: html`<h1>${heading}</h1>
<p><a class="button" href="${DESK}/articles/new">Write an article</a></p>
<nav aria-label="By status"><ul class="tabs">${tabs}</ul></nav>
<form class="search" method="get" action="${DESK}/articles" role="search">
  ${opts.status ? html`<input type="hidden" name="status" value="${opts.status}">` : ''}
  <div><label for="q">Search articles</label><input type="search" id="q" name="q" value="${opts.q ?? ''}"></div>
  <button type="submit" class="secondary">Search</button>
</form>
${
  data.length
    ? html`<div class="table-wrap"><table>
<caption class="visually-hidden">${heading}: ${meta.pagination.total} in all, most recently updated first</caption>
<thead><tr><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Published or due</th><th scope="col">Updated</th><th scope="col">Author</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No articles${opts.q ? html` match “${opts.q}”` : ''}.</p>`
}
${pagination(`${DESK}/articles`, { status: opts.status, q: opts.q }, { page: meta.pagination.page ?? 1, next: meta.pagination.next, prev: meta.pagination.prev })}`,
  });
}

/** What the editor form holds: the article's fields as text, as typed. */
export interface EditorValues {
  title: string;
  slug: string;
  /** `markdown`, or `html` for an article written in HTML (imported) */
  format: 'markdown' | 'html';
  body: string;
  excerpt: string;
  tags: string;
  authorSlug: string;
  commentsOpen: boolean;
  pingsOpen: boolean;
  announce: boolean;
  /** datetime-local in `zone` */
  publishAt: string;
  zone: string;
  removeImage: boolean;
}

export interface EditorState {
  article?: AdminArticleView;
  etag?: string;
  values: EditorValues;
  errors?: FieldError[];
  problem?: string;
  /** the rendered body, after "Preview" */
  preview?: string;
  notice?: string | null;
}

const FIELD_OF: Record<string, string> = { markdown: 'body', html: 'body', authorSlug: 'authorSlug', publishAt: 'publishAt', featureImage: 'image' };
const fieldOf = (pointer: string) => {
  const name = pointer.replace(/^\/body\//, '').split('/')[0];
  return FIELD_OF[name] ?? name;
};

function fieldErrors(errors: FieldError[] | undefined, field: string): Markup {
  const mine = (errors ?? []).filter((e) => fieldOf(e.pointer) === field);
  return mine.length ? html`<p class="field-error" id="${field}-error">${mine.map((e) => e.message).join('; ')}</p>` : html``;
}
const invalidAttrs = (errors: FieldError[] | undefined, field: string) =>
  (errors ?? []).some((e) => fieldOf(e.pointer) === field) ? html` aria-invalid="true" aria-describedby="${field}-error"` : html``;

const LABEL: Record<string, string> = { title: 'Title', slug: 'Slug', body: 'Body', excerpt: 'Excerpt', tags: 'Tags', authorSlug: 'Author', publishAt: 'Publish at', image: 'Feature image' };

function actionButtons(status: string | undefined, action: string): Markup {
  const isNew = status === undefined;
  const b = (action: string, label: string, cls = '') => html`<button type="submit" name="action" value="${action}"${cls ? html` class="${cls}"` : ''}>${label}</button>`;
  const preview = html`<button type="submit" name="action" value="preview" class="secondary" formaction="${action}#preview">Preview</button>`;
  if (status === 'published') return html`${b('save', 'Update')}${preview}${b('unpublish', 'Unpublish', 'secondary')}`;
  if (status === 'scheduled') return html`${b('save', 'Save')}${preview}${b('schedule', 'Reschedule', 'secondary')}${b('publish', 'Publish now', 'secondary')}${b('unpublish', 'Back to draft', 'secondary')}`;
  return html`${b('save', isNew || status === 'draft' ? 'Save draft' : 'Save')}${preview}${b('schedule', 'Schedule', 'secondary')}${b('publish', 'Publish', 'secondary')}`;
}

export function editorPage(v: Viewer, s: EditorState): string {
  const { article, values: f, errors } = s;
  const action = article ? `${DESK}/articles/${article.id}` : `${DESK}/articles`;
  const title = article ? `Edit “${article.title}”` : 'Write an article';
  const summary = errors?.length || s.problem
    ? html`<div class="error-summary" role="alert" tabindex="-1" id="errors"><h2>The article was not saved</h2>
${s.problem ? html`<p>${s.problem}</p>` : ''}
${errors?.length ? html`<ul>${errors.map((e) => html`<li><a href="#${fieldOf(e.pointer)}">${LABEL[fieldOf(e.pointer)] ?? fieldOf(e.pointer)}</a>: ${e.message}</li>`)}</ul>` : ''}</div>`
    : '';
  const status = article ? html`<p><span class="status">${article.status}</span>
${article.status === 'published' ? html` <a href="${article.url}">View on the site</a>` : ''}
${article.status === 'scheduled' ? html` due ${showTime(article.publishAt, v.zone)}` : ''}
<span class="muted"> · updated ${showTime(article.updatedAt, v.zone)}</span></p>` : '';

  const form = html`<form method="post" action="${action}" id="editor" novalidate>
  ${csrfField(v)}
  ${s.etag ? html`<input type="hidden" name="version" value="${s.etag}">` : ''}
  <input type="hidden" name="format" value="${f.format}">
  <label for="title">Title</label>
  <input type="text" id="title" name="title" value="${f.title}" required maxlength="300"${invalidAttrs(errors, 'title')}>
  ${fieldErrors(errors, 'title')}
  <label for="slug">Slug</label>
  <input type="text" id="slug" name="slug" value="${f.slug}" maxlength="120" aria-describedby="slug-hint" autocapitalize="none" spellcheck="false"${invalidAttrs(errors, 'slug')}>
  <p class="hint" id="slug-hint">Lowercase letters, digits and dashes; made from the title when empty. A renamed slug keeps answering.</p>
  ${fieldErrors(errors, 'slug')}
  <label for="body">Body (${f.format === 'markdown' ? 'Markdown' : 'HTML'})</label>
  <textarea id="body" name="body" rows="20"${invalidAttrs(errors, 'body')}>${f.body}</textarea>
  ${fieldErrors(errors, 'body')}
  <label for="excerpt">Excerpt</label>
  <textarea id="excerpt" name="excerpt" rows="3" maxlength="1000" aria-describedby="excerpt-hint" class="short">${f.excerpt}</textarea>
  <p class="hint" id="excerpt-hint">Plain text; the start of the body when empty.</p>
  ${fieldErrors(errors, 'excerpt')}
  <label for="tags">Tags</label>
  <input type="text" id="tags" name="tags" value="${f.tags}" aria-describedby="tags-hint"${invalidAttrs(errors, 'tags')}>
  <p class="hint" id="tags-hint">Separated by commas; new ones are created.</p>
  ${fieldErrors(errors, 'tags')}
  <label for="authorSlug">Author</label>
  <input type="text" id="authorSlug" name="authorSlug" value="${f.authorSlug}" aria-describedby="author-hint" autocapitalize="none"${invalidAttrs(errors, 'authorSlug')}>
  <p class="hint" id="author-hint">An author's slug (such as <code>inkwell</code>); empty for none.</p>
  ${fieldErrors(errors, 'authorSlug')}
  <fieldset><legend>Conversation</legend>
    <label class="inline"><input type="checkbox" name="commentsOpen" value="on"${f.commentsOpen ? html` checked` : ''}> Comments open</label>
    <label class="inline"><input type="checkbox" name="pingsOpen" value="on"${f.pingsOpen ? html` checked` : ''}> Pingbacks and webmentions open</label>
    <label class="inline"><input type="checkbox" name="announce" value="on"${f.announce ? html` checked` : ''}> Announce on the social networks when first published</label>
    ${article?.featureImage ? html`<label class="inline"><input type="checkbox" name="removeImage" value="on"${f.removeImage ? html` checked` : ''}> Remove the feature image</label>` : ''}
  </fieldset>
  <fieldset><legend>Schedule</legend>
    <label for="publishAt">Publish at</label>
    <input type="datetime-local" id="publishAt" name="publishAt" value="${f.publishAt}"${invalidAttrs(errors, 'publishAt')}>
    ${fieldErrors(errors, 'publishAt')}
    <label for="zone">Time zone</label>
    <select id="zone" name="zone"${f.zone === 'UTC' ? html` data-browser-zone` : ''}>${ZONES.map((z) => html`<option${z === f.zone ? html` selected` : ''}>${z}</option>`)}</select>
    <p class="hint">“Schedule” publishes at this time; it is stored in UTC.</p>
  </fieldset>
  <div class="actions">${actionButtons(article?.status, action)}</div>
</form>`;

  const image = article?.featureImage;
  const side = article
    ? html`<aside aria-labelledby="side-title">
<h2 id="side-title" class="visually-hidden">About this article</h2>
<section aria-labelledby="image-title"><h2 id="image-title">Feature image</h2>
${image && safeUrl(image.url) ? html`<figure class="feature"><img src="${safeUrl(image.url)}" alt="${image.alt}" width="${image.width}" height="${image.height}"></figure>` : html`<p class="muted">None.</p>`}
<form method="post" action="${DESK}/articles/${article.id}/image" enctype="multipart/form-data">
  ${csrfField(v)}
  <label for="alt">Alt text</label>
  <input type="text" id="alt" name="alt" maxlength="1000">
  <label for="file">Image file</label>
  <input type="file" id="file" name="file" accept="image/jpeg,image/png,image/webp,image/avif,image/gif" required>
  <p class="hint">Save your text first: the upload reloads the editor.</p>
  <button type="submit" class="secondary">Upload</button>
</form></section>
<section aria-labelledby="share-title"><h2 id="share-title">Preview on the site</h2>
<form method="post" action="${DESK}/articles/${article.id}/preview-link">${csrfField(v)}
  <p class="hint">A link that shows the saved version on the site, as readers will see it, until it expires.</p>
  <button type="submit" class="secondary">Open the site preview</button></form></section>
<section aria-labelledby="delete-title"><h2 id="delete-title">Delete</h2>
<p><a href="${DESK}/articles/${article.id}/delete">Delete this article…</a></p></section>
</aside>`
    : '';

  const preview = s.preview !== undefined
    ? html`<section id="preview" class="preview-wrap" aria-labelledby="preview-title" tabindex="-1"><h2 id="preview-title">Preview (not saved)</h2>
<div class="preview"><h1>${f.title}</h1>${trusted(s.preview)}</div></section>`
    : '';

  return page({
    title,
    viewer: v,
    section: 'articles',
    notice: s.notice,
    main: html`<p><a href="${DESK}/articles">← All articles</a></p>
<h1>${title}</h1>
${status}
${summary}
<div class="editor"><div>${form}${preview}</div>${side}</div>`,
  });
}

/** A lost update: someone saved the article while this editor was editing. Both versions, and the choice. */
export function conflictPage(v: Viewer, opts: { saved: AdminArticleView; etag: string; mine: EditorValues; action: string; savedValues: EditorValues }): string {
  const { saved, mine, savedValues } = opts;
  const rows: [string, string, string][] = [
    ['Title', mine.title, savedValues.title],
    ['Slug', mine.slug, savedValues.slug],
    ['Tags', mine.tags, savedValues.tags],
    ['Author', mine.authorSlug, savedValues.authorSlug],
    ['Excerpt', mine.excerpt, savedValues.excerpt],
    ['Body', mine.body, savedValues.body],
  ];
  const column = (heading: string, which: 1 | 2) => html`<section class="version" aria-labelledby="v${which}"><h2 id="v${which}">${heading}</h2>
${rows.map((r) => html`<h3>${r[0]}${r[1] !== r[2] ? html` <span class="status changed">differs</span>` : ''}</h3><pre>${r[which]}</pre>`)}</section>`;
  const hidden = (name: string, value: string) => html`<input type="hidden" name="${name}" value="${value}">`;
  return page({
    title: 'Conflict',
    viewer: v,
    section: 'articles',
    main: html`<h1>“${saved.title}” changed while you were editing</h1>
<div class="warning" role="alert"><p>Someone saved this article at ${showTime(saved.updatedAt, v.zone)}, after you opened it. Nothing was overwritten: choose which version to keep.</p></div>
<div class="versions">${column('Your version (not saved)', 1)}${column('The saved version', 2)}</div>
<div class="actions">
<form method="post" action="${DESK}/articles/${saved.id}">
  ${csrfField(v)}${hidden('version', opts.etag)}${hidden('format', mine.format)}
  ${[...(['title', 'slug', 'body', 'excerpt', 'tags', 'authorSlug', 'publishAt', 'zone'] as const).map((k) => hidden(k, mine[k]))]}
  ${(['commentsOpen', 'pingsOpen', 'announce', 'removeImage'] as const).map((k) => (mine[k] ? hidden(k, 'on') : ''))}
  <button type="submit" name="action" value="${opts.action}">Keep mine (replace the saved version)</button>
</form>
<a class="button secondary" href="${DESK}/articles/${saved.id}">Keep the saved version (discard mine)</a>
</div>`,
  });
}

export function deletePage(v: Viewer, a: AdminArticleView): string {
  return page({
    title: 'Delete',
    viewer: v,
    section: 'articles',
    main: html`<h1>Delete “${a.title}”?</h1>
<p>The article (${a.status}) and its ${a.counts.comments + a.counts.pingbacks + a.counts.webmentions} approved responses are deleted for good. To keep them, unpublish it instead.</p>
<form method="post" action="${DESK}/articles/${a.id}/delete">${csrfField(v)}
<div class="actions"><button type="submit" class="danger">Delete for good</button> <a class="button secondary" href="${DESK}/articles/${a.id}">Cancel</a></div></form>`,
  });
}
