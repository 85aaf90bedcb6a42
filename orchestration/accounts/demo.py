"""Demo accounts, one per role, for ``make run``: passwords generated on first use and kept in
GT_DATA_DIR/secrets/demo_sign_ins.txt (data/ is git-ignored, so they are never committed)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from orchestration.accounts.config import KPI_OWNERS_FILE, AuthConfig
from orchestration.accounts.store import add_user, get_user

# (user name, role, unit): the simulated Essex service; the manager runs its Mid group.
DEMO_ACCOUNTS = [
    ("demo-viewer", "viewer", "ESX"),
    ("demo-manager", "manager", "ESX-ESX-GM"),
    ("demo-performance", "performance", "ESX"),
    ("demo-analyst", "analyst", "ESX"),
    ("demo-auditor", "auditor", "ESX"),
    ("demo-admin", "admin", "ESX"),
]
PASSWORDS_FILE = "demo_sign_ins.txt"
# Which KPI owner roles (the catalogue's owner_role) a person holds, for commentary rights; the demo
# manager owns the response KPIs in its group. Kept beside the accounts file; an administrator edits it.
DEMO_KPI_OWNERS = [("demo-manager", "Area Manager Response")]


def _read_passwords(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split(maxsplit=1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {p[0]: p[1] for p in pairs if len(p) == 2 and not p[0].startswith("#")}


def ensure_demo_accounts(config: AuthConfig) -> list[tuple[str, str, str, str | None]]:
    """Create the demo accounts that are missing; (name, role, unit, password or None if unknown) for each."""
    path = config.secrets_dir / PASSWORDS_FILE
    passwords = _read_passwords(path)
    result = []
    for name, role, unit in DEMO_ACCOUNTS:
        if get_user(config.accounts_path, name) is None:
            passwords[name] = secrets.token_urlsafe(12)
            add_user(config.accounts_path, name, role, unit, passwords[name], by="make run (demo accounts)")
        user = get_user(config.accounts_path, name)
        assert user is not None
        result.append((name, user.role, user.org_unit_id, passwords.get(name)))
    config.secrets_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# demo sign-ins created by make run: user name, then password\n"
        + "".join(f"{n} {passwords[n]}\n" for n, *_ in DEMO_ACCOUNTS if n in passwords),
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
    owners = config.accounts_path.parent / KPI_OWNERS_FILE
    if not owners.exists():
        owners.write_text(
            "user_name,owner_role\n" + "".join(f"{n},{r}\n" for n, r in DEMO_KPI_OWNERS), encoding="utf-8"
        )
    return result
