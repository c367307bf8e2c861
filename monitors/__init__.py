"""The monitors: fetch creators' and campaign hashtags' posts from the platforms, on a schedule.

A top-level package beside :mod:`compliance`: it imports the engine, the store and
the config, and nothing in :mod:`compliance` (but the CLI) imports it.

* :mod:`monitors.errors`: the typed failures every platform failure maps to;
* :mod:`monitors.http`: the one httpx client factory (timeouts, retries, backoff,
  Retry-After, the per-platform request budget, conditional requests);
* :mod:`monitors.sources`: one fetcher per platform behind a small common interface;
* :mod:`monitors.run`: one monitor run (fetch, caption versions, check, record);
* :mod:`monitors.scheduler`: the APScheduler wiring of the daemon.
"""
