"""The request budget shared by every worker of every machine: GCRA spacing kept in Redis.

:class:`monitors.http.RequestBudget` spaces one process's requests to a platform
(one every ``60 / requests_per_minute`` seconds). Celery workers are many
processes on many machines, so the spacing must live where they all see it: one
Redis key per platform holds the next free slot, and a small Lua script reserves
a slot atomically (read the next free slot, take ``max(now, slot)``, push the
next free slot one interval further). The time is the Redis server's (``TIME``),
so the workers' own clocks may disagree without breaking the budget. The caller
sleeps until its slot outside Redis: nothing is held while it waits.

pyrate-limiter's Redis bucket was considered: it sleeps inside the library
(nothing to inject for tests) and counts requests in windows (bursts at window
edges), while the in-process budget spaces them evenly; the same GCRA in twenty
lines of Lua keeps both budgets alike.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

# The Redis that holds the shared budgets (and, with a redis:// broker, may be the same server).
REDIS_ENV = "COMPLIANCE_REDIS_URL"
KEY_PREFIX = "compliance:budget:"

# KEYS[1]: the platform's next free slot; ARGV[1]: the interval in seconds.
# Returns {slot, now} as strings (Lua numbers would be truncated to integers).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
local expires = math.ceil((slot + interval - now) * 1000) + 60000
redis.call('SET', KEYS[1], string.format('%.6f', slot + interval), 'PX', expires)
return {string.format('%.6f', slot), string.format('%.6f', now)}
"""


class RedisBudget:
    """A platform's request rate shared through Redis by every process that uses ``key``.

    Same interface as :class:`monitors.http.RequestBudget` (``acquire``, ``interval``).
    """

    def __init__(
        self,
        client: Any,
        platform: str,
        per_minute: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"requests_per_minute must be positive, got {per_minute}")
        self.interval = 60.0 / per_minute
        self.key = KEY_PREFIX + platform
        self._sleep = sleep
        self._script = client.register_script(_RESERVE)

    def reserve(self) -> tuple[float, float]:
        """Take the next free slot: ``(slot, now)`` in the Redis server's epoch seconds."""
        slot, now = self._script(keys=[self.key], args=[repr(self.interval)])
        return float(slot), float(now)

    def acquire(self) -> None:
        """Block until a request may go."""
        slot, now = self.reserve()
        if slot > now:
            self._sleep(slot - now)


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def redis_client(url: str) -> Any:
    """One Redis client per URL and process (made after a fork, never shared across one)."""
    import redis

    with _CLIENTS_LOCK:
        key = f"{os.getpid()}:{url}"
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = redis.Redis.from_url(url, socket_timeout=10)
        return client


def budget_redis_url() -> str | None:
    """The Redis URL of the shared budgets, when one is configured ($COMPLIANCE_REDIS_URL)."""
    return os.environ.get(REDIS_ENV) or None
