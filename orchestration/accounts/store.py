"""The accounts file: users (role, organisation unit, argon2 password hash) and an append-only audit
trail of sign-ins and exports. SQLite, one short connection per call, so the app's sessions, the
``users`` command and the pipeline never hold it open against each other."""

from __future__ import annotations

import csv
import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from orchestration.accounts.config import ROLES
from orchestration.append_only import append_only
from orchestration.settings import REPO_ROOT

# argon2id with the library's defaults (RFC 9106 low-memory profile): about 50 ms a verification here.
HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,127}$")

_SCHEMA = """
create table if not exists users (
    user_name text primary key,          -- lower case; an e-mail address for identity-provider users
    role text not null,
    org_unit_id text not null,           -- the unit the person belongs to (a service id for the whole service)
    password_hash text,                  -- argon2id; null for people who sign in with the identity provider
    is_disabled integer not null default 0,
    locked_until text,                   -- ISO 8601 UTC; set by repeated failed sign-ins
    created_at text not null,
    updated_at text not null
);
create table if not exists audit_events (
    event_id integer primary key autoincrement,
    occurred_at text not null,           -- ISO 8601 UTC
    user_name text not null,             -- as typed for a failed sign-in, so unknown names are recorded too
    event text not null,                 -- sign_in, sign_in_failed, locked_out, sign_in_refused, signed_out,
                                         -- session_expired, export, user_added, user_disabled, password_set
    detail text
);
create index if not exists audit_events_user on audit_events (user_name, event, occurred_at);
"""
_SCHEMA += append_only("audit_events", "the audit trail is append-only")


class AccountError(ValueError):
    """A user that cannot be added or changed (names the user and what is wrong)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    org_unit_id: str
    is_disabled: bool = False
    locked_until: dt.datetime | None = None


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    # One fixed format, so the timestamps compare correctly as text in SQL.
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=10)) as con:
        con.executescript(_SCHEMA)
        with con:  # one transaction, committed on leaving
            yield con


def normalise_name(name: str) -> str:
    clean = (name or "").strip().lower()
    if not NAME_PATTERN.match(clean):
        raise AccountError(
            f"user name {name!r} is not allowed: use letters, digits and . _ @ + - (at most 128, starting "
            "with a letter or digit)"
        )
    return clean


def known_services(services_csv: Path = REPO_ROOT / "seeds" / "services.csv") -> set[str]:
    with Path(services_csv).open(newline="", encoding="utf-8") as handle:
        return {row["service_id"] for row in csv.DictReader(handle)}


def check_role_and_unit(role: str, org_unit_id: str, services: set[str] | None = None) -> None:
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not a role: use one of {', '.join(ROLES)}")
    services = known_services() if services is None else services
    # Organisation unit ids start with their service id (ESX, ESX-ESX-GM, ESX-E10-BLUE).
    if not org_unit_id or org_unit_id.split("-")[0] not in services:
        raise AccountError(
            f"unit {org_unit_id!r} does not belong to a known service ({', '.join(sorted(services))}): "
            "give a service id (ESX) or an organisation unit id (ESX-ESX-GM)"
        )


def record_event(
    path: Path, user_name: str, event: str, detail: str | None = None, now: dt.datetime | None = None
) -> None:
    with connect(path) as con:
        _record(con, user_name, event, detail, now or utc_now())


def _record(con: sqlite3.Connection, user_name: str, event: str, detail: str | None, now: dt.datetime) -> None:
    con.execute(
        "insert into audit_events (occurred_at, user_name, event, detail) values (?, ?, ?, ?)",
        [iso(now), user_name, event, detail],
    )


def _user(row: tuple) -> User:
    name, role, unit, disabled, locked = row
    return User(name, role, unit, bool(disabled), dt.datetime.fromisoformat(locked) if locked else None)


def get_user(path: Path, name: str) -> User | None:
    with connect(path) as con:
        row = con.execute(
            "select user_name, role, org_unit_id, is_disabled, locked_until from users where user_name = ?",
            [name.strip().lower()],
        ).fetchone()
    return _user(row) if row else None


def list_users(path: Path) -> list[User]:
    with connect(path) as con:
        rows = con.execute(
            "select user_name, role, org_unit_id, is_disabled, locked_until from users order by user_name"
        ).fetchall()
    return [_user(r) for r in rows]


def add_user(
    path: Path,
    name: str,
    role: str,
    org_unit_id: str,
    password: str | None,
    by: str = "cli",
    now: dt.datetime | None = None,
) -> User:
    """A new account. ``password`` None makes an account that signs in only through the identity provider."""
    name = normalise_name(name)
    check_role_and_unit(role, org_unit_id)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password for {name} is too short: at least {MIN_PASSWORD_LENGTH} characters")
    now = now or utc_now()
    with connect(path) as con:
        if con.execute("select 1 from users where user_name = ?", [name]).fetchone():
            raise AccountError(f"user {name} already exists (users list shows it)")
        con.execute(
            "insert into users (user_name, role, org_unit_id, password_hash, created_at, updated_at) "
            "values (?, ?, ?, ?, ?, ?)",
            [name, role, org_unit_id, HASHER.hash(password) if password else None, iso(now), iso(now)],
        )
        _record(con, name, "user_added", f"role {role}, unit {org_unit_id}, by {by}", now)
    return User(name, role, org_unit_id)


def disable_user(path: Path, name: str, by: str = "cli", now: dt.datetime | None = None) -> User:
    name = name.strip().lower()
    now = now or utc_now()
    with connect(path) as con:
        changed = con.execute(
            "update users set is_disabled = 1, updated_at = ? where user_name = ?", [iso(now), name]
        ).rowcount
        if not changed:
            raise AccountError(f"user {name} does not exist (users list shows the accounts)")
        _record(con, name, "user_disabled", f"by {by}", now)
    user = get_user(path, name)
    assert user is not None
    return user


def set_password(path: Path, name: str, password: str, by: str = "cli", now: dt.datetime | None = None) -> None:
    name = name.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password for {name} is too short: at least {MIN_PASSWORD_LENGTH} characters")
    now = now or utc_now()
    with connect(path) as con:
        changed = con.execute(
            "update users set password_hash = ?, locked_until = null, updated_at = ? where user_name = ?",
            [HASHER.hash(password), iso(now), name],
        ).rowcount
        if not changed:
            raise AccountError(f"user {name} does not exist (users list shows the accounts)")
        _record(con, name, "password_set", f"by {by}", now)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def list_events(
    path: Path, limit: int = 500, events: tuple[str, ...] | None = None, user_name: str | None = None
) -> pd.DataFrame:
    """The latest audit events, newest first: occurred_at, user_name, event, detail."""
    where, params = [], []
    if events:
        where.append(f"event in ({', '.join('?' for _ in events)})")
        params.extend(events)
    if user_name:
        where.append("user_name = ?")
        params.append(user_name.strip().lower())
    sql = "select occurred_at, user_name, event, detail from audit_events"
    sql += (" where " + " and ".join(where)) if where else ""
    with connect(path) as con:
        rows = con.execute(sql + " order by event_id desc limit ?", [*params, int(limit)]).fetchall()
    frame = pd.DataFrame(rows, columns=["occurred_at", "user_name", "event", "detail"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True, format="ISO8601")
    return frame
