// One Bluesky session for the whole site, kept in the database.
//
// createSession is limited to 30 per 5 minutes and 300 per day, and accounts that log
// in per post get locked out: so Inkwell logs in once, stores the session (access and
// refresh JWTs; never the password) in `announcement_networks`, and every process and
// every restart reuses it. An expired access token is refreshed (refreshSession with the
// refresh JWT); only when the refresh token is refused too does it log in again.
//
// Several processes: before refreshing, a process rereads the stored session; if
// another process already refreshed, it takes that one. Two processes refreshing at
// the same instant both succeed (the PDS answers a reused refresh token with the same
// next session during a grace period), and the last write wins.
import { createHash } from 'node:crypto';
import { Agent, XRPCError } from '@atproto/api';
import type { BlueskyCredentials } from '../../config.ts';

export interface StoredSession {
  did: string;
  handle: string;
  accessJwt: string;
  refreshJwt: string;
  /** which credentials made it: other credentials log in afresh */
  credentials: string;
}

export interface SessionStore {
  load(): Promise<string | null>;
  save(json: string | null): Promise<void>;
}

export function blueskyFingerprint(credentials: BlueskyCredentials | undefined): string {
  if (!credentials) return 'none';
  const { service, handle, appPassword } = credentials;
  return createHash('sha256').update(JSON.stringify([service, handle.toLowerCase(), appPassword])).digest('hex').slice(0, 16);
}

function parse(json: string | null): StoredSession | null {
  if (!json) return null;
  try {
    const s = JSON.parse(json) as Partial<StoredSession>;
    return s.did && s.accessJwt && s.refreshJwt && s.credentials ? (s as StoredSession) : null;
  } catch {
    return null;
  }
}

/** A 400 ExpiredToken (or a 401 naming an expired or invalid token): the access JWT needs a refresh. */
async function isExpired(res: Response): Promise<boolean> {
  if (res.status !== 400 && res.status !== 401) return false;
  try {
    const body = (await res.clone().json()) as { error?: string };
    return body.error === 'ExpiredToken' || body.error === 'InvalidToken';
  } catch {
    return false;
  }
}

/** The refresh token itself was refused: log in again. */
const refreshRefused = (e: unknown) =>
  e instanceof XRPCError && (e.status === 400 || e.status === 401) && ['ExpiredToken', 'InvalidToken', 'AuthenticationRequired', 'AuthMissing'].includes(e.error ?? '');

/** An @atproto/api session manager (`new Agent(session)`): `did` and `fetchHandler`. */
export class BlueskySession {
  private session: StoredSession | undefined;
  private pending: Promise<StoredSession> | undefined;
  private readonly fingerprint: string;
  /** unauthenticated: createSession and refreshSession set their own Authorization */
  private readonly server: Agent;

  constructor(
    private readonly credentials: BlueskyCredentials,
    private readonly store: SessionStore,
    private readonly requestTimeoutMs: number,
  ) {
    this.fingerprint = blueskyFingerprint(credentials);
    this.server = new Agent((url, init) => this.fetch(new Request(new URL(url, this.credentials.service), init)));
  }

  get did(): string | undefined {
    return this.session?.did;
  }

  get handle(): string {
    return this.session?.handle ?? this.credentials.handle;
  }

  /** The session to use: this process's, else the stored one, else a login. */
  async current(): Promise<StoredSession> {
    if (this.session) return this.session;
    return this.once(async () => {
      if (this.session) return this.session;
      const stored = parse(await this.store.load());
      if (stored && stored.credentials === this.fingerprint) return (this.session = stored);
      return this.login();
    });
  }

  /** SessionManager: every XRPC call of the agent comes through here with the access token; an expired one is renewed once. */
  async fetchHandler(url: string, init: RequestInit): Promise<Response> {
    const s = await this.current();
    const res = await this.send(url, init, s.accessJwt);
    if (!(await isExpired(res))) return res;
    await res.body?.cancel();
    const fresh = await this.renew(s.accessJwt);
    return this.send(url, init, fresh.accessJwt);
  }

  private send(url: string, init: RequestInit, token: string): Promise<Response> {
    const req = new Request(new URL(url, this.credentials.service), init);
    req.headers.set('authorization', `Bearer ${token}`);
    return this.fetch(req);
  }

  private fetch(req: Request): Promise<Response> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    return fetch(req, { signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout });
  }

  /** A new access token: another process's (if it refreshed already), a refreshed one, or a login. */
  private renew(staleAccessJwt: string): Promise<StoredSession> {
    return this.once(async () => {
      if (this.session && this.session.accessJwt !== staleAccessJwt) return this.session;
      const stored = parse(await this.store.load());
      if (stored && stored.credentials === this.fingerprint && stored.accessJwt !== staleAccessJwt) return (this.session = stored);
      const base = this.session ?? stored;
      if (base && base.credentials === this.fingerprint) {
        try {
          const res = await this.server.com.atproto.server.refreshSession(undefined, { headers: { authorization: `Bearer ${base.refreshJwt}` } });
          return this.keep(res.data);
        } catch (e) {
          if (!refreshRefused(e)) throw e;
        }
      }
      return this.login();
    });
  }

  private async login(): Promise<StoredSession> {
    const res = await this.server.com.atproto.server.createSession({ identifier: this.credentials.handle, password: this.credentials.appPassword });
    return this.keep(res.data);
  }

  private async keep(data: { did: string; handle: string; accessJwt: string; refreshJwt: string }): Promise<StoredSession> {
    const s: StoredSession = { did: data.did, handle: data.handle, accessJwt: data.accessJwt, refreshJwt: data.refreshJwt, credentials: this.fingerprint };
    await this.store.save(JSON.stringify(s));
    this.session = s;
    return s;
  }

  /** One session operation at a time in this process (two posts never log in twice). */
  private once(op: () => Promise<StoredSession>): Promise<StoredSession> {
    const run = (this.pending ?? Promise.resolve()).catch(() => undefined).then(op);
    this.pending = run;
    void run.finally(() => {
      if (this.pending === run) this.pending = undefined;
    }).catch(() => {});
    return run;
  }
}
