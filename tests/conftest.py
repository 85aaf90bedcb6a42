"""Shared fixtures: isolated data directories and the real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT, Settings

# Fixtures that run the whole pipeline (or read what it built): a test using one is slow, so
# `make test-fast` (-m "not slow") leaves it to `make test`.
PIPELINE_FIXTURES = frozenset({"demo_pipeline", "serving_dir", "server_data"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at an empty, private data directory."""
    return Settings.from_env({**os.environ, "GT_DATA_DIR": str(tmp_path / "data")})


def _real_data_path() -> Path:
    return Path(os.environ.get("GT_REAL_DATA_DIR") or REPO_ROOT.parent / "shared" / "data" / "real")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """../shared/data/real (or GT_REAL_DATA_DIR): skipped when absent, an error in CI."""
    path = _real_data_path()
    if not path.is_dir():
        if os.environ.get("REQUIRE_REAL_DATA") == "1":
            pytest.fail(f"REQUIRE_REAL_DATA=1 but the real-data folder {path} is absent")
        pytest.skip(f"real-data folder {path} is absent")
    return path


@pytest.fixture(scope="session")
def optional_real_data_dir() -> Path | None:
    """The real-data folder if present (None on a newcomer's machine; an error in CI)."""
    path = _real_data_path()
    if not path.is_dir():
        if os.environ.get("REQUIRE_REAL_DATA") == "1":
            pytest.fail(f"REQUIRE_REAL_DATA=1 but the real-data folder {path} is absent")
        return None
    return path


# The onboarding example's mappings (docs/onboarding.md): every pipeline run in the tests reads a
# service's own layout through them, as a service's GT_MAPPINGS_DIR would.
ONBOARDING = REPO_ROOT / "docs" / "examples" / "onboarding"


def land_onboarding_example(landing_dir: Path) -> Path:
    """Northshire's yearly incident extract, landed as a newcomer would (docs/onboarding.md)."""
    import shutil

    folder = landing_dir / "irs" / "NSH"
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(ONBOARDING / "extract" / "Incidents 2025.csv", folder))


def run_pipeline(data_dir: Path, real_dir: Path | None, job: str = "golden_thread"):
    """Run a Dagster job in-process against ``data_dir`` with an ephemeral instance."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.partitions import execute

    saved = dict(os.environ)
    os.environ.setdefault("GT_MAPPINGS_DIR", str(ONBOARDING / "mappings"))
    os.environ["GT_DATA_DIR"] = str(data_dir)
    if real_dir is not None:
        os.environ["GT_REAL_DATA_DIR"] = str(real_dir)
    try:
        settings = Settings.from_env()
        defs = build_definitions(settings)
        with dg.DagsterInstance.ephemeral() as instance:
            return execute(defs.resolve_job_def(job), instance, settings)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli_pipeline(data_dir: Path, real_dir: Path | None) -> tuple[int, str]:
    """``python -m orchestration.cli pipeline`` in this process, as ``make pipeline`` runs it (with a
    persistent Dagster instance under ``data_dir``): its exit code and everything it printed."""
    import contextlib
    import io

    from orchestration import cli

    saved = dict(os.environ)
    os.environ.setdefault("GT_MAPPINGS_DIR", str(ONBOARDING / "mappings"))
    os.environ["GT_DATA_DIR"] = str(data_dir)
    os.environ["DAGSTER_HOME"] = str(data_dir / "dagster_home")
    if real_dir is not None:
        os.environ["GT_REAL_DATA_DIR"] = str(real_dir)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            code = cli.main(["pipeline"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, printed.getvalue()


def assert_same_rows_in(con, name: str, left: str, right: str, select: str = "*", label: str = "{}") -> None:
    """``left.<name>`` and ``right.<name>`` (attached databases) hold the same rows of ``select``,
    duplicates counted: ``except all`` both ways. ``label`` names a database in the message."""
    for a, b in ((left, right), (right, left)):
        extra = con.execute(
            f"select count(*) from (select {select} from {a}.{name} except all select {select} from {b}.{name})"
        ).fetchall()[0][0]
        assert extra == 0, f"{name}: {extra} rows in {label.format(a)} and not in {label.format(b)}"


def simulate(landing_dir: Path, **config) -> dict:
    from orchestration.simulator import SimulatorConfig, generate

    return generate(SimulatorConfig(**config), landing_dir)


@pytest.fixture(scope="session")
def faulty_landing(tmp_path_factory) -> Path:
    """One service, one year of simulated extracts with faults (duplicates, text in numbers, ...)
    in about 1 % of rows, simulated once per session. Tests read it; none may write into it."""
    landing = tmp_path_factory.mktemp("faulty_1pct") / "landing"
    simulate(landing, years=1, fault_rate=0.01)
    return landing


@pytest.fixture(scope="session")
def demo_pipeline(tmp_path_factory, optional_real_data_dir) -> Path:
    """Two years of clean simulated data, the onboarding example's service in its own layout
    (docs/onboarding.md), and the real public data (where present), through the whole job twice,
    the second time through the command line. Shared by the end-to-end, app and
    browser tests: the pipeline is built once.

    Returns the data directory; the first run's counts are saved beside it for the idempotency
    test, and what the second run printed for the test of the command line's output.
    """
    import json

    import duckdb

    data_dir = tmp_path_factory.mktemp("demo")
    simulate(data_dir / "landing", years=2)
    land_onboarding_example(data_dir / "landing")
    first = run_pipeline(data_dir, optional_real_data_dir)
    assert first.success, "first pipeline run failed"
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        counts = {
            f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchall()[0][0]
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('raw', 'audit', 'marts') and table_type = 'BASE TABLE'"
            ).fetchall()
        }
    (data_dir / "first_run_counts.json").write_text(json.dumps(counts))
    (data_dir / "has_real_data").write_text("1" if optional_real_data_dir else "0")
    code, printed = run_cli_pipeline(data_dir, optional_real_data_dir)
    (data_dir / "second_run_output.txt").write_text(printed)
    assert code == 0, f"second pipeline run failed:\n{printed}"
    return data_dir
