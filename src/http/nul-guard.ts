// PostgreSQL cannot store NUL (U+0000) in text: a query that carries one fails inside the
// driver, which used to surface as a 500. NUL is stopped here, at the edge, for every route
// (SPEC §17): in the path a 404 (no resource has such a name), in the query a 400, in a
// parsed body (JSON, forms, multipart fields) a 400 naming each field that holds one.
// Numbers PostgreSQL cannot take are stopped the same way after validation: `page=1e309` or
// `{"parentId": 1e309}` parse to Infinity, which Ajv's integer and maximum checks let through
// when it coerces a string (its range checks skip non-finite values).
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AppError, type FieldError } from './errors.ts';

const NUL = '\u0000';
const ENCODED_NUL = /%00/;
/** deeper than any body a route accepts: not walked further (validation refuses those) */
const MAX_DEPTH = 8;

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1').replaceAll(NUL, '\\u0000');

function decoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The fields of parsed input holding a NUL or a number that is not finite, as pointers under `at`. */
function unstorable(value: unknown, at: string, found: FieldError[] = [], depth = 0): FieldError[] {
  if (typeof value === 'string') {
    if (value.includes(NUL)) found.push({ pointer: at, message: 'must not contain NUL characters (U+0000)' });
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) found.push({ pointer: at, message: 'must be a finite number' });
  } else if (value && typeof value === 'object' && depth < MAX_DEPTH && found.length < 50) {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes(NUL)) found.push({ pointer: `${at}/${escapePointer(k)}`, message: 'is a field name with a NUL character (U+0000)' });
      else unstorable(v, `${at}/${escapePointer(k)}`, found, depth + 1);
    }
  }
  return found;
}

export default fp(
  async function nulGuard(app: FastifyInstance) {
    app.addHook('onRequest', async (req) => {
      const url = req.url;
      if (!ENCODED_NUL.test(url) && !url.includes(NUL)) return;
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (ENCODED_NUL.test(path) || path.includes(NUL)) throw new AppError('not-found', 'No resource has a NUL byte (%00) in its address.');
      const errors: FieldError[] = [];
      for (const pair of url.slice(q + 1).split('&')) {
        if (!ENCODED_NUL.test(pair) && !pair.includes(NUL)) continue;
        const name = decoded(pair.split('=')[0]);
        errors.push({ pointer: `/query/${escapePointer(name)}`, message: 'must not contain NUL characters (%00)' });
      }
      throw new AppError('validation', errors.map((e) => `${e.pointer} ${e.message}`).join('; '), { errors });
    });
    // after validation (and after a route's own body parsing in preValidation): the input as the handler gets it
    app.addHook('preHandler', async (req) => {
      const errors = unstorable(req.query, '/query');
      unstorable(req.params, '/params', errors);
      if (req.body !== undefined && req.body !== null) unstorable(req.body, '/body', errors);
      if (errors.length) throw new AppError('validation', errors.map((e) => `${e.pointer} ${e.message}`).join('; '), { errors });
    });
  },
  { name: 'nul-guard' },
);
