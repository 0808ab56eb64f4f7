import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { Type } from 'typebox';
import { AppError, codeForStatus, problemBody, problemType, PROBLEMS, type FieldError, type ProblemCode } from './errors.ts';
import { escapeHtml } from '../lib/html.ts';
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

/**
 * An annotation keyword for route schemas: the message a person reads when the value does
 * not match its `pattern` or `format`, instead of Ajv's "must match pattern …". Registered on
 * the route validator (app.ts); OpenAPI keeps it as an `x-` extension.
 */
export const ERROR_MESSAGE_KEYWORD = 'x-error';
type AjvPlugin = Extract<NonNullable<NonNullable<FastifyServerOptions['ajv']>['plugins']>[number], (...args: never[]) => unknown>;
export const errorMessageKeyword: AjvPlugin = (ajv) => ajv.addKeyword({ keyword: ERROR_MESSAGE_KEYWORD, schemaType: 'string' });

/** at most this many fields are listed in one answer */
const MAX_FIELD_ERRORS = 50;

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: Record<string, unknown>;
}

/** The field an Ajv error is about: `required` and `additionalProperties` name it in their params. */
function pointerOf(prefix: string, v: AjvError): string {
  const name = v.keyword === 'required' ? v.params.missingProperty : v.keyword === 'additionalProperties' ? v.params.additionalProperty : undefined;
  const at = `${prefix}${v.instancePath}`;
  return typeof name === 'string' ? `${at}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}` : at;
}

/** One sentence for all that is wrong with one field (Ajv reports a union or an enum as one error per branch). */
function messageFor(errors: AjvError[]): string {
  const allowed = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'const') allowed.add(String(e.params.allowedValue));
    if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) for (const a of e.params.allowedValues) allowed.add(String(a));
  }
  if (allowed.size) return `must be one of: ${[...allowed].join(', ')}`;
  const first = errors.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf') ?? errors[0];
  if (first.keyword === 'required') return 'is required';
  if (first.keyword === 'additionalProperties') return 'is not a known parameter';
  const custom = first.parentSchema?.[ERROR_MESSAGE_KEYWORD];
  if (typeof custom === 'string' && (first.keyword === 'pattern' || first.keyword === 'format')) return custom;
  const types = [...new Set(errors.filter((e) => e.keyword === 'type').map((e) => String(e.params.type)))];
  if (types.length > 1 && types.length === errors.filter((e) => e.keyword !== 'anyOf').length) return `must be ${types.join(' or ')}`;
  return first.message ?? 'is invalid';
}

/** Every invalid field once (Ajv runs with allErrors), in the order Ajv found them. */
function validationErrors(err: FastifyError): FieldError[] {
  const prefix = CONTEXT_PREFIX[err.validationContext ?? 'body'] ?? '';
  const byPointer = new Map<string, AjvError[]>();
  for (const v of (err.validation ?? []) as AjvError[]) {
    const pointer = pointerOf(prefix, v);
    const list = byPointer.get(pointer);
    if (list) list.push(v);
    else if (byPointer.size < MAX_FIELD_ERRORS) byPointer.set(pointer, [v]);
  }
  return [...byPointer].map(([pointer, list]) => ({ pointer, message: messageFor(list) }));
}

/** A short human page per problem type: where each `type` URI of this API leads. */
function problemPage(code: ProblemCode): string {
  const p = PROBLEMS[code];
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)} (${p.status}) · Inkwell API</title>
<h1>${escapeHtml(p.title)}</h1>
<p>HTTP status <strong>${p.status}</strong> · problem type <code>${escapeHtml(problemType(code))}</code></p>
<p>${escapeHtml(p.about)}</p>
<p>Every error of this API is <code>application/problem+json</code> (RFC 9457) with <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code> and <code>requestId</code>; see <a href="/docs">the API documentation</a>.</p>
</html>
`;
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

/** GET /problems/{code}: registered after the OpenAPI plugin (app.ts), so that the document describes it. */
export async function problemPages(app: FastifyInstance) {
  const codes = Object.keys(PROBLEMS) as ProblemCode[];
  app.get(
    '/problems/:code',
    {
      schema: {
        tags: ['site'],
        summary: 'What a problem type means',
        description: 'The `type` of every problem+json answer (`/problems/{code}`) leads here: a short page for people saying what the problem means and what to do.',
        params: Type.Object({ code: Type.Union(codes.map((c) => Type.Literal(c))) }),
        produces: ['text/html'],
        response: { 200: Type.String({ description: 'An HTML page' }), 400: Type.Ref('Problem') },
      },
    },
    async (req, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'public, max-age=86400')
        .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
        .send(problemPage((req.params as { code: ProblemCode }).code)),
  );
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '57P01', '57P02', '57P03', '08006', '08001', '08003', '57014']);

function isDatabaseUnavailable(err: unknown): boolean {
  return anyCause(err, (e) => {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && UNAVAILABLE_CODES.has(code);
  });
}
