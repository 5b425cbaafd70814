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

import re
import sys
import threading
import time
import urllib.parse

from relay import Handler, serve

UPSTREAM = int(sys.argv[1])
LOG = sys.argv[2]
DELAY = float(sys.argv[3]) / 1000.0 if len(sys.argv) > 3 else 0.0
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


class Proxy(Handler):
    def forward(self):
        start = time.time()
        body = self.read_body()
        name = operation(self, body)
        try:
            if DELAY:
                time.sleep(DELAY)
            self.relay(UPSTREAM, body)
        finally:
            # Logged even when relaying fails: every operation sent counts.
            with lock, open(LOG, "a") as log:
                log.write(f"{name}\t{start:.6f}\t{time.time():.6f}\n")


serve(Proxy)
