import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, codeForStatus, problemBody, PROBLEMS, type FieldError, type ProblemCode } from './errors.ts';
import { anyCause } from '../lib/errors.ts';

const CONTEXT_PREFIX: Record<string, string> = { body: '/body', querystring: '/query', params: '/path', headers: '/headers' };

/** Sends a problem+json answer; used by the error and not-found handlers and by hand. */
export function sendProblem(reply: FastifyReply, code: ProblemCode, detail: string, extra: Record<string, unknown> = {}) {
  const body = problemBody(code, detail, { instance: reply.request.url, requestId: String(reply.request.id), ...extra });
  // the route's response schema may not know this status: serialise ourselves
  return reply
    .code(PROBLEMS[code].status)
    .type('application/problem+json; charset=utf-8')
    .header('cache-control', 'no-store')
    .serializer(JSON.stringify)
    .send(body);
}

function validationErrors(err: FastifyError): FieldError[] {
  const prefix = CONTEXT_PREFIX[err.validationContext ?? 'body'] ?? '';
  return (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    let pointer = `${prefix}${v.instancePath}`;
    let message = v.message ?? 'is invalid';
    if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      pointer = `${pointer}/${params.additionalProperty}`;
      message = 'is not a known parameter';
    } else if (v.keyword === 'required' && typeof params.missingProperty === 'string') {
      pointer = `${pointer}/${params.missingProperty}`;
      message = 'is required';
    }
    return { pointer, message };
  });
}

export default fp(
  async function problemPlugin(app: FastifyInstance) {
    app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) =>
      sendProblem(reply, 'not-found', `No route for ${req.method} ${req.url.split('?')[0]}.`),
    );

    app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      if (err instanceof AppError) {
        for (const [k, v] of Object.entries(err.extras.headers ?? {})) reply.header(k, v);
        const { headers: _h, ...rest } = err.extras;
        return sendProblem(reply, err.code, err.detail, rest);
      }
      if (err.validation) {
        const errors = validationErrors(err);
        const detail = errors.map((e) => `${e.pointer} ${e.message}`).join('; ');
        return sendProblem(reply, 'validation', detail || 'The request is invalid.', { errors });
      }
      const status = err.statusCode ?? 500;
      if (status === 429) return sendProblem(reply, 'too-many-requests', err.message);
      if (status >= 400 && status < 500) {
        // Fastify's own client errors (bad JSON, body too large, bad content type…): their messages are safe
        const code = codeForStatus(status);
        const detail =
          err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? 'The request body is larger than this endpoint accepts.'
            : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
              ? `Content-Type ${req.headers['content-type'] ?? '(none)'} is not accepted here.`
              : err.message;
        return sendProblem(reply, code, detail);
      }
      if (isDatabaseUnavailable(err)) {
        req.log.error({ err }, 'database unavailable');
        reply.header('retry-after', '5');
        return sendProblem(reply, 'unavailable', 'The database is not reachable right now; try again shortly.');
      }
      req.log.error({ err }, 'unhandled error');
      return sendProblem(reply, 'internal', 'Something went wrong on our side. The request id identifies it in our logs.');
    });
  },
  { name: 'problem' },
);

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '57P01', '57P02', '57P03', '08006', '08001', '08003', '57014']);

function isDatabaseUnavailable(err: unknown): boolean {
  return anyCause(err, (e) => {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && UNAVAILABLE_CODES.has(code);
  });
}
