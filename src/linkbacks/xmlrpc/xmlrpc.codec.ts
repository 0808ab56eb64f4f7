// The XML-RPC wire format, shared by pingback/ (receiving) and outgoing/ (sending pings):
// one folder of its own, so neither protocol folder imports the other.
// XML-RPC in and out, with the `xmlrpc` package's serializer and deserializer (not its
// server, which answers parse errors with an empty 404 and has no body limit).
// Hardening around it, for input anyone can send:
// - DOCTYPE and entity declarations are refused before parsing (sax would not expand them,
//   but a pingback never needs them, and IXR refuses them too);
// - the number of elements is capped, so a 64 KB body cannot become a huge tree;
// - one fresh Deserializer per message (it keeps state) and a once-guard on its callback;
// - every string we serialize is stripped of characters XML 1.0 cannot carry, because
//   the serializer throws on them (a control character in a page title would otherwise
//   turn an answer into a crash).
import { Readable } from 'node:stream';
import Deserializer from 'xmlrpc/lib/deserializer.js';
import { serializeFault, serializeMethodCall, serializeMethodResponse } from 'xmlrpc/lib/serializer.js';

/** Fault codes: the XML-RPC interop ones and Pingback 1.0's. */
export const FAULT = {
  generic: 0,
  sourceNotFound: 0x10,
  noLinkToTarget: 0x11,
  targetNotFound: 0x20,
  targetInvalid: 0x21,
  alreadyRegistered: 0x30,
  accessDenied: 0x31,
  upstream: 0x32,
  parseError: -32700,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
} as const;

export class XmlRpcFault extends Error {
  override name = 'XmlRpcFault';
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(faultString);
  }
}

export interface MethodCall {
  methodName: string;
  params: unknown[];
}

/** More than this many elements is not a pingback, whatever else it is. */
export const MAX_ELEMENTS = 1000;

// everything XML 1.0 allows, as code points (lone surrogates are not)
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text safe to put in an XML document, at most `max` characters. */
export function xmlSafe(s: string, max = 1000): string {
  const clean = s.replace(NOT_XML_CHAR, '');
  return clean.length > max ? clean.slice(0, max) + '…' : clean;
}

/** Reads a methodCall; anything else is fault -32700. */
export function parseMethodCall(xml: string): Promise<MethodCall> {
  if (!xml.trim()) return Promise.reject(new XmlRpcFault(FAULT.parseError, 'parse error: empty request body'));
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return Promise.reject(new XmlRpcFault(FAULT.parseError, 'parse error: DOCTYPE and entity declarations are not accepted'));
  let elements = 0;
  for (let i = xml.indexOf('<'); i !== -1; i = xml.indexOf('<', i + 1)) {
    if (++elements > 2 * MAX_ELEMENTS) return Promise.reject(new XmlRpcFault(FAULT.parseError, 'parse error: too many elements'));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const once = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    try {
      new Deserializer().deserializeMethodCall(Readable.from([xml]), (err, methodName, params) =>
        once(() => {
          if (err || typeof methodName !== 'string') {
            reject(new XmlRpcFault(FAULT.parseError, `parse error: ${xmlSafe(err?.message ?? 'not a method call', 200)}`));
          } else resolve({ methodName: methodName.trim(), params: params ?? [] });
        }),
      );
    } catch (e) {
      once(() => reject(new XmlRpcFault(FAULT.parseError, `parse error: ${xmlSafe((e as Error).message, 200)}`)));
    }
  });
}

/** A methodResponse carrying `value` (strings and arrays of strings are all we answer). */
export function responseXml(value: string | string[]): string {
  const safe = Array.isArray(value) ? value.map((v) => xmlSafe(v, 2000)) : xmlSafe(value, 2000);
  return serializeMethodResponse(safe);
}

/** A fault methodResponse. Never throws. */
export function faultXml(faultCode: number, faultString: string): string {
  try {
    return serializeFault({ faultCode, faultString: xmlSafe(faultString, 500) });
  } catch {
    return serializeFault({ faultCode: FAULT.internal, faultString: 'internal error' });
  }
}

/** A methodCall, for sending pingbacks. */
export function methodCallXml(methodName: string, params: string[]): string {
  return serializeMethodCall(methodName, params.map((p) => xmlSafe(p, 4000)));
}

/** Reads a methodResponse: resolves with its value, rejects with an XmlRpcFault (a fault, or -32700 when unreadable). */
export function parseMethodResponse(xml: string): Promise<unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return Promise.reject(new XmlRpcFault(FAULT.parseError, 'the answer has a DOCTYPE'));
  return new Promise((resolve, reject) => {
    let settled = false;
    try {
      new Deserializer().deserializeMethodResponse(Readable.from([xml]), (err, value) => {
        if (settled) return;
        settled = true;
        if (!err) return resolve(value);
        if (typeof err.faultCode === 'number') return reject(new XmlRpcFault(err.faultCode, xmlSafe(String(err.faultString ?? ''), 500)));
        reject(new XmlRpcFault(FAULT.parseError, `unreadable answer: ${xmlSafe(err.message, 200)}`));
      });
    } catch (e) {
      if (!settled) {
        settled = true;
        reject(new XmlRpcFault(FAULT.parseError, `unreadable answer: ${(e as Error).message}`));
      }
    }
  });
}

/** Exactly `count` string parameters, trimmed (senders pad them); otherwise fault -32602. */
export function stringParams(params: unknown[], count: number, names: string[]): string[] {
  if (params.length !== count || !params.every((p) => typeof p === 'string')) {
    throw new XmlRpcFault(FAULT.invalidParams, `invalid parameters: expected ${count} string${count === 1 ? '' : 's'} (${names.join(', ')})`);
  }
  return (params as string[]).map((p) => p.trim());
}
