"""An HTTP proxy in front of moto, on 127.0.0.1, that answers IAM's
GetAccountAuthorizationDetails in three pages, as IAM may (IAM API
Reference, "GetAccountAuthorizationDetails": `IsTruncated` and `Marker`;
IAM may return fewer items than asked even when more remain). moto answers
in one page, so the tool's paging is tested through this proxy.

Usage: gaad_pager.py UPSTREAM_PORT LOG_FILE [deny]

Prints the port it listens on (first line of stdout). Every other request is
forwarded unchanged. For GetAccountAuthorizationDetails, moto's whole
answer is cut: the first page holds only the users (`Marker` `page-2`), the
second only the groups and roles (`Marker` `page-3`), the third only the
managed policies (`IsTruncated` false). Each such request's `Marker`
(`-` for none) is appended to LOG_FILE as one line. Never logs headers or
bodies: no credential reaches the log. With `deny`, every
GetAccountAuthorizationDetails is answered with IAM's AccessDenied error
instead, as for a profile whose policies do not allow it.
"""

import http.client
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = int(sys.argv[1])
LOG = sys.argv[2]
DENY = len(sys.argv) > 3 and sys.argv[3] == "deny"
DENIED = (b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
          b'<Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform '
          b'iam:GetAccountAuthorizationDetails</Message></Error>'
          b'<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>')
NS = "https://iam.amazonaws.com/doc/2010-05-08/"
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
PAGES = {
    None: (["UserDetailList"], "page-2"),
    "page-2": (["GroupDetailList", "RoleDetailList"], "page-3"),
    "page-3": (["Policies"], None),
}
lock = threading.Lock()
ET.register_namespace("", NS)


def paged(data, marker):
    keep, following = PAGES[marker]
    root = ET.fromstring(data)
    result = root.find(f"{{{NS}}}GetAccountAuthorizationDetailsResult")
    for name in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"):
        element = result.find(f"{{{NS}}}{name}")
        if element is not None and name not in keep:
            for child in list(element):
                element.remove(child)
    for name in ("IsTruncated", "Marker"):
        element = result.find(f"{{{NS}}}{name}")
        if element is not None:
            result.remove(element)
    truncated = ET.SubElement(result, f"{{{NS}}}IsTruncated")
    truncated.text = "true" if following else "false"
    if following:
        ET.SubElement(result, f"{{{NS}}}Marker").text = following
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
        marker = None
        if form.get("Action") == ["GetAccountAuthorizationDetails"]:
            marker = form.get("Marker", [None])[0]
            with lock, open(LOG, "a") as log:
                log.write(f"{marker or '-'}\n")
            if DENY:
                self.send_response(403, "Forbidden")
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(DENIED)))
                self.end_headers()
                self.wfile.write(DENIED)
                self.wfile.flush()
                return
            pairs = [(k, v) for k, values in form.items() if k != "Marker" for v in values]
            body = urllib.parse.urlencode(pairs).encode()
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP and k.lower() != "content-length"}
        headers["Content-Length"] = str(len(body))
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        if form.get("Action") == ["GetAccountAuthorizationDetails"] and response.status == 200:
            data = paged(data, marker)
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
    request_queue_size = 128


server = Server(("127.0.0.1", 0), Proxy)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
