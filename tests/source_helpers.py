"""What the platform-source tests share: a recording sleep and a real client against the fake.

Each test module starts one FakeServer with its platform fake over one World
(stopping a server costs half a second) and gives each test a clean request log
and fault list; tests use their own accounts so that they do not see each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fakes.server import FakeServer
from fakes.world import World

from monitors.http import HttpSettings, PlatformClient, make_client
from monitors.sources.base import SourceSettings

NOW = 1_794_643_700.0  # the injected wall clock: 100 s before the fixtures' reset times


class Waits(list[float]):
    """An injected sleep that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(platform: str, waits: Waits, **http: Any) -> PlatformClient:
    """A real client for ``platform``: short backoff, recorded waits, the fixtures' clock."""
    settings = HttpSettings(**{"retries": 3, "backoff": 0.5, "timeout": 5.0, **http})
    return make_client(platform, settings, sleep=waits, clock=lambda: NOW)


def fresh(server: FakeServer) -> FakeServer:
    """``server`` with its request log and scripted faults cleared."""
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
    """The ``world``, ``shared_server`` and ``server`` fixtures of a source's test module.

    Use as ``world, shared_server, server = fake_fixtures(fake.install)``: one World
    and one server for the module, and a clean log and fault list for each test.
    """

    @pytest.fixture(scope="module", name="world")
    def world_fixture() -> World:
        return World()

    @pytest.fixture(scope="module", name="shared_server")
    def shared_server_fixture(world: World) -> Iterator[FakeServer]:
        server = FakeServer()
        install(server, world)
        with server:
            yield server

    @pytest.fixture(name="server")
    def server_fixture(shared_server: FakeServer) -> FakeServer:
        return fresh(shared_server)

    return world_fixture, shared_server_fixture, server_fixture
