// Sending one ping to a discovered endpoint, through the outbound guard (a page we link
// to chooses the endpoint, so the endpoint is as untrusted as any URL).
import { OutboundError, type Outbound } from '../../lib/outbound.ts';
import type { Endpoint } from '../verify/discovery.ts';
import { cleanLine } from '../../lib/html.ts';
import { FAULT, methodCallXml, parseMethodResponse, XmlRpcFault } from '../xmlrpc/xmlrpc.codec.ts';

export const SEND_TIMEOUT_MS = 10_000;

/** Why a send did not succeed; `transient` ones are retried with backoff. */
export class SendError extends Error {
  override name = 'SendError';
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** An OutboundError as a SendError: the network may come back, a forbidden or malformed URL will not. */
export function sendErrorFrom(e: unknown, what: string): SendError {
  if (e instanceof SendError) return e;
  if (e instanceof OutboundError) {
    const transient = e.code === 'network' || e.code === 'timeout' || e.code === 'aborted';
    const why = e.code === 'forbidden-address' ? 'its address is not public' : e.code === 'invalid-url' ? `the URL is not acceptable (${e.message})` : e.message;
    return new SendError(`${what}: ${why}`, transient);
  }
  throw e;
}

const transientStatus = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

/** What the other side accepted, for the admin list. */
export interface SendResult {
  result: string;
}

export async function sendPing(outbound: Outbound, endpoint: Endpoint, source: string, target: string, signal?: AbortSignal): Promise<SendResult> {
  return endpoint.protocol === 'webmention' ? sendWebmention(outbound, endpoint.url, source, target, signal) : sendPingback(outbound, endpoint.url, source, target, signal);
}

/** Webmention §3.1.3: a form POST; any 2xx is success (201/202 may name a status URL). */
async function sendWebmention(outbound: Outbound, endpoint: string, source: string, target: string, signal?: AbortSignal): Promise<SendResult> {
  let res;
  try {
    res = await outbound.fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      // the endpoint's own query string stays in its URL; the body carries only ours
      body: new URLSearchParams({ source, target }).toString(),
      accept: ['text/*', 'application/json', 'application/problem+json'],
      maxBytes: 64 * 1024,
      timeoutMs: SEND_TIMEOUT_MS,
      signal,
    });
  } catch (e) {
    throw sendErrorFrom(e, 'the Webmention endpoint could not be reached');
  }
  if (res.status >= 200 && res.status < 300) {
    const location = res.headers.location?.[0];
    return { result: `${res.status}${location ? ` (status: ${location})` : ''}` };
  }
  const said = cleanLine(res.body, 200);
  throw new SendError(`the Webmention endpoint answered ${res.status}${said ? `: ${said}` : ''}`, transientStatus(res.status));
}

/** Pingback 1.0: an XML-RPC call; a success string or fault 48 ("already registered") both mean done. */
async function sendPingback(outbound: Outbound, endpoint: string, source: string, target: string, signal?: AbortSignal): Promise<SendResult> {
  let res;
  try {
    res = await outbound.fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: methodCallXml('pingback.ping', [source, target]),
      accept: ['text/*', 'application/xml'],
      maxBytes: 64 * 1024,
      timeoutMs: SEND_TIMEOUT_MS,
      signal,
    });
  } catch (e) {
    throw sendErrorFrom(e, 'the pingback endpoint could not be reached');
  }
  if (res.status !== 200) throw new SendError(`the pingback endpoint answered HTTP ${res.status}`, transientStatus(res.status));
  try {
    const value = await parseMethodResponse(res.body);
    return { result: cleanLine(typeof value === 'string' ? value : JSON.stringify(value) ?? '', 300) || 'ok' };
  } catch (e) {
    if (!(e instanceof XmlRpcFault)) throw e;
    if (e.faultCode === FAULT.alreadyRegistered) return { result: `already registered (fault 48)${e.faultString ? `: ${cleanLine(e.faultString, 200)}` : ''}` };
    throw new SendError(`the pingback was refused: fault ${e.faultCode}${e.faultString ? ` ${cleanLine(e.faultString, 200)}` : ''}`, transientFault(e.faultCode));
  }
}

/**
 * Faults worth another try: 0 (WordPress answers every failure with a bare 0, including
 * "could not fetch your page yet"), 0x10 (our page not visible there yet), 0x31 (rate
 * limited) and 0x32 (their upstream). The rest (no link, no such target, no such
 * method, unreadable) will not change by waiting.
 */
function transientFault(code: number): boolean {
  return code === FAULT.generic || code === FAULT.sourceNotFound || code === FAULT.accessDenied || code === FAULT.upstream;
}
