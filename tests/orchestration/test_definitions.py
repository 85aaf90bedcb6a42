"""The Dagster code location loads, and its pieces are wired as the design says."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from orchestration.close_asset import landed_months, missing_deliveries
from orchestration.dbt import (
    PARTIAL_PARSE,
    GoldenThreadTranslator,
    dbt_build_args,
    dbt_build_env,
    dbt_project,
    dbt_resource,
    environment,
    keep_partial_parse,
    run_target_path,
)
from orchestration.definitions import PIPELINE_JOB, build_definitions
from orchestration.ingestion.contracts import ENTITIES
from orchestration.partitions import CLOSE_KEY, MONTHLY, close_month, months_from_tags, run_tags
from orchestration.settings import REPO_ROOT


def test_definitions_load(settings):
    defs = build_definitions(settings)
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {f"raw/{e.table}" for e in ENTITIES} <= keys
    assert {"marts/rpt_kpi_monthly", "marts/dim_org_unit", "serving/serving_database"} <= keys
    assert defs.resolve_job_def(PIPELINE_JOB) is not None


def test_dbt_sources_are_fed_by_ingestion_assets(settings):
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["staging", "stg_irs__incidents"])).parent_keys
    assert dg.AssetKey(["raw", "irs__incidents"]) in parents
    publish = graph.get(dg.AssetKey(["serving", "serving_database"])).parent_keys
    assert dg.AssetKey(["marts", "rpt_kpi_monthly"]) in publish


def test_translator_and_build_args_are_pure():
    manifest = json.loads(Path(dbt_project().manifest_path).read_text())
    translator = GoldenThreadTranslator()
    spec = translator.get_asset_spec(manifest, "model.golden_thread.rpt_kpi_monthly", None)
    assert spec.key == dg.AssetKey(["marts", "rpt_kpi_monthly"]) and spec.group_name == "dbt_marts"
    build = ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args() == build and dbt_build_args(full_refresh=True) == [*build, "--full-refresh"]
    assert dbt_build_env("2026-11-01") == {"GT_AS_OF": "2026-11-01", "GT_MONTHS_FROM": ""}
    assert dbt_build_env("2026-11-01", "2026-10-01")["GT_MONTHS_FROM"] == "2026-10-01"


def test_the_dbt_environment_is_restored_after_the_invocation_starts(monkeypatch):
    monkeypatch.setenv("GT_AS_OF", "2027-01-01")
    monkeypatch.delenv("GT_MONTHS_FROM", raising=False)
    with environment(dbt_build_env("2026-11-01", "2026-10-01")):
        assert (os.environ["GT_AS_OF"], os.environ["GT_MONTHS_FROM"]) == ("2026-11-01", "2026-10-01")
    assert os.environ["GT_AS_OF"] == "2027-01-01" and "GT_MONTHS_FROM" not in os.environ


def test_the_dbt_resource_starts_dbt_without_asking_its_version_or_loading_an_adapter(monkeypatch):
    """dagster-dbt would run `dbt --version` and load an in-process adapter before each build
    (about 4 s); the pipeline's resource answers the version from the installed dbt-core, which
    is the dbt it runs, and needs no adapter (row counts and column metadata are not fetched)."""
    import dagster_dbt.core.resource as dagster_dbt_resource
    from dagster_dbt import DbtCliResource

    resource = dbt_resource()
    # The dbt it runs is this environment's (its script starts this interpreter), so its version
    # is this environment's dbt-core. (`dbt --version` itself asks PyPI for the latest release.)
    script = Path(resource.dbt_executable)
    interpreter = script.read_text().splitlines()[0].removeprefix("#!").strip()
    assert script.parent == Path(sys.executable).parent
    assert Path(interpreter).resolve() == Path(sys.executable).resolve()

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"dbt started in a subprocess: {args}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_subprocess)
    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None
    # The hooks overridden are dagster-dbt's own: an upgrade that renames them fails here.
    assert {"_cli_version", "_initialize_dbt_core_adapter"} <= set(vars(DbtCliResource))


def test_dbt_parse_is_kept_beside_the_warehouse_for_the_next_run(tmp_path):
    op = SimpleNamespace(op=SimpleNamespace(name="golden_thread_dbt"))
    context = SimpleNamespace(op_execution_context=op, run=SimpleNamespace(run_id="abcdef1234"))
    first = run_target_path(context, tmp_path)  # type: ignore[arg-type]
    second = None
    try:
        # The project's own parse (from `make manifest`) is never given: only the pipeline's.
        assert first.name.startswith("golden_thread_dbt-abcdef1-") and not (first / PARTIAL_PARSE).exists()
        (first / PARTIAL_PARSE).write_bytes(b"parsed for this warehouse")
        keep_partial_parse(first, tmp_path)
        second = run_target_path(context, tmp_path)  # type: ignore[arg-type]
        assert second != first and (second / PARTIAL_PARSE).read_bytes() == b"parsed for this warehouse"
    finally:
        for path in (first, second):
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)


def test_the_pipeline_is_partitioned_by_month_through_one_asset(settings):
    defs = build_definitions(settings)
    job = defs.resolve_job_def(PIPELINE_JOB)
    assert job.partitions_def == MONTHLY
    graph = defs.resolve_asset_graph()
    partitioned = {k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    assert partitioned == {CLOSE_KEY}  # one event per month, not one per asset, check and month
    # Every load waits for the close asset, which fixes the run's months.
    for key in (dg.AssetKey(["raw", "irs__incidents"]), dg.AssetKey(["raw", "reference__stations"])):
        assert CLOSE_KEY in graph.get(key).parent_keys
    assert defs.resolve_job_def("partner_extracts").partitions_def is None


def test_runs_cover_the_month_closed_or_every_month_up_to_it():
    assert close_month(dt.date(2026, 11, 1)) == "2026-10-01"
    assert close_month(dt.date(2026, 1, 15)) == "2025-12-01"
    close = run_tags(dt.date(2026, 11, 1), full=False)
    assert months_from_tags(close) == (dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    full = run_tags(dt.date(2026, 11, 1), full=True)
    assert months_from_tags(full) == (dt.date(2009, 1, 1), dt.date(2026, 11, 1))
    assert months_from_tags({"dagster/partition": "2025-03-01"}) == (dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    assert months_from_tags({}) is None


def test_schedule_and_sensor_request_the_month_just_closed(settings, tmp_path, monkeypatch):
    defs = build_definitions(settings)
    schedule = defs.resolve_schedule_def("monthly_close")
    repo = defs.get_repository_def()
    tick = dt.datetime(2026, 12, 3, 6, 0)
    with dg.build_schedule_context(scheduled_execution_time=tick, repository_def=repo) as context:
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-01"
    landing = tmp_path / "landing" / "irs" / "ESX"
    landing.mkdir(parents=True)
    (landing / "incidents_2026-10.csv").write_text("incident_id\n")
    monkeypatch.setenv("GT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GT_AS_OF", "2026-11-01")
    sensor = defs.resolve_sensor_def("landing_sensor")
    (request,) = sensor.evaluate_tick(dg.build_sensor_context(repository_def=repo)).run_requests
    assert request.partition_key == "2026-10-01"


def test_missing_monthly_extracts_are_named(tmp_path):
    for name in ("incidents_2026-08.csv", "incidents_2026-10.csv"):
        path = tmp_path / "irs" / "ESX" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    missing = missing_deliveries(landed_months(tmp_path), dt.date(2026, 4, 1), dt.date(2026, 11, 1))
    # Before the service's first delivery nothing is missing; September is.
    assert "irs/ESX/incidents_2026-09" in missing
    assert not any("2026-07" in m for m in missing if m.startswith("irs/"))
    assert "irs/ESX/incidents_2026-10" not in missing


@pytest.mark.slow  # loads every Dagster definition: over 0.7 s of CPU
def test_dg_check_defs_passes(tmp_path):
    dg_cli = Path(sys.executable).parent / "dg"
    result = subprocess.run(
        [str(dg_cli), "check", "defs"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={"GT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DO_NOT_TRACK": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_old_dbt_target_folders_are_pruned_and_the_current_one_kept(tmp_path):
    import os

    from orchestration.dbt import prune_target_paths

    target = tmp_path / "target"
    (target / "compiled").mkdir(parents=True)  # dbt parse's own output: not a run's folder
    runs = []
    for n in range(8):
        run = target / f"golden_thread_dbt-run{n}-abc{n}"
        (run / "compiled").mkdir(parents=True)
        (run / "run_results.json").write_text("{}")
        os.utime(run, (1_000 + n, 1_000 + n))
        runs.append(run)
    current = runs[3]  # not the newest by time: still kept
    removed = prune_target_paths(current, keep=3)
    assert sorted(p.name for p in target.iterdir()) == sorted(["compiled", current.name, runs[7].name, runs[6].name])
    assert len(removed) == 5 and current not in removed
