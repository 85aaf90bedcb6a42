"""Publish: a monthly close builds serving.duckdb on top of the current file (replacing the rows its
dbt build rewrote, keeping unchanged tables) only when the audit trail vouches for that file, and
the result always equals a whole publish of the warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import publish
from orchestration.warehouse import ensure_audit_schema, incremental_invocation, record_dbt_invocation
from tests.conftest import assert_same_rows_in

AS_OF = dt.date(2026, 11, 1)
KEYS = {("marts", "fct_events"): ["service_id", "period_month"]}
TABLES = (("marts", "*"), ("audit", "*"))
UNITS = "select * from (values ('A', 'Alpha'), ('B', 'Beta')) as t(id, name)"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


def make_warehouse(path: Path) -> Path:
    """Three marts (an incremental fact, a dimension, a report) and the audit tables."""
    with duckdb.connect(str(path)) as con:
        ensure_audit_schema(con)
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_events as select * from (values "
            "('A', date '2026-09-01', 1, 'inv1'), ('A', date '2026-10-01', 2, 'inv1'), "
            "('A', date '2026-10-01', 3, 'inv1'), ('B', date '2026-10-01', 4, 'inv1')) "
            "as t(service_id, period_month, v, _invocation_id)"
        )
        con.execute(f"create table marts.dim_unit as {UNITS}")
        con.execute("create table marts.rpt_year as select * from (values ('A', 10.5), ('B', 4.0)) as t(id, total)")
    return path


def dbt_build(path: Path, run_id: str, invocation_id: str, *, full_refresh=False, success=True, rewrite=True) -> None:
    """What an incremental dbt build does to the warehouse: A's October rewritten (one row fewer, a new
    value), the yearly report recomputed with a new total, the dimension rebuilt unchanged."""
    with duckdb.connect(str(path)) as con:
        if rewrite:
            con.execute("delete from marts.fct_events where service_id = 'A' and period_month = '2026-10-01'")
            con.execute(f"insert into marts.fct_events values ('A', date '2026-10-01', 7, '{invocation_id}')")
            con.execute("create or replace table marts.rpt_year as from (values ('A', 14.5), ('B', 4.0)) t(id, total)")
            con.execute(f"create or replace table marts.dim_unit as {UNITS}")
        record_dbt_invocation(
            con, run_id=run_id, invocation_id=invocation_id, as_of=AS_OF, months_from=dt.date(2026, 10, 1),
            full_refresh=full_refresh, success=success,
        )


def close(path: Path, serving: Path, run_id: str):
    with duckdb.connect(str(path)) as con:
        invocation = incremental_invocation(con, run_id)
    return publish(path, serving, TABLES, run_id=run_id, as_of=AS_OF, invocation_id=invocation, unique_keys=KEYS)


def assert_serving_equals_warehouse(warehouse: Path, serving: Path) -> None:
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        con.execute(f"attach '{serving}' as pub (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'wh' "
            "and schema_name in ('marts', 'audit')"
        ).fetchall()
        for schema, table in tables:
            assert_same_rows_in(con, f"{schema}.{table}", "wh", "pub")


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
def test_a_close_replaces_the_rewritten_rows_and_keeps_what_did_not_change(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    dbt_build(warehouse, "run1", "inv1", full_refresh=True, rewrite=False)
    first = close(warehouse, serving, "run1")
    assert first.on_top_of is None and set(first.how.values()) == {"copied"}
    assert_serving_equals_warehouse(warehouse, serving)

    dbt_build(warehouse, "run2", "inv2")
    second = close(warehouse, serving, "run2")
    assert second.on_top_of == "run1"
    assert second.how["marts.fct_events"] == "rows replaced"
    assert second.how["marts.dim_unit"] == "kept"  # rebuilt by dbt, same rows
    assert second.how["marts.rpt_year"] == "copied"
    assert second.how["audit.dbt_invocations"] == "copied"
    assert second.counts["marts.fct_events"] == 3
    assert_serving_equals_warehouse(warehouse, serving)
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select run_id from meta.publish_info").fetchall() == [("run2",)]
        how = dict(con.execute("select table_name, how from meta.published_tables").fetchall())
    assert how["fct_events"] == "rows replaced" and how["dim_unit"] == "kept"


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
def test_a_close_after_an_unpublished_build_publishes_everything(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    dbt_build(warehouse, "run1", "inv1", full_refresh=True, rewrite=False)
    close(warehouse, serving, "run1")
    dbt_build(warehouse, "run2", "inv2")  # its gate failed: never published
    dbt_build(warehouse, "run3", "inv3", rewrite=False)
    third = close(warehouse, serving, "run3")
    assert third.on_top_of is None and set(third.how.values()) == {"copied"}
    assert_serving_equals_warehouse(warehouse, serving)


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
def test_a_serving_file_that_is_not_the_last_publication_is_not_built_on(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    dbt_build(warehouse, "run1", "inv1", full_refresh=True, rewrite=False)
    close(warehouse, serving, "run1")
    with duckdb.connect(str(serving)) as con:  # e.g. restored from an older backup
        con.execute("update meta.publish_info set run_id = 'run0'")
    dbt_build(warehouse, "run2", "inv2")
    second = close(warehouse, serving, "run2")
    assert second.on_top_of is None
    assert_serving_equals_warehouse(warehouse, serving)


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
def test_rows_that_do_not_line_up_are_copied_whole(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    dbt_build(warehouse, "run1", "inv1", full_refresh=True, rewrite=False)
    close(warehouse, serving, "run1")
    dbt_build(warehouse, "run2", "inv2")
    with duckdb.connect(str(warehouse)) as con:  # a row removed outside dbt's delete+insert
        con.execute("delete from marts.fct_events where service_id = 'B'")
    second = close(warehouse, serving, "run2")
    assert second.on_top_of == "run1" and second.how["marts.fct_events"] == "copied"
    assert_serving_equals_warehouse(warehouse, serving)


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
def test_the_incremental_invocation_is_the_only_clean_build_since_the_last_publication(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        assert incremental_invocation(con, "run1") is None  # nothing at all yet
    dbt_build(warehouse, "run1", "inv1", full_refresh=True, rewrite=False)
    with duckdb.connect(str(warehouse)) as con:
        assert incremental_invocation(con, "run1") is None  # a full rebuild, never published
    close(warehouse, serving, "run1")
    dbt_build(warehouse, "run2", "inv2", rewrite=False)
    with duckdb.connect(str(warehouse)) as con:
        assert incremental_invocation(con, "run2") == "inv2"
        assert incremental_invocation(con, "other") is None  # another run's build
    close(warehouse, serving, "run2")
    dbt_build(warehouse, "run3", "inv3", rewrite=False, success=False)
    with duckdb.connect(str(warehouse)) as con:
        assert incremental_invocation(con, "run3") is None  # a failed build
    dbt_build(warehouse, "run4", "inv4", rewrite=False)
    with duckdb.connect(str(warehouse)) as con:
        assert incremental_invocation(con, "run4") is None  # the failed build's rows were never checked
