// What went out: announcements per network and outgoing pings with their state and last
// error (and retry), webhooks with their deliveries.
import { html } from '../../frontend/html.ts';
import type { Announcement } from '../../social/announcements/announcements.repository.ts';
import type { OutgoingPingRow } from '../desk.services.ts';
import type { DeliveryView, WebhookView } from '../../webhooks/webhooks.service.ts';
import { safeUrl } from '../../frontend/html.ts';
import { showTime } from '../time.ts';
import { csrfField, DESK, page, type Viewer } from './layout.ts';

const retry = (v: Viewer, action: string, label: string) =>
  html`<form method="post" action="${action}">${csrfField(v)}<button type="submit" class="small secondary" aria-label="${label}">Retry</button></form>`;

export function outboxPage(v: Viewer, opts: { announcements: Announcement[]; sending: Record<string, { configured: boolean; pausedReason: string | null }>; pings: OutgoingPingRow[]; webhooks: WebhookView[]; notice?: string | null }): string {
  const networks = Object.entries(opts.sending);
  const announcementRows = opts.announcements.map((a) => {
    const url = safeUrl(a.url);
    return html`<tr>
  <td>${a.network}</td>
  <td>${a.articleId ? html`<a href="${DESK}/articles/${a.articleId}">${a.articleTitle ?? a.articleSlug}</a>` : html`<span class="muted">(deleted)</span>`}</td>
  <td><span class="status">${a.status}</span>${url ? html` <a href="${url}">post</a>` : ''}</td>
  <td>${a.attempts}</td>
  <td>${showTime(a.lastAttemptAt, v.zone)}</td>
  <td>${a.lastError ?? ''}</td>
  <td>${a.status === 'posted' ? '' : retry(v, `${DESK}/outbox/announcements/${a.id}/retry`, `Retry the ${a.network} announcement of ${a.articleTitle ?? 'a deleted article'}`)}</td>
</tr>`;
  });
  const pingRows = opts.pings.map(
    (p) => html`<tr>
  <td><a href="${DESK}/articles/${p.articleId}">${p.sourceUrl}</a></td>
  <td>${p.targetUrl}</td>
  <td><span class="status">${p.status}</span>${p.protocol ? html` <span class="muted">${p.protocol}</span>` : ''}</td>
  <td>${p.attempts}</td>
  <td>${p.lastError ?? p.result ?? ''}</td>
  <td>${retry(v, `${DESK}/outbox/pings/${p.id}/retry`, `Retry the ping to ${p.targetUrl}`)}</td>
</tr>`,
  );
  const hookRows = opts.webhooks.map(
    (w) => html`<tr>
  <td><a href="${DESK}/outbox/webhooks/${w.id}">${w.url}</a>${w.description ? html`<br><span class="muted">${w.description}</span>` : ''}</td>
  <td>${w.events.join(', ')}</td>
  <td>${w.enabled ? 'enabled' : html`disabled${w.disabledReason ? `: ${w.disabledReason}` : ''}`}</td>
</tr>`,
  );
  const table = (caption: string, head: string[], rows: unknown[], body: ReturnType<typeof html>) =>
    rows.length
      ? html`<div class="table-wrap"><table><caption class="visually-hidden">${caption}</caption><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${body}</tbody></table></div>`
      : html`<p>None yet.</p>`;
  return page({
    title: 'What went out',
    viewer: v,
    section: 'outbox',
    notice: opts.notice,
    main: html`<h1>What went out</h1>
<section aria-labelledby="ann-title"><h2 id="ann-title">Announcements</h2>
<ul>${networks.map(([n, s]) => html`<li>${n}: ${!s.configured ? 'not configured' : s.pausedReason ? `paused (${s.pausedReason})` : 'sending'}</li>`)}</ul>
${table('Announcements, newest first', ['Network', 'Article', 'State', 'Attempts', 'Last attempt', 'Last error', 'Retry'], opts.announcements, html`${announcementRows}`)}</section>
<section aria-labelledby="ping-title"><h2 id="ping-title">Outgoing pings</h2>
${table('Outgoing pings, newest first', ['From', 'To', 'State', 'Attempts', 'Last error or result', 'Retry'], opts.pings, html`${pingRows}`)}</section>
<section aria-labelledby="hook-title"><h2 id="hook-title">Webhooks</h2>
${table('Webhooks', ['URL', 'Events', 'State'], opts.webhooks, html`${hookRows}`)}</section>`,
  });
}

export function deliveriesPage(v: Viewer, opts: { webhook: WebhookView; deliveries: DeliveryView[]; notice?: string | null }): string {
  const rows = opts.deliveries.map(
    (d) => html`<tr>
  <td>${d.eventType}</td>
  <td><span class="status">${d.status}</span></td>
  <td>${d.attempts}</td>
  <td>${d.lastStatusCode ?? ''}</td>
  <td>${d.lastError ?? ''}</td>
  <td>${showTime(d.lastAttemptAt ?? d.createdAt, v.zone)}</td>
  <td>${d.status === 'queued' ? '' : retry(v, `${DESK}/outbox/webhooks/${opts.webhook.id}/deliveries/${encodeURIComponent(d.id)}/retry`, `Send the ${d.eventType} delivery again`)}</td>
</tr>`,
  );
  return page({
    title: 'Webhook deliveries',
    viewer: v,
    section: 'outbox',
    notice: opts.notice,
    main: html`<p><a href="${DESK}/outbox">← What went out</a></p>
<h1>Deliveries to ${opts.webhook.url}</h1>
${
  rows.length
    ? html`<div class="table-wrap"><table><caption class="visually-hidden">The latest deliveries, newest first</caption>
<thead><tr><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last HTTP status</th><th scope="col">Last error</th><th scope="col">When</th><th scope="col">Retry</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p>No deliveries yet.</p>`
}`,
  });
}
