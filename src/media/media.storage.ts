import type { MediaConfig } from '../config.ts';
import { S3Storage } from './s3.storage.ts';
import { FolderStorage, type MediaStorage } from './storage.ts';

/** The bucket when MEDIA_S3_BUCKET is set, else the folder. */
export function mediaStorageFor(config: MediaConfig): MediaStorage {
  return config.s3 ? new S3Storage(config.s3) : new FolderStorage(config.dir);
}
