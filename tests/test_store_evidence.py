"""Evidence bundles: exact captions and verdicts, a manifest that verifies, tampering that shows."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest
from store_helpers import AMBIGUOUS, COMPLIANT, verdict, violation

from compliance.store.db import open_store
from compliance.store.evidence import EvidenceError, verify_bundle, write_bundle
from compliance.store.record import Recorder


def recorded(db_url, clock):
    store = open_store(db_url)
    recorder = Recorder(store, now=clock)
    recorder.add(
        verdict(AMBIGUOUS), source="https://api.example/v/tt-1", raw_response='{"desc": "x"}'
    )
    recorder.close()
    clock.advance(hours=1)
    recorder = Recorder(store, now=clock)
    recorder.add(verdict(COMPLIANT), source="https://api.example/v/tt-1")
    recorder.close()
    return store


def bundle(store, clock, directory):
    vid = violation(store, "FTC.C201").id
    with store.read() as s:
        return vid, write_bundle(
            s, vid, directory, now=clock, database=store.display, tool_version="0.1.0"
        )


def test_bundle_holds_the_exact_captions_verdicts_and_raw_response(db_url, clock, tmp_path):
    store = recorded(db_url, clock)
    out = tmp_path / "evidence"
    vid, written = bundle(store, clock, out)
    doc = json.loads((out / "violation.json").read_text(encoding="utf-8"))
    assert doc["id"] == vid and doc["status"] == "fixed" and doc["rule"] == "FTC.C201"
    assert doc["bundle"]["made_at"] == "2026-11-05T15:00:00Z"
    assert [h["action"] for h in doc["history"]] == ["opened", "fixed"]
    versions = {v["id"]: v for v in doc["versions"]}
    violated = versions[doc["version_id"]]
    fixed = versions[doc["fixed_version_id"]]
    # Each caption file is the caption byte for byte; its hash is the one recorded.
    for v, caption in ((violated, AMBIGUOUS), (fixed, COMPLIANT)):
        data = (out / v["file"]).read_bytes()
        assert data == caption.encode("utf-8")
        assert hashlib.sha256(data).hexdigest() == v["sha256"]
        for check in v["checks"]:
            text = (out / check["file"]).read_bytes()
            assert hashlib.sha256(text).hexdigest() == check["verdict_sha256"]
    assert violated["checks"][0]["breaks_rule"] and not fixed["checks"][0]["breaks_rule"]
    assert (out / violated["raw_response_file"]).read_text() == '{"desc": "x"}'
    assert "raw_response_file" not in fixed
    assert violated["source"] == "https://api.example/v/tt-1"
    assert (out / "SHA256SUMS") in written and (out / "README.txt").exists()


def test_manifest_verifies_and_catches_tampering(db_url, clock, tmp_path):
    store = recorded(db_url, clock)
    out = tmp_path / "evidence"
    bundle(store, clock, out)
    assert verify_bundle(out) == []
    if shutil.which("sha256sum"):  # the same check with the standard tool
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out, check=True)

    caption = sorted((out / "captions").iterdir())[0]
    caption.write_bytes(caption.read_bytes() + b" #ad")  # a disclosure added after the fact
    (out / "extra.txt").write_text("slipped in")
    (out / "README.txt").unlink()
    problems = verify_bundle(out)
    assert f"captions/{caption.name}: SHA-256 does not match" in problems
    assert "extra.txt: not in SHA256SUMS" in problems
    assert "README.txt: missing" in problems


def test_bundle_refuses_a_directory_with_files_and_an_unknown_violation(db_url, clock, tmp_path):
    store = recorded(db_url, clock)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(EvidenceError, match="not an empty directory"):
        bundle(store, clock, busy)
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
    with pytest.raises(EvidenceError, match="no violation 999"), store.read() as s:
        write_bundle(s, 999, tmp_path / "x", now=clock, database="", tool_version="0")
