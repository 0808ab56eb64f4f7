// The composition root: services are built once here and handed to routes, workers
// and the CLI alike. A new network or protocol is a new folder and a line here.
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { JobRunner, type Logger } from './jobs/kernel.ts';
import { ContentEvents } from './events/content-events.ts';
import { PublishingEvents } from './articles/publishing.ts';
import { composeLinkbacks, type Linkbacks } from './pingback/linkbacks.ts';
import { AnnouncementService } from './social/twitter/announcements.service.ts';
import { announcementFor } from './social/twitter/announcements.repository.ts';
import { ArticlesService, PUBLISH_JOB } from './articles/articles.service.ts';
import { ResponsesService } from './comments/responses.service.ts';
import { WebhooksService } from './webhooks/webhooks.service.ts';
import { ChangesService } from './feeds/changes.service.ts';
import { PreviewsService } from './articles/previews.ts';

export interface Services {
  config: Config;
  database: Database;
  jobs: JobRunner;
  /** announcements, outgoing pings… subscribe here */
  publishing: PublishingEvents;
  log: Logger;
  /** announcements on X: publishing listener, worker, editors' list and retry */
  announcements: AnnouncementService;
  /** typed content events: every change public reads can see, in its transaction and after commit */
  events: ContentEvents;
  articles: ArticlesService;
  /** pingback and Webmention, both ways: receiving services, outgoing pings, the outbound guard */
  linkbacks: Linkbacks;
  /** comments, and the store pingbacks and webmentions land in */
  responses: ResponsesService;
  /** Standard Webhooks: subscriptions, deliveries queued with each change, the delivery worker */
  webhooks: WebhooksService;
  /** the /v1/changes log, written with each change */
  changes: ChangesService;
  /** draft preview tokens */
  previews: PreviewsService;
}

export function compose(config: Config, database: Database, log: Logger): Services {
  const jobs = new JobRunner({ db: database.db, log });
  const publishing = new PublishingEvents();
  const events = new ContentEvents();
  const announcements = new AnnouncementService(config, database.db, log, { events });
  announcements.registerWorker(jobs);
  publishing.subscribe(announcements);
  const articles = new ArticlesService({
    db: database.db,
    config,
    publishing,
    nudgeJobs: () => jobs.nudge(),
    events,
    announcements: (db, ids) => announcementFor(db, ids),
  });
  jobs.register({ kind: PUBLISH_JOB, handler: (job) => articles.publishDue(job), concurrency: 2 });
  const responses = new ResponsesService({ db: database.db, config, articles, events });

  const linkbacks = composeLinkbacks({ config, db: database.db, log, jobs, publishing, responses });

  const webhooks = new WebhooksService({ db: database.db, jobs, events });
  const changes = new ChangesService({ db: database.db, jobs, events });
  const previews = new PreviewsService({ db: database.db, config, articles });

  const services: Services = { config, database, jobs, publishing, log, events, articles, responses, announcements, linkbacks, webhooks, changes, previews };
  return services;
}
