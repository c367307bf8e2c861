"""Alerts: violations and monitor failures on their way to people, never lost, never twice.

The pipeline follows Prometheus Alertmanager. Recording a violation change writes
outbox rows in the same transaction (:func:`.outbox.enqueue`, routed by
:mod:`.routing`); a sender (:func:`.dispatch.deliver`) then takes due groups
(:mod:`.grouping`), drops what is silenced (:mod:`.silences`), inhibited
(:mod:`.inhibit`) or already announced (:mod:`.dedup`, the notification log),
renders one message per group (:mod:`.render`), hands it to the receiver's
transport (:mod:`.receivers`) and records the outcome (retry with backoff, dead
letter after ``max_tries``). Configuration: :mod:`.config`; commands: :mod:`.cli`.
"""
