// Bodies as clients actually send them. Generic fetch wrappers send
// `Content-Type: application/json` with an empty body on a bodyless POST (`…/publish`):
// that is "no body", not a JSON syntax error. Anything else goes to Fastify's own JSON
// parser, with its prototype-poisoning protection.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

export default fp(
  async function bodyParsers(app: FastifyInstance) {
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
      json(req, body as string, done);
    });
  },
  { name: 'body-parsers' },
);
