"""What every test proxy in front of moto shares: relaying a request to
moto unchanged (hop-by-hop headers dropped), answering with moto's
response or with one of its own, and listening on a free 127.0.0.1 port
that it prints as the first line of stdout. Imported by the proxies beside
it; never logs a header or a body, so no credential leaves a request.
"""

import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class Handler(BaseHTTPRequestHandler):
    """A quiet HTTP/1.1 handler; subclasses define `forward`, which serves
    every method."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def fetch(self, upstream, body):
        """Sends the request to moto with `body` (its length recounted) and
        returns (status, reason, headers, data)."""
        connection = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP and k.lower() != "content-length"}
            if body or "Content-Length" in self.headers:
                headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            connection.close()

    def answer(self, status, reason, headers, data):
        """Answers with `data`; a HEAD answer keeps the length its headers
        give and sends no body."""
        self.send_response(status, reason)
        length = "0" if self.command == "HEAD" else str(len(data))
        for key, value in headers:
            if key.lower() == "content-length":
                if self.command == "HEAD":
                    length = value
            elif key.lower() not in HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def relay(self, upstream, body):
        self.answer(*self.fetch(upstream, body))

    def do_GET(self):
        self.forward()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET


class Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a check opens dozens of
    # connections at once, and the overflow costs a 1 s SYN retransmit each.
    request_queue_size = 128


def serve(handler):
    server = Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
