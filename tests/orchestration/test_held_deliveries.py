"""Held re-deliveries on small extracts: a truncated or badly quarantined re-delivery of a month
does not replace it until a person accepts it, and the decision is logged."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.deliveries import DecisionError, accept, dismiss, pending_files
from orchestration.ingestion.contracts import entity
from orchestration.ingestion.engine import ensure_raw_table, ingest_entity, ingest_system, load_pseudonymiser
from orchestration.warehouse import accepted_since_last_build, connect, record_dbt_invocation
from tests.orchestration.small_extracts import INC_HEADER, STATIONS, WARDS, inc, land

INCIDENTS = entity("irs__incidents")
MARCH = "irs/T1/incidents_2024-03.csv"
MARCH_R2 = "irs/T1/incidents_2024-03_r2.csv"


def incidents(*ids: str, **kw: str) -> str:
    return INC_HEADER + "".join(inc(i, **kw) for i in ids)


TEN = [f"A{i}" for i in range(10)]
HOLD_LOCK = "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('holding', flush=True); sys.stdin.read()"


@pytest.fixture
def warehouse(settings):
    with connect(settings.warehouse_path) as con:
        yield con


@pytest.fixture
def landing(settings, warehouse) -> Path:
    """Reference data loaded, and March delivered with ten incidents."""
    root = settings.landing_dir
    land(root, "reference/T1/stations_2024-03-31.csv", STATIONS)
    land(root, "reference/T1/wards_2024-03-31.csv", WARDS)
    key = load_pseudonymiser(settings.secrets_dir)
    ingest_system(warehouse, "reference", root, key).raise_for_failures()
    land(root, MARCH, incidents(*TEN))
    ingest_entity(warehouse, INCIDENTS, root, key)
    return root


def current_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("select incident_id from raw_current.irs__incidents order by 1").fetchall()]


def load(con, landing: Path, settings, entity_=INCIDENTS):
    report = ingest_entity(con, entity_, landing, load_pseudonymiser(settings.secrets_dir))
    return {o.file_name: o for o in report.outcomes if o.status != "skipped"}


def batch_of(con, file_name: str) -> int:
    return con.execute("select max(batch_id) from audit.ingestion_log where file_name = ?", [file_name]).fetchone()[0]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_truncated_redelivery_is_held_and_the_month_keeps_its_rows(warehouse, landing, settings):
    march_batch = batch_of(warehouse, MARCH)
    land(landing, MARCH_R2, incidents(*TEN[:5]))
    outcome = load(warehouse, landing, settings)[MARCH_R2]
    assert (outcome.status, outcome.rows_received, outcome.rows_loaded, outcome.rows_quarantined) == ("held", 5, 5, 0)
    assert outcome.message == (
        f"held: 5 rows would replace 10 (-50 %) of incidents_2024-03 (batch {march_batch}, {MARCH}); "
        f"accept with: python -m orchestration.cli deliveries accept {MARCH_R2} --by NAME --reason TEXT"
    )
    # Its rows are in raw (nothing lost), but March stays as it was.
    assert current_ids(warehouse) == TEN
    assert warehouse.execute("select count(*) from raw.irs__incidents").fetchone()[0] == 15
    assert warehouse.execute(
        "select batch_id from audit.current_deliveries where raw_table = 'irs__incidents'"
    ).fetchall() == [(march_batch,)]
    log = warehouse.execute(
        "select status, message, rows_received, rows_loaded + rows_quarantined from audit.ingestion_log "
        "where file_name = ?",
        [MARCH_R2],
    ).fetchall()
    assert log == [("held", outcome.message, 5, 5)]
    # A later run neither loads it again nor logs it twice; it stays listed until decided.
    assert load(warehouse, landing, settings) == {}
    assert [(f.file_name, f.status) for f in pending_files(warehouse)] == [(MARCH_R2, "held")]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_accepting_a_held_delivery_makes_it_current_and_logs_who_and_why(warehouse, landing, settings):
    land(landing, MARCH_R2, incidents(*TEN[:5]))
    load(warehouse, landing, settings)
    r2_batch = batch_of(warehouse, MARCH_R2)
    record_dbt_invocation(
        warehouse,
        run_id="r",
        invocation_id="i",
        as_of=__import__("datetime").date(2024, 4, 30),
        months_from=None,
        full_refresh=True,
        success=True,
    )  # a close has run since it was held: the held batch is older than that build's
    assert accepted_since_last_build(warehouse) == []

    done = accept(warehouse, MARCH_R2, by="A. Analyst", reason="the source confirmed five incidents were void")
    assert done == f"accepted {MARCH_R2} (batch {r2_batch}): current now (5 rows); the next close rebuilds"
    assert current_ids(warehouse) == TEN[:5]
    assert warehouse.execute(
        "select file_name, batch_id, decision, decided_by, reason from audit.delivery_decisions"
    ).fetchall() == [(MARCH_R2, r2_batch, "accepted", "A. Analyst", "the source confirmed five incidents were void")]
    # The next close must rebuild: the accepted batch is older than the last build.
    assert accepted_since_last_build(warehouse) == [(MARCH_R2, r2_batch)]
    assert pending_files(warehouse) == []
    with pytest.raises(DecisionError, match=f"batch {r2_batch} was accepted already by A. Analyst"):
        dismiss(warehouse, MARCH_R2, by="B", reason="no")
    # A warehouse whose delivery list is rebuilt (from before the list existed) keeps the decision.
    warehouse.execute("delete from audit.raw_deliveries")
    ensure_raw_table(warehouse, INCIDENTS)
    assert current_ids(warehouse) == TEN[:5]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_dismissed_delivery_never_becomes_current(warehouse, landing, settings):
    land(landing, MARCH_R2, incidents(*TEN[:5]))
    load(warehouse, landing, settings)
    assert dismiss(warehouse, MARCH_R2, by="A", reason="truncated export").startswith(f"dismissed {MARCH_R2}")
    assert current_ids(warehouse) == TEN
    assert accepted_since_last_build(warehouse) == []
    with pytest.raises(DecisionError, match="not held"):
        accept(warehouse, MARCH, by="A", reason="x")


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (TEN + ["B1", "B2", "B3"], 13),  # grows
        (TEN[:8] + ["B1"], 9),  # shrinks by 10 %
        (TEN[:8], 8),  # shrinks by exactly 20 %: not more than the threshold
    ],
)
def test_redelivery_that_grows_or_shrinks_by_at_most_20_per_cent_is_loaded(
    warehouse, landing, settings, rows, expected
):
    land(landing, MARCH_R2, incidents(*rows))
    outcome = load(warehouse, landing, settings)[MARCH_R2]
    assert (outcome.status, outcome.rows_loaded, outcome.message) == ("loaded", expected, "")
    assert current_ids(warehouse) == sorted(rows)


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_redelivery_losing_more_than_5_per_cent_to_quarantine_is_held(warehouse, landing, settings):
    # Same size, but one row in ten refused (an unknown station): 10 % quarantined.
    march = batch_of(warehouse, MARCH)
    land(landing, MARCH_R2, incidents(*TEN[:9]) + inc("B1", station="ZZ99"))
    outcome = load(warehouse, landing, settings)[MARCH_R2]
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("held", 9, 1)
    assert f"9 rows would replace 10 (-10 %) of incidents_2024-03 (batch {march}, {MARCH}); " in outcome.message
    assert "; 1 of 10 rows quarantined (10 %, more than 5 %); accept with" in outcome.message
    assert current_ids(warehouse) == TEN


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_thresholds_are_per_source_contract(warehouse, landing, settings):
    land(landing, MARCH_R2, incidents(*TEN[:5]))
    lenient = replace(INCIDENTS, hold_shrink_pct=60.0)
    assert load(warehouse, landing, settings, lenient)[MARCH_R2].status == "loaded"
    assert current_ids(warehouse) == TEN[:5]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_empty_revision_is_a_held_withdrawal_unless_the_month_was_empty(warehouse, landing, settings):
    land(landing, MARCH_R2, INC_HEADER)
    land(landing, "irs/T1/incidents_2024-04.csv", INC_HEADER)
    land(landing, "irs/T1/incidents_2024-04_r2.csv", INC_HEADER)
    outcomes = load(warehouse, landing, settings)
    assert outcomes[MARCH_R2].status == "held"
    assert "0 rows would replace 10 (-100 %)" in outcomes[MARCH_R2].message
    assert outcomes["irs/T1/incidents_2024-04_r2.csv"].status == "loaded"  # April was empty already
    assert current_ids(warehouse) == TEN
    accept(warehouse, MARCH_R2, by="A", reason="March was sent to the wrong service")
    assert current_ids(warehouse) == []
    assert warehouse.execute(
        "select has_rows from audit.current_deliveries where delivery_key = 'incidents_2024-03'"
    ).fetchall() == [(False,)]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_a_held_delivery_does_not_supersede_within_its_batch(warehouse, landing, settings):
    """April, in the same batch as March's held revision, repeats a key March still holds."""
    land(landing, MARCH_R2, incidents(*TEN[:5]))
    land(landing, "irs/T1/incidents_2024-04.csv", incidents("A9", when="2024-04-02 09:00:00"))
    outcomes = load(warehouse, landing, settings)
    assert outcomes[MARCH_R2].status == "held"
    april = outcomes["irs/T1/incidents_2024-04.csv"]
    assert (april.status, april.rows_loaded, april.rows_quarantined) == ("loaded", 0, 1)
    assert warehouse.execute("select reason from audit.quarantine").fetchall() == [
        (f"duplicate key A9 already loaded from {MARCH}",)
    ]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_deliveries_command_lists_accepts_and_says_when_the_warehouse_is_locked(
    warehouse, landing, settings, monkeypatch, capsys
):
    land(landing, MARCH_R2, incidents(*TEN[:5]))
    land(landing, "irs/T1/incidents_2024-05.csv", INC_HEADER.replace("ward_code", "ward"))  # refused
    load(warehouse, landing, settings)
    warehouse.close()
    monkeypatch.setenv("GT_DATA_DIR", str(settings.data_dir))

    assert main(["deliveries", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"held     {MARCH_R2} (batch ") and "-50 %" in out[0]
    assert out[1].startswith("refused  irs/T1/incidents_2024-05.csv (batch ") and "missing: ward_code" in out[1]

    assert main(["deliveries", "accept", MARCH_R2, "--by", "A. Analyst", "--reason", "confirmed"]) == 0
    assert capsys.readouterr().out.startswith(f"accepted {MARCH_R2}")
    assert main(["deliveries", "reject", MARCH_R2, "--by", "B", "--reason", "late"]) == 2
    assert "was accepted already by A. Analyst" in capsys.readouterr().err

    # A running pipeline (another process) holds the file.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.warehouse_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert main(["deliveries", "accept", MARCH_R2, "--by", "A", "--reason", "r"]) == 3
    finally:
        holder.communicate("")
    assert "is open in another process (a running pipeline?)" in capsys.readouterr().err


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_summary_lists_held_files(warehouse, landing, settings, monkeypatch, capsys):
    land(landing, MARCH_R2, incidents(*TEN[:5]))
    load(warehouse, landing, settings)
    warehouse.close()
    monkeypatch.setenv("GT_DATA_DIR", str(settings.data_dir))
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "held files, not current until accepted (1; python -m orchestration.cli deliveries list):" in out
    assert f"\n  {MARCH_R2}: held: 5 rows would replace 10 (-50 %)" in out


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_a_held_delivery_replaced_by_a_later_one_leaves_the_list(warehouse, landing, settings):
    land(landing, MARCH_R2, incidents(*TEN[:5]))
    load(warehouse, landing, settings)
    land(landing, "irs/T1/incidents_2024-03_r3.csv", incidents(*TEN, "B1"))
    assert load(warehouse, landing, settings)["irs/T1/incidents_2024-03_r3.csv"].status == "loaded"
    assert pending_files(warehouse) == []
    assert current_ids(warehouse) == sorted([*TEN, "B1"])


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_held_files_do_not_fail_the_ingestion_step_and_are_named(warehouse, landing, settings):
    from orchestration.ingestion.assets import report_metadata

    land(landing, MARCH_R2, incidents(*TEN[:5]))
    report = ingest_entity(warehouse, INCIDENTS, landing, load_pseudonymiser(settings.secrets_dir))
    report.raise_for_failures()  # a held file is no failure
    assert report.totals()["files_held"] == 1
    assert report_metadata(report)["held"].value.startswith(f"- {MARCH_R2}: held: 5 rows would replace 10")


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_the_raw_gate_validates_an_accepted_batch_in_the_next_run(warehouse, landing, settings):
    from orchestration.quality import batches_loaded_in_run

    land(landing, MARCH_R2, incidents(*TEN[:5]))
    ingest_entity(warehouse, INCIDENTS, landing, load_pseudonymiser(settings.secrets_dir), run_id="held-run")
    assert batches_loaded_in_run(warehouse, "held-run") == {}  # not current: not validated yet
    accept(warehouse, MARCH_R2, by="A", reason="confirmed")
    assert batches_loaded_in_run(warehouse, "next-run") == {"irs__incidents": [batch_of(warehouse, MARCH_R2)]}
