"""An HTTP proxy in front of moto, on 127.0.0.1, that refuses chosen S3
requests as S3 refuses a caller without the permission, and forwards every
other request unchanged.

Usage: deny_proxy.py UPSTREAM_PORT RULES_JSON

RULES_JSON is a list of `{"path": REGEX, "key": ACCESS_KEY_ID_OR_NULL}`: an
S3 request whose path and query match REGEX (and, when `key` is given, that
was signed with that access key id) is answered HTTP 403 with S3's
`AccessDenied` error document (Amazon S3 API Reference, "Error
responses"). Prints the port it listens on (first line of stdout). Keeps
and logs nothing of a request: no header, so no credential, leaves it.
"""

import http.client
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = int(sys.argv[1])
RULES = [(re.compile(rule["path"]), rule.get("key")) for rule in json.loads(sys.argv[2])]
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
          b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
          b"<RequestId>DENYPROXY</RequestId><HostId>deny-proxy</HostId></Error>")


def scope(headers):
    found = re.search(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    return (found.group(1), found.group(2)) if found else (None, None)


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        key, service = scope(self.headers)
        if service == "s3" and any(
                path.search(self.path) and (wanted is None or wanted == key) for path, wanted in RULES):
            self.send_response(403, "Forbidden")
            self.send_header("Content-Type", "application/xml")
            self.send_header("x-amz-request-id", "DENYPROXY")
            self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(DENIED)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(DENIED)
            self.wfile.flush()
            return
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP and name.lower() != "content-length":
                self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", response.getheader("Content-Length") or "0")
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        upstream.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = forward


class Server(ThreadingHTTPServer):
    request_queue_size = 128


server = Server(("127.0.0.1", 0), Proxy)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
