// Everything the desk asks of the rest of Inkwell, in one place: the same service calls the
// admin API's handlers make (no logic of their own here), so a change to a service's
// public methods is mended in this file alone.
import type { Services } from '../compose.ts';
import type { ArticleStatus } from '../articles/articles.table.ts';
import type { CreateArticleInput, UpdateArticleInput } from '../articles/articles.schemas.ts';
import type { ResponseStatus } from '../comments/responses.table.ts';
import { findLiveToken, verifyToken } from '../auth/tokens.service.ts';
import { markdownToHtml, sanitizeArticleHtml } from '../lib/html.ts';
import type { Upload } from '../media/media.service.ts';
import { receiveUpload } from '../media/upload.ts';
import type { FastifyRequest } from 'fastify';
import { approvedByEmail, PgSessionStore, sessionSigningKey } from './desk.repository.ts';

export type DeskDeps = Pick<Services, 'config' | 'database' | 'articles' | 'responses' | 'announcements' | 'linkbacks' | 'webhooks' | 'media' | 'previews'>;

/** an outgoing ping as the desk's outbox lists it */
export type OutgoingPingRow = Awaited<ReturnType<DeskServices['pings']>>['data'][number];

export class DeskServices {
  readonly sessions: PgSessionStore;

  constructor(private readonly s: DeskDeps) {
    this.sessions = new PgSessionStore(s.database.db, s.config.deskIdleMs);
  }

  private get db() {
    return this.s.database.db;
  }

  // ---------- sign-in ----------
  signingKey = () => sessionSigningKey(this.db);
  verifyToken = (token: string) => verifyToken(this.db, token);
  liveToken = (id: number) => findLiveToken(this.db, id);

  // ---------- articles ----------
  listArticles = (q: { status?: ArticleStatus; q?: string; page?: number }) => this.s.articles.listAdmin({ ...q, limit: 20 });
  getArticle = (id: number) => this.s.articles.getAdmin(id);
  createArticle = (input: CreateArticleInput) => this.s.articles.create(input);
  updateArticle = (id: number, input: UpdateArticleInput, etag: string) => this.s.articles.update(id, input, etag);
  deleteArticle = (id: number) => this.s.articles.remove(id);
  /** the body as the article will show it: the service renders with the same functions on save */
  renderBody = (format: 'markdown' | 'html', body: string) => (format === 'markdown' ? markdownToHtml(body) : sanitizeArticleHtml(body));
  previewLink = (id: number) => this.s.previews.create(id);
  /** An uploaded image (multipart: `file`, `alt` and the form's `_csrf`), in a temporary file: dispose() it. */
  receiveImage = (req: FastifyRequest) => receiveUpload(req, this.s.config.media.maxBytes, { extraFields: ['_csrf'] });
  storeImage = async (upload: Upload) => (await this.s.media.create(upload)).media;
  /** only the image changes: no If-Match, it cannot undo anyone's text */
  setFeatureImage = (id: number, mediaId: number) => this.s.articles.update(id, { featureImage: mediaId });

  // ---------- moderation ----------
  listResponses = (status: ResponseStatus, page: number) => this.s.responses.listAdmin({ status, page, limit: 50 });
  moderate = (id: number, status: ResponseStatus) => this.s.responses.setStatus(id, status);
  deleteResponse = (id: number) => this.s.responses.remove(id);
  approvedByEmail = (emails: string[]) => approvedByEmail(this.db, emails);

  // ---------- what went out ----------
  announcements = (page: number) => this.s.announcements.list({ page, limit: 50 });
  retryAnnouncement = (id: number) => this.s.announcements.retry(id);
  pings = (page: number) => this.s.linkbacks.outgoing.list({}, { page, limit: 50 });
  retryPing = (id: number) => this.s.linkbacks.outgoing.retry(id);
  webhooks = () => this.s.webhooks.list();
  deliveries = (id: number) => this.s.webhooks.deliveries(id, { limit: 20 });
  retryDelivery = (id: number, deliveryId: string) => this.s.webhooks.retry(id, deliveryId);
}
