"""Faults on demand: a loopback HTTP proxy in front of the local AWS (moto's server) for tests and
benchmarks. Never on the product's real path: point `AWS_ENDPOINT_URL` at `endpoint_url` to use it.

    with FaultProxy(emulator.endpoint_url, [Rule(Fault.THROTTLE, rate=0.1)], seed=7) as proxy:
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint_url
        ...
        proxy.stats.calls("ecs:DescribeServices"), proxy.stats.faults("ecs:DescribeServices")

Faults: HTTP 500 and 503 and throttling, each with the error body AWS sends in the call's own
protocol (`fault_wire.py`); a connection reset before the server saw the call, or after it applied
it (the answer is lost); a slow answer. Rules pick calls by rate and by operation. Each operation
draws from its own RNG seeded from (seed, operation), so a run repeats even when calls of
different operations interleave differently across threads. A fixed added latency for every call
models a distant endpoint in benchmarks.
"""

from __future__ import annotations

import http.client
import http.server
import ipaddress
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable
from urllib.parse import urlsplit

from bluegreen.local.fault_wire import SERVER_ERROR, THROTTLE, UNAVAILABLE, Call, error_answer, identify


class Fault(str, Enum):
    ERROR_500 = "error-500"
    ERROR_503 = "error-503"
    THROTTLE = "throttle"
    RESET_BEFORE = "reset-before"  # the connection drops; the server never saw the call
    RESET_AFTER = "reset-after"  # the server applied the call; the connection drops before the answer
    SLOW = "slow"  # the answer comes `delay` seconds late


_ANSWER_KIND = {Fault.ERROR_500: SERVER_ERROR, Fault.ERROR_503: UNAVAILABLE, Fault.THROTTLE: THROTTLE}


@dataclass(frozen=True)
class Rule:
    """Inject `fault` into a share `rate` of the calls of `operations` (`service:Operation` or
    `service:*`; empty: every call), at most `limit` times per operation (None: no limit).

    The rates of the rules that match one call add up: one draw per call picks at most one fault.
    """

    fault: Fault
    rate: float = 1.0
    operations: frozenset[str] = frozenset()
    limit: int | None = None
    delay: float = 1.0  # for Fault.SLOW

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], not {self.rate}")
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit cannot be negative")
        object.__setattr__(self, "fault", Fault(self.fault))
        object.__setattr__(self, "operations", frozenset(self.operations))

    def matches(self, operation: str) -> bool:
        if not self.operations:
            return True
        return operation in self.operations or f"{operation.split(':', 1)[0]}:*" in self.operations


def mixed_faults(rate: float, *, operations: Iterable[str] = (), delay: float = 0.5) -> list[Rule]:
    """`rate` of all calls failing, split evenly over every kind of fault (the MOTO.md trials)."""
    kinds = list(Fault)
    return [Rule(kind, rate / len(kinds), frozenset(operations), delay=delay) for kind in kinds]


@dataclass
class OperationStats:
    calls: int = 0  # requests that reached the proxy (each retry is one more)
    forwarded: int = 0  # requests the server received
    faults: Counter[str] = field(default_factory=Counter)


