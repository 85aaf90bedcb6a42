"""The Dagster code location loads, and its pieces are wired as the design says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.dbt import GoldenThreadTranslator, dbt_build_args, dbt_project
from orchestration.definitions import PIPELINE_JOB, build_definitions
from orchestration.ingestion.contracts import ENTITIES
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
    assert dbt_build_args("2026-11-01") == ["build", "--vars", '{"as_of": "2026-11-01"}']
    assert dbt_build_args("2026-11-01", full_refresh=True)[-1] == "--full-refresh"


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
