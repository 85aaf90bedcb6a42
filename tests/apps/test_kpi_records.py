"""The drill-through from a KPI value to its records reads dbt's selection (each fact's
``is_counted_for_<kpi>`` marks) and restates no KPI rule; the report reads show every row.
A small serving database made here, not the demo: these are the data-access rules only."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_fixtures import APP_DIR  # noqa: E402

if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

from data_access import connection, drill_through, report_sql  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MONTH = dt.date(2026, 10, 1)


@pytest.fixture
def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.dim_org_unit as select * from (values "
        "('ESX', null, 'service', date '2020-01-01', null), "
        "('ESX-S1', 'ESX', 'station', date '2020-01-01', null), "
        "('ESX-S1-RED', 'ESX-S1', 'watch', date '2020-01-01', null)"
        ") as t(org_unit_id, parent_org_unit_id, org_level, valid_from, valid_to)"
    )
    con.execute(
        "create table marts.fct_fire_safety_audits as select * from (values "
        "('A1', 'ESX-S1-RED', date '2026-10-01', date '2026-10-03', true, true), "
        "('A2', 'ESX-S1', date '2026-10-01', date '2026-10-04', null, true), "
        "('A3', 'ESX-S1', date '2026-09-01', date '2026-09-04', true, true)"
        ") as t(audit_sk, org_unit_id, period_month, audit_date, is_counted_for_fsa_done, is_counted_for_fsa_unsat_pct)"
    )
    con.execute(
        "create table marts.fct_incident_response as select * from (values "
        "('I1', 'ESX', 'ESX-S1', date '2026-10-01', 400.0, null, true), "
        "('I2', 'ESX', 'ESX-S1', date '2026-10-01', 30.0, 'under_1_minute', false), "
        "('I3', 'ESX', null, date '2026-10-01', 500.0, null, true), "
        "('I4', 'ESX', 'ESX-S1', date '2026-10-01', 300.0, null, null)"
        ") as t(incident_sk, service_id, station_sk, period_month, total_response_seconds, exclusion_reason, "
        "is_counted_for_resp_std_met_pct)"
    )
    con.execute(
        "create table marts.rpt_kpi_monthly as select * from (values "
        "('FSA_DONE|ESX-S1|2026-10-01', 'FSA_DONE', 'ESX-S1', date '2026-10-01', 1.0)"
        ") as t(kpi_month_sk, kpi_code, org_unit_id, period_month, value)"
    )
    con.close()
    monkeypatch.setenv("GT_DATA_DIR", str(tmp_path))
    return path


def test_the_fact_marking_a_kpi_is_its_record_source(serving: Path) -> None:
    assert drill_through.kpi_record_source("FSA_DONE") == "marts.fct_fire_safety_audits"
    assert drill_through.kpi_record_source("RESP_STD_MET_PCT") == "marts.fct_incident_response"
    # Built from monthly aggregates: no fact marks it, so no records to list.
    assert drill_through.kpi_record_source("STAFF_FTE") is None
    assert drill_through.kpi_source_records("STAFF_FTE", "ESX", MONTH) == {}
    # A code that is not a plain identifier never reaches the SQL.
    assert drill_through.kpi_selection_column("X; drop table marts.dim_org_unit") is None


def test_only_the_marked_records_of_the_unit_and_month_are_listed(serving: Path) -> None:
    audits = drill_through.kpi_source_records("FSA_DONE", "ESX-S1", MONTH)
    # A1 counted at the station's watch; A2 outside the programme (null); A3 another month.
    assert audits["included"].audit_sk.tolist() == ["A1"]
    assert "excluded" not in audits  # the fact gives no exclusion reasons
    unsatisfactory = drill_through.kpi_source_records("FSA_UNSAT_PCT", "ESX-S1", MONTH)
    assert unsatisfactory["included"].audit_sk.tolist() == ["A1", "A2"]


def test_response_records_list_the_excluded_with_their_reason(serving: Path) -> None:
    station = drill_through.kpi_source_records("RESP_STD_MET_PCT", "ESX-S1", MONTH)
    assert station["included"].incident_sk.tolist() == ["I1"]  # I4 is outside the KPI's scope
    assert station["excluded"][["incident_sk", "exclusion_reason"]].values.tolist() == [["I2", "under_1_minute"]]
    # No station ground: counted at the service.
    service = drill_through.kpi_source_records("RESP_STD_MET_PCT", "ESX", MONTH)
    assert service["included"].incident_sk.tolist() == ["I1", "I3"]


def test_report_rows_are_read_as_published(serving: Path) -> None:
    con = duckdb.connect(str(serving))
    con.execute("insert into marts.rpt_kpi_monthly select * from marts.rpt_kpi_monthly")
    con.close()
    # No hiding of duplicates in the app: dbt's unique test on kpi_month_sk keeps the grain.
    rows = connection.query(report_sql.monthly_rows("kpi_code = 'FSA_DONE'"))
    assert len(rows) == 2


def _selection_flags() -> set[str]:
    """The boolean columns of the record-level facts (the flags KPI selections are built from)."""
    manifest = json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())
    flags = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/core/operations/"):
            flags |= {name for name, c in node["columns"].items() if c.get("data_type") == "boolean"}
    return flags


def test_the_app_restates_no_kpi_selection_rule() -> None:
    flags = _selection_flags()
    assert {"is_potentially_life_threatening", "is_counted_for_fsa_done", "is_rbip"} <= flags
    # Shown as a record attribute in the incident drill-through (the confined-fires numerator).
    shown = {"is_confined_to_room"}
    found = []
    for path in sorted((REPO / "apps" / "streamlit").rglob("*.py")):
        text = path.read_text()
        for flag in sorted(flags - shown):
            if re.search(rf"\b{flag}\b", text):
                found.append(f"{path.relative_to(REPO)}: {flag}")
    assert found == []