class Stats:
    """Calls and injected faults per operation (`service:Operation`); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: dict[str, OperationStats] = {}

    def record(self, operation: str, *, forwarded: bool = False, fault: Fault | None = None) -> None:
        with self._lock:
            stats = self._ops.setdefault(operation, OperationStats())
            if forwarded:
                stats.forwarded += 1
            elif fault is not None:
                stats.faults[fault.value] += 1
            else:
                stats.calls += 1

    def calls(self, operation: str | None = None) -> int:
        return self._sum(operation, lambda s: s.calls)

    def forwarded(self, operation: str | None = None) -> int:
        return self._sum(operation, lambda s: s.forwarded)

    def faults(self, operation: str | None = None, fault: Fault | None = None) -> int:
        return self._sum(operation, lambda s: s.faults[fault.value] if fault else sum(s.faults.values()))

    def operations(self) -> list[str]:
        with self._lock:
            return sorted(self._ops)

    def as_dict(self) -> dict[str, dict[str, object]]:
        with self._lock:
            return {op: {"calls": s.calls, "forwarded": s.forwarded, "faults": dict(s.faults)}
                    for op, s in sorted(self._ops.items())}

    def reset(self) -> None:
        with self._lock:
            self._ops.clear()

    def _sum(self, operation: str | None, pick) -> int:  # noqa: ANN001 - a small accessor
        with self._lock:
            chosen = [self._ops[operation]] if operation in self._ops else [] if operation else self._ops.values()
            return sum(pick(s) for s in chosen)


class _Chooser:
    """Which fault (if any) each call gets: one seeded draw per call, per operation."""

    def __init__(self, rules: Iterable[Rule], seed: int) -> None:
        self.rules = list(rules)
        self.seed = seed
        self._lock = threading.Lock()
        self._rngs: dict[str, random.Random] = {}
        self._used: Counter[tuple[int, str]] = Counter()

    def choose(self, operation: str) -> Rule | None:
        with self._lock:
            rng = self._rngs.get(operation)
            if rng is None:
                rng = self._rngs[operation] = random.Random(f"{self.seed}/{operation}")
            draw, edge = rng.random(), 0.0
            for index, rule in enumerate(self.rules):
                if not rule.matches(operation):
                    continue
                if rule.limit is not None and self._used[index, operation] >= rule.limit:
                    continue
                edge += rule.rate
                if draw < edge:
                    self._used[index, operation] += 1
                    return rule
            return None


class FaultProxy:
    """The proxy: `start()`, point clients at `endpoint_url`, read `stats`, `stop()` (or use `with`)."""

    def __init__(self, upstream: str, rules: Iterable[Rule] = (), *, seed: int = 0, latency: float = 0.0,
                 port: int = 0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not _is_loopback(parts.hostname):
            raise ValueError(f"the fault proxy fronts a local endpoint only (http on loopback), not {upstream}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.latency = latency
        self.stats = Stats()
        self._chooser = _Chooser(rules, seed)
        self._port = port
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def configure(self, rules: Iterable[Rule] | None = None, *, seed: int | None = None,
                  latency: float | None = None) -> None:
        """Swap the rules, seed or latency; the RNGs and per-operation limits start afresh."""
        new_rules = self._chooser.rules if rules is None else rules
        self._chooser = _Chooser(new_rules, self._chooser.seed if seed is None else seed)
        if latency is not None:
            self.latency = latency

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fault proxy is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FaultProxy":
        handler = type("_BoundHandler", (_Handler,), {"proxy": self})
        self._server = _Server(("127.0.0.1", self._port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def choose(self, call: Call) -> Rule | None:
        return self._chooser.choose(call.name)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - socketserver's signature
        pass  # a client that went away mid-call (e.g. after an injected reset) is not an error here


_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                         "upgrade", "expect", "content-length"})


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: no delayed-ACK stall between
    proxy: FaultProxy

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._relay()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET  # noqa: N815

    def log_message(self, *_: object) -> None:
        pass

    def _relay(self) -> None:
        body = self._read_body()
        call = identify(self.command, self.path, dict(self.headers.items()), body)
        proxy = self.proxy
        proxy.stats.record(call.name)
        rule = proxy.choose(call)
        if proxy.latency:
            time.sleep(proxy.latency)
        if rule is not None:
            proxy.stats.record(call.name, fault=rule.fault)
        if rule is not None and rule.fault is Fault.RESET_BEFORE:
            return self._reset()
        if rule is not None and rule.fault in _ANSWER_KIND:
            return self._answer(*error_answer(call, _ANSWER_KIND[rule.fault]))
        if rule is not None and rule.fault is Fault.SLOW:
            time.sleep(rule.delay)
        try:
            status, reason, headers, data = self._forward(body)
        except OSError as exc:  # the emulator is down or restarting: say so as a gateway would
            return self._answer(502, {"Content-Type": "text/plain"}, f"fault proxy: upstream: {exc}".encode())
        proxy.stats.record(call.name, forwarded=True)
        if rule is not None and rule.fault is Fault.RESET_AFTER:
            return self._reset()
        self._answer(status, headers, data, reason)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self, body: bytes) -> tuple[int, str, dict[str, str], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection(*self.proxy.upstream, timeout=120)
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            out = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            if self.command == "HEAD" and response.getheader("Content-Length"):
                out["Content-Length"] = response.getheader("Content-Length")  # the size a GET would send
            return response.status, response.reason, out, data
        finally:
            connection.close()

    def _answer(self, status: int, headers: dict[str, str], body: bytes, reason: str | None = None) -> None:
        self.send_response_only(status, reason)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send a TCP RST, not an orderly FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
