"""Fixtures for the Streamlit app tests: a serving database built by the real pipeline (once per
session), a private GT_DATA_DIR per test (so commentary written by one test never leaks into
another), AppTest on the whole app as a signed-in user, and direct mart queries to compare the
pages against.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_fixtures import APP_DIR, APP_SCRIPT, TEST_USER, prebuilt_serving_dir, signed_in  # noqa: E402

# The pages import their siblings as top-level modules (streamlit puts the script's folder on
# sys.path); the tests import the same modules the same way.
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))


@pytest.fixture(autouse=True)
def acting_analyst():
    """Data-access calls made directly by a test (no Streamlit session) act for the analyst test user,
    who may read every unit; a test of another role says so with ``scope.acting_as``."""
    from data_access import scope

    from orchestration.accounts.store import User

    with scope.acting_as(User(*TEST_USER)):
        yield


@pytest.fixture(scope="session")
def serving_dir(request: pytest.FixtureRequest) -> Path:
    """A GT_DATA_DIR whose serving.duckdb the real pipeline built (the session's demo_pipeline,
    or GT_TEST_SERVING_DIR to reuse one while iterating on the app)."""
    return prebuilt_serving_dir() or request.getfixturevalue("demo_pipeline")


@pytest.fixture
def data_dir(serving_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own GT_DATA_DIR: a copy of the serving database and an empty app store."""
    target = tmp_path / "data"
    target.mkdir()
    shutil.copy2(serving_dir / "serving.duckdb", target / "serving.duckdb")
    monkeypatch.setenv("GT_DATA_DIR", str(target))
    return target


@pytest.fixture
def mart(data_dir: Path) -> Callable[..., pd.DataFrame]:
    """Query the test's serving database directly (independently of the app's data_access)."""

    def run(sql: str, params: list | dict | None = None) -> pd.DataFrame:
        con = duckdb.connect(str(data_dir / "serving.duckdb"), read_only=True)
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    return run


@pytest.fixture
def app(data_dir: Path) -> Callable[..., AppTest]:
    """Open the whole app (navigation and sidebar) with AppTest as a signed-in user (an analyst of
    the simulated service unless ``user`` says otherwise), optionally on a given page."""

    def open_app(page: str | None = None, user: tuple[str, str, str] = TEST_USER) -> AppTest:
        at = signed_in(AppTest.from_file(str(APP_SCRIPT), default_timeout=120), *user)
        at.run()
        if page:
            at.switch_page(f"app_pages/{page}.py").run()
        return at

    return open_app
