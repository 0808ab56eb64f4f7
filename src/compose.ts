// The composition root: services are built once here and handed to routes, workers
// and the CLI alike. A new network or protocol is a new folder and a line here.
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { JobRunner, type Logger } from './jobs/kernel.ts';
import { notifyBusFor, type NotifyBus } from './db/notify.ts';
import { limitStoreFor, type LimitStore } from './limits/limits.store.ts';
import { ContentEvents } from './events/content-events.ts';
import { PublishingEvents } from './articles/publishing.ts';
import { composeLinkbacks, inkwellUserAgent, type Linkbacks } from './linkbacks/linkbacks.ts';
import { Outbound } from './lib/outbound.ts';
import { AnnouncementService } from './social/announcements/announcements.service.ts';
import { announcementsFor } from './social/announcements/announcements.repository.ts';
import { xAnnouncer } from './social/x/announce.job.ts';
import { mastodonAnnouncer } from './social/mastodon/announce.job.ts';
import { blueskyAnnouncer } from './social/bluesky/announce.job.ts';
import { ArticlesService } from './articles/articles.service.ts';
import { PUBLISH_JOB } from './articles/articles.scheduling.ts';
import { ResponsesService } from './comments/responses.service.ts';
import { TaxonomyService } from './taxonomy/taxonomy.service.ts';
import { MediaService } from './media/media.service.ts';
import { mediaStorageFor } from './media/media.storage.ts';
import { WebhooksService } from './webhooks/webhooks.service.ts';
import { ChangesService } from './feeds/changes.service.ts';
import { PreviewsService } from './articles/previews.ts';
import { enqueueBackfeed, registerBackfeed } from './social/backfeed/backfeed.ts';
import { mastodonPoller } from './social/mastodon/backfeed.ts';
import { blueskyPoller } from './social/bluesky/backfeed.ts';
import { xPoller } from './social/x/backfeed.ts';

export interface Services {
  config: Config;
  database: Database;
  /** LISTEN/NOTIFY between the processes sharing the database (in-process on PGlite) */
  bus: NotifyBus;
  jobs: JobRunner;
  /** the write limits' counters, for the site (PostgreSQL) or the process (PGlite) */
  limits: LimitStore;
  /** announcements, outgoing pings… subscribe here */
  publishing: PublishingEvents;
  log: Logger;
  /** announcements on Mastodon, Bluesky and X: publishing listener, workers, editors' list and retry */
  announcements: AnnouncementService;
  /** typed content events: every change public reads can see, in its transaction and after commit */
  events: ContentEvents;
  articles: ArticlesService;
  /** tags and authors */
  taxonomy: TaxonomyService;
  /** pingback and Webmention, both ways: receiving services, outgoing pings, the outbound guard */
  linkbacks: Linkbacks;
  /** comments, and the store pingbacks and webmentions land in */
  responses: ResponsesService;
  /** the media library: uploads, variants, the folder or bucket they live in */
  media: MediaService;
  /** Standard Webhooks: subscriptions, deliveries queued with each change, the delivery worker */
  webhooks: WebhooksService;
  /** the /v1/changes log, written with each change */
  changes: ChangesService;
  /** draft preview tokens */
  previews: PreviewsService;
  /** the outbound guard (OUTBOUND_ALLOW_PRIVATE) every request to another site goes through: linkbacks, imported images */
  outbound: Outbound;
}

export function compose(config: Config, database: Database, log: Logger): Services {
  const bus = notifyBusFor(database, (err) => log.warn({ err }, 'notification bus: a listener failed'));
  const jobs = new JobRunner({ db: database.db, log, bus });
  const limits = limitStoreFor(database, (err) => log.warn({ err }, 'write limits: could not sweep expired windows'));
  const publishing = new PublishingEvents();
  const events = new ContentEvents();
  const media = new MediaService({ db: database.db, config, storage: mediaStorageFor(config.media), log, events });
  // Bluesky's link card carries the article's feature image (a rendition under its blob limit)
  const bluesky = blueskyAnnouncer({ image: (articleId, maxBytes) => media.cardImage(articleId, maxBytes) });
  const announcements = new AnnouncementService(config, database.db, log, [xAnnouncer, mastodonAnnouncer, bluesky], { events, posted: enqueueBackfeed });
  announcements.registerWorker(jobs);
  publishing.subscribe(announcements);
  const articles = new ArticlesService({
    db: database.db,
    config,
    publishing,
    nudgeJobs: () => jobs.nudge(),
    events,
    announcements: (db, ids) => announcementsFor(db, ids),
    media,
  });
  jobs.register({ kind: PUBLISH_JOB, handler: (job) => articles.publishDue(job), concurrency: 2 });
  const responses = new ResponsesService({ db: database.db, config, articles, limits, events });
  const taxonomy = new TaxonomyService({ db: database.db, events });

  // reactions to our Mastodon, Bluesky and (X_BACKFEED=on) X posts (§13)
  const pollers = [mastodonPoller(config, 10_000), blueskyPoller(config, database.db, 10_000), xPoller(config, database.db, 10_000)];
  registerBackfeed(jobs, { db: database.db, config, log, responses, pollers });

  const outbound = new Outbound({ allowPrivate: config.outboundAllowPrivate, userAgent: inkwellUserAgent(config) });
  const linkbacks = composeLinkbacks({ config, db: database.db, log, jobs, publishing, responses, outbound });

  const webhooks = new WebhooksService({ db: database.db, jobs, events });
  const changes = new ChangesService({ db: database.db, jobs, events });
  const previews = new PreviewsService({ db: database.db, config, articles });

  const services: Services = { config, database, bus, jobs, limits, publishing, log, events, articles, taxonomy, responses, announcements, linkbacks, media, webhooks, changes, previews, outbound };
  return services;
}
