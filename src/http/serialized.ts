// An answer whose JSON was made ahead of the reply, through the route's own response
// schema (the article read cache keeps each article serialised once per version), as
// UTF-8 bytes, with its gzip when that was stitched from pieces deflated ahead too
// (cache/stitched-gzip.ts): sent as is, with the content type Fastify gives JSON, and
// through every onSend hook (ETag, the response cache, compression) like any other answer.
import type { FastifyReply } from 'fastify';
import { offerEncoded } from './cache/encodings.ts';

export interface Serialized {
  json: Buffer;
  /** the same bytes gzipped, made when a client takes them */
  gzip?: () => Promise<Buffer>;
}

export function sendSerialized(reply: FastifyReply, body: Serialized): FastifyReply {
  if (body.gzip) offerEncoded(reply, body.json, { coding: 'gzip', make: body.gzip });
  return reply.type('application/json; charset=utf-8').send(body.json);
}
