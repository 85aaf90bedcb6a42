"""The app's commentary store is ingested like a source: logged, idempotent, authors pseudonymised."""

from __future__ import annotations

import sqlite3

from orchestration.ingestion.engine import ingest_app_store, load_pseudonymiser
from orchestration.warehouse import connect


def write_store(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as con:
        con.execute(
            "create table if not exists commentary (commentary_id integer primary key autoincrement, service_id text, "
            "kpi_code text, org_unit_id text, period_month text, author text, commentary text, action text, "
            "action_owner text, action_due_date text, created_at text)"
        )
        con.executemany(
            "insert into commentary (service_id, kpi_code, org_unit_id, period_month, author, commentary, action, "
            "action_owner, action_due_date, created_at) values (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


ROW = (
    "ESX",
    "RTC_ATTENDED",
    "ESX",
    "2026-09-01",
    "Wilhelmina Fotheringay",
    "Up on last year; harvest traffic.",
    "Joint patrols with police",
    "Bartholomew Quince",
    "2026-12-31",
    "2026-10-05T09:30:00+00:00",
)


def test_commentary_is_loaded_once_and_authors_never_reach_the_warehouse(settings):
    store = settings.app_store_dir / "commentary.sqlite"
    write_store(store, [ROW, ROW[:5] + ("Second thoughts.", None, None, None, "2026-10-06T10:00:00Z")])
    key = load_pseudonymiser(settings.secrets_dir)
    with connect(settings.warehouse_path) as con:
        first = ingest_app_store(con, settings.app_store_dir, key)
        assert [(o.status, o.rows_received, o.rows_loaded) for o in first.outcomes] == [("loaded", 2, 2)]
        again = ingest_app_store(con, settings.app_store_dir, key)
        assert [o.status for o in again.outcomes] == ["skipped"]
        rows = con.execute(
            "select commentary_id, author_key, action_owner_key, created_at from raw_current.app__commentary order by 1"
        ).fetchall()
        assert len(rows) == 2 and rows[0][1].startswith("p_") and rows[1][2] is None
        assert str(rows[1][3]) == "2026-10-06 10:00:00"
        text = " ".join(str(v) for r in con.execute("select * from raw.app__commentary").fetchall() for v in r)
        assert "Wilhelmina" not in text and "Quince" not in text
        # New commentary makes a new snapshot; raw_current shows all three entries.
        write_store(store, [ROW])
        ingest_app_store(con, settings.app_store_dir, key)
        assert con.execute("select count(*) from raw_current.app__commentary").fetchall()[0][0] == 3


def test_no_store_yet_creates_the_empty_raw_table(settings):
    with connect(settings.warehouse_path) as con:
        report = ingest_app_store(con, settings.app_store_dir, load_pseudonymiser(settings.secrets_dir))
        assert report.outcomes == []
        assert con.execute("select count(*) from raw.app__commentary").fetchall()[0][0] == 0
