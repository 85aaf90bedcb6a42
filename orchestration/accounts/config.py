"""Sign-in configuration, read from the environment in one place: which way people sign in, how long
a session lasts, how many failed attempts lock an account, and where the accounts file lives."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import Settings

# The roles of issue 20. What each may read is enforced elsewhere (the data access); here a role is a label.
ROLES = ("viewer", "manager", "performance", "analyst", "auditor", "admin")
MODES = ("local", "oidc")
# Beside the accounts file: user_name,owner_role rows saying which KPI owner roles a person holds.
KPI_OWNERS_FILE = "kpi_owners.csv"


class ConfigError(ValueError):
    """A sign-in setting that cannot be used (names the variable and the value)."""


def _positive(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be greater than zero")
    return value


@dataclass(frozen=True)
class AuthConfig:
    mode: str  # "local": accounts in the accounts file; "oidc": Streamlit's st.login and the e-mail mapping
    accounts_path: Path
    secrets_dir: Path
    oidc_map_path: Path
    session_idle: dt.timedelta
    session_max: dt.timedelta
    max_failures: int
    failure_window: dt.timedelta
    lockout: dt.timedelta

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> AuthConfig:
        env = dict(os.environ if env is None else env)
        settings = Settings.from_env(env)
        mode = (env.get("GT_AUTH_MODE") or "local").strip().lower()
        if mode not in MODES:
            raise ConfigError(f"GT_AUTH_MODE={mode!r}: use one of {', '.join(MODES)}")
        oidc_map = env.get("GT_OIDC_USER_MAP")
        return cls(
            mode=mode,
            accounts_path=settings.app_store_dir / "accounts.sqlite",
            secrets_dir=settings.secrets_dir,
            oidc_map_path=Path(oidc_map).expanduser() if oidc_map else settings.secrets_dir / "oidc_users.yml",
            session_idle=dt.timedelta(minutes=_positive(env, "GT_SESSION_IDLE_MINUTES", 30)),
            session_max=dt.timedelta(hours=_positive(env, "GT_SESSION_MAX_HOURS", 10)),
            max_failures=int(_positive(env, "GT_SIGNIN_MAX_FAILURES", 5)),
            failure_window=dt.timedelta(minutes=_positive(env, "GT_SIGNIN_WINDOW_MINUTES", 15)),
            lockout=dt.timedelta(minutes=_positive(env, "GT_SIGNIN_LOCKOUT_MINUTES", 15)),
        )
