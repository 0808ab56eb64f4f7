// Webhooks (Standard Webhooks 1.0): subscriptions, deliveries queued in the transaction
// of the change (a listener of the content event stream), sent by the job kernel.
// A delivery is sent by one process at a time (the kernel's SKIP LOCKED claim), never
// inside a request; its `webhook-id` and body stay the same on every attempt.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/client.ts';
import { enqueue, RescheduleJob, type Job, type JobContext, type JobRunner } from '../jobs/kernel.ts';
import { AppError, notFound } from '../http/errors.ts';
import { WEBHOOK_EVENT_TYPES, type ContentEvent, type ContentEvents } from '../events/content-events.ts';
import * as repo from './webhooks.repository.ts';
import { newSecret, webhookHeaders } from './signature.ts';

export const DELIVER_JOB = 'webhook.deliver';
export const TEST_EVENT = 'webhook.test';
/** waits after the 1st, 2nd… failed attempt; after the last one the delivery is `failed` */
export const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
export const TIMEOUT_MS = 15_000;
/** how long the secret before a rotation keeps signing too */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export interface WebhookView {
  id: number;
  url: string;
  events: string[];
  description: string;
  enabled: boolean;
  disabledReason: string | null;
  /** until when deliveries also carry the signature of the secret before the last rotation */
  previousSecretUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryView {
  id: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  payload: unknown;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function view(r: repo.WebhookRow): WebhookView {
  const overlap = r.previousSecret && r.previousSecretUntil && r.previousSecretUntil.getTime() > Date.now() ? r.previousSecretUntil : null;
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    description: r.description,
    enabled: r.enabled,
    disabledReason: r.disabledReason,
    previousSecretUntil: iso(overlap),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

function deliveryView(d: repo.DeliveryRow): DeliveryView {
  return {
    id: d.id,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    lastAttemptAt: iso(d.lastAttemptAt),
    nextAttemptAt: d.status === 'queued' ? iso(d.nextAttemptAt) : null,
    deliveredAt: iso(d.deliveredAt),
    createdAt: d.createdAt.toISOString(),
    payload: JSON.parse(d.body),
  };
}

const invalid = (pointer: string, message: string) => new AppError('validation', `${pointer} ${message}`, { errors: [{ pointer, message }] });

/** Webhook targets are set by editors: private addresses are fine, other schemes and credentials are not. */
function checkUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('/body/url', 'must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('/body/url', `must be an http(s) URL, not ${u.protocol.slice(0, -1)}`);
  if (u.username || u.password) throw invalid('/body/url', 'must not carry credentials');
  return u.href;
}

function checkEvents(events: string[]): string[] {
  const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length) throw invalid('/body/events', `has unknown event ${unknown.map((e) => `"${e}"`).join(', ')}; must be one of: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  if (!events.length) throw invalid('/body/events', 'must name at least one event');
  return [...new Set(events)];
}

export const messageId = () => `msg_${randomBytes(16).toString('base64url')}`;

export class WebhooksService {
  private queuedSinceNudge = false;

  constructor(private readonly deps: { db: Db; jobs: JobRunner; events: ContentEvents }) {
    deps.events.onTransaction((tx, event) => this.queue(tx, event));
    // deliveries just committed: look for them now rather than at the next poll
    deps.events.onCommit(() => {
      if (!this.queuedSinceNudge) return;
      this.queuedSinceNudge = false;
      deps.jobs.nudge();
    });
    deps.jobs.register({ kind: DELIVER_JOB, concurrency: 4, leaseMs: TIMEOUT_MS * 2, handler: (job, ctx) => this.deliver(job, ctx) });
  }

  private get db() {
    return this.deps.db;
  }

  // ---------- subscriptions ----------

  async create(input: { url: string; events: string[]; description?: string }): Promise<WebhookView & { secret: string }> {
    const url = checkUrl(input.url);
    const events = checkEvents(input.events);
    const secret = newSecret();
    const row = await repo.insertWebhook(this.db, { url, events, description: input.description ?? '', secret });
    if (!row) throw new AppError('conflict', `A webhook for ${url} exists already; change its events with PATCH.`, { errors: [{ pointer: '/body/url', message: 'has a webhook already' }] });
    return { ...view(row), secret };
  }

  async list(): Promise<WebhookView[]> {
    return (await repo.listWebhooks(this.db)).map(view);
  }

  async get(id: number): Promise<WebhookView> {
    const row = await repo.findWebhook(this.db, id);
    if (!row) throw notFound(`Webhook ${id}`);
    return view(row);
  }

  async update(id: number, input: { url?: string; events?: string[]; enabled?: boolean; description?: string; rotateSecret?: boolean }): Promise<WebhookView & { secret?: string }> {
    const current = await repo.findWebhook(this.db, id);
    if (!current) throw notFound(`Webhook ${id}`);
    const values: Parameters<typeof repo.updateWebhook>[2] = {};
    if (input.url !== undefined) values.url = checkUrl(input.url);
    if (input.events !== undefined) values.events = checkEvents(input.events);
    if (input.description !== undefined) values.description = input.description;
    if (input.enabled !== undefined) {
      values.enabled = input.enabled;
      values.disabledReason = null;
    }
    let secret: string | undefined;
    if (input.rotateSecret) {
      secret = newSecret();
      values.secret = secret;
      values.previousSecret = current.secret;
      values.previousSecretUntil = new Date(Date.now() + ROTATION_OVERLAP_MS);
    }
    let row: repo.WebhookRow | null;
    try {
      row = await repo.updateWebhook(this.db, id, values);
    } catch (e) {
      if (values.url && (await repo.listWebhooks(this.db)).some((w) => w.url === values.url && w.id !== id)) {
        throw new AppError('conflict', `A webhook for ${values.url} exists already.`, { errors: [{ pointer: '/body/url', message: 'has a webhook already' }] });
      }
      throw e;
    }
    if (!row) throw notFound(`Webhook ${id}`);
    return { ...view(row), ...(secret ? { secret } : {}) };
  }

  async remove(id: number): Promise<void> {
    if (!(await repo.deleteWebhook(this.db, id))) throw notFound(`Webhook ${id}`);
  }

  // ---------- deliveries ----------

  async deliveries(id: number, q: { limit?: number; before?: number }): Promise<{ data: DeliveryView[] }> {
    await this.get(id);
    return { data: (await repo.listDeliveries(this.db, id, q.limit ?? 50, q.before)).map(deliveryView) };
  }

  async retry(id: number, deliveryId: string): Promise<DeliveryView> {
    const d = await repo.findDelivery(this.db, id, deliveryId);
    if (!d) throw notFound(`Delivery ${deliveryId} of webhook ${id}`);
    if (d.status === 'queued') throw new AppError('conflict', `Delivery ${deliveryId} is queued already (next attempt ${iso(d.nextAttemptAt)}).`);
    await this.db.transaction(async (tx) => {
      await repo.requeueDelivery(tx as unknown as Db, deliveryId);
      await this.enqueueSend(tx as unknown as Db, deliveryId);
    });
    this.deps.jobs.nudge();
    return deliveryView((await repo.findDelivery(this.db, id, deliveryId))!);
  }

  /** Queues a `webhook.test` event for one subscription (also when it is disabled: the editor asks). */
  async test(id: number): Promise<DeliveryView> {
    const hook = await this.get(id);
    const delivery = await this.db.transaction(async (tx) => {
      const d = await this.insertDelivery(tx as unknown as Db, hook.id, TEST_EVENT, { webhookId: hook.id, message: 'A test event from Inkwell.' });
      return d;
    });
    this.deps.jobs.nudge();
    return deliveryView(delivery);
  }

  /** The transactional listener: one delivery per subscriber, in the writing transaction. */
  private async queue(tx: Db, event: ContentEvent): Promise<void> {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type)) return;
    const subscribers = await repo.subscribersOf(tx, event.type);
    if (!subscribers.length) return;
    const data = { ...event.data } as Record<string, unknown>;
    delete data.wasPublished;
    for (const s of subscribers) await this.insertDelivery(tx, s.id, event.type, data);
    this.queuedSinceNudge = true;
  }

  private async insertDelivery(tx: Db, webhookId: number, type: string, data: unknown): Promise<repo.DeliveryRow> {
    const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
    const d = await repo.insertDelivery(tx, { id: messageId(), webhookId, eventType: type, body });
    await this.enqueueSend(tx, d.id);
    return d;
  }

  private async enqueueSend(tx: Db, deliveryId: string): Promise<void> {
    // the schedule is the delivery's own (RescheduleJob); the kernel's attempt budget only covers database errors
    await enqueue(tx, { kind: DELIVER_JOB, key: deliveryId, payload: { deliveryId }, maxAttempts: 20 });
  }

  /** The job: one attempt. */
  async deliver(job: Job, ctx: Pick<JobContext, 'signal'>): Promise<void> {
    const id = String(job.payload.deliveryId);
    const found = await repo.findDeliveryToSend(this.db, id);
    if (!found || found.delivery.status !== 'queued') return;
    const { delivery, webhook } = found;
    if (!webhook.enabled && delivery.eventType !== TEST_EVENT) {
      await repo.recordAttempt(this.db, id, { status: 'failed', statusCode: null, error: `The webhook is disabled${webhook.disabledReason ? ` (${webhook.disabledReason})` : ''}.`, nextAttemptAt: null });
      return;
    }
    const secrets = [webhook.secret];
    if (webhook.previousSecret && webhook.previousSecretUntil && webhook.previousSecretUntil.getTime() > Date.now()) secrets.push(webhook.previousSecret);
    const timestamp = Math.floor(Date.now() / 1000);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Inkwell-Webhooks/1.0', ...webhookHeaders(secrets, delivery.id, timestamp, delivery.body) },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(TIMEOUT_MS), ctx.signal]),
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => {});
      if (res.status >= 300 && res.status < 400) error = `Redirects are not followed (${res.status}${res.headers.get('location') ? ` to ${res.headers.get('location')}` : ''}).`;
      else if (res.status < 200 || res.status >= 300) error = `The receiver answered ${res.status}.`;
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      error = (e as Error).name === 'TimeoutError' ? `No answer within ${TIMEOUT_MS / 1000} s.` : `Could not reach the receiver: ${cause?.code ?? cause?.message ?? (e as Error).message}.`;
    }
    if (error === null) {
      await repo.recordAttempt(this.db, id, { status: 'delivered', statusCode, error: null, nextAttemptAt: null });
      return;
    }
    if (statusCode === 410) {
      await this.db.transaction(async (tx) => {
        await repo.recordAttempt(tx as unknown as Db, id, { status: 'failed', statusCode, error: 'The receiver answered 410 Gone: the webhook was disabled.', nextAttemptAt: null });
        await repo.updateWebhook(tx as unknown as Db, webhook.id, { enabled: false, disabledReason: `The receiver answered 410 Gone on ${new Date().toISOString()}.` });
      });
      return;
    }
    const wait = RETRY_SCHEDULE_MS[delivery.attempts];
    if (wait === undefined) {
      await repo.recordAttempt(this.db, id, { status: 'failed', statusCode, error, nextAttemptAt: null });
      return;
    }
    const next = new Date(Date.now() + wait);
    await repo.recordAttempt(this.db, id, { status: 'queued', statusCode, error, nextAttemptAt: next });
    throw new RescheduleJob(next, error);
  }
}
