"""The app's SQLite stores (accounts and their audit trail, approvals, commentary) keep history: a row,
once written, is never changed or removed. Each table says so with two triggers made here."""

from __future__ import annotations


def append_only(table: str, message: str) -> str:
    """SQLite triggers that refuse any update or delete of ``table`` with ``message``."""
    return "\n".join(
        f"create trigger if not exists {table}_no_{change} before {change} on {table}\n"
        f"begin select raise(abort, '{message}'); end;"
        for change in ("update", "delete")
    )
