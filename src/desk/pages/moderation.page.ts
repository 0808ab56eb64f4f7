// The moderation queues: pending, spam and trash, newest first, with the article and what
// the author had approved before; one form, so a checkbox per response serves the bulk
// buttons and a button per response acts on it alone.
import { html, safeUrl, trusted } from '../../frontend/html.ts';
import type { AdminResponse } from '../../comments/responses.schemas.ts';
import type { PageMeta } from '../../lib/pagination.ts';
import { plural } from '../../frontend/layout.ts';
import { showTime } from '../time.ts';
import { csrfField, DESK, page, pagination, type Viewer } from './layout.ts';

export const QUEUES = ['pending', 'spam', 'trash'] as const;
export type Queue = (typeof QUEUES)[number];
const QUEUE_LABEL: Record<Queue, string> = { pending: 'Pending', spam: 'Spam', trash: 'Trash' };
/** what a button does → the status it sets, or delete */
export const MODERATION_ACTIONS = { approve: 'approved', spam: 'spam', trash: 'trash', delete: null } as const;
export type ModerationAction = keyof typeof MODERATION_ACTIONS;
const ACTION_LABEL: Record<ModerationAction, string> = { approve: 'Approve', spam: 'Spam', trash: 'Trash', delete: 'Delete' };
/** the actions a queue offers (moving to where it already is is none) */
const actionsFor = (q: Queue): ModerationAction[] => (['approve', 'spam', 'trash', 'delete'] as const).filter((a) => MODERATION_ACTIONS[a] !== q);

function history(r: AdminResponse, approved: Map<string, number>): string {
  if (r.type === 'comment') {
    const n = r.authorEmail ? (approved.get(r.authorEmail) ?? 0) : 0;
    return n ? `${plural(n, 'response', 'responses')} approved before` : 'first time here';
  }
  return r.type;
}

export function moderationPage(v: Viewer, opts: { queue: Queue; list: { data: AdminResponse[]; meta: { pagination: PageMeta } }; approved: Map<string, number>; notice?: string | null }): string {
  const { queue, list } = opts;
  const actions = actionsFor(queue);
  const tabs = QUEUES.map((q) => html`<li><a href="${DESK}/moderation${q === 'pending' ? '' : `?queue=${q}`}"${q === queue ? html` aria-current="page"` : ''}>${QUEUE_LABEL[q]}</a></li>`);
  const items = list.data.map((r) => {
    const who = safeUrl(r.authorUrl);
    return html`<li>
  <input type="checkbox" name="ids" value="${r.id}" id="r${r.id}" aria-labelledby="r${r.id}-label">
  <div>
    <p id="r${r.id}-label"><strong>${who ? html`<a href="${who}" rel="nofollow ugc">${r.authorName}</a>` : r.authorName}</strong>
      <span class="muted">${r.authorEmail ?? ''} · ${history(r, opts.approved)} · ${showTime(r.createdAt, v.zone)}</span></p>
    <p class="muted">On <a href="${DESK}/articles/${r.articleId}">${r.articleTitle}</a></p>
    <div class="body">${trusted(r.html)}</div>
    <div class="actions">${actions.map((a) => html`<button type="submit" name="one" value="${a}:${r.id}" class="small${a === 'delete' ? ' danger' : a === 'approve' ? '' : ' secondary'}" aria-label="${ACTION_LABEL[a]} the response of ${r.authorName}">${ACTION_LABEL[a]}</button>`)}</div>
  </div>
</li>`;
  });
  return page({
    title: `Moderation: ${QUEUE_LABEL[queue]}`,
    viewer: v,
    section: 'moderation',
    notice: opts.notice,
    main: html`<h1>Moderation</h1>
<nav aria-label="Queues"><ul class="tabs">${tabs}</ul></nav>
<h2>${QUEUE_LABEL[queue]} (${list.meta.pagination.total})</h2>
${
  list.data.length
    ? html`<form method="post" action="${DESK}/moderation">
  ${csrfField(v)}<input type="hidden" name="queue" value="${queue}">
  <fieldset><legend>With the selected responses</legend>
  <div class="actions">${actions.map((a) => html`<button type="submit" name="bulk" value="${a}" class="${a === 'delete' ? 'danger' : 'secondary'}">${ACTION_LABEL[a]} selected</button>`)}</div></fieldset>
  <ul class="queue">${items}</ul>
</form>`
    : html`<p>Nothing here.</p>`
}
${pagination(`${DESK}/moderation`, { queue: queue === 'pending' ? undefined : queue }, { page: list.meta.pagination.page ?? 1, next: list.meta.pagination.next, prev: list.meta.pagination.prev })}`,
  });
}
