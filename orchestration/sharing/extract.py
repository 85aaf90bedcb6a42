"""Partner extracts: agreement check, aggregate query, disclosure control, files, audit log.

``make_extract`` writes ``<out_dir>/<partner-slug>/<YYYY-MM-DD>/<dataset>.csv`` for each dataset
the partner's agreements name and that is covered on the day, plus a ``README.txt`` that states
the agreement, purpose, lawful basis, expiry and the disclosure rules. The only source is the
published, read-only ``serving.duckdb``. Every file written and every refusal goes to
``audit.sharing_log``, which is append-only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path

import duckdb

from orchestration.sharing.agreements import (
    Agreement,
    SharingRefused,
    active_agreement,
    agreements_for,
    load_agreements,
    slugify,
)
from orchestration.sharing.datasets import DATASETS, Dataset, check_extract
from orchestration.sharing.disclosure import PRIMARY_HIGH, PRIMARY_LOW, ROUNDING_BASE, protect_frame

WINDOW_MONTHS = 12

SHARING_LOG_DDL = (
    "create schema if not exists audit",
    """
    create table if not exists audit.sharing_log (
        log_id bigint primary key,
        agreement_id varchar,
        partner varchar not null,
        dataset varchar,
        status varchar not null check (status in ('extracted', 'refused')),
        reason varchar,
        "rows" bigint,
        file varchar,
        sha256 varchar,
        extracted_at timestamp not null
    )
    """,
)

DISCLOSURE_RULES = f"""\
Disclosure control (all figures here are below national level):
  - counts of {PRIMARY_LOW} to {PRIMARY_HIGH} are shown as *;
  - every other count is rounded to the nearest {ROUNDING_BASE} (0 stays 0);
  - totals ("Total" rows and columns) are summed from the unrounded counts, then rounded, so rows need not add up;
  - further cells are shown as * where needed so that no * can be worked out from the totals (secondary suppression);
  - percentages are calculated from the rounded figures: * if either figure is suppressed, blank if the base is 0.
