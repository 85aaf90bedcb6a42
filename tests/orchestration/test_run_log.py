"""What a pipeline run prints: stage lines made from (fake and real) Dagster events, Dagster's own
log in a file, and the end-of-run reconciliation by whatever statuses the ingestion log holds."""

from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType as T

from orchestration import cli, run_log
from orchestration.partitions import execute
from orchestration.settings import Settings
from orchestration.warehouse import ensure_audit_schema


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def event(kind: T, **data) -> SimpleNamespace:
    return SimpleNamespace(event_type=kind, job_name="golden_thread", **data)


def materialized(key: str, **metadata) -> SimpleNamespace:
    return event(
        T.ASSET_MATERIALIZATION,
        step_materialization_data=SimpleNamespace(
            materialization=dg.AssetMaterialization(dg.AssetKey(key.split("/")), metadata=metadata)
        ),
    )


def observed(key: str, **metadata) -> SimpleNamespace:
    return event(
        T.ASSET_OBSERVATION,
        asset_observation_data=SimpleNamespace(
            asset_observation=dg.AssetObservation(dg.AssetKey(key.split("/")), metadata=metadata)
        ),
    )


def checked(key: str, passed: bool, **metadata) -> SimpleNamespace:
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(key.split("/")), check_name="c", passed=passed, metadata=metadata
    )
    return event(T.ASSET_CHECK_EVALUATION, asset_check_evaluation_data=evaluation)


def failed(message: str) -> SimpleNamespace:
    root = SimpleNamespace(message=f"{message}\nsecond line", cause=None)
    wrapper = SimpleNamespace(message="dagster._core.errors.DagsterExecutionStepExecutionError: wrapped", cause=root)
    return event(T.STEP_FAILURE, step_failure_data=SimpleNamespace(error=wrapper))


def test_stage_lines_from_fake_events():
    out, clock, asked = io.StringIO(), Clock(), []

    def counts(run_id, tables):
        asked.append((run_id, tables))
        return [
            ("loaded", False, 2, 100, 100, 0),
            ("loaded", True, 1, 10, 8, 2),
            ("held", False, 1, 5, 5, 0),
            ("refused", False, 1, 3, 0, 3),
        ]

    progress = run_log.RunProgress(out, ingestion_counts=counts, dbt_total=5, clock=clock)
    progress.run_id = "run-1"

    def step(key: str, *events, seconds: float = 1.0) -> None:
        progress.handle(key, event(T.STEP_START))
        for e in events:
            progress.handle(key, e)
        clock.now += seconds

    progress.handle(None, event(T.RUN_START))
    # The close is partitioned: one materialization per month, whose counts must not add up.
    months = [
        materialized(
            "close/monthly_deliveries",
            first_month="2024-01",
            last_month="2024-03",
            as_of="2024-04-01",
            services_delivering=1,
        )
        for _ in range(3)
    ]
    step("close__monthly_deliveries", *months, checked("close/monthly_deliveries", False, missing=2), seconds=2.5)
    progress.handle("close__monthly_deliveries", event(T.STEP_SUCCESS))
    step("ingest_irs", materialized("raw/irs__a", files_skipped=3), materialized("raw/irs__b", files_skipped=4))
    progress.handle("ingest_irs", event(T.STEP_SUCCESS))
    step(
        "quality__raw_batches_validated",
        materialized("quality/raw_batches_validated", tables_validated=3),
        checked("quality/raw_batches_validated", True, blocking_failures=0, warnings=2, records_flagged=15),
    )
    progress.handle("quality__raw_batches_validated", event(T.STEP_SUCCESS))
    progress.handle("golden_thread_dbt", event(T.STEP_START))
    progress.handle("golden_thread_dbt", None, logging.WARNING, "1 withdrawn delivery: rebuilding\nmore")
    progress.handle("golden_thread_dbt", None, logging.INFO, "Running dbt command")
    progress.handle("golden_thread_dbt", materialized("staging/stg_x", unique_id="model.p.stg_x"))
    clock.now += 20  # past the progress interval: one progress line
    progress.handle("golden_thread_dbt", materialized("seeds/s", unique_id="seed.p.s"))
    # A test on two models is observed twice but is one node.
    progress.handle("golden_thread_dbt", observed("staging/stg_x", unique_id="test.p.t1", status="pass"))
    progress.handle("golden_thread_dbt", observed("seeds/s", unique_id="test.p.t1", status="pass"))
    progress.handle("golden_thread_dbt", observed("staging/stg_x", unique_id="test.p.t2", status="fail"))
    progress.handle("golden_thread_dbt", failed("dbt test t2 failed: 4 rows"))
    progress.handle("quality__marts_validated", None, logging.ERROR)  # Dagster: "Not executing."
    progress.handle(None, event(T.RUN_FAILURE))

    lines = out.getvalue().splitlines()
    assert lines == [
        "    0.0 s  run                 started: golden_thread, run run-1",
        "    2.5 s  close               2024-01 to 2024-03 (cut-off 2024-04-01), 1 service delivering, "
        "2 monthly extracts not yet delivered  (2.5 s)",
        "    3.5 s  ingest irs          5 files: 2 loaded, 1 with quarantined rows, 1 held, 1 refused; "
        "rows 118 received = 113 loaded + 5 quarantined; 7 unchanged  (1.0 s)",
        "    4.5 s  raw gate            3 tables passed: 0 blocking failures, 2 warnings, 15 records flagged  (1.0 s)",
        "    4.5 s  dbt                 building 5 nodes (models, seeds and tests)",
        "    4.5 s  dbt                 warning: 1 withdrawn delivery: rebuilding",
        "   24.5 s  dbt                 2/5 nodes",
        "   24.5 s  dbt                 FAILED: dbt test t2 failed: 4 rows "
        "[4/5 nodes: 1 model, 1 seed, 2 tests, 1 fail]  (20.0 s)",
        "   24.5 s  mart gate           not run: a step it depends on failed",
        "   24.5 s  run                 FAILED (dbt)",
    ]
    assert asked == [("run-1", ["irs__a", "irs__b"])]


