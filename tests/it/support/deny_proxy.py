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

import json
import re
import sys

from relay import Handler, serve

UPSTREAM = int(sys.argv[1])
RULES = [(re.compile(rule["path"]), rule.get("key")) for rule in json.loads(sys.argv[2])]
DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
          b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
          b"<RequestId>DENYPROXY</RequestId><HostId>deny-proxy</HostId></Error>")


def scope(headers):
    found = re.search(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    return (found.group(1), found.group(2)) if found else (None, None)


class Proxy(Handler):
    def forward(self):
        body = self.read_body()
        key, service = scope(self.headers)
        if service == "s3" and any(
                path.search(self.path) and (wanted is None or wanted == key) for path, wanted in RULES):
            headers = [("Content-Type", "application/xml"), ("x-amz-request-id", "DENYPROXY")]
            self.answer(403, "Forbidden", headers, DENIED)
            return
        self.relay(UPSTREAM, body)


serve(Proxy)
