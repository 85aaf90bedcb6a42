"""Shared fixtures: isolated data directories and the real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT, Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at an empty, private data directory."""
    return Settings.from_env({**os.environ, "GT_DATA_DIR": str(tmp_path / "data")})


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """../shared/data/real (or GT_REAL_DATA_DIR): skipped when absent, an error in CI."""
    path = Path(os.environ.get("GT_REAL_DATA_DIR") or REPO_ROOT.parent / "shared" / "data" / "real")
    if not path.is_dir():
        if os.environ.get("REQUIRE_REAL_DATA") == "1":
            pytest.fail(f"REQUIRE_REAL_DATA=1 but the real-data folder {path} is absent")
        pytest.skip(f"real-data folder {path} is absent")
    return path
