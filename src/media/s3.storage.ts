// Media in an S3-compatible bucket (AWS S3, MinIO, R2, Ceph…) through the AWS SDK.
// Reads stream the object through this server with `Range` and `If-None-Match` passed to
// the bucket, so a 206 or a 304 costs the bucket what it costs us.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { MediaS3Config } from '../config.ts';
import { checkKey, type MediaStorage, type StoredRead } from './storage.ts';

export class S3Storage implements MediaStorage {
  readonly kind = 's3';
  private readonly client: S3Client;

  constructor(private readonly config: MediaS3Config) {
    this.client = new S3Client({
      region: config.region,
      // a custom endpoint (MinIO, R2, a local server) is addressed path-style: bucket in the path, not the host name
      ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
      ...(config.credentials ? { credentials: config.credentials } : {}),
      // checksums only where S3 requires them: S3-compatible servers do not all know the newer ones
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  async put(key: string, data: Buffer, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.config.bucket,
        Key: checkKey(key),
        Body: data,
        ContentType: contentType,
        ContentLength: data.length,
        CacheControl: 'public, max-age=31536000, immutable',
      }),
    );
  }

  async remove(keys: string[]): Promise<void> {
    // one request per key: DeleteObjects needs a Content-MD5 that not every S3-compatible server checks alike
    await Promise.all(keys.map((key) => this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: checkKey(key) }))));
  }

  async bytes(key: string): Promise<Buffer | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: checkKey(key) }));
      return out.Body ? Buffer.from(await out.Body.transformToByteArray()) : null;
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey' || (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404)) return null;
      throw e;
    }
  }

  async read(key: string, req: IncomingMessage): Promise<StoredRead | null> {
    const range = typeof req.headers.range === 'string' && /^bytes=\d*-\d*$/.test(req.headers.range.trim()) ? req.headers.range.trim() : undefined;
    const ifNoneMatch = typeof req.headers['if-none-match'] === 'string' ? req.headers['if-none-match'] : undefined;
    const input = { Bucket: this.config.bucket, Key: checkKey(key), Range: range, IfNoneMatch: ifNoneMatch };
    try {
      const out = req.method === 'HEAD' ? await this.client.send(new HeadObjectCommand(input)) : await this.client.send(new GetObjectCommand(input));
      const headers: Record<string, string> = { 'accept-ranges': 'bytes' };
      if (out.ETag) headers.etag = out.ETag;
      if (out.LastModified) headers['last-modified'] = out.LastModified.toUTCString();
      if (out.ContentLength !== undefined) headers['content-length'] = String(out.ContentLength);
      if (out.ContentRange) headers['content-range'] = out.ContentRange;
      const body = 'Body' in out && out.Body ? (out.Body as Readable) : null;
      return { statusCode: out.ContentRange && range ? 206 : 200, headers, body };
    } catch (e) {
      const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
      if (status === 404 || (e as Error).name === 'NoSuchKey' || (e as Error).name === 'NotFound') return null;
      if (status === 304) return { statusCode: 304, headers: ifNoneMatch ? { etag: ifNoneMatch.split(',')[0].trim() } : {}, body: null };
      if (status === 416) {
        const head = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }));
        return { statusCode: 416, headers: { 'content-range': `bytes */${head.ContentLength ?? 0}` }, body: null };
      }
      throw e;
    }
  }
}
