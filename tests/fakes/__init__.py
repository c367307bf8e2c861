"""Fake platforms on real loopback HTTP, serving the fixture shapes of ../shared/fixtures."""
