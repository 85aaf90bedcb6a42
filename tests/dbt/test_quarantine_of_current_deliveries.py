"""Data accuracy counts only current deliveries: the quarantine behind it
(``int_quarantine_of_current_deliveries``), built by dbt on a warehouse the ingestion engine loaded
from small extracts, and the model's dbt unit test."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from expectations.store import ensure_dq_schema
from orchestration.deliveries import accept
from orchestration.ingestion.contracts import entity
from orchestration.ingestion.engine import ensure_all_raw_tables, ingest_entity, ingest_system, load_pseudonymiser
from orchestration.settings import REPO_ROOT
from orchestration.warehouse import connect
from tests.orchestration.small_extracts import INC_HEADER, STATIONS, WARDS, inc, land

# dbt builds the model on ingested data three times: make test runs it, make test-fast does not.
pytestmark = [pytest.mark.slow]

DBT_PROJECT = REPO_ROOT / "dbt_project"
MODEL = "int_quarantine_of_current_deliveries"


def dbt(data_dir: Path, *args: str):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GT_DATA_DIR", str(data_dir))
        mp.setenv("DO_NOT_TRACK", "1")
        mp.delenv("GT_DBT_TARGET", raising=False)
        return dbtRunner().invoke([
            *args,
            "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(data_dir / "target"), "--log-path", str(data_dir / "logs"),
        ])  # fmt: skip


def counted(data_dir: Path) -> list[tuple]:
    """The model rebuilt (a table, as every close rebuilds it), then its rows per service and month."""
    assert dbt(data_dir, "run", "--select", MODEL).success
    # Plain connections: dbt, run in this process, keeps the file open with its own configuration.
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        return con.execute(
            f"select service_id, cast(period_month as varchar), count(*) from intermediate.{MODEL} group by all "
            "order by all"
        ).fetchall()


def test_superseded_refused_and_held_deliveries_stop_counting(settings):
    root, key = settings.landing_dir, load_pseudonymiser(settings.secrets_dir)
    incidents = entity("irs__incidents")
    land(root, "reference/T1/stations_2024-03-31.csv", STATIONS)
    land(root, "reference/T1/wards_2024-03-31.csv", WARDS)
    # March refused whole (its columns drifted: 3 rows quarantined); April loaded with one bad row.
    march = inc("A1") + inc("A2") + inc("A3")
    land(root, "irs/T1/incidents_2024-03.csv", INC_HEADER.replace("ward_code", "ward") + march)
    april = [inc(f"B{i}", when="2024-04-02 09:00:00") for i in range(10)]
    land(root, "irs/T1/incidents_2024-04.csv", INC_HEADER + "".join(april[:9]) + inc("B9", station="ZZ99"))
    with connect(settings.warehouse_path) as con:
        ensure_all_raw_tables(con)
        ensure_dq_schema(con)
        ingest_system(con, "reference", root, key).raise_for_failures()
        ingest_entity(con, incidents, root, key)
    assert counted(settings.data_dir) == [("T1", "2024-03-01", 3), ("T1", "2024-04-01", 1)]

    # March re-sent good (the refused file replaced); April re-sent truncated with more refused
    # rows: held, so April's current delivery (one quarantined row) still counts, not the held one's.
    land(root, "irs/T1/incidents_2024-03.csv", INC_HEADER + march)
    land(root, "irs/T1/incidents_2024-04_r2.csv", INC_HEADER + "".join(april[:3]) + inc("B8", station="ZZ99"))
    with duckdb.connect(str(settings.warehouse_path)) as con:
        outcomes = {o.file_name: o.status for o in ingest_entity(con, incidents, root, key).outcomes}
    assert outcomes == {"irs/T1/incidents_2024-03.csv": "loaded", "irs/T1/incidents_2024-04.csv": "skipped",
                        "irs/T1/incidents_2024-04_r2.csv": "held"}  # fmt: skip
    assert counted(settings.data_dir) == [("T1", "2024-04-01", 1)]

    # Accepted, April's r2 is current: its quarantine counts and the first delivery's stops.
    with duckdb.connect(str(settings.warehouse_path)) as con:
        accept(con, "irs/T1/incidents_2024-04_r2.csv", by="test", reason="confirmed")
    assert counted(settings.data_dir) == [("T1", "2024-04-01", 1)]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        assert con.execute(f"select distinct raw_text like '%B8%' from intermediate.{MODEL}").fetchall() == [(True,)]

    # The model's dbt unit test (refused, superseded, held and later refused attempts).
    result = dbt(settings.data_dir, "test", "--select", f"{MODEL},test_type:unit")
    assert result.success and len(result.result.results) == 1
