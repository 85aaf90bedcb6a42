"""Accounts for the app: argon2 hashing, the users command, lock-out after failed sign-ins, the audit
trail, the sign-in configuration and the identity provider's e-mail mapping (up to the provider)."""

from __future__ import annotations

import datetime as dt
import io
import os
import sqlite3
from pathlib import Path

import pytest

from orchestration import cli
from orchestration.accounts.config import AuthConfig, ConfigError
from orchestration.accounts.demo import DEMO_ACCOUNTS, PASSWORDS_FILE
from orchestration.accounts.identity import MappingFileError, identity_email, load_mapping
from orchestration.accounts.signin import WRONG, authenticate
from orchestration.accounts.store import (
    AccountError,
    add_user,
    disable_user,
    get_user,
    list_events,
    password_matches,
    set_password,
)

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuthConfig:
    monkeypatch.setenv("GT_DATA_DIR", str(tmp_path / "data"))
    for name in ("GT_AUTH_MODE", "GT_SESSION_IDLE_MINUTES", "GT_SESSION_MAX_HOURS", "GT_SIGNIN_MAX_FAILURES"):
        monkeypatch.delenv(name, raising=False)
    return AuthConfig.from_env()


def test_passwords_are_stored_as_argon2id_hashes_and_verified(config: AuthConfig):
    add_user(config.accounts_path, "Jane.Smith", "manager", "ESX-ESX-GM", PASSWORD, now=T0)
    with sqlite3.connect(config.accounts_path) as con:
        stored = con.execute("select password_hash from users where user_name = 'jane.smith'").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert password_matches(stored, PASSWORD)
    assert not password_matches(stored, PASSWORD + "!")
    assert not password_matches("not a hash", PASSWORD)
    assert not password_matches(None, PASSWORD)


def test_bad_accounts_are_refused_with_the_reason(config: AuthConfig):
    path = config.accounts_path
    with pytest.raises(AccountError, match="role 'boss' is not a role"):
        add_user(path, "a", "boss", "ESX", PASSWORD)
    with pytest.raises(AccountError, match="unit 'NOPE-1' does not belong to a known service"):
        add_user(path, "a", "viewer", "NOPE-1", PASSWORD)
    with pytest.raises(AccountError, match="too short: at least 12"):
        add_user(path, "a", "viewer", "ESX", "short")
    with pytest.raises(AccountError, match="user name 'a b' is not allowed"):
        add_user(path, "a b", "viewer", "ESX", PASSWORD)
    add_user(path, "a", "viewer", "ESX", PASSWORD)
    with pytest.raises(AccountError, match="user a already exists"):
        add_user(path, "A", "viewer", "ESX", PASSWORD)
    with pytest.raises(AccountError, match="user ghost does not exist"):
        disable_user(path, "ghost")


def test_sign_in_succeeds_and_fails_and_both_are_recorded(config: AuthConfig):
    add_user(config.accounts_path, "jane.smith", "manager", "ESX-ESX-GM", PASSWORD, now=T0)
    ok = authenticate(config, " Jane.Smith ", PASSWORD, now=T0)
    assert ok.ok and (ok.user.name, ok.user.role, ok.user.org_unit_id) == ("jane.smith", "manager", "ESX-ESX-GM")
    wrong = authenticate(config, "jane.smith", "guess guess guess", now=T0)
    unknown = authenticate(config, "nobody", PASSWORD, now=T0)
    # An unknown name and a wrong password read the same, so the form does not reveal who has an account.
    assert (wrong.ok, wrong.message) == (False, WRONG) and (unknown.ok, unknown.message) == (False, WRONG)
    events = list_events(config.accounts_path, events=("sign_in", "sign_in_failed"))
    assert events[["user_name", "event", "detail"]].values.tolist() == [
        ["nobody", "sign_in_failed", "no such account"],
        ["jane.smith", "sign_in_failed", "wrong password"],
        ["jane.smith", "sign_in", "password"],
    ]


def test_five_failures_in_fifteen_minutes_lock_the_account(config: AuthConfig, caplog: pytest.LogCaptureFixture):
    add_user(config.accounts_path, "jane.smith", "manager", "ESX", PASSWORD, now=T0)
    for minute in range(4):
        assert (
            authenticate(config, "jane.smith", "wrong password!", now=T0 + dt.timedelta(minutes=minute)).message
            == WRONG
        )
    fifth = authenticate(config, "jane.smith", "wrong password!", now=T0 + dt.timedelta(minutes=4))
    assert fifth.message == "Too many failed sign-ins: this account is locked until 09:19 UTC."
    assert "account jane.smith locked until 2026-11-02T09:19:00.000000+00:00 after 5 failed sign-ins" in caplog.text
    # While locked, even the right password is refused, and the refusal is logged.
    during = authenticate(config, "jane.smith", PASSWORD, now=T0 + dt.timedelta(minutes=10))
    assert not during.ok and "locked until 09:19 UTC" in during.message
    after = authenticate(config, "jane.smith", PASSWORD, now=T0 + dt.timedelta(minutes=20))
    assert after.ok
    events = list_events(config.accounts_path, user_name="jane.smith")
    assert events.event.tolist()[:3] == ["sign_in", "sign_in_refused", "locked_out"]
    assert events.detail.iloc[2].startswith("5 failed sign-ins; locked until 2026-11-02T09:19")


