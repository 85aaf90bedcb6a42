"""Information sharing agreements: the register in ``seeds/information_sharing_agreements.csv``.

Data leaves the service only under an agreement that is in force on the day of the extract
(``start_date <= day <= expiry_date``, both inclusive), names the partner and names the dataset.
``active_agreement`` is the single gate; everything it refuses raises ``SharingRefused`` with a
message a partner manager can act on.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import REPO_ROOT

AGREEMENTS_PATH = REPO_ROOT / "seeds" / "information_sharing_agreements.csv"
COLUMNS = (
    "agreement_id", "partner", "service_id", "datasets", "purpose", "lawful_basis",
    "start_date", "expiry_date", "audience",
)
AUDIENCES = ("partner", "public")


class SharingRefused(Exception):
    """Nothing (or this dataset) may be shared: the message says why."""

    def __init__(self, message: str, *, partner: str, dataset: str | None = None, agreement_id: str | None = None):
        super().__init__(message)
        self.partner = partner
        self.dataset = dataset
        self.agreement_id = agreement_id


def slugify(text: str) -> str:
    """``"Essex Police"`` → ``"essex-police"``: used for matching names and for folder names."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Agreement:
    agreement_id: str
    partner: str
    service_id: str  # the fire and rescue service whose data the agreement covers
    datasets: tuple[str, ...]
    purpose: str
    lawful_basis: str
    start_date: dt.date
    expiry_date: dt.date
    audience: str

    @property
    def partner_slug(self) -> str:
        return slugify(self.partner)

    def is_for(self, partner: str) -> bool:
        """Partners are matched on their slug so ``essex-police`` and ``Essex Police`` are the same."""
        return self.partner_slug == slugify(partner)

    def status_on(self, day: dt.date) -> str:
        if day < self.start_date:
            return "not_started"
        if day > self.expiry_date:
            return "expired"
        return "active"

    def is_active(self, day: dt.date) -> bool:
        return self.status_on(day) == "active"


def _parse_date(value: str, field: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{where}: {field} {value!r} is not a YYYY-MM-DD date") from exc


def parse_agreements(rows: Iterable[dict[str, str]], source: str = "agreements") -> list[Agreement]:
    """Validate raw rows; a bad register is an error, never a silently skipped line."""
    agreements: list[Agreement] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        where = f"{source} line {line}"
        absent = [c for c in COLUMNS if not (row.get(c) or "").strip()]
        if absent:
            raise ValueError(f"{where}: missing {', '.join(absent)}")
        agreement = Agreement(
            agreement_id=row["agreement_id"].strip(),
            partner=row["partner"].strip(),
            service_id=row["service_id"].strip(),
            datasets=tuple(d.strip() for d in row["datasets"].split(";") if d.strip()),
            purpose=row["purpose"].strip(),
            lawful_basis=row["lawful_basis"].strip(),
            start_date=_parse_date(row["start_date"], "start_date", where),
            expiry_date=_parse_date(row["expiry_date"], "expiry_date", where),
            audience=row["audience"].strip(),
        )
        if agreement.agreement_id in seen:
            raise ValueError(f"{where}: duplicate agreement_id {agreement.agreement_id}")
        seen.add(agreement.agreement_id)
        if agreement.audience not in AUDIENCES:
            raise ValueError(f"{where}: audience {agreement.audience!r} is not one of {AUDIENCES}")
        if agreement.expiry_date < agreement.start_date:
            raise ValueError(f"{where}: expiry_date is before start_date")
        if not agreement.datasets:
            raise ValueError(f"{where}: no datasets named")
        agreements.append(agreement)
    return agreements


def load_agreements(path: Path = AGREEMENTS_PATH) -> list[Agreement]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        return parse_agreements(reader, source=str(path))


def agreements_for(agreements: Sequence[Agreement], partner: str) -> list[Agreement]:
    return [a for a in agreements if a.is_for(partner)]


def active_agreement(agreements: Sequence[Agreement], partner: str, dataset: str, on_date: dt.date) -> Agreement:
    """The agreement under which ``dataset`` may go to ``partner`` on ``on_date``, or ``SharingRefused``.

    When several are in force the one expiring last wins (a renewal overlapping its predecessor).
    """
    theirs = agreements_for(agreements, partner)
    if not theirs:
        message = f"no information sharing agreement with partner {partner!r}"
        raise SharingRefused(message, partner=partner, dataset=dataset)
    naming = [a for a in theirs if dataset in a.datasets]
    if not naming:
        covered = ", ".join(sorted({d for a in theirs for d in a.datasets}))
        ids = ", ".join(a.agreement_id for a in theirs)
        raise SharingRefused(
            f"dataset {dataset!r} is not named in any agreement with {theirs[0].partner} ({ids} cover: {covered})",
            partner=partner, dataset=dataset,
        )
    active = [a for a in naming if a.is_active(on_date)]
    if active:
        return max(active, key=lambda a: (a.expiry_date, a.agreement_id))
    upcoming = [a for a in naming if a.status_on(on_date) == "not_started"]
    if upcoming:
        first = min(upcoming, key=lambda a: a.start_date)
        raise SharingRefused(
            f"agreement {first.agreement_id} with {first.partner} for {dataset!r} has not started: "
            f"it starts on {first.start_date.isoformat()} (today is {on_date.isoformat()})",
            partner=partner, dataset=dataset, agreement_id=first.agreement_id,
        )
    last = max(naming, key=lambda a: a.expiry_date)
    raise SharingRefused(
        f"agreement {last.agreement_id} with {last.partner} for {dataset!r} expired on {last.expiry_date.isoformat()}: "
        f"renew it before sharing again",
        partner=partner, dataset=dataset, agreement_id=last.agreement_id,
    )
