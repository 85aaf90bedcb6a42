"""The pages each role sees in the navigation. Hiding a page is only a courtesy: the data access refuses
whatever the role may not read (data_access/scope.py), so a page reached another way still shows nothing."""

from __future__ import annotations

from typing import NamedTuple

from data_access import scope

from orchestration.accounts.store import User


class PageSpec(NamedTuple):
    path: str  # under app_pages/, without .py
    title: str
    icon: str
    service_wide: bool = False  # shows the service as a whole: not for a manager, whose scope is part of it


REPORTS = [
    PageSpec("monthly_snapshot", "Monthly snapshot", ":material/calendar_month:"),
    PageSpec("quarterly_review", "Quarterly review", ":material/query_stats:", service_wide=True),
    PageSpec("golden_thread", "Golden thread", ":material/account_tree:", service_wide=True),
    PageSpec("unit_profile", "Station and watch profile", ":material/home_work:"),
    # The geography hierarchy hangs from the service, outside any manager's part of the organisation.
    PageSpec("districts_and_wards", "Districts and wards", ":material/location_city:", service_wide=True),
    PageSpec("map", "Map", ":material/map:", service_wide=True),
    PageSpec("commentary", "Owner commentary", ":material/edit_note:"),
]
ASSURANCE = [
    PageSpec("data_quality", "Data quality", ":material/fact_check:"),
    PageSpec("ingestion", "Data ingestion", ":material/input:"),
]
PEOPLE = [PageSpec("people", "People and audit trail", ":material/group:")]


def pages_for(user: User) -> dict[str, list[PageSpec]]:
    """Sections and their pages, in order; the first page of the first section opens by default.
    The data-quality page carries the audit trail, so a role with it needs no separate people page."""
    sections: dict[str, list[PageSpec]] = {}
    if scope.can(scope.REPORTS, user):
        sections["Reports"] = [p for p in REPORTS if not (p.service_wide and user.role == "manager")]
    if scope.can(scope.ASSURANCE, user):
        sections["Assurance"] = ASSURANCE
    elif scope.can(scope.PEOPLE, user):
        sections["Administration"] = PEOPLE
    return sections
