// `import wordpress FILE.xml [--dry-run] [--media]`: the importer with a progress bar on a
// terminal (one line per thousand items otherwise) and the closing report.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { pino } from 'pino';
import cliProgress from 'cli-progress';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { compose } from '../compose.ts';
import { CONTENT_CHANNEL } from '../http/cache/response-cache.ts';
import { importWordPress, WxrError } from '../importers/wordpress/wordpress.importer.ts';

/** per image: the whole exchange with the old site */
const IMAGE_TIMEOUT_MS = 30_000;

export async function importWordPressCommand(config: Config, database: Database, file: string, opts: { dryRun: boolean; media: boolean }): Promise<number> {
  const services = compose(config, database, pino({ level: 'silent' }));
  // the server's response cache hears content events in its own process; from here it
  // reaches the servers sharing a PostgreSQL database through NOTIFY (an embedded
  // database has no server running beside the CLI: it starts with an empty cache)
  const bus = services.bus.shared ? services.bus : undefined;
  services.events.onCommit(() => void bus?.publish(CONTENT_CHANNEL).catch(() => {}));

  const tty = Boolean(process.stderr.isTTY);
  const bar = tty ? new cliProgress.SingleBar({ format: 'Importing {bar} {percentage}% | {value}/{total} items | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  let nextLine = 1000;
  let started = false;
  const began = Date.now();
  // Ctrl-C: finish the batch being written, then stop with the report (a second one ends at once)
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    console.error('\nStopping after the current batch (Ctrl-C again to quit at once)…');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  console.error(`Reading ${basename(file)}${opts.dryRun ? ' (dry run: nothing will be written)' : ''}${opts.media ? (opts.dryRun ? ', images: none fetched' : ', with images') : ''}…`);
  try {
    const report = await importWordPress(
      {
        db: database.db,
        config,
        onChange: (since) => services.events.emit(database.db, { type: 'articles.imported', data: { since: since.toISOString() } }),
        // the outbound guard linkbacks use (OUTBOUND_ALLOW_PRIVATE), images capped at MEDIA_MAX_BYTES
        media: {
          media: services.media,
          outbound: services.outbound,
          maxBytes: config.media.maxBytes,
          timeoutMs: IMAGE_TIMEOUT_MS,
          apiUrl: config.apiUrl,
        },
      },
      () => createReadStream(file, { highWaterMark: 256 * 1024 }),
      {
        dryRun: opts.dryRun,
        media: opts.media,
        signal: stop.signal,
        onProgress: (done, total) => {
          if (bar) {
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          } else if (done >= nextLine || done === total) {
            console.error(`${done}/${total} items`);
            nextLine = (Math.floor(done / 1000) + 1) * 1000;
          }
        },
      },
    );
    bar?.stop();
    console.log(report.format());
    console.error(`Done in ${((Date.now() - began) / 1000).toFixed(1)} s.`);
    return report.stoppedAt ? 130 : 0;
  } catch (e) {
    bar?.stop();
    if (e instanceof WxrError) {
      console.error(`Import stopped: ${basename(file)}, ${e.message}.`);
      console.error('Nothing was written: the whole file is checked before the import begins.');
      return 1;
    }
    console.error(`Import stopped: ${(e as Error).message}`);
    console.error('What was imported before this point is committed and consistent; run the same command again to continue.');
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
