// An answer whose JSON was made ahead of the reply, through the route's own response
// schema (the article read cache keeps each article serialised once per version), as
// UTF-8 bytes: sent as is, with the content type Fastify gives JSON, and through every onSend hook
// (ETag, the response cache, compression) like any other answer.
import type { FastifyReply } from 'fastify';

export function sendSerialized(reply: FastifyReply, json: Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
