// The media library's admin routes (under /v1/admin) and the public files (/media/…).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { notFound } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';
import { CONTENT_TYPES } from './images.ts';
import { FileParams, ListMediaQuery, MediaIdParam, UpdateMediaBody, UploadBody } from './media.schemas.ts';
import type { MediaService } from './media.service.ts';
import type { MediaFormat } from './media.table.ts';
import { receiveUpload } from './upload.ts';

/** Content-addressed: a URL's bytes never change. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

export const mediaAdminRoutes: FastifyPluginAsyncTypebox<{ media: MediaService; maxBytes: number }> = async (app, { media, maxBytes }) => {
  const security = [{ bearerAuth: [] }];
  const one = Type.Ref('Media');

  app.post(
    '/media',
    {
      schema: {
        tags: ['admin', 'media'],
        summary: 'Upload an image',
        description:
          '`multipart/form-data` with the image in `file` and, optionally, `alt`. JPEG, PNG, WebP, AVIF and GIF are accepted, recognised by their bytes (not their name or declared type); anything else (SVG included: it can carry scripts) is 415. ' +
          'More than MEDIA_MAX_BYTES (20 MB by default) is 413, and so is an image over 40 megapixels, refused from its header before it is decoded. A file that does not decode (truncated, corrupt) is 400. ' +
          'EXIF, GPS and every other metadata are stripped; the orientation is applied. The answer lists the variants (WebP, AVIF and the original format at 320–1920 px). ' +
          'Uploading the same bytes again answers 200 with the existing image.',
        security,
        consumes: ['multipart/form-data'],
        body: UploadBody,
        response: { 201: one, 200: one, ...problems(400, 401, 413, 415, 503) },
      },
      // the body is a stream read by the handler; UploadBody only documents it
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      const upload = await receiveUpload(req, maxBytes);
      try {
        const { media: item, created } = await media.create(upload);
        return reply.code(created ? 201 : 200).header('location', `/v1/admin/media/${item.id}`).send(item);
      } finally {
        await upload.dispose();
      }
    },
  );

  app.get(
    '/media',
    {
      schema: {
        tags: ['admin', 'media'],
        summary: 'List the media library',
        description: 'Newest first.',
        security,
        querystring: ListMediaQuery,
        response: { 200: Type.Object({ data: Type.Array(one), meta: Type.Ref('PaginationMeta') }), ...problems(400, 401) },
      },
    },
    async (req, reply) => {
      const list = await media.list(req.query);
      reply.header('x-total-count', String(list.meta.pagination.total));
      return list;
    },
  );

  app.get(
    '/media/:id',
    { schema: { tags: ['admin', 'media'], summary: 'Get an image of the library', security, params: MediaIdParam, response: { 200: one, ...problems(401, 404) } } },
    async (req) => media.get(req.params.id),
  );

  app.patch(
    '/media/:id',
    {
      schema: {
        tags: ['admin', 'media'],
        summary: 'Change an image’s alt text',
        description: 'Articles showing it as their feature image show the new text at once.',
        security,
        params: MediaIdParam,
        body: UpdateMediaBody,
        response: { 200: one, ...problems(400, 401, 404) },
      },
    },
    async (req) => media.updateAlt(req.params.id, req.body.alt.replace(/\s+/g, ' ').trim()),
  );

  app.delete(
    '/media/:id',
    {
      schema: {
        tags: ['admin', 'media'],
        summary: 'Delete an image and its files',
        description: '409 while an article (in any status) uses it, as its feature image or inside its HTML; the problem names the articles.',
        security,
        params: MediaIdParam,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(401, 404, 409) },
      },
    },
    async (req, reply) => {
      await media.remove(req.params.id);
      return reply.code(204).send(null);
    },
  );
};

/** GET and HEAD of the files, from the folder or the bucket. */
export const mediaFileRoutes: FastifyPluginAsyncTypebox<{ media: MediaService }> = async (app, { media }) => {
  app.get(
    '/media/:hash/:file',
    {
      schema: {
        tags: ['media'],
        summary: 'An image file',
        description:
          'Content-addressed and immutable: `Cache-Control: public, max-age=31536000, immutable`, an `ETag`, `If-None-Match` (304) and single byte ranges (`Range: bytes=0-1023` → 206).',
        params: FileParams,
        headers: Type.Object({ range: Type.Optional(Type.String({ maxLength: 200, description: 'One byte range' })) }),
        response: {
          200: Type.String({ format: 'binary', description: 'The image' }),
          206: Type.String({ format: 'binary', description: 'The requested range' }),
          304: Type.Null({ description: 'Not modified' }),
          416: Type.Null({ description: 'The range is outside the file' }),
          ...problems(400, 404),
        },
      },
    },
    async (req, reply) => {
      const found = await media.read(req.params.hash, req.params.file, req.raw);
      if (!found) throw notFound(`The image ${req.url}`);
      const format = req.params.file.split('.')[1] as MediaFormat;
      // the body is bytes from the store, not a serialised schema: the reply is typed loosely here
      const raw = reply as unknown as FastifyReply;
      raw.code(found.statusCode).headers(found.headers).header('cache-control', found.statusCode === 416 ? 'no-store' : IMMUTABLE);
      if (found.statusCode === 200 || found.statusCode === 206) raw.type(CONTENT_TYPES[format]);
      // HEAD: an empty stream keeps the file's Content-Length (Fastify writes 0 for no body)
      return raw.send(found.body ?? (req.method === 'HEAD' && found.statusCode !== 304 ? Readable.from([]) : undefined));
    },
  );
};
