#!/usr/bin/env python3
"""An independent remote blog for outgoing-ping tests, on Python's standard library only:
http.server serves fixture pages, xmlrpc.server's dispatcher answers pingback.ping on
/xmlrpc, and /webmention takes form posts.

Usage: remote_blog.py  (reads a JSON spec on stdin, prints "PORT <n>" once listening)
spec = {
  "pages": {"/path": {"status": 200, "headers": {"X-Pingback": "{origin}/xmlrpc"}, "body": "<html>…"}},
  "faults": {"/path": 48}     # pingback.ping answers this fault for a target with this path
}
"{origin}" in headers and bodies becomes http://127.0.0.1:<port>.
GET /__log answers every call received so far as JSON: {"pingbacks": [[source, target]…], "webmentions": [{…}]}.
"""
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xmlrpc.server import SimpleXMLRPCDispatcher

spec = json.load(sys.stdin)
log = {"pingbacks": [], "webmentions": []}
lock = threading.Lock()
dispatcher = SimpleXMLRPCDispatcher(allow_none=False, encoding="utf-8")


def ping(source, target):
    with lock:
        log["pingbacks"].append([source, target])
    code = spec.get("faults", {}).get(urllib.parse.urlsplit(target).path)
    if code is not None:
        raise __import__("xmlrpc.client").client.Fault(code, "refused by the fixture")
    return "Pingback from %s to %s registered." % (source, target)


dispatcher.register_function(ping, "pingback.ping")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status, headers, body):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        for k, v in headers.items():
            for one in v if isinstance(v, list) else [v]:
                self.send_header(k, one)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _fill(self, v):
        if isinstance(v, list):
            return [self._fill(x) for x in v]
        return v.replace("{origin}", ORIGIN)

    def do_GET(self):
        if self.path == "/__log":
            with lock:
                return self._send(200, {"Content-Type": "application/json"}, json.dumps(log))
        page = spec.get("pages", {}).get(self.path)
        if page is None:
            return self._send(404, {"Content-Type": "text/plain"}, "not found")
        headers = {"Content-Type": "text/html; charset=utf-8"}
        headers.update({k: self._fill(v) for k, v in page.get("headers", {}).items()})
        self._send(page.get("status", 200), headers, self._fill(page.get("body", "")))

    do_HEAD = do_GET

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/xmlrpc":
            answer = dispatcher._marshaled_dispatch(body)
            return self._send(200, {"Content-Type": "text/xml"}, answer)
        if self.path.startswith("/webmention"):
            form = urllib.parse.parse_qs(body.decode("utf-8"))
            with lock:
                log["webmentions"].append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                           "source": form.get("source", [None])[0], "target": form.get("target", [None])[0]})
            return self._send(202, {"Content-Type": "text/plain"}, "queued")
        self._send(404, {"Content-Type": "text/plain"}, "not found")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ORIGIN = "http://127.0.0.1:%d" % server.server_address[1]
print("PORT %d" % server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