These files hold aggregate counts only; no personal data. Do not attempt to identify any person or household,
do not link these figures with other data to do so, use them only for the purpose above, and delete them
when the agreement expires."""


def ensure_sharing_log(con: duckdb.DuckDBPyConnection) -> None:
    for statement in SHARING_LOG_DDL:
        con.execute(statement)


def log_sharing(
    con: duckdb.DuckDBPyConnection,
    *,
    partner: str,
    status: str,
    agreement_id: str | None = None,
    dataset: str | None = None,
    reason: str | None = None,
    rows: int | None = None,
    file: Path | None = None,
    sha256: str | None = None,
) -> None:
    """Append one row. Ids are max + 1: DuckDB allows one writer, so there is no race."""
    con.execute(
        """
        insert into audit.sharing_log
        select coalesce(max(log_id), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? from audit.sharing_log
        """,
        [
            agreement_id, partner, dataset, status, reason, rows, str(file) if file else None, sha256,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
        ],
    )


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def reporting_window(con: duckdb.DuckDBPyConnection, on_date: dt.date) -> tuple[dt.date, dt.date]:
    """The last twelve complete months before ``on_date``, capped at what the published data covers."""
    end = _add_months(_month_start(on_date), -1)
    has_info = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'publish_info'"
    ).fetchall()[0][0]
    if has_info:
        as_of = con.execute("select max(as_of) from meta.publish_info").fetchall()[0][0]
        if as_of is not None:
            # as_of is the first day after the last complete month in the data
            end = min(end, _add_months(_month_start(as_of), -1))
    return _add_months(end, -(WINDOW_MONTHS - 1)), end


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _readme(
    partner: str,
    on_date: dt.date,
    window: tuple[dt.date, dt.date],
    granted: list[tuple[Dataset, Agreement, Path, int]],
    refused: list[tuple[str, str]],
) -> str:
    lines = [
        f"Golden Thread data extract for {partner}",
        f"Produced {on_date.isoformat()} from the published serving database; "
        f"months {window[0]:%Y-%m} to {window[1]:%Y-%m} unless a file says otherwise.",
        "",
    ]
    for agreement in sorted({a for _, a, _, _ in granted}, key=lambda a: a.agreement_id):
        lines += [
            f"Information sharing agreement {agreement.agreement_id}",
            f"  Partner:      {agreement.partner}",
            f"  Service:      {agreement.service_id}",
            f"  Purpose:      {agreement.purpose}",
            f"  Lawful basis: {agreement.lawful_basis}",
            f"  In force:     {agreement.start_date.isoformat()} to {agreement.expiry_date.isoformat()} (expiry)",
            f"  Audience:     {agreement.audience}",
            "",
        ]
    lines.append("Files:")
    for dataset, agreement, path, rows in granted:
        lines += [
            f"  {path.name} ({rows} rows, agreement {agreement.agreement_id}): {dataset.title}.",
            f"    {dataset.description}",
        ]
    if refused:
        lines += ["", "Not included:"]
        lines += [f"  {name}: {reason}" for name, reason in refused]
    lines += ["", DISCLOSURE_RULES, ""]
    return "\n".join(lines)


def make_extract(
    serving_path: Path,
    partner: str,
    out_dir: Path,
    on_date: dt.date,
    log_con: duckdb.DuckDBPyConnection,
    *,
    agreements: Sequence[Agreement] | None = None,
) -> list[Path]:
    """Write the partner's extract and return the files (CSVs, then README.txt).

    Raises ``SharingRefused`` (after logging it) when nothing may be shared with ``partner`` on
    ``on_date``. Datasets refused individually (expired, not started, not cleared for the
    audience) are logged and listed in the README, and the rest are still extracted.
    """
    agreements = load_agreements() if agreements is None else list(agreements)
    ensure_sharing_log(log_con)
    theirs = agreements_for(agreements, partner)
    if not theirs:
        refusal = SharingRefused(f"no information sharing agreement with partner {partner!r}", partner=partner)
        log_sharing(log_con, partner=partner, status="refused", reason=str(refusal))
        raise refusal
    partner_name = theirs[0].partner

    named = list(dict.fromkeys(d for a in theirs for d in a.datasets))
    allowed: list[tuple[Dataset, Agreement]] = []
    refused: list[tuple[str, str]] = []
    for name in named:
        try:
            agreement = active_agreement(agreements, partner, name, on_date)
        except SharingRefused as exc:
            refused.append((name, str(exc)))
            log_sharing(log_con, partner=partner_name, status="refused", agreement_id=exc.agreement_id,
                        dataset=name, reason=str(exc))
            continue
        dataset = DATASETS.get(name)
        reason = None
        if dataset is None:
            reason = f"agreement {agreement.agreement_id} names {name!r}, which is not a registered dataset"
        elif agreement.audience == "public" and not dataset.public_release:
            reason = f"dataset {name!r} is not cleared for public release (agreement {agreement.agreement_id})"
        if reason:
            refused.append((name, reason))
            log_sharing(log_con, partner=partner_name, status="refused", agreement_id=agreement.agreement_id,
                        dataset=name, reason=reason)
            continue
        allowed.append((dataset, agreement))

    if not allowed:
        message = f"nothing can be shared with {partner_name} on {on_date.isoformat()}: " + "; ".join(
            reason for _, reason in refused
        )
        raise SharingRefused(message, partner=partner_name, agreement_id=theirs[0].agreement_id)

    target = out_dir / slugify(partner_name) / on_date.isoformat()
    target.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Dataset, Agreement, Path, int]] = []
    with duckdb.connect(str(serving_path), read_only=True) as con:
        window = reporting_window(con, on_date)
        for dataset, agreement in allowed:
            cells = dataset.query(con, agreement.service_id, *window)
            published = protect_frame(cells, dataset.layout, exempt=dataset.disclosure_exempt)
            check_extract(published, dataset)
            path = target / f"{dataset.name}.csv"
            published.to_csv(path, index=False, lineterminator="\n")
            written.append((dataset, agreement, path, len(published)))
            log_sharing(log_con, partner=partner_name, status="extracted", agreement_id=agreement.agreement_id,
                        dataset=dataset.name, rows=len(published), file=path, sha256=_sha256(path))
    readme = target / "README.txt"
    readme.write_text(_readme(partner_name, on_date, window, written, refused), encoding="utf-8")
    return [path for _, _, path, _ in written] + [readme]


def share_for_all_active_partners(
    serving_path: Path,
    out_dir: Path,
    on_date: dt.date,
    log_con: duckdb.DuckDBPyConnection,
    *,
    agreements: Sequence[Agreement] | None = None,
) -> dict[str, list[Path]]:
    """Extract for every partner with an agreement in force on ``on_date`` (for a scheduled asset).

    Partners whose agreements have all lapsed are skipped: no one asked for their data, so there
    is nothing to refuse. A partner refused despite an agreement in force (e.g. a public release
    naming an uncleared dataset) maps to an empty list; the reasons are in ``audit.sharing_log``.
    """
    agreements = load_agreements() if agreements is None else list(agreements)
    partners = list(dict.fromkeys(a.partner for a in agreements if a.is_active(on_date)))
    results: dict[str, list[Path]] = {}
    for partner in partners:
        try:
            results[partner] = make_extract(serving_path, partner, out_dir, on_date, log_con, agreements=agreements)
        except SharingRefused:
            results[partner] = []
    return results