def test_ingestion_line_when_nothing_changed():
    assert run_log.describe_ingestion([], 40) == "nothing new (40 unchanged)"
    assert run_log.describe_ingestion([], 0) == "nothing new (no files)"


def test_mart_gate_line_says_which_months_it_checked():
    check = {"blocking_failures": 1, "warnings": 0, "records_flagged": 3}
    assert run_log.describe_gate({"suites": 4, "scope": "all"}, check, False) == (
        "4 suites (every month) BLOCKED: 1 blocking failure, 0 warnings, 3 records flagged"
    )
    assert run_log.describe_gate({"suites": 1, "scope": "months rewritten by this run"}, check, True).startswith(
        "1 suite (months rewritten by this run) passed"
    )


def test_raw_gate_line_when_no_batch_landed():
    assert run_log.describe_gate({"tables_validated": 0}, {"blocking_failures": 0}, True) == "no new batch to check"


def test_publish_line_names_how_each_table_was_built():
    on_top = {"tables": 30, "built_on_top_of": "abcdef123456", "tables_copied": 25, "tables_rows_replaced": 5}
    assert (
        run_log.describe_publish(on_top)
        == "serving.duckdb, 30 tables (on top of run abcdef12: 25 copied, 5 rows replaced)"
    )
    assert run_log.describe_publish({"tables": 1, "built_on_top_of": ""}) == "serving.duckdb, 1 table (built whole)"


def test_a_line_that_cannot_be_made_does_not_fail_the_run():
    out = io.StringIO()
    handler = run_log._ProgressHandler(run_log.RunProgress(out))
    record = logging.LogRecord("x", logging.DEBUG, "", 0, "m", None, None)
    record.dagster_meta = {"step_key": "ingest_irs", "dagster_event": event(T.ASSET_MATERIALIZATION)}
    handler.emit(record)
    assert "progress line not printed" in out.getvalue()


def test_dbt_node_count_counts_what_dbt_build_reports(tmp_path: Path):
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.p.a": {"resource_type": "model", "config": {"materialized": "table"}},
        "model.p.e": {"resource_type": "model", "config": {"materialized": "ephemeral"}},
        "model.p.off": {"resource_type": "model", "config": {"materialized": "view", "enabled": False}},
        "seed.p.s": {"resource_type": "seed", "config": {}},
        "test.p.t": {"resource_type": "test", "config": {}},
        "analysis.p.x": {"resource_type": "analysis", "config": {}},
    }
    manifest.write_text(__import__("json").dumps({"nodes": nodes}))
    assert run_log.dbt_node_count(manifest) == 3


