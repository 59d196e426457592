"""The sandbox as a real HTTP server on loopback (`python manage.py sandbox --port 8765`)."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from integrations.sandbox.app import SandboxApp

logger = logging.getLogger(__name__)


def make_handler(app: SandboxApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle's algorithm the body waits for the
        # client's delayed ACK, ~40 ms per request on loopback (a real server sends them at once).
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = self.headers.get("Host", "127.0.0.1")
            request = httpx.Request(
                self.command, f"http://{host}{self.path}", headers=list(self.headers.items()), content=body
            )
            try:
                response = app.handle(request)
            except Exception:  # a sandbox bug must still answer, as a real 500 would
                logger.exception("sandbox handler failed")
                response = httpx.Response(500, json={"message": "sandbox internal error"})
            content = response.content
            self.log_request(response.status_code)
            self.send_response_only(response.status_code)
            # A fake marketplace may speak in its own clock (YM's Date anchors X-RateLimit-Resource-Until).
            if "date" not in response.headers:
                self.send_header("Date", self.date_time_string())
            self.send_header("Server", self.version_string())
            for name, value in response.headers.items():
                if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if content:
                self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            logger.debug(format, *args)

    return Handler


class SandboxServer:
    def __init__(self, app: SandboxApp | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app or SandboxApp()
        self.httpd = ThreadingHTTPServer((host, port), make_handler(self.app))
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def base_url(self, marketplace: str) -> str:
        return f"{self.url}/{marketplace}"

    def start(self) -> SandboxServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
