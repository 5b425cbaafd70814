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

import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET

from relay import Handler, serve

UPSTREAM = int(sys.argv[1])
LOG = sys.argv[2]
DENY = len(sys.argv) > 3 and sys.argv[3] == "deny"
DENIED = (b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
          b'<Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform '
          b'iam:GetAccountAuthorizationDetails</Message></Error>'
          b'<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>')
NS = "https://iam.amazonaws.com/doc/2010-05-08/"
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


class Proxy(Handler):
    def forward(self):
        body = self.read_body()
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
        if form.get("Action") != ["GetAccountAuthorizationDetails"]:
            self.relay(UPSTREAM, body)
            return
        marker = form.get("Marker", [None])[0]
        with lock, open(LOG, "a") as log:
            log.write(f"{marker or '-'}\n")
        if DENY:
            self.answer(403, "Forbidden", [("Content-Type", "text/xml")], DENIED)
            return
        pairs = [(k, v) for k, values in form.items() if k != "Marker" for v in values]
        status, reason, headers, data = self.fetch(UPSTREAM, urllib.parse.urlencode(pairs).encode())
        if status == 200:
            data = paged(data, marker)
        self.answer(status, reason, headers, data)


serve(Proxy)
