"""Command line: ``python -m orchestration.sharing --partner NAME [--date YYYY-MM-DD]``.

Reads ``$GT_DATA_DIR/serving.duckdb`` (default ``./data``), writes under ``$GT_DATA_DIR/shared/``
and logs to ``audit.sharing_log`` in ``$GT_DATA_DIR/warehouse.duckdb``.

Exit codes: 0 extract written; 2 sharing refused (the message says why); 1 anything else that
stops the extract (no serving database, warehouse locked by a pipeline run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

import duckdb

from orchestration.settings import Settings
from orchestration.sharing.agreements import SharingRefused, load_agreements
from orchestration.sharing.extract import make_extract, share_for_all_active_partners


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orchestration.sharing", description=__doc__.splitlines()[0])
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--partner", help="partner name or slug as in seeds/information_sharing_agreements.csv")
    who.add_argument("--all", action="store_true", help="every partner with an agreement in force")
    who.add_argument("--list", action="store_true", help="list the agreements and their status on the date")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="extract date (default today)")
    return parser.parse_args(argv)


def _open_warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(settings.warehouse_path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise RuntimeError(
                f"the warehouse {settings.warehouse_path} is locked: a pipeline run is in progress. "
                "Try again when it has finished (the extract must be logged in audit.sharing_log)."
            ) from exc
        raise


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    settings = Settings.from_env()
    on_date = args.date or dt.date.today()
    agreements = load_agreements()

    if args.list:
        for a in agreements:
            print(f"{a.agreement_id}  {a.status_on(on_date):<11}  {a.start_date} to {a.expiry_date}  "
                  f"{a.partner} ({a.audience}): {', '.join(a.datasets)}")
        return 0

    if not settings.serving_path.exists():
        print(f"error: no serving database at {settings.serving_path}: run `make pipeline` first", file=sys.stderr)
        return 1
    try:
        log_con = _open_warehouse(settings)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out_dir = settings.data_dir / "shared"
    try:
        if args.all:
            results = share_for_all_active_partners(settings.serving_path, out_dir, on_date, log_con,
                                                    agreements=agreements)
            for partner, files in results.items():
                print(f"{partner}: {len(files)} files" if files else f"{partner}: refused (see audit.sharing_log)")
            return 0
        files = make_extract(settings.serving_path, args.partner, out_dir, on_date, log_con, agreements=agreements)
    except SharingRefused as exc:
        print(f"sharing refused: {exc}", file=sys.stderr)
        known = sorted({a.partner for a in agreements})
        if exc.dataset is None and not any(a.is_for(args.partner or "") for a in agreements):
            print(f"partners with agreements: {', '.join(known)}", file=sys.stderr)
        return 2
    finally:
        log_con.close()
    print(f"extract written to {files[0].parent}:")
    for path in files:
        print(f"  {path.name}")
    print("logged in audit.sharing_log")
    return 0
