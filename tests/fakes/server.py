"""A real HTTP server on 127.0.0.1 for tests: routes, a request log and scripted faults.

Each platform fake (``tests/fakes/<platform>.py``) registers routes that render
a :class:`tests.fakes.world.World` in that platform's response shapes. Tests
script faults on top: 429 with or without Retry-After, 5xx bursts, responses
slower than the client's timeout, truncated bodies, HTML bot walls, connection
resets (:attr:`Response.reset`), redirect loops (:class:`Loop`) and the route's own
answer with its JSON rewritten (:class:`Rewrite`: wrong types, missing fields).
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitors.sources.base import json_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
_RESPONSES: dict[str, dict[str, Any]] = json.loads(
    (FIXTURES / "_responses.json").read_text(encoding="utf-8")
)


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The request body as JSON."""
        return json.loads(self.body or b"null")


@dataclass
class Response:
    """What a route answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    truncate: bool = False  # send only half of the body (a cut connection)
    reset: bool = False  # answer nothing: reset the connection (TCP RST) instead


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response (as TikTok, Bluesky, X and the Graph API send them),
    written by the monitors' own ``json_text``: byte for byte ``json.dumps(data,
    separators=(",", ":"), ensure_ascii=False)``, several times faster (the scale
    benchmarks' fake serves 10,000 creators' item lists on the measured cores)."""
    body = json_text(data).encode()
    return Response(
        status, body, {"content-type": "application/json; charset=utf-8", **(headers or {})}
    )


def fixture(name: str) -> Response:
    """A fixture file served with the status and headers of ``_responses.json``."""
    meta = _RESPONSES.get(name, {"status": 200, "headers": {}})
    return Response(meta["status"], (FIXTURES / name).read_bytes(), dict(meta["headers"]))


def fixture_json(name: str) -> Any:
    """A fixture file's parsed JSON (to use its items as templates)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


Handler = Callable[[Request, "re.Match[str]"], Response]


@dataclass
class Fault:
    """A scripted answer for requests matching ``method`` and ``path`` (a regex), ``times`` times."""

    path: str
    response: Response
    times: int = 1
    method: str | None = None

    def matches(self, request: Request) -> bool:
        return (self.method is None or self.method == request.method) and bool(
            re.search(self.path, request.path)
        )

    def answer(self, request: Request, routed: Callable[[Request], Response]) -> Response:
        """What the fake answers; ``routed`` gives the route's own answer (for rewriting it)."""
        return self.response


@dataclass
class Loop(Fault):
    """A redirect to the very URL asked for: a loop that no client should follow forever."""

    def answer(self, request: Request, routed: Callable[[Request], Response]) -> Response:
        query = "&".join(f"{k}={v}" for k, values in request.query.items() for v in values)
        return Response(302, b"", {"location": request.path + (f"?{query}" if query else "")})


@dataclass
class Rewrite(Fault):
    """The route's own answer with its JSON body rewritten by ``change`` (wrong types,
    missing or extra fields: what a platform changing its API under us looks like)."""

    change: Callable[[Any], Any] = lambda data: data
    headers: dict[str, str] = field(default_factory=dict)  # e.g. a wrong content-type

    def answer(self, request: Request, routed: Callable[[Request], Response]) -> Response:
        # Unconditionally: a 304 has no body to rewrite.
        plain = {
            k: v
            for k, v in request.headers.items()
            if k not in ("if-none-match", "if-modified-since")
        }
        real = routed(replace(request, headers=plain))
        try:
            data = json.loads(real.body)
        except ValueError:  # not JSON (an HTML page): served as it is
            return real
        changed = json_response(self.change(data), real.status)
        return Response(
            real.status, changed.body, {**real.headers, **changed.headers, **self.headers}
        )


BOT_WALL = Response(
    200,
    b"<!DOCTYPE html><html><head><title>Security Check</title></head><body>"
    b"<div id='captcha-verify-container'>Please verify you are human</div></body></html>",
    {"content-type": "text/html; charset=utf-8"},
)


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 with a random port; use as a context manager."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[Fault] = []
        self.log: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- routes and faults ---------------------------------------------------
    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register ``handler`` for ``method`` requests whose path fully matches ``pattern``."""

        def register(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(pattern), handler))
            return handler

        return register

    def fail(
        self,
        path: str,
        response: Response,
        *,
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``path`` (regex) with ``response``."""
        with self._lock:
            self.faults.append(Fault(path, response, times, method))

    def requests(self, path: str = "") -> list[Request]:
        """The requests received so far whose path matches ``path`` (regex)."""
        with self._lock:
            return [r for r in self.log if re.search(path, r.path)]

    # --- serving -------------------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:41234``."""
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go out in two writes: with Nagle's algorithm on,
            # the body waits for the client's delayed ACK of the headers (40 ms on
            # Linux) on every keep-alive response, which no real platform costs.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(
                    self.command,
                    split.path,
                    parse_qs(split.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                response = fake._dispatch(request)
                if response.delay:
                    time.sleep(response.delay)
                if response.reset:
                    # SO_LINGER with a zero timeout: close() sends RST, not FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    self.connection.close()
                    return
                body = (
                    response.body[: len(response.body) // 2] if response.truncate else response.body
                )
                try:
                    self.send_response(response.status)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

            do_GET = do_POST = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self.log.append(request)
            for fault in self.faults:
                if fault.times > 0 and fault.matches(request):
                    fault.times -= 1
                    break
            else:
                fault = None
        if fault is not None:
            return fault.answer(request, self._route)
        return self._route(request)

    def _route(self, request: Request) -> Response:
        for method, pattern, handler in self.routes:
            if method == request.method:
                match = pattern.fullmatch(request.path)
                if match:
                    try:
                        return handler(request, match)
                    except Exception as exc:  # a bug in a fake: make it visible in the test
                        return Response(599, f"fake handler error: {exc!r}".encode())
        return Response(
            404, b'{"error":"no such route in the fake"}', {"content-type": "application/json"}
        )


@contextmanager
def serving(*setups: Callable[[FakeServer], None]) -> Iterator[FakeServer]:
    """Start a FakeServer with the given platform setups applied; stop it afterwards."""
    server = FakeServer()
    for setup in setups:
        setup(server)
    with server:
        yield server
