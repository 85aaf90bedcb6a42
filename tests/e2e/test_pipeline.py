"""The whole job end to end: ingestion reconciles, a second run adds nothing, no staff name
reaches the warehouse, and the marts reconcile with raw."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from orchestration.ingestion.contracts import ENTITIES, SYSTEMS
from orchestration.ingestion.real_data import REAL_ENTITIES

pytestmark = [pytest.mark.slow]


def needs_real_data(data_dir: Path) -> None:
    if (data_dir / "has_real_data").read_text() != "1":
        pytest.skip("the real-data folder is absent")


def q(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_raw_tables_for_every_system_and_the_real_data(demo_pipeline):
    needs_real_data(demo_pipeline)
    wh = demo_pipeline / "warehouse.duckdb"
    systems_loaded = {r[0] for r in q(wh, "select distinct system from audit.ingestion_log where rows_loaded > 0")}
    assert set(SYSTEMS) <= systems_loaded
    for entity in (*ENTITIES, *REAL_ENTITIES):
        (n,) = q(wh, f"select count(*) from raw.{entity.table}")[0]
        assert n > 0, f"raw.{entity.table} is empty"


def test_every_file_reconciles(demo_pipeline):
    wh = demo_pipeline / "warehouse.duckdb"
    broken = q(wh, "select file_name from audit.ingestion_log where rows_received <> rows_loaded + rows_quarantined")
    assert broken == []
    # And the log agrees with what is really in raw and quarantine, per batch.
    for entity in (*ENTITIES, *REAL_ENTITIES):
        mismatched = q(
            wh,
            f"""
            select l.batch_id from audit.ingestion_log l
            left join (select _batch_id, count(*) n from raw.{entity.table} group by 1) r on r._batch_id = l.batch_id
            left join (select batch_id, count(*) n from audit.quarantine group by 1) x on x.batch_id = l.batch_id
            where l.raw_table = ? and (coalesce(r.n, 0) <> l.rows_loaded or coalesce(x.n, 0) <> l.rows_quarantined)
            """,
            [entity.table],
        )
        assert mismatched == [], entity.table


def test_clean_demo_data_quarantines_nothing(demo_pipeline):
    wh = demo_pipeline / "warehouse.duckdb"
    rows = q(wh, "select file_name, reason from audit.quarantine where file_name not like 'real/%'")
    # Only the onboarding example's one class its value maps deliberately lack (docs/onboarding.md).
    ((file_name, reason),) = rows
    assert file_name == "irs/NSH/Incidents 2025.csv" and "'Co-responding > Medical'" in reason


def test_the_onboarding_example_reaches_the_marts_by_category_exactly(demo_pipeline):
    """A service in a layout of its own, loaded by mapping files alone: its incidents by category in
    the published marts equal a count of the extract made without the mapping code."""
    import csv
    import io
    from collections import Counter

    from tests.conftest import ONBOARDING

    text = (ONBOARDING / "extract" / "Incidents 2025.csv").read_bytes().decode("cp1252")
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n", 1)[1])))
    prefixes = {
        "Fire > Primary": "primary_fire",
        "Fire > Secondary": "secondary_fire",
        "Fire > Chimney": "chimney_fire",
        "False Alarm": "false_alarm",
        "Special Service": "special_service",
    }
    expected = Counter(
        next((code for prefix, code in prefixes.items() if r["Incident Classification"].startswith(prefix)), None)
        for r in rows
    )
    assert expected.pop(None) == 1  # the one unmapped class, quarantined
    serving = demo_pipeline / "serving.duckdb"
    by_category = "select incident_category, count(*) from marts.fct_incidents where service_id = 'NSH' group by 1"
    got = dict(q(serving, by_category))
    assert got == dict(expected)
    # Reported at service level (no station ground), month by month, adding up to the extract.
    months = q(
        serving,
        "select period_month, numerator from marts.rpt_kpi_monthly "
        "where service_id = 'NSH' and kpi_code = 'INC_TOTAL' and org_level = 'service' order by 1",
    )
    assert len(months) == 12 and sum(n for _, n in months) == sum(expected.values())
    below = "select count(*) from marts.rpt_kpi_monthly where service_id = 'NSH' and org_level <> 'service'"
    assert q(serving, below) == [(0,)]
    # What the service does not record is "not recorded", never 0.
    notes = dict(
        q(
            serving,
            "select kpi_code, any_value(value_note) from marts.rpt_kpi_monthly "
            "where service_id = 'NSH' and org_level = 'service' and value is null group by 1",
        )
    )
    assert notes["FIRE_DEATHS"] == "not recorded" and notes["RESP_STD_MET_PCT"] == "not recorded"
    assert notes["PRI_FIRES_10K"] == "no ward denominators"


def test_second_run_adds_no_rows(demo_pipeline):
    wh = demo_pipeline / "warehouse.duckdb"
    before = json.loads((demo_pipeline / "first_run_counts.json").read_text())
    # Raw data and the ingestion trail must not grow; the data-quality gates record every run
    # (audit.dq_*), which is the point of them.
    for name, count in before.items():
        schema, table = name.split(".")
        if schema == "raw" or name in ("audit.ingestion_log", "audit.quarantine"):
            assert q(wh, f'select count(*) from "{schema}"."{table}"')[0][0] == count, name


def test_no_staff_name_anywhere_in_the_warehouse_or_serving(demo_pipeline):
    (hr_file,) = (demo_pipeline / "landing" / "hr").rglob("hr_extract_*.xlsx")
    wb = load_workbook(hr_file, read_only=True)
    rows = list(wb["Staff"].iter_rows(values_only=True))
    header = rows[0]
    first, last = header.index("first_name"), header.index("last_name")
    number = header.index("staff_number")
    full_names = {f"{r[first]} {r[last]}" for r in rows[1:]}
    identifiers = {str(r[number]) for r in rows[1:]}
    assert len(full_names) > 100
    for db in ("warehouse.duckdb", "serving.duckdb"):
        path = demo_pipeline / db
        columns = q(
            path,
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog')"
            # Third-party national tables (Home Office, ONS) hold no staff data; their street
            # names can coincide with simulated names ("Dean Hill").
            " and table_name not similar to '(home_office|ons)__.*'"
            " and table_name not similar to 'stg_(home_office|ons)__.*'",
        )
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute("create temp table names(v varchar)")
            con.executemany("insert into names values (?)", [[n] for n in full_names | identifiers])
            for schema, table, column in columns:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" t join names on t."{column}" = names.v'
                ).fetchall()[0][0]
                assert hits == 0, f"{db}: {schema}.{table}.{column} holds a staff name or number"
                if schema in ("raw", "audit"):
                    # Free text such as the quarantine's raw_text: look for full names inside it.
                    contained = con.execute(
                        f'select count(*) from "{schema}"."{table}" t join names on contains(t."{column}", names.v) '
                        "where length(names.v) > 8"
                    ).fetchall()[0][0]
                    assert contained == 0, f"{db}: {schema}.{table}.{column} contains a staff name"


def test_service_incident_total_equals_raw(demo_pipeline):
    wh = demo_pipeline / "warehouse.duckdb"
    raw = dict(
        ((s, m), n)
        for s, m, n in q(
            wh,
            "select service_id, cast(date_trunc('month', call_at) as date), count(*) "
            "from raw_current.irs__incidents group by all",
        )
    )
    mart = q(
        wh,
        "select service_id, period_month, numerator from marts.rpt_kpi_monthly "
        "where kpi_code = 'INC_TOTAL' and org_level = 'service'",
    )
    assert len(mart) == len(raw)
    for service, month, value in mart:
        assert value == raw[(service, month)], (service, month)


def test_lfb_monthly_counts_come_through_exactly(demo_pipeline):
    needs_real_data(demo_pipeline)
    expected = [784, 702, 733, 757, 808, 899, 788, 808, 951, 934, 927, 909]
    got = q(
        demo_pipeline / "serving.duckdb",
        "select numerator from marts.rpt_kpi_monthly where kpi_code = 'INC_TOTAL' and org_unit_id = 'LFB' "
        "and period_month between '2023-01-01' and '2023-12-01' order by period_month",
    )
    assert [int(r[0]) for r in got] == expected


def test_every_kpi_has_rows_at_every_level_it_declares(demo_pipeline):
    wh = demo_pipeline / "serving.duckdb"
    declared = q(wh, "select kpi_code, lowest_level_rank from marts.dim_kpi")
    present = {
        (k, lvl)
        for k, lvl in q(wh, "select distinct kpi_code, org_level from marts.rpt_kpi_monthly where service_id = 'ESX'")
    }
    ranks = {"watch": 1, "station": 2, "group": 3, "service": 4}
    for kpi, lowest in declared:
        for level, rank in ranks.items():
            if rank >= lowest:
                assert (kpi, level) in present, f"{kpi} has no {level} rows"
            else:
                assert (kpi, level) not in present, f"{kpi} should not be reported at {level} level"


def test_group_rates_are_ratios_of_sums(demo_pipeline):
    """A group's rate equals its stations' summed numerators over summed denominators."""
    wh = demo_pipeline / "warehouse.duckdb"
    rows = q(
        wh,
        """
        with stations as (
            select a.ancestor_org_unit_id as group_id, m.period_month,
                   sum(m.numerator) n, sum(m.denominator) d
            from marts.rpt_kpi_monthly m
            join intermediate.int_org_unit_ancestry_monthly a
              on a.org_unit_id = m.org_unit_id and a.period_month = m.period_month and a.ancestor_level = 'group'
            where m.kpi_code = 'PRI_FIRES_10K' and m.org_level = 'station'
            group by all
        )
        select g.value, s.n / s.d * 10000
        from marts.rpt_kpi_monthly g join stations s on s.group_id = g.org_unit_id and s.period_month = g.period_month
        where g.kpi_code = 'PRI_FIRES_10K' and g.org_level = 'group'
        """,
    )
    assert rows
    for value, expected in rows:
        assert value == pytest.approx(expected)


def test_serving_is_published_and_read_only_readable(demo_pipeline):
    serving = demo_pipeline / "serving.duckdb"
    tables = {r[0] for r in q(serving, "select table_name from information_schema.tables where table_schema = 'marts'")}
    assert {
        "rpt_kpi_monthly",
        "rpt_kpi_quarterly",
        "rpt_golden_thread",
        "rpt_benchmarks",
        "dim_kpi",
        "dim_org_unit",
    } <= tables
    (as_of,) = q(serving, "select as_of from meta.publish_info")[0]
    assert str(as_of) == "2026-11-01"
    assert not serving.with_name("serving.duckdb.next").exists()


def test_the_command_line_prints_stages_and_the_reconciliation_not_dagster_events(demo_pipeline):
    printed = (demo_pipeline / "second_run_output.txt").read_text()
    stages = ("run", "close", "ingest irs", "ingest hr", "ingest app", "raw gate", "dbt", "mart gate", "publish")
    for stage in stages:
        assert re.search(rf"^ +[0-9.]+ s  {stage} ", printed, re.MULTILINE), f"no line for {stage}:\n{printed}"
    assert re.search(r"  dbt  +[0-9,]+/[0-9,]+ nodes: [0-9,]+ models, [0-9,]+ seeds, [0-9,]+ tests", printed)
    assert re.search(r"  run  +succeeded", printed)
    # The second run finds every file unchanged; the all-time table still reconciles every system.
    assert "files ingested, this run" in printed and "no new or changed files" in printed
    all_time = printed.split("files ingested, all time:")[1]
    assert re.search(r"^  irs +[0-9,]+ +[0-9,]+", all_time, re.MULTILINE)
    assert "no file was refused or held in this run" in printed
    for dagster_line in (" - DEBUG - ", "STEP_START", "ASSET_MATERIALIZATION", "Running dbt command"):
        assert dagster_line not in printed
    log_file = Path(re.search(r"^event log:  (\S+)", printed, re.MULTILINE).group(1))
    assert log_file.parent == demo_pipeline / "logs"
    logged = log_file.read_text()
    assert " - DEBUG - " in logged and "STEP_START" in logged and " of " in logged  # dbt's own lines
