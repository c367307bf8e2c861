"""What the platform-source tests share: a recording sleep and a real client against the fake.

Each test module starts one FakeServer with its platform fake over one World
(stopping a server costs half a second) and gives each test an empty World and a
clean request log and fault list (see :func:`fake_fixtures`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fakes.harness import reset, serve
from fakes.server import FakeServer
from fakes.world import World

from monitors.http import HostPolicy, HttpSettings, PlatformClient, make_client
from monitors.sources.base import SourceSettings

NOW = 1_794_643_700.0  # the injected wall clock: 100 s before the fixtures' reset times


class Waits(list[float]):
    """An injected sleep that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class LoopbackPolicy(HostPolicy):
    """The platform's host policy, plus every port of 127.0.0.1 trusted: the fakes' host,
    as if each test had written its fake's URL as a base URL in compliance.yaml. (The
    SSRF guard itself is tested in test_security.py with exactly configured URLs.)"""

    def check(self, url: httpx.URL) -> None:
        if url.host == "127.0.0.1":
            return
        super().check(url)


def loopback(platform: str) -> HostPolicy:
    """``platform``'s public hosts, and the fakes on 127.0.0.1."""
    base = HostPolicy.build(platform)
    return LoopbackPolicy(base.platform, base.trusted, base.allowed)


def client(platform: str, waits: Waits, **http: Any) -> PlatformClient:
    """A real client for ``platform``: short backoff, recorded waits, the fixtures' clock."""
    settings = HttpSettings(**{"retries": 3, "backoff": 0.5, "timeout": 5.0, **http})
    return make_client(platform, settings, sleep=waits, clock=lambda: NOW, hosts=loopback(platform))


def fresh(server: FakeServer) -> FakeServer:
    """``server`` with its request log and scripted faults cleared (the World kept)."""
    server.faults.clear()
    server.log.clear()
    return server


def settings_for(server: FakeServer, **kw: Any) -> SourceSettings:
    """Source settings whose API and web URLs point at ``server``."""
    return SourceSettings(**{"api_url": server.url, "web_url": server.url, **kw})


def take(iterator: Iterator[Any], n: int) -> list[Any]:
    """The first ``n`` items of ``iterator`` (leaving the rest unfetched)."""
    out = []
    for item in iterator:
        out.append(item)
        if len(out) == n:
            break
    return out


def fake_fixtures(install: Callable[[FakeServer, World], None]) -> tuple[Any, Any, Any]:
    """The ``served``, ``server`` and ``world`` fixtures of a source's test module.

    Use as ``served, server, world = fake_fixtures(fake.install)``: one server over
    one World for the module (:func:`fakes.harness.serve`), emptied before each test
    (:func:`fakes.harness.reset`).
    """

    @pytest.fixture(scope="module", name="served")
    def served_fixture() -> Iterator[tuple[FakeServer, World]]:
        yield from serve(install)

    @pytest.fixture(name="server")
    def server_fixture(served: tuple[FakeServer, World]) -> FakeServer:
        reset(*served)
        return served[0]

    @pytest.fixture(name="world")
    def world_fixture(served: tuple[FakeServer, World], server: FakeServer) -> World:
        return served[1]  # after the server fixture's reset

    return served_fixture, server_fixture, world_fixture
