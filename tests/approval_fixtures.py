"""Small hand-made serving.duckdb files for the approvals tests (orchestration and app): the monthly
mart for one service-month and the audit of the builds that wrote it, and a re-delivery changing it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from orchestration.accounts.store import User

SEPT = dt.date(2026, 9, 1)
T0 = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
PERF = User("pat.perf", "performance", "ESX")

# (kpi_code, org_unit_id, numerator, denominator, value, rag_status): fires per 10,000 population and
# the mean response time, at the service and one group, for September 2026.
ROWS = [
    ("F1", "ESX", 12.0, 40000.0, 3.0, "green"),
    ("F1", "ESX-ESX-GM", 5.0, 20000.0, 2.5, "green"),
    ("R1", "ESX", 3600.0, 10.0, 360.0, "amber"),
]


def make_serving(path: Path, rows=ROWS, invocation: str = "inv-1", reverse: bool = False) -> Path:
    """A serving.duckdb with the few tables approvals read: the monthly mart and the audit of its builds."""
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema audit; create schema meta")
    con.execute(
        "create table marts.rpt_kpi_monthly (kpi_month_sk varchar, kpi_code varchar, org_unit_id varchar, "
        "service_id varchar, period_month date, numerator double, denominator double, value double, "
        "rag_status varchar, _invocation_id varchar)"
    )
    for kpi, unit, num, den, value, rag in reversed(rows) if reverse else rows:
        con.execute(
            "insert into marts.rpt_kpi_monthly values (?, ?, ?, 'ESX', ?, ?, ?, ?, ?, ?)",
            [f"{kpi}|{unit}|{SEPT}", kpi, unit, SEPT, num, den, value, rag, invocation],
        )
    # Another service's month, which an ESX approval must leave out.
    con.execute(
        "insert into marts.rpt_kpi_monthly values ('x', 'F1', 'LFB', 'LFB', ?, 1, 1, 1, 'red', 'inv-1')", [SEPT]
    )
    # The units, for the data access's scope checks (a viewer's service is its unit's).
    con.execute(
        "create table marts.dim_org_unit as select * from (values "
        "('ESX', 'ESX', null, 'service', date '2000-01-01', null), "
        "('ESX-ESX-GM', 'ESX', 'ESX', 'group', date '2000-01-01', null), "
        "('LFB', 'LFB', null, 'service', date '2000-01-01', null)) "
        "as u(org_unit_id, service_id, parent_org_unit_id, org_level, valid_from, valid_to)"
    )
    con.execute("create table meta.publish_info as select 'run-1' as run_id, date '2026-10-01' as as_of")
    con.execute(
        "create table audit.dbt_invocations (run_id varchar, invocation_id varchar, as_of date, months_from date, "
        "full_refresh boolean, success boolean, finished_at timestamp, batches_through bigint)"
    )
    con.execute("insert into audit.dbt_invocations values ('run-1', 'inv-1', '2026-10-01', null, true, true, "
                "'2026-10-02 06:00', 6)")  # fmt: skip
    con.execute(
        "create table audit.ingestion_log (batch_id bigint, service_id varchar, file_name varchar, "
        "revision integer, status varchar, period varchar)"
    )
    con.execute(
        "insert into audit.ingestion_log values (6, 'ESX', 'irs/ESX/incidents_2026-09.csv', 1, 'loaded', '2026-09')"
    )
    con.close()
    return path


def restate(serving: Path, target: Path) -> Path:
    """A copy of serving.duckdb after a re-delivery of ESX's September incidents: 14 fires, not 12."""
    shutil.copy2(serving, target)
    con = duckdb.connect(str(target))
    con.execute(
        "update marts.rpt_kpi_monthly set numerator = 14, value = 3.5, _invocation_id = 'inv-2' "
        "where kpi_code = 'F1' and org_unit_id = 'ESX'"
    )
    con.execute("insert into audit.dbt_invocations values ('run-2', 'inv-2', '2026-10-01', '2026-09-01', false, true, "
                "'2026-10-09 06:00', 9)")  # fmt: skip
    con.execute(
        "insert into audit.ingestion_log values "
        "(7, 'ESX', 'irs/ESX/incidents_2026-09_r2.csv', 2, 'loaded', '2026-09'), "
        "(8, 'ESX', 'reference/ESX/stations_2026-08-31.csv', 1, 'loaded', '2026-08-31'), "
        "(9, 'LFB', 'irs/LFB/incidents_2026-09.csv', 1, 'loaded', '2026-09')"
    )
    con.execute("update meta.publish_info set run_id = 'run-2'")  # as the publish of run-2 would
    con.close()
    return target
