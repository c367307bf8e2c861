"""Test plumbing shared by the source tests: one fake server per module, a clean world per test.

Stopping a FakeServer costs half a second (``serve_forever``'s poll), so a test
module starts one server over one World and each test empties both in place
(the routes hold the World object, so it is reset rather than replaced).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fakes.server import FakeServer
from fakes.world import World


def serve(install: Callable[[FakeServer, World], None]) -> Iterator[tuple[FakeServer, World]]:
    """A started server with ``install``'s routes over a new World (for a module fixture)."""
    world = World()
    server = FakeServer()
    install(server, world)
    with server:
        yield server, world


def reset(server: FakeServer, world: World) -> None:
    """Forget scripted faults, the request log and every account and post."""
    world.__init__()  # type: ignore[misc]
    server.faults.clear()
    server.log.clear()
