#!/usr/bin/env python3
"""An independent XML-RPC sender: Python's standard xmlrpc.client.

Usage: xmlrpc_sender.py URL  (reads a JSON list of [method, [params...]] on stdin)
Prints a JSON list with one object per call, in order:
  {"ok": value} | {"fault": {"code": int, "string": str}} | {"protocol_error": {"status": int}} | {"error": str}
The pseudo-method "__raw__" with params [body, content_type] posts the body as is (for
malformed and hostile requests) and decodes the answer with xmlrpc.client.loads, adding
"status" and "content_type" to the result.
"""
import json
import sys
import urllib.error
import urllib.request
import xmlrpc.client


def raw(url: str, body: str, content_type: str) -> dict:
    req = urllib.request.Request(url, data=body.encode("utf-8", "surrogatepass"), method="POST",
                                 headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            data, status, ctype = res.read(), res.status, res.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return {"protocol_error": {"status": e.code}}
    meta = {"status": status, "content_type": ctype}
    try:
        (value,), _ = xmlrpc.client.loads(data)
        return {"ok": value, **meta}
    except xmlrpc.client.Fault as f:
        return {"fault": {"code": f.faultCode, "string": f.faultString}, **meta}


def main() -> None:
    url = sys.argv[1]
    calls = json.load(sys.stdin)
    proxy = xmlrpc.client.ServerProxy(url)
    out = []
    for method, params in calls:
        if method == "__raw__":
            try:
                out.append(raw(url, params[0], params[1]))
            except Exception as e:
                out.append({"error": f"{type(e).__name__}: {e}"})
            continue
        try:
            value = getattr(proxy, method)(*params)
            out.append({"ok": value})
        except xmlrpc.client.Fault as f:
            out.append({"fault": {"code": f.faultCode, "string": f.faultString}})
        except xmlrpc.client.ProtocolError as e:
            out.append({"protocol_error": {"status": e.errcode}})
        except Exception as e:  # anything else the client could not decode
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