def test_failures_spread_beyond_the_window_or_before_a_success_do_not_lock(config: AuthConfig):
    add_user(config.accounts_path, "jane.smith", "manager", "ESX", PASSWORD, now=T0)
    for step in range(6):  # one failure every 4 minutes: never 5 within 15 minutes
        result = authenticate(config, "jane.smith", "wrong password!", now=T0 + dt.timedelta(minutes=4 * step))
        assert result.message == WRONG
    for minute in range(40, 44):  # four more, the last at 43: the earlier ones are outside its window
        authenticate(config, "jane.smith", "wrong password!", now=T0 + dt.timedelta(minutes=minute))
    assert authenticate(config, "jane.smith", PASSWORD, now=T0 + dt.timedelta(minutes=44)).ok
    # The success resets the count: a fifth failure in the window is the first of a new series.
    assert authenticate(config, "jane.smith", "wrong password!", now=T0 + dt.timedelta(minutes=45)).message == WRONG
    assert get_user(config.accounts_path, "jane.smith").locked_until is None


def test_a_disabled_account_cannot_sign_in_and_a_new_password_lifts_a_lock(config: AuthConfig):
    add_user(config.accounts_path, "jane.smith", "manager", "ESX", PASSWORD, now=T0)
    for minute in range(5):
        authenticate(config, "jane.smith", "wrong password!", now=T0 + dt.timedelta(minutes=minute))
    set_password(config.accounts_path, "jane.smith", "a brand new password", now=T0 + dt.timedelta(minutes=6))
    assert authenticate(config, "jane.smith", "a brand new password", now=T0 + dt.timedelta(minutes=7)).ok
    disable_user(config.accounts_path, "jane.smith")
    refused = authenticate(config, "jane.smith", "a brand new password", now=T0 + dt.timedelta(minutes=8))
    assert (refused.ok, refused.message) == (False, "This account is disabled: ask an administrator.")


def test_the_audit_trail_cannot_be_edited(config: AuthConfig):
    add_user(config.accounts_path, "jane.smith", "manager", "ESX", PASSWORD)
    with sqlite3.connect(config.accounts_path) as con, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("delete from audit_events")


