"""``python -m orchestration.cli users ...``: add, list and disable accounts, reset a password, create
the demo accounts and read the audit trail of sign-ins and exports."""

from __future__ import annotations

import argparse
import secrets
import sys

from orchestration.accounts.config import ROLES, AuthConfig, ConfigError
from orchestration.accounts.demo import PASSWORDS_FILE, ensure_demo_accounts
from orchestration.accounts.store import (
    AccountError,
    add_user,
    disable_user,
    list_events,
    list_users,
    set_password,
)


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated): read from stdin with --password-stdin, else a generated one."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return secrets.token_urlsafe(15), True


def cmd_users(args: argparse.Namespace) -> int:
    try:
        config = AuthConfig.from_env()
        return _run(config, args)
    except (AccountError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(config: AuthConfig, args: argparse.Namespace) -> int:
    path = config.accounts_path
    if args.action == "add":
        password, generated = (None, False) if args.identity_provider else _password(args)
        user = add_user(path, args.name, args.role, args.unit, password, by=args.by)
        print(f"added {user.name}: role {user.role}, unit {user.org_unit_id}")
        if generated:
            print(f"password (shown once; give it to {user.name}): {password}")
        elif password is None:
            print("no password: this person signs in with the identity provider (GT_AUTH_MODE=oidc)")
    elif args.action == "list":
        users = list_users(path)
        if not users:
            print(f"no accounts in {path}")
        for u in users:
            state = (
                "disabled"
                if u.is_disabled
                else (f"locked until {u.locked_until:%Y-%m-%d %H:%M} UTC" if u.locked_until else "active")
            )
            print(f"{u.name:<32} {u.role:<12} {u.org_unit_id:<16} {state}")
    elif args.action == "disable":
        user = disable_user(path, args.name, by=args.by)
        print(f"disabled {user.name}: they can no longer sign in")
    elif args.action == "password":
        password, generated = _password(args)
        set_password(path, args.name, password, by=args.by)
        print(f"password set for {args.name.strip().lower()} (and any lock-out lifted)")
        if generated:
            print(f"password (shown once): {password}")
    elif args.action == "demo":
        print_demo_sign_ins(config)
    elif args.action == "audit":
        events = list_events(path, limit=args.limit)
        if events.empty:
            print("no sign-ins or exports recorded yet")
        for row in events.itertuples(index=False):
            print(f"{row.occurred_at:%Y-%m-%d %H:%M:%S}  {row.user_name:<28} {row.event:<16} {row.detail or ''}")
    return 0


def print_demo_sign_ins(config: AuthConfig) -> None:
    accounts = ensure_demo_accounts(config)
    print(f"\nsign in to the app with one of these demo accounts (kept in {config.secrets_dir / PASSWORDS_FILE}):")
    for name, role, unit, password in accounts:
        print(f"  {name:<18} password {password or '(changed: not known)':<18} role {role:<12} unit {unit}")
    print("add real accounts with: python -m orchestration.cli users add NAME --role ROLE --unit ORG_UNIT")
    print(
        "a viewer sees a month once the performance team approves it: sign in as demo-performance and press "
        "Approve on the Monthly snapshot (or: python -m orchestration.cli approvals approve ESX YYYY-MM "
        "--by demo-performance)"
    )


def add_users_commands(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="accounts for the app: add, list, disable, password, demo, audit")
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account (prints a generated password unless --password-stdin)")
    add.add_argument("name", help="user name (lower case; an e-mail address for identity-provider users)")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--unit", required=True, help="organisation unit id: a service (ESX) or a unit (ESX-ESX-GM)")
    source = add.add_mutually_exclusive_group()
    source.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    source.add_argument("--identity-provider", action="store_true", help="no password: signs in with st.login")
    actions.add_parser("list", help="every account with its role, unit and state")
    disable = actions.add_parser("disable", help="stop an account signing in (it stays in the audit trail)")
    disable.add_argument("name")
    password = actions.add_parser("password", help="set a new password (lifts a lock-out)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true", help="read it from stdin, else generate one")
    actions.add_parser("demo", help="create the demo accounts (one per role) if missing and print their sign-ins")
    audit = actions.add_parser("audit", help="the latest sign-ins, failures, lock-outs and exports")
    audit.add_argument("--limit", type=int, default=50)
    for parser in (add, disable, password):
        parser.add_argument("--by", default="cli", help="who makes the change (recorded in the audit trail)")
    users.set_defaults(run=lambda settings, args: cmd_users(args))
