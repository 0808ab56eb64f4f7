// POST /xmlrpc (and /xmlrpc.php, where WordPress-minded clients look): the XML-RPC
// endpoint, with exactly three methods. Everything this scope answers is HTTP 200
// `text/xml`: faults included, rate limiting included (fault 0x31 with Retry-After),
// and the errors Fastify raises itself (body too large, bad content type) are turned into
// faults too, because XML-RPC clients (WordPress's IXR, Python's xmlrpc.client) only read
// faults from a 200 and report anything else as a transport failure.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LinkbackLimits } from '../verify/limits.ts';
import type { PingbackService } from './pingback.service.ts';
import { FAULT, faultXml, parseMethodCall, responseXml, stringParams, XmlRpcFault } from '../xmlrpc/xmlrpc.codec.ts';

/** A pingback call is under 1 KB; this leaves room for verbose clients and nothing else. */
export const XMLRPC_BODY_LIMIT = 64 * 1024;

const METHODS = ['pingback.ping', 'pingback.extensions.getPingbacks', 'system.listMethods'] as const;

export interface XmlRpcOptions {
  pingback: PingbackService;
  limits: LinkbackLimits;
}

const sendXml = (reply: FastifyReply, xml: string) => reply.code(200).type('text/xml; charset=utf-8').header('cache-control', 'no-store').send(xml);

export async function xmlrpcRoutes(app: FastifyInstance, { pingback, limits }: XmlRpcOptions): Promise<void> {
  // In this scope a form-encoded body is XML too: widely used senders post their XML
  // with that content type. The catch-all lets a missing or odd content type reach the
  // parser, which answers -32700 when it is not XML-RPC.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: XMLRPC_BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendXml(reply, faultXml(FAULT.parseError, `parse error: the request is larger than ${XMLRPC_BODY_LIMIT} bytes`));
    if ((err.statusCode ?? 500) < 500) return sendXml(reply, faultXml(FAULT.parseError, 'parse error: the request could not be read'));
    req.log.error({ err }, 'xmlrpc: unexpected failure');
    return sendXml(reply, faultXml(FAULT.internal, 'internal error'));
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const allowed = await limits.client(req, reply);
    if (!allowed.allowed) {
      reply.header('retry-after', String(allowed.retryAfter));
      return sendXml(reply, faultXml(FAULT.accessDenied, `access denied: too many requests; retry in ${allowed.retryAfter} s`));
    }
    try {
      const call = await parseMethodCall(typeof req.body === 'string' ? req.body : '');
      const value = await dispatch(call.methodName, call.params, req, reply);
      return sendXml(reply, responseXml(value));
    } catch (e) {
      if (e instanceof XmlRpcFault) return sendXml(reply, faultXml(e.faultCode, e.faultString));
      throw e;
    }
  };

  const dispatch = async (method: string, params: unknown[], req: FastifyRequest, reply: FastifyReply): Promise<string | string[]> => {
    switch (method) {
      case 'pingback.ping': {
        const [source, target] = stringParams(params, 2, ['sourceURI', 'targetURI']);
        return pingback.ping(source, target, { ip: req.ip, userAgent: req.headers['user-agent'] }, {
          admitTarget: async (articleId) => {
            const v = await limits.target(req, articleId);
            if (v.allowed) return;
            reply.header('retry-after', String(v.retryAfter));
            throw new XmlRpcFault(FAULT.accessDenied, `access denied: too many pingbacks for this article; retry in ${v.retryAfter} s`);
          },
        });
      }
      case 'pingback.extensions.getPingbacks': {
        const [url] = stringParams(params, 1, ['url']);
        return pingback.getPingbacks(url);
      }
      case 'system.listMethods':
        if (params.length) throw new XmlRpcFault(FAULT.invalidParams, 'invalid parameters: system.listMethods takes none');
        return [...METHODS];
      default:
        throw new XmlRpcFault(FAULT.methodNotFound, `server error: requested method ${method} does not exist`);
    }
  };

  for (const url of ['/xmlrpc', '/xmlrpc.php']) {
    // hidden from the OpenAPI document: it is XML-RPC, not REST (README documents it)
    app.post(url, { schema: { hide: true }, bodyLimit: XMLRPC_BODY_LIMIT }, handler);
  }
}
