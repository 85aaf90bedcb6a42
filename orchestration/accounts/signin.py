"""Password sign-in against the accounts file, with the lock-out: ``max_failures`` failed attempts
within ``failure_window`` (since the last success or lock-out) lock the account for ``lockout``.
Every attempt is recorded in the audit trail, including those for names that do not exist."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from orchestration.accounts.config import AuthConfig
from orchestration.accounts.store import HASHER, User, _record, connect, iso, password_matches, utc_now

_LOG = logging.getLogger(__name__)
WRONG = "Wrong user name or password."
# Verified against when the name is unknown, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = HASHER.hash("not a password: equalises the time of a failed sign-in")


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    message: str  # what the sign-in form shows when ``user`` is None

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(config: AuthConfig, name: str, password: str, now: dt.datetime | None = None) -> SignInResult:
    now = now or utc_now()
    typed = (name or "").strip().lower()[:128]
    with connect(config.accounts_path) as con:
        row = con.execute(
            "select user_name, role, org_unit_id, password_hash, is_disabled, locked_until from users "
            "where user_name = ?",
            [typed],
        ).fetchone()
        if row is None:
            password_matches(_DUMMY_HASH, password)
            _record(con, typed or "(blank)", "sign_in_failed", "no such account", now)
            return SignInResult(None, WRONG)
        user_name, role, unit, password_hash, disabled, locked_until = row
        if locked_until and dt.datetime.fromisoformat(locked_until) > now:
            until = dt.datetime.fromisoformat(locked_until)
            _record(con, user_name, "sign_in_refused", f"locked until {iso(until)}", now)
            return SignInResult(None, locked_message(until))
        if not password_matches(password_hash, password):
            _record(con, user_name, "sign_in_failed", "wrong password", now)
            failures = _recent_failures(con, user_name, config, now)
            if failures >= config.max_failures:
                until = now + config.lockout
                con.execute("update users set locked_until = ? where user_name = ?", [iso(until), user_name])
                _record(con, user_name, "locked_out", f"{failures} failed sign-ins; locked until {iso(until)}", now)
                # Also to the server's log, where an operator watching for attacks looks.
                _LOG.warning("account %s locked until %s after %d failed sign-ins", user_name, iso(until), failures)
                return SignInResult(None, locked_message(until))
            return SignInResult(None, WRONG)
        if disabled:
            _record(con, user_name, "sign_in_refused", "account disabled", now)
            return SignInResult(None, "This account is disabled: ask an administrator.")
        _record(con, user_name, "sign_in", "password", now)
        if HASHER.check_needs_rehash(password_hash):  # parameters raised since the hash was made
            con.execute("update users set password_hash = ? where user_name = ?", [HASHER.hash(password), user_name])
        con.execute("update users set locked_until = null where user_name = ?", [user_name])
    return SignInResult(User(user_name, role, unit), "")


def _recent_failures(con, user_name: str, config: AuthConfig, now: dt.datetime) -> int:
    """Failed attempts inside the window, counted from the later of the last success and last lock-out."""
    since = con.execute(
        "select max(occurred_at) from audit_events where user_name = ? and event in ('sign_in', 'locked_out')",
        [user_name],
    ).fetchone()[0]
    start = max(iso(now - config.failure_window), since or "")
    return con.execute(
        "select count(*) from audit_events where user_name = ? and event = 'sign_in_failed' and occurred_at > ?",
        [user_name, start],
    ).fetchone()[0]


def locked_message(until: dt.datetime) -> str:
    return f"Too many failed sign-ins: this account is locked until {until:%H:%M} UTC."
