"""The bench's AWS on the wire: moto in its own process, and a loopback proxy in front of it.

The proxy adds a fixed latency to every request (real AWS answers in 30-100 ms; moto in a few)
and names each request's operation (`X-Amz-Target` for JSON services, `Action=` for query ones),
so a tool the bench cannot instrument (ecs-deploy) has its calls counted the same way.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_SERVE = ("import sys, threading; from bluegreen.local.emulator import Emulator; "
          "e = Emulator.start(realistic={realistic}); print(e.endpoint_url, flush=True); sys.stdin.read(); e.stop()")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_REGION": "us-east-1"}


class MotoProcess:
    """moto's server (with bluegreen's emulator patches; with a clock, the realistic world) in a child
    process; stdin closing stops it."""

    def __init__(self, running: int = 1, *, clock: dict[str, str] | None = None) -> None:
        """`clock`: a scaled clock's environment (`ScaledClock.environment()`): the realistic world on it."""
        env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(REPO), "MOTO_ECS_SERVICE_RUNNING": str(running),
               **(clock or {})}
        serve = _SERVE.format(realistic=clock is not None)
        self.process = subprocess.Popen([sys.executable, "-c", serve], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
        self.endpoint_url = self.process.stdout.readline().strip()  # type: ignore[union-attr]
        if not self.endpoint_url.startswith("http"):
            raise SystemExit("moto did not start")
        # whatever the server prints later is read and dropped: a full pipe would stop it
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # type: ignore[union-attr]

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST"),
                               timeout=30).close()

    def stop(self) -> None:
        self.process.stdin.close()  # type: ignore[union-attr]
        self.process.wait(timeout=30)


def operation(headers: object, path: str, body: bytes) -> str:
    target = headers.get("X-Amz-Target")  # type: ignore[attr-defined]
    if target:
        return target.rsplit(".", 1)[-1]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    if "Action" not in query and body:
        query = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return query.get("Action", [f"{headers.get('Host', '')}{path.split('?')[0]}"])[0]  # type: ignore[attr-defined]


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: the 48 connections discovery opens at once overflowed
    # it, and each dropped SYN was retried after a second, which the bench then counted as latency.
    request_queue_size = 256


class _NoDelayConnection(http.client.HTTPConnection):
    """To moto without Nagle's algorithm either (see `disable_nagle_algorithm` below)."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class LatencyProxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1 that sleeps `delay` seconds before forwarding each request."""

    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.delay = delay
        self.counts: Counter[str] = Counter()
        self.times: list[float] = []
        self.order: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go out in two writes: with Nagle's algorithm on, the second waits
            # for the client's delayed ACK (40 ms on Linux), which added 40 ms to every call on top of `delay`.
            disable_nagle_algorithm = True

            def log_message(self, *_: object) -> None:
                return

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    proxy.counts[operation(self.headers, self.path, body)] += 1
                    proxy.times.append(time.monotonic())
                    proxy.order.append(operation(self.headers, self.path, body))
                if proxy.delay:
                    time.sleep(proxy.delay)
                status, headers, payload = proxy.send(self.command, self.path, body, dict(self.headers))
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def send(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, list, bytes]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _NoDelayConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers.pop("Connection", None)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
        except (http.client.HTTPException, OSError):
            conn.close()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
        return response.status, response.getheaders(), response.read()

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.times.clear()
            self.order.clear()

    def stop(self) -> None:
        self.server.shutdown()