def test_a_real_run_prints_stage_lines_and_logs_dagster_events_to_the_file(tmp_path: Path, settings: Settings):
    """The loggers wired through ``execute``: stage lines on the console, Dagster's DEBUG events and
    what steps print to stdout only in the log file."""

    @dg.asset(key=["serving", "serving_database"])
    def publish():
        print("raw output a library printed")
        return dg.MaterializeResult(metadata={"tables": 2, "built_on_top_of": ""})

    @dg.asset(key=["quality", "marts_validated"], deps=[publish])
    def gate():
        raise dg.Failure(description="marts do not reconcile: KPI X")

    @dg.asset(key=["after"], deps=[gate])
    def after():
        return None

    job = dg.Definitions(assets=[publish, gate, after], jobs=[dg.define_asset_job("j")]).resolve_job_def("j")
    path = run_log.log_path(tmp_path / "logs", dt.datetime(2026, 1, 2, 3, 4, 5))
    assert path.name == "pipeline-20260102-030405.log"
    with run_log.run_logging(path) as (_console, log), dg.DagsterInstance.ephemeral() as instance:
        console = io.StringIO()
        progress = run_log.RunProgress(console)
        result = execute(job, instance, settings, loggers=run_log.run_loggers(progress, log))
    assert not result.success
    shown = console.getvalue()
    assert "publish             serving.duckdb, 2 tables (built whole)" in shown
    assert "mart gate           FAILED: marts do not reconcile: KPI X" in shown
    assert "after               not run: a step it depends on failed" in shown
    assert "run                 FAILED (mart gate)" in shown
    assert "DEBUG" not in shown and "STEP_START" not in shown
    logged = path.read_text()
    assert " - DEBUG - " in logged and "STEP_START" in logged
    assert "raw output a library printed" in logged


def ingestion_log(path: Path) -> None:
    rows = [
        # batch, run, system, status, received, loaded, quarantined, message
        (1, "old", "irs", "loaded", 10, 10, 0, None),
        (2, "old", "irs", "rejected", 3, 0, 3, "columns do not match"),
        (3, "new", "irs", "loaded", 5, 4, 1, None),
        (4, "new", "irs", "held", 2, 2, 0, "would shrink published month 2024-03 from 9 to 2 rows"),
        (5, "new", "hr", "refused", 1, 0, 1, "not a workbook"),
        (6, "new", "hr", "loaded", 7, 7, 0, None),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        ensure_audit_schema(con)
        for batch, run, system, status, received, loaded, quarantined, message in rows:
            con.execute(
                "insert into audit.ingestion_log (batch_id, run_id, system, entity, raw_table, file_name, "
                "file_sha256, rows_received, rows_loaded, rows_quarantined, status, message, started_at, "
                "finished_at) values (?, ?, ?, 'e', ?, ?, 'sha', ?, ?, ?, ?, ?, now(), now())",
                [
                    batch,
                    run,
                    system,
                    f"{system}__e",
                    f"{system}/f{batch}.csv",
                    received,
                    loaded,
                    quarantined,
                    status,
                    message,
                ],
            )


def test_summary_shows_this_runs_files_all_time_and_every_file_not_loaded(settings: Settings, capsys):
    ingestion_log(settings.warehouse_path)
    cli.print_summary(settings, run_id="new")
    shown = capsys.readouterr().out
    this_run, all_time = shown.split("files ingested, all time:")
    assert this_run.splitlines()[1:5] == [
        "files ingested, this run (new):",
        "  system  files  loaded  part-quarantined  held  refused  rows received  loaded  quarantined",
        "  hr          2       1                 0     0        1              8       7            1",
        "  irs         2       0                 1     1        0              7       6            1",
    ]
    assert all_time.splitlines()[1:4] == [
        "  system  files  loaded  part-quarantined  held  refused  rejected  rows received  loaded  quarantined",
        "  hr          2       1                 0     0        1         0              8       7            1",
        "  irs         4       1                 1     1        0         1             20      16            4",
    ]
    assert "files refused or held in this run (2):" in shown
    assert "  held     irs: irs/f4.csv: would shrink published month 2024-03 from 9 to 2 rows" in shown
    assert "  refused  hr: hr/f5.csv: not a workbook" in shown
    assert "rejected" not in shown.split("files refused or held")[1]  # an earlier run's file


def test_summary_of_a_run_that_ingested_nothing(settings: Settings, capsys):
    ingestion_log(settings.warehouse_path)
    cli.print_summary(settings, run_id="other")
    shown = capsys.readouterr().out
    assert "files ingested, this run (other):\n  no new or changed files" in shown
    assert "no file was refused or held in this run" in shown


def test_summary_before_any_warehouse(settings: Settings, capsys):
    cli.print_summary(settings, run_id="x")
    assert capsys.readouterr().out == "no warehouse yet: nothing ingested\n"


@pytest.mark.parametrize("published", [True, False])
def test_locations_name_the_app_the_log_and_the_run(settings: Settings, capsys, published: bool):
    cli.print_locations(settings, Path("/d/logs/pipeline-1.log"), "abc", published=published)
    shown = capsys.readouterr().out
    assert "event log:  /d/logs/pipeline-1.log" in shown
    assert "http://127.0.0.1:3000/runs/abc" in shown
    assert ("published by this run" if published else "not replaced by this run") in shown
