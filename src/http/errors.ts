// One closed list of error codes, rendered in one place as RFC 9457 problem+json.
// Domain code throws `AppError`; the renderer in problem.plugin.ts does the rest.

export const PROBLEMS = {
  'bad-request': { status: 400, title: 'Bad request', about: 'The request could not be understood as sent: a malformed URL, body or header. The detail says what was wrong; fix the request before sending it again.' },
  validation: { status: 400, title: 'Invalid request', about: 'One or more fields are invalid. The errors array lists every one at once: its pointer names the field (/body/title, /query/limit…) and its message says what it accepts. Fix them and send the request again.' },
  unauthorized: { status: 401, title: 'Authentication required', about: 'This route needs an admin token as Authorization: Bearer <token>, and the one sent was missing, unknown, revoked or expired. Tokens come from npm run cli -- token create --name NAME.' },
  forbidden: { status: 403, title: 'Forbidden', about: 'The request is understood but not allowed: for example comments are closed on this article, or the token lacks the scope this route needs.' },
  'not-found': { status: 404, title: 'Not found', about: 'There is no such resource, or it is not public (a draft, a removed comment). Check the address; an article whose slug changed answers 301 to its new one.' },
  'method-not-allowed': { status: 405, title: 'Method not allowed', about: 'The resource exists but does not take this HTTP method.' },
  conflict: { status: 409, title: 'Conflict', about: 'The request conflicts with what is already there: a slug in use, the same comment posted twice. Change the request rather than repeating it.' },
  gone: { status: 410, title: 'Gone', about: 'The resource existed and was removed for good.' },
  'precondition-failed': { status: 412, title: 'Precondition failed', about: 'The If-Match ETag is stale: someone changed the resource since you read it. Read it again, reapply your change, and send it with the new ETag.' },
  'payload-too-large': { status: 413, title: 'Request body too large', about: 'The request body is larger than this endpoint accepts. Send less.' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type', about: 'The request body has a Content-Type this endpoint does not read. The OpenAPI document (/docs) lists the types each endpoint takes.' },
  'precondition-required': { status: 428, title: 'Precondition required', about: 'This write needs If-Match with the ETag you last read, so that it cannot overwrite someone else’s change unseen.' },
  'too-many-requests': { status: 429, title: 'Too many requests', about: 'Too many requests from your address in a short time. Retry-After says how many seconds to wait; retrying sooner only extends the wait.' },
  internal: { status: 500, title: 'Internal server error', about: 'Something failed on the server. Nothing you sent is to blame; the requestId identifies the failure in the server logs.' },
  unavailable: { status: 503, title: 'Service unavailable', about: 'The server cannot answer right now (its database is unreachable, or it is shutting down). Retry after the seconds Retry-After gives.' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  /** JSON pointer-ish location of the field: `/body/title`, `/query/limit` */
  pointer: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extras: { errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail);
    this.name = 'AppError';
    this.status = PROBLEMS[code].status;
  }
}

export const notFound = (what: string) => new AppError('not-found', `${what} was not found.`);

/** The `type` URI of a problem: documented under /problems/{code} of this API. */
export const problemType = (code: ProblemCode) => `/problems/${code}`;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  [k: string]: unknown;
}

export function problemBody(code: ProblemCode, detail: string, extra: Record<string, unknown> = {}): ProblemBody {
  const p = PROBLEMS[code];
  return { type: problemType(code), title: p.title, status: p.status, detail, ...extra };
}

export function codeForStatus(status: number): ProblemCode {
  for (const [code, p] of Object.entries(PROBLEMS)) if (p.status === status) return code as ProblemCode;
  return status >= 500 ? 'internal' : 'bad-request';
}