def run_cli(*args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(["users", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_command_adds_lists_and_disables(config: AuthConfig, monkeypatch, capsys):
    code, out, _ = run_cli(
        "add", "Jane.Smith", "--role", "manager", "--unit", "ESX-ESX-GM", monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 0 and "added jane.smith: role manager, unit ESX-ESX-GM" in out
    generated = out.split("password (shown once; give it to jane.smith): ")[1].strip()
    assert authenticate(config, "jane.smith", generated).ok
    code, out, _ = run_cli(
        "add",
        "bob",
        "--role",
        "analyst",
        "--unit",
        "ESX",
        "--password-stdin",
        stdin="bobs own password\n",
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 0 and "shown once" not in out and authenticate(config, "bob", "bobs own password").ok
    code, out, _ = run_cli("disable", "bob", "--by", "admin", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and "disabled bob" in out
    code, out, _ = run_cli("list", monkeypatch=monkeypatch, capsys=capsys)
    lines = [line.split() for line in out.splitlines()]
    assert lines == [["bob", "analyst", "ESX", "disabled"], ["jane.smith", "manager", "ESX-ESX-GM", "active"]]
    code, _, err = run_cli("add", "eve", "--role", "viewer", "--unit", "XX", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "error: unit 'XX' does not belong to a known service" in err
    code, _, err = run_cli("disable", "ghost", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "error: user ghost does not exist" in err


def test_demo_accounts_one_per_role_with_passwords_under_secrets(config: AuthConfig, monkeypatch, capsys):
    code, out, _ = run_cli("demo", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    secrets_file = config.secrets_dir / PASSWORDS_FILE
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    saved = dict(line.split() for line in secrets_file.read_text().splitlines() if not line.startswith("#"))
    assert sorted(saved) == sorted(name for name, *_ in DEMO_ACCOUNTS)
    for name, role, unit in DEMO_ACCOUNTS:
        assert f"{name:<18} password {saved[name]:<18} role {role:<12} unit {unit}" in out
        assert authenticate(config, name, saved[name]).user.role == role
    # A second run keeps the accounts and prints the same passwords.
    _, again, _ = run_cli("demo", monkeypatch=monkeypatch, capsys=capsys)
    assert all(saved[name] in again for name in saved)


def test_configuration_chooses_the_mode_and_limits_and_names_a_bad_value(tmp_path: Path):
    env = {**os.environ, "GT_DATA_DIR": str(tmp_path)}
    default = AuthConfig.from_env({k: v for k, v in env.items() if not k.startswith(("GT_AUTH", "GT_SESSION"))})
    assert default.mode == "local" and default.accounts_path == tmp_path / "app_store" / "accounts.sqlite"
    assert (default.session_idle, default.session_max) == (dt.timedelta(minutes=30), dt.timedelta(hours=10))
    oidc = AuthConfig.from_env({**env, "GT_AUTH_MODE": "OIDC", "GT_SESSION_IDLE_MINUTES": "5"})
    assert oidc.mode == "oidc" and oidc.session_idle == dt.timedelta(minutes=5)
    assert oidc.oidc_map_path == tmp_path / "secrets" / "oidc_users.yml"
    with pytest.raises(ConfigError, match="GT_AUTH_MODE='ldap': use one of local, oidc"):
        AuthConfig.from_env({**env, "GT_AUTH_MODE": "ldap"})
    with pytest.raises(ConfigError, match="GT_SESSION_MAX_HOURS='-1' must be greater than zero"):
        AuthConfig.from_env({**env, "GT_SESSION_MAX_HOURS": "-1"})


MAPPING = """
employees:
  domains: ["@essex-fire.gov.uk"]
  role: viewer
  unit: ESX
people:
  - {email: Jane.Smith@essex-fire.gov.uk, role: manager, unit: ESX-ESX-GM}
  - {email: auditor@audit-firm.co.uk, role: auditor, unit: ESX}
"""


def test_the_identity_mapping_gives_role_and_unit_and_refuses_an_unmapped_email(tmp_path: Path):
    path = tmp_path / "oidc_users.yml"
    path.write_text(MAPPING)
    mapping = load_mapping(path)
    jane = mapping.user_for("jane.smith@Essex-Fire.gov.uk")
    assert (jane.name, jane.role, jane.org_unit_id) == ("jane.smith@essex-fire.gov.uk", "manager", "ESX-ESX-GM")
    employee = mapping.user_for("any.one@essex-fire.gov.uk")
    assert (employee.role, employee.org_unit_id) == ("viewer", "ESX")
    assert mapping.user_for("auditor@audit-firm.co.uk").role == "auditor"
    assert mapping.user_for("someone@audit-firm.co.uk") is None
    assert mapping.user_for("x@gmail.com") is None and mapping.user_for("") is None


def test_the_email_comes_from_the_token_claims_and_must_not_be_unverified():
    assert identity_email({"email": "A@B.uk", "name": "A"}) == "a@b.uk"
    # Entra ID puts the sign-in address in preferred_username when the email claim is not configured.
    assert identity_email({"preferred_username": "jane@essex-fire.gov.uk"}) == "jane@essex-fire.gov.uk"
    assert identity_email({"email": "a@b.uk", "email_verified": False}) is None
    assert identity_email({"name": "No Address", "sub": "123"}) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("people:\n  - {email: x@y.uk, role: boss, unit: ESX}\n", "people.0: role 'boss' is not a role"),
        ("people:\n  - {email: x@y.uk, role: viewer, unit: ZZZ}\n", "people.0: unit 'ZZZ' does not belong"),
        ("people:\n  - {email: not-an-email, role: viewer, unit: ESX}\n", "people.0.email: 'not-an-email' is not"),
        (
            "people:\n  - {email: x@y.uk, role: viewer, unit: ESX}\n  - {email: X@y.uk, role: admin, unit: ESX}\n",
            "x@y.uk is listed twice",
        ),
        ("staff: []\n", "staff: Extra inputs are not permitted"),
        ("people: [\n", "not valid YAML"),
    ],
)
def test_a_bad_mapping_file_names_the_file_and_the_entry(tmp_path: Path, text: str, message: str):
    path = tmp_path / "oidc_users.yml"
    path.write_text(text)
    with pytest.raises(MappingFileError) as error:
        load_mapping(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_a_missing_mapping_file_is_named(tmp_path: Path):
    with pytest.raises(MappingFileError, match="no identity mapping file"):
        load_mapping(tmp_path / "absent.yml")
