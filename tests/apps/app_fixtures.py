"""Paths shared by the app and browser tests. The serving database they read is the session's
``demo_pipeline`` (tests/conftest.py); ``GT_TEST_SERVING_DIR`` may point at a directory that
already holds one, to skip the build while iterating on the app.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_DIR = REPO_ROOT / "apps" / "streamlit"
APP_SCRIPT = APP_DIR / "streamlit_app.py"

# The app shows nothing before sign-in: the page tests run as someone who has signed in.
TEST_USER = ("test-analyst", "analyst", "ESX")


def signed_in(at, name: str, role: str, unit: str):
    """Put a signed-in session in an AppTest, as the sign-in form does after a good password."""
    import auth

    from orchestration.accounts.store import User

    at.session_state[auth.SESSION_KEY] = auth.signed_in_session(User(name, role, unit))
    return at


def prebuilt_serving_dir() -> Path | None:
    """GT_TEST_SERVING_DIR, if set: a data directory whose serving.duckdb was already built."""
    prebuilt = os.environ.get("GT_TEST_SERVING_DIR")
    if not prebuilt:
        return None
    path = Path(prebuilt)
    if not (path / "serving.duckdb").exists():
        raise RuntimeError(f"GT_TEST_SERVING_DIR={path} has no serving.duckdb")
    return path
