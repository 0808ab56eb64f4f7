// @types/xmlrpc declares only the package's client and server; the codec we use lives in
// these two files of the same package (deep imports work: it has no `exports` map).
declare module 'xmlrpc/lib/serializer.js' {
  export function serializeMethodCall(method: string, params?: unknown[], encoding?: string): string;
  export function serializeMethodResponse(value: unknown): string;
  export function serializeFault(fault: { faultCode: number; faultString: string }): string;
}
declare module 'xmlrpc/lib/deserializer.js' {
  import type { Readable } from 'node:stream';
  class Deserializer {
    constructor(encoding?: string);
    deserializeMethodCall(s: Readable, cb: (err: Error | null | undefined, methodName?: string, params?: unknown[]) => void): void;
    deserializeMethodResponse(s: Readable, cb: (err: (Error & { faultCode?: unknown; faultString?: unknown }) | null | undefined, value?: unknown) => void): void;
  }
  export = Deserializer;
}
