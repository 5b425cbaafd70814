"""A logging, optionally delaying HTTP proxy in front of moto, on 127.0.0.1.

Usage: aws_proxy.py UPSTREAM_PORT LOG_FILE [DELAY_MS]

Prints the port it listens on (first line of stdout), then forwards every
request to 127.0.0.1:UPSTREAM_PORT after sleeping DELAY_MS (a stand-in for a
real region's round trip). Each request's operation is appended to LOG_FILE
as one line, `SERVICE OPERATION<TAB>START<TAB>END` (the operation from
X-Amz-Target, the query protocol's Action=, or S3's method and
sub-resources; times in seconds), so a test can prove the tool only reads
and measure how many round trips follow one another.
Never logs headers or bodies: no credential reaches the log.
"""

import http.client
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = int(sys.argv[1])
LOG = sys.argv[2]
DELAY = float(sys.argv[3]) / 1000.0 if len(sys.argv) > 3 else 0.0
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
lock = threading.Lock()


def operation(handler, body):
    target = handler.headers.get("X-Amz-Target")
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", handler.headers.get("Authorization", ""))
    service = scope.group(1) if scope else "unknown"
    if target:
        return f"{service} {target.split('.')[-1]}"
    if body and b"Action=" in body:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        return f"{service} {form.get('Action', ['?'])[0]}"
    query = urllib.parse.urlsplit(handler.path).query
    action = urllib.parse.parse_qs(query).get("Action")
    if action:
        return f"{service} {action[0]}"
    cbor = re.match(r"/service/[^/]+/operation/([A-Za-z]+)", handler.path)
    if cbor:
        return f"{service} {cbor.group(1)}"
    # S3 (REST): the method is what matters for read-only; keep the
    # sub-resource names (?policy, ?encryption) but not their values.
    path = urllib.parse.urlsplit(handler.path)
    subresources = ",".join(sorted(k for k in urllib.parse.parse_qs(path.query, keep_blank_values=True)))
    return f"s3 {handler.command} {subresources}".rstrip()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        start = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        name = operation(self, body)
        try:
            self.relay(body)
        finally:
            # Logged even when relaying fails: every operation sent counts.
            with lock, open(LOG, "a") as log:
                log.write(f"{name}\t{start:.6f}\t{time.time():.6f}\n")

    def relay(self, body):
        if DELAY:
            time.sleep(DELAY)
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP and key.lower() != "content-length":
                self.send_header(key, value)
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
    # socketserver listens with a backlog of 5: a check opens dozens of
    # connections at once, and the overflow costs a 1 s SYN retransmit each.
    request_queue_size = 128


server = Server(("127.0.0.1", 0), Proxy)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
