"""``python -m orchestration.cli approvals ...``: list the approved months (approved or restated),
approve a service's month, and list the restatements waiting for approval again."""

from __future__ import annotations

import argparse
import sys

from orchestration.accounts.config import AuthConfig, ConfigError
from orchestration.accounts.store import get_user
from orchestration.approvals.restatements import find_restatements, record_restatements
from orchestration.approvals.store import ApprovalError, approve, default_path, list_approvals
from orchestration.settings import Settings


def cmd_approvals(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return _run(settings, AuthConfig.from_env(), args)
    except (ApprovalError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(settings: Settings, config: AuthConfig, args: argparse.Namespace) -> int:
    path = default_path(settings)
    if args.action == "approve":
        user = get_user(config.accounts_path, args.by)
        if user is None:
            raise ApprovalError(
                f"{args.by} has no account in {config.accounts_path}: approvals are made by a person with role "
                "'performance' (users add NAME --role performance --unit SERVICE)"
            )
        approval, new = approve(
            path, settings.serving_path, args.service, args.month, user, accounts_path=config.accounts_path
        )
        month = f"{approval.service_id} {approval.period_month:%Y-%m}"
        if new:
            print(
                f"approved {month}: version {approval.version}, {approval.row_count} rows, "
                f"fingerprint {approval.fingerprint[:12]}, by {approval.approved_by}"
            )
        else:
            print(
                f"{month} is already approved with these figures: version {approval.version} by "
                f"{approval.approved_by} at {approval.approved_at:%Y-%m-%d %H:%M} UTC (nothing recorded)"
            )
        return 0
    restated = {}
    if settings.serving_path.exists():
        found = find_restatements(path, settings.serving_path, args.service)
        record_restatements(path, found, config.accounts_path)
        restated = {r.approval.approval_id: r for r in found}
    if args.action == "list":
        approvals = list_approvals(path, args.service, latest_only=True)
        if not approvals:
            print(f"no approved months in {path}: every month is a draft")
        for a in approvals:
            state = (
                f"restated ({len(restated[a.approval_id].changes)} changes)"
                if a.approval_id in restated
                else "approved"
            )
            print(
                f"{a.service_id:<6} {a.period_month:%Y-%m}  version {a.version:<3} {state:<24} by {a.approved_by} "
                f"at {a.approved_at:%Y-%m-%d %H:%M} UTC  fingerprint {a.fingerprint[:12]}"
            )
        return 0
    if not restated:
        print("no restatements: every approved month is as it was approved")
    for r in restated.values():
        a = r.approval
        print(f"{a.service_id} {a.period_month:%Y-%m} version {a.version} restated: {len(r.changes)} changes")
        for c in r.changes[: args.limit]:
            print(f"  {c.kpi_code} {c.org_unit_id} {c.column}: as approved {c.as_approved!r}, now {c.now!r}; {c.cause}")
        if len(r.changes) > args.limit:
            print(f"  ... and {len(r.changes) - args.limit} more (--limit)")
        print(
            "  approve again: python -m orchestration.cli approvals approve "
            f"{a.service_id} {a.period_month:%Y-%m} --by NAME"
        )
    return 1 if restated else 0


def add_approvals_commands(sub: argparse._SubParsersAction) -> None:
    approvals = sub.add_parser("approvals", help="approve a service's month; list approvals and restatements")
    actions = approvals.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="approved months (latest version): approved, or restated since")
    approve_ = actions.add_parser("approve", help="approve a month's figures as serving.duckdb holds them now")
    approve_.add_argument("service", help="service id, e.g. ESX")
    approve_.add_argument("month", help="the month, YYYY-MM")
    approve_.add_argument("--by", required=True, help="who approves: an account with role 'performance'")
    restatements = actions.add_parser(
        "restatements", help="each figure that changed since its month was approved (exit 1 if any)"
    )
    restatements.add_argument("--limit", type=int, default=20, help="changes shown per month")
    for parser in (listing, restatements):
        parser.add_argument("--service", default=None, help="one service only, e.g. ESX")
    approvals.set_defaults(run=cmd_approvals)
