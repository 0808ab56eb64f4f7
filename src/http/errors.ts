// One closed list of error codes, rendered in one place as RFC 9457 problem+json.
// Domain code throws `AppError`; the renderer in problem.plugin.ts does the rest.

export const PROBLEMS = {
  'bad-request': { status: 400, title: 'Bad request' },
  validation: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  gone: { status: 410, title: 'Gone' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'precondition-required': { status: 428, title: 'Precondition required' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
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
