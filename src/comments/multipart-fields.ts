// `fetch(url, { method: 'POST', body: new FormData(form) })` sends multipart/form-data. The
// comment endpoint reads such a body's text fields as it reads a form's, so that the route's
// schema validates them like any other body; a file part is refused (a comment has none).
// @fastify/multipart is registered once at the root (app.ts), without attachFieldsToBody.
import type { FastifyRequest } from 'fastify';
import { AppError } from '../http/errors.ts';

/** preValidation: a multipart body's text fields become `req.body` (a repeated name, a list, as forms give). */
export async function multipartFieldsAsBody(req: FastifyRequest): Promise<void> {
  if (!req.isMultipart()) return;
  const body: Record<string, string | string[]> = Object.create(null);
  try {
    for await (const part of req.parts({ limits: { fields: 10, files: 1, fieldSize: 64 * 1024 } })) {
      if (part.type === 'file') {
        part.file.resume();
        throw new AppError('unsupported-media-type', `A comment takes text fields only; the file in "${part.fieldname}" is not accepted here.`);
      }
      const value = typeof part.value === 'string' ? part.value : String(part.value);
      const had = body[part.fieldname];
      body[part.fieldname] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) throw err;
    // busboy's own parse errors (a missing boundary, a cut-off part) carry no status
    throw new AppError('bad-request', `The multipart/form-data body could not be read: ${(err as Error).message}`);
  }
  req.body = { ...body };
}
