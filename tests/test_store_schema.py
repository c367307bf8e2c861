"""The schema: migrations build exactly the models, fresh databases are created, stale ones refused."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from compliance.store import migrate
from compliance.store.db import Store, StoreError, open_store
from compliance.store.models import metadata


def test_upgrading_an_empty_database_gives_exactly_the_models(db_url):
    store = Store(db_url)
    before, after = migrate.upgrade(store)
    assert (before, after) == (None, migrate.HEAD)
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        # The comparison sees the tables at all (a vacuous pass would compare nothing).
        tables = set(conn.dialect.get_table_names(conn))
    assert {"posts", "caption_versions", "violations", "violation_events"} <= tables


def test_a_changed_model_is_noticed_by_the_comparison(db_url):
    """The guard above can fail: a column the migrations lack shows up as a difference."""
    from sqlalchemy import Column, MetaData, String, Table

    store = Store(db_url)
    migrate.upgrade(store)
    changed = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    Table("posts", changed, Column("extra", String(10)), extend_existing=True)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), changed)
    assert any(d[0] == "add_column" and d[3].name == "extra" for d in diff)


def test_head_constant_matches_the_scripts():
    assert migrate.script_head() == migrate.HEAD


def test_fresh_database_is_created_on_first_use_and_reopened_cheaply(db_url):
    store = open_store(db_url)
    with store.engine.connect() as conn:
        assert migrate.current(conn) == migrate.HEAD
    store.close()
    open_store(db_url).close()  # second open: at head, nothing to do


def test_stale_database_is_refused_with_the_upgrade_command(db_url):
    store = open_store(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    # '0000' is not a known revision: treated as newer than this code.
    with pytest.raises(StoreError, match="unknown to this version"):
        open_store(db_url)


def test_database_with_foreign_tables_is_not_taken_over(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE customers (id INTEGER)").connection.commit()
    with pytest.raises(StoreError, match="not compliance's"):
        open_store(f"sqlite:///{path}")


def test_no_create_refuses_an_empty_database(tmp_path):
    with pytest.raises(StoreError, match="run 'compliance db upgrade'"):
        open_store(f"sqlite:///{tmp_path / 'x.db'}", create=False)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_naive_datetimes_are_refused(tmp_path):
    from datetime import datetime

    from compliance.store.models import Creator

    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(StoreError, match="naive datetime"), store.write() as session:
        session.add(Creator(handle="@x", created_at=datetime(2026, 1, 1)))
        session.flush()


def test_times_come_back_aware_in_utc(db_url):
    from datetime import datetime, timedelta, timezone

    from compliance.store.models import Creator

    store = open_store(db_url)
    # An aware time in another zone is stored as the same instant.
    at = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with store.write() as session:
        session.add(Creator(handle="@x", created_at=at))
    with store.read() as session:
        back = session.query(Creator).one().created_at
    assert back == at and back.tzinfo == timezone.utc and back.hour == 10


# --- Upgrading a database with data --------------------------------------------------------------

OLD_TABLES = (
    "creators",
    "accounts",
    "campaigns",
    "posts",
    "caption_versions",
    "checks",
    "violations",
    "violation_events",
)


def _at_revision(store: Store, revision: str) -> None:
    from alembic import command

    with store._write_engine.connect() as conn, conn.begin():
        command.upgrade(migrate.config(conn), revision)


def _downgrade(store: Store, revision: str) -> None:
    from alembic import command

    with store._write_engine.connect() as conn, conn.begin():
        command.downgrade(migrate.config(conn), revision)
        assert migrate.current(conn) == revision


def _fill_0001(store: Store) -> None:
    """Rows in every table of schema 0001, written through that schema as the database has it."""
    from datetime import datetime, timezone

    from sqlalchemy import MetaData

    at = datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)
    old = MetaData()
    with store.engine.begin() as conn:
        old.reflect(conn)

        def add(table: str, **values: object) -> int:
            # No explicit ids: PostgreSQL's sequences must stay ahead of the rows.
            return conn.execute(old.tables[table].insert().values(**values)).inserted_primary_key[0]

        creator = add("creators", handle="@maya", created_at=at)
        account = add(
            "accounts", creator_id=creator, platform="tiktok", handle="@maya", created_at=at
        )
        campaign = add(
            "campaigns",
            fingerprint="f" * 64,
            brand="GlowLab",
            aliases=[],
            handles=["@glowlab"],
            hashtags=[],
            promo_codes=["MAYA15"],
            domains=[],
            relationship="paid",
            created_at=at,
        )
        post = add(
            "posts",
            platform="tiktok",
            post_key="tt-1",
            platform_post_id="tt-1",
            url="https://www.tiktok.com/@maya/video/1",
            author="@maya",
            account_id=account,
            campaign_id=campaign,
            posted_at=at,
            first_seen=at,
            last_seen=at,
            current_sha256="a" * 64,
            verdict="violation",
            pack="US",
            language="en",
        )
        version = add(
            "caption_versions",
            post_id=post,
            sha256="a" * 64,
            caption="Loving my serum @glowlab #sp",
            raw_response='{"id": "tt-1"}',
            source="https://open.tiktokapis.com/v2/video/list/",
            fetched_at=at,
            first_seen=at,
            last_seen=at,
        )
        check = add(
            "checks",
            version_id=version,
            verdict_sha256="b" * 64,
            verdict="violation",
            pack="US",
            result='{"verdict": "violation"}',
            first_checked=at,
            last_checked=at,
        )
        violation = add(
            "violations",
            post_id=post,
            rule="FTC.C201",
            code="ambiguous_disclosure",
            status="open",
            opened_at=at,
            status_at=at,
            version_id=version,
            check_id=check,
            finding={"rule": "FTC.C201", "span": [25, 28]},
        )
        add(
            "violation_events",
            violation_id=violation,
            at=at,
            actor="check",
            action="opened",
            to_status="open",
            version_id=version,
        )


# Columns later revisions added to the 0001 tables: (table, column).
LATER_COLUMNS = {
    ("posts", "gone_at"),  # 0002
    ("campaigns", "name"),  # 0004
    ("campaigns", "jurisdictions"),  # 0004
}


def _dump(store: Store) -> dict[str, list[dict]]:
    """Every row of the 0001 tables, in their 0001 columns."""
    from sqlalchemy import MetaData, select

    old = MetaData()
    with store.engine.connect() as conn:
        old.reflect(conn, only=OLD_TABLES)
        return {
            name: [
                {k: v for k, v in row._mapping.items() if (name, k) not in LATER_COLUMNS}
                for row in conn.execute(select(old.tables[name]).order_by(old.tables[name].c.id))
            ]
            for name in OLD_TABLES
        }


def test_a_0001_database_with_data_upgrades_without_losing_a_row(db_url, clock):
    from store_helpers import COMPLIANT, verdict

    from compliance.store.record import Recorder

    store = Store(db_url)
    _at_revision(store, "0001")
    _fill_0001(store)
    before = _dump(store)
    assert all(before[name] for name in OLD_TABLES)
    with pytest.raises(StoreError, match=f"is at schema 0001, this version needs {migrate.HEAD}"):
        open_store(db_url)

    assert migrate.upgrade(store) == ("0001", migrate.HEAD)
    assert _dump(store) == before
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        gone = conn.execute(text("SELECT gone_at FROM posts")).scalars().all()
    assert gone == [None]

    # The upgraded record goes on as before: a fixed caption fixes the old violation.
    opened = open_store(db_url)
    with Recorder(opened, now=clock) as recorder:
        recorder.add(verdict(COMPLIANT, id="tt-1", author="@maya"))
    assert recorder.stats.fixed == 1 and recorder.stats.posts == 1


def test_downgrading_to_0001_keeps_the_record(db_url):
    store = Store(db_url)
    _at_revision(store, "0001")
    _fill_0001(store)
    before = _dump(store)
    migrate.upgrade(store)
    _downgrade(store, "0001")
    assert _dump(store) == before


def test_a_database_at_0001_upgrades_to_the_alert_tables(db_url):
    from alembic import command

    store = Store(db_url)
    with store.engine.begin() as conn:
        command.upgrade(migrate.config(conn), "0001")
    with pytest.raises(StoreError, match="this version needs"):
        open_store(db_url)
    assert migrate.upgrade(store) == ("0001", migrate.HEAD)
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert {"alert_outbox", "notification_log", "silences"} <= set(
            conn.dialect.get_table_names(conn)
        )


def _campaigns(store: Store) -> list[dict]:
    """Every campaign row, every column (the 0004 ones too), oldest first."""
    from sqlalchemy import MetaData, select

    now = MetaData()
    with store.engine.connect() as conn:
        now.reflect(conn, only=["campaigns"])
        table = now.tables["campaigns"]
        return [dict(row) for row in conn.execute(select(table).order_by(table.c.id)).mappings()]


def _fill_0003_campaigns(store: Store) -> None:
    """Campaign rows as a 0003 database has them: one with the dates and the single
    jurisdiction of schema 0001 filled (a row from another writer), one without."""
    from datetime import date, datetime, timezone

    from sqlalchemy import MetaData

    at = datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)
    old = MetaData()
    with store.engine.begin() as conn:
        old.reflect(conn, only=["campaigns"])
        assert "name" not in old.tables["campaigns"].c  # really the 0003 schema
        for fingerprint, brand, starts, ends, jurisdiction in (
            ("c" * 64, "GlowLab", date(2026, 3, 1), date(2026, 6, 30), "US"),
            ("d" * 64, "Acme", None, None, None),
        ):
            conn.execute(
                old.tables["campaigns"]
                .insert()
                .values(
                    fingerprint=fingerprint,
                    brand=brand,
                    aliases=[],
                    handles=[f"@{brand.lower()}"],
                    hashtags=[],
                    promo_codes=[],
                    domains=[],
                    relationship="paid",
                    starts_on=starts,
                    ends_on=ends,
                    jurisdiction=jurisdiction,
                    created_at=at,
                )
            )


def test_a_0003_database_with_campaigns_upgrades_to_0004_without_losing_a_row(db_url, clock):
    from datetime import date

    from store_helpers import AMBIGUOUS, SPRING, verdict

    from compliance.store.record import Recorder

    store = Store(db_url)
    _at_revision(store, "0003")
    _fill_0001(store)
    _fill_0003_campaigns(store)
    before = _dump(store)
    campaigns_before = _campaigns(store)
    assert len(campaigns_before) == 3
    with pytest.raises(StoreError, match=f"is at schema 0003, this version needs {migrate.HEAD}"):
        open_store(db_url)

    assert migrate.upgrade(store) == ("0003", migrate.HEAD)
    assert _dump(store) == before
    after = _campaigns(store)
    # Every old value kept, the two new columns NULL (SQL NULL, not JSON null).
    assert [
        {k: v for k, v in row.items() if k not in ("name", "jurisdictions")} for row in after
    ] == campaigns_before
    assert [(row["name"], row["jurisdictions"]) for row in after] == [(None, None)] * 3
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert (
            conn.execute(
                text("SELECT count(*) FROM campaigns WHERE jurisdictions IS NULL")
            ).scalar()
            == 3
        )

    # The upgraded record takes a configured campaign with its name, dates and jurisdictions.
    with Recorder(open_store(db_url), now=clock) as recorder:
        recorder.add(verdict(AMBIGUOUS, id="tt-9", campaign=SPRING))
    new = _campaigns(store)[-1]
    assert (new["name"], new["starts_on"], new["ends_on"], new["jurisdictions"]) == (
        "glowlab-spring",
        date(2026, 3, 1),
        date(2026, 6, 30),
        ["US", "GB", "DE"],
    )


def test_downgrading_0004_to_0003_keeps_the_campaigns(db_url):
    store = Store(db_url)
    _at_revision(store, "0003")
    _fill_0001(store)
    _fill_0003_campaigns(store)
    before = _campaigns(store)
    migrate.upgrade(store)
    _downgrade(store, "0003")
    assert _campaigns(store) == before
