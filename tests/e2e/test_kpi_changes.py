"""A changed KPI definition restates every earlier month on the next ordinary run, with no flag:
the pipeline finds the change (orchestration/dbt_definitions.py) and says so in one line."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import REPO_ROOT

ONBOARDING = REPO_ROOT / "docs" / "examples" / "onboarding"  # as tests/conftest.py's demo build uses

pytestmark = [pytest.mark.slow]

# INC_TOTAL's numerator in the copy of the project: every incident counted twice.
OBSERVATIONS = Path("models") / "marts" / "kpi" / "observations"
NUMERATOR = "select 'INC_TOTAL' as kpi_code, org_unit_id, service_id, period_month, cast(incidents as double)"
DOUBLED = NUMERATOR.replace("cast(incidents as double)", "cast(incidents * 2 as double)")
CHANGE_LINE = (
    "dbt: 1 definition changed since the last build (model int_kpi_observations__incidents): "
    "rebuilding every month (--full-refresh)"
)


def copy_project(to: Path) -> Path:
    """The dbt project and the seeds it reads (``seed-paths: ../seeds``), without dbt's output."""
    shutil.copytree(REPO_ROOT / "dbt_project", to / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(REPO_ROOT / "seeds", to / "seeds")
    return to / "dbt_project"


def run_pipeline(data_dir: Path, project_dir: Path, real_dir: Path | None) -> str:
    """``python -m orchestration.cli pipeline`` on the copy of the project, with the settings the
    shared demo build used: what it printed."""
    env = os.environ | {
        "GT_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        "GT_DBT_PROJECT_DIR": str(project_dir),
        "GT_MAPPINGS_DIR": str(ONBOARDING / "mappings"),
        "GT_REAL_DATA_DIR": str(real_dir or data_dir / "no-real-data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "pipeline"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed[-4000:]
    return printed


def edit(path: Path, replacements: dict[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, (path, old)
        text = text.replace(old, new)
    path.write_text(text)


def same(a: float | None, b: float | None) -> bool:
    return a == b or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9))


def monthly_values(data_dir: Path) -> dict[tuple[str, str, str], float | None]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select kpi_code, org_unit_id, period_month::varchar, value from marts.rpt_kpi_monthly"
        ).fetchall()
    return {(kpi, unit, month): value for kpi, unit, month, value in rows}


def test_a_changed_kpi_numerator_restates_every_earlier_month_without_a_flag(
    demo_pipeline, optional_real_data_dir, tmp_path
):
    """On a copy of the shared demo build (two years, last built by an ordinary close), the KPI's
    numerator changes in a copy of the project; the next ordinary run says so in one line and
    rebuilds every month."""
    data_dir = tmp_path / "data"
    shutil.copytree(demo_pipeline, data_dir)
    project_dir = copy_project(tmp_path / "project")
    before = monthly_values(data_dir)

    edit(project_dir / OBSERVATIONS / "int_kpi_observations__incidents.sql", {NUMERATOR: DOUBLED})
    printed = run_pipeline(data_dir, project_dir, optional_real_data_dir)

    warnings = [line for line in printed.splitlines() if "definition" in line]
    assert len(warnings) == 1 and warnings[0].endswith(CHANGE_LINE), printed[-4000:]
    after = monthly_values(data_dir)
    assert after.keys() == before.keys()
    incidents = {key: value for key, value in before.items() if key[0] == "INC_TOTAL" and value}
    months = {month for _, _, month in incidents}
    assert len(months) >= 20, sorted(months)  # two years of months, every one restated
    restated = {key for key, value in incidents.items() if after[key] == 2 * value}
    assert restated == incidents.keys(), sorted(set(incidents) - restated)[:5]
    # Other KPIs are recomputed by the full rebuild too: equal to the last bits that the order of a
    # parallel sum of doubles may move (relative 1e-9, as the KPI chain's own comparison allows).
    others = {key for key in before if key[0] != "INC_TOTAL" and not same(before[key], after[key])}
    assert not others, [(key, before[key], after[key]) for key in sorted(others)[:5]]
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        last = con.execute(
            "select full_refresh from audit.dbt_invocations order by finished_at desc limit 1"
        ).fetchone()
    assert last == (True,)
