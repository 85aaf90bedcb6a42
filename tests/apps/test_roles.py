"""Roles and organisation scope (issue 20, items 2 and 5), checked where they are enforced: the data access.
Each role signs in (``scope.acting_as``) and reads or writes what it may; what it may not is refused with a
message naming the reason. Then AppTest opens the app as each role and checks the pages it is offered."""

from __future__ import annotations

import datetime as dt

import commentary_store as store
import pytest
from data_access import annual_plan, commentary, drill_through, ingestion, monthly, people, quarterly, reference, scope

from orchestration.accounts.config import KPI_OWNERS_FILE, AuthConfig
from orchestration.accounts.store import User
from orchestration.approvals import store as approvals_store

GROUP = "ESX-ESX-GM"  # the demo manager's group
USERS = {
    "viewer": User("vic.viewer", "viewer", "ESX"),
    "manager": User("mo.manager", "manager", GROUP),
    "performance": User("pat.performance", "performance", "ESX"),
    "analyst": User("ann.analyst", "analyst", "ESX"),
    "auditor": User("aud.auditor", "auditor", "ESX"),
    "admin": User("ada.admin", "admin", "ESX"),
}


@pytest.fixture
def month(mart) -> dt.date:
    return mart("select max(period_month) as m from marts.rpt_kpi_monthly where service_id = 'ESX'").m.iloc[0].date()


@pytest.fixture
def stations(mart, month) -> dict[str, str]:
    """One current station inside the manager's group and one outside it."""
    df = mart(
        """
        select org_unit_id, parent_org_unit_id = ? as inside from marts.dim_org_unit
        where org_level = 'station' and service_id = 'ESX' and is_current order by org_unit_id
        """,
        [GROUP],
    )
    return {"inside": df[df.inside].org_unit_id.iloc[0], "outside": df[~df.inside].org_unit_id.iloc[0]}


def as_role(role: str):
    return scope.acting_as(USERS[role])


def approve(data_dir, *months: dt.date) -> None:
    """The performance team approves ESX's months: a viewer reads only approved months."""
    for when in months:
        approvals_store.approve(
            approvals_store.default_path(),
            data_dir / "serving.duckdb",
            "ESX",
            when,
            USERS["performance"],
            AuthConfig.from_env().accounts_path,
        )


# ---- reading figures ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "manager", "performance", "analyst"])
def test_report_roles_read_the_monthly_figures_of_their_scope(data_dir, month, role):
    unit = GROUP  # inside every one of these roles' scope
    if role == "viewer":
        with as_role(role):
            assert monthly.monthly_kpis(unit, month).empty  # a draft: not for a viewer
        approve(data_dir, month)
    with as_role(role):
        kpis = monthly.monthly_kpis(unit, month)
    assert len(kpis) > 0 and set(kpis.org_unit_id) == {unit}


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_roles_without_reports_are_refused_the_figures(data_dir, month, role):
    refused = rf"Your role \({role}\) does not give access to the performance reports; it is open to: analyst, manager"
    with as_role(role):
        with pytest.raises(scope.AccessDenied, match=refused):
            monthly.unit_profile("ESX", month)
        with pytest.raises(scope.AccessDenied, match=refused):
            quarterly.quarterly_history("ESX", "INC_TOTAL")


def test_an_auditor_reads_the_value_it_traces_and_an_admin_not_even_that(data_dir, month):
    with as_role("auditor"):
        assert len(monthly.monthly_kpis("ESX", month, history_months=1)) > 0
    with as_role("admin"), pytest.raises(scope.AccessDenied, match=r"Your role \(admin\)"):
        monthly.monthly_kpis("ESX", month)


def test_nobody_signed_in_reads_nothing(data_dir, month):
    with scope.acting_as(None), pytest.raises(scope.AccessDenied, match="Nobody is signed in"):
        monthly.monthly_kpis("ESX", month)


def test_a_manager_reads_its_unit_and_below_and_nothing_else(data_dir, month, stations):
    with as_role("manager"):
        assert len(monthly.monthly_kpis(stations["inside"], month)) > 0
        assert len(monthly.unit_profile(stations["inside"], month)) > 0
        children = monthly.child_unit_kpis(GROUP, month)
        assert len(children) > 0 and stations["outside"] not in set(children.org_unit_id)
        for unit in ("ESX", stations["outside"]):
            with pytest.raises(scope.AccessDenied, match=rf"{unit} is outside your organisation scope \({GROUP} and"):
                monthly.monthly_kpis(unit, month)
        with pytest.raises(scope.AccessDenied, match="outside your organisation scope"):
            monthly.kpi_history(stations["outside"], "INC_TOTAL")
        with pytest.raises(scope.AccessDenied, match="outside your organisation scope"):
            quarterly.quarterly_history("ESX", "INC_TOTAL")
        assert reference.services().service_id.tolist() == ["ESX"]


def test_a_manager_has_no_service_wide_view(data_dir, mart):
    fy, q = mart(
        "select financial_year, financial_quarter from marts.rpt_kpi_quarterly where service_id = 'ESX' "
        "order by 1 desc, 2 desc limit 1"
    ).iloc[0]
    with as_role("analyst"):
        assert len(quarterly.best_practice("ESX", fy, q)) > 0
        assert len(annual_plan.golden_thread("ESX")) > 0
    with as_role("manager"):
        for read in (lambda: quarterly.best_practice("ESX", fy, q), lambda: annual_plan.golden_thread("ESX")):
            with pytest.raises(
                scope.AccessDenied,
                match=r"The service-wide view of ESX is outside your organisation "
                rf"scope \({GROUP} and the units below it\)",
            ):
                read()


def test_a_viewer_stays_in_its_service_and_the_national_roles_do_not(data_dir, month):
    with as_role("viewer"):
        assert reference.services().service_id.tolist() == ["ESX"]
        with pytest.raises(scope.AccessDenied, match=r"NSH belongs to another service than yours \(ESX\)"):
            monthly.monthly_kpis("NSH", month)
        with pytest.raises(scope.AccessDenied, match=r"NSH is another service than yours \(ESX\)"):
            quarterly.benchmarks("NSH")
    with as_role("performance"):
        assert "NSH" in set(reference.services().service_id)
        assert len(quarterly.benchmarks("NSH")) >= 0


def test_a_viewer_sees_workforce_figures_of_small_units_suppressed(data_dir, mart, month):
    # A station-level workforce KPI whose count of people is in the disclosure rule's 1-7 range.
    row = mart(
        """
        select r.kpi_code, r.org_unit_id, r.period_month from marts.rpt_kpi_monthly as r
        where r.kpi_code = 'WOMEN_FF_PCT' and r.org_level = 'station' and r.service_id = 'ESX'
          and r.numerator between 1 and 7
        order by r.period_month desc, r.org_unit_id limit 1
        """
    ).iloc[0]
    unit, when = row.org_unit_id, row.period_month.date()
    approve(data_dir, when)
    with as_role("analyst"):
        shown = monthly.monthly_kpis(unit, when).set_index("kpi_code")
    with as_role("viewer"):
        seen = monthly.monthly_kpis(unit, when).set_index("kpi_code")
        service = monthly.monthly_kpis("ESX", when).set_index("kpi_code")
    assert shown.loc["WOMEN_FF_PCT", "value"] > 0
    assert seen.loc["WOMEN_FF_PCT", "value"] is None and seen.loc["WOMEN_FF_PCT", "numerator"] is None
    assert seen.loc["WOMEN_FF_PCT", "value_note"] == "suppressed: a count of 1 to 7 (disclosure control)"
    assert seen.loc["INC_TOTAL", "value"] == shown.loc["INC_TOTAL", "value"]  # not a workforce KPI
    assert service.loc["WOMEN_FF_PCT", "value"] is not None  # the service as a whole is not small
    with as_role("viewer"):
        history = monthly.kpi_history(unit, "WOMEN_FF_PCT")
    assert history.value.isna().any()


# ---- records, assurance and people ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_drill_through_to_records_is_for_analysts_and_auditors(data_dir, month, role):
    with as_role(role):
        records = drill_through.kpi_source_records("INC_TOTAL", "ESX", month)
        check = drill_through.kpi_lineage_check("INC_TOTAL", "ESX", month)
    assert len(records["included"]) > 0 and len(check) == 1


@pytest.mark.parametrize("role", ["viewer", "manager", "performance", "admin"])
def test_other_roles_are_refused_record_level_data(data_dir, month, role):
    unit = GROUP
    with as_role(role):
        for read in (drill_through.kpi_source_records, drill_through.kpi_observations, drill_through.kpi_lineage_check):
            with pytest.raises(scope.AccessDenied, match="record-level drill-through; it is open to: analyst, auditor"):
                read("INC_TOTAL", unit, month)


@pytest.mark.parametrize(("role", "allowed"), [(r, r in ("analyst", "auditor")) for r in USERS])
def test_ingestion_and_quarantine_are_for_the_assurance_roles(data_dir, role, allowed):
    with as_role(role):
        if allowed:
            assert len(ingestion.ingestion_by_system()) > 0
        else:
            with pytest.raises(scope.AccessDenied, match="the data-quality and ingestion pages"):
                ingestion.quarantine_sample()


@pytest.mark.parametrize(("role", "allowed"), [(r, r in ("auditor", "admin")) for r in USERS])
def test_the_trail_of_people_is_for_auditors_and_admins(data_dir, role, allowed):
    with as_role(role):
        if allowed:
            assert list(people.audit_events().columns)[:2] == ["occurred_at", "user_name"]
        else:
            with pytest.raises(scope.AccessDenied, match="users and the audit trail of people"):
                people.audit_events()


# ---- writing commentary --------------------------------------------------------------------------


def owns(user: str, owner_role: str) -> None:
    path = AuthConfig.from_env().accounts_path.parent / KPI_OWNERS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"user_name,owner_role\n{user},{owner_role}\n", encoding="utf-8")


def write(kpi: str, unit: str, month: dt.date, text: str) -> int:
    return commentary.write_commentary(
        service_id="ESX", kpi_code=kpi, org_unit_id=unit, period_month=month, commentary=text
    )


def test_a_manager_writes_commentary_on_the_kpis_it_owns_in_its_scope_as_itself(data_dir, month, stations):
    owns("mo.manager", "Area Manager Response")  # owns RESP_STD_MET_PCT, not INC_TOTAL
    with as_role("manager"):
        write("RESP_STD_MET_PCT", stations["inside"], month, "First view.")
        write("RESP_STD_MET_PCT", stations["inside"], month, "Second view, after the crews' returns.")
        with pytest.raises(
            scope.AccessDenied,
            match="INC_TOTAL is owned by Director of Operations; you "
            r"\(mo.manager\) do not hold that role",
        ):
            write("INC_TOTAL", stations["inside"], month, "Not mine.")
        with pytest.raises(scope.AccessDenied, match="outside your organisation scope"):
            write("RESP_STD_MET_PCT", stations["outside"], month, "Not my station.")
    history = store.history("ESX", "RESP_STD_MET_PCT", stations["inside"])
    # Appended, never overwritten; the author is the signed-in person.
    assert history.commentary.tolist() == ["Second view, after the crews' returns.", "First view."]
    assert set(history.author) == {"mo.manager"}
    assert len(store.history("ESX")) == 2


def test_the_performance_team_writes_any_kpi_and_no_one_else_may(data_dir, month, stations):
    owns("ann.analyst", "Director of Operations")  # holding an owner role does not make an analyst a writer
    with as_role("performance"):
        write("INC_TOTAL", stations["outside"], month, "Checked by the performance team.")
    for role in ("viewer", "analyst", "auditor", "admin"):
        with as_role(role), pytest.raises(scope.AccessDenied, match="does not give access to writing commentary"):
            write("INC_TOTAL", "ESX", month, f"Written by a {role}.")
    assert store.history("ESX").author.tolist() == ["pat.performance"]


def test_a_malformed_owner_file_is_a_clear_refusal(data_dir, month, stations):
    path = AuthConfig.from_env().accounts_path.parent / KPI_OWNERS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("name,role\nmo.manager,Area Manager Response\n", encoding="utf-8")
    with (
        as_role("manager"),
        pytest.raises(
            scope.AccessDenied,
            match=r"kpi_owners.csv: the header lacks owner_role, "
            "user_name",
        ),
    ):
        write("RESP_STD_MET_PCT", stations["inside"], month, "Text.")


# ---- the pages each role is offered --------------------------------------------------------------


def nav_titles(at) -> list[str]:
    import navigation

    session = at.session_state["gt_session"]
    return [spec.title for specs in navigation.pages_for(session.user).values() for spec in specs]


@pytest.mark.parametrize(
    ("role", "opens_on", "offered", "not_offered"),
    [
        ("viewer", "Monthly snapshot", "Owner commentary", "Data quality"),
        ("manager", "Monthly snapshot", "Station and watch profile", "Quarterly review"),
        ("performance", "Monthly snapshot", "Golden thread", "Data quality"),
        ("analyst", "Monthly snapshot", "Data quality", "People and audit trail"),
        ("auditor", "Data quality", "Data ingestion", "Monthly snapshot"),
        ("admin", "People and audit trail", "People and audit trail", "Monthly snapshot"),
    ],
)
def test_each_role_opens_on_its_pages(app, role, opens_on, offered, not_offered):
    user = USERS[role]
    at = app(user=(user.name, user.role, user.org_unit_id))
    assert not at.exception, at.exception
    assert at.title[0].value == opens_on
    titles = nav_titles(at)
    assert offered in titles and not_offered not in titles
    assert not at.error, [e.value for e in at.error]


def test_a_manager_opens_at_its_own_unit(app):
    at = app("monthly_snapshot", user=("mo.manager", "manager", GROUP))
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["unit"] == GROUP
    assert (
        at.selectbox(key="w_service").options == ["East Sussex Fire and Rescue Service (ESX)"]
        or len(at.selectbox(key="w_service").options) == 1
    )


def test_a_page_the_data_access_refuses_shows_why_not_a_traceback(app):
    at = app("monthly_snapshot", user=("mo.manager", "manager", GROUP))
    at.session_state["unit"] = "ESX"  # as a shared link naming the whole service would
    at.switch_page("app_pages/unit_profile.py").run()
    assert not at.exception
    assert at.session_state["unit"] == GROUP  # brought back into scope by the unit picker


def test_a_viewer_sees_commentary_but_has_no_form(app, data_dir, month):
    at = app("commentary", user=("vic.viewer", "viewer", "ESX"))
    assert any("No month has been approved for this service yet" in i.value for i in at.info)
    approve(data_dir, month)
    at = app("commentary", user=("vic.viewer", "viewer", "ESX"))
    assert not at.exception, at.exception
    if at.success:  # nothing off target this month: no form to hide
        return
    assert not [b for b in at.button if b.label == "Save commentary"]
    assert any("does not give access to writing commentary" in i.value for i in at.info)


def test_the_demo_manager_owns_the_response_kpis(data_dir):
    from orchestration.accounts.demo import ensure_demo_accounts

    config = AuthConfig.from_env()
    ensure_demo_accounts(config)
    held = scope.owner_roles_held(User("demo-manager", "manager", GROUP))
    assert held == {"Area Manager Response"}
    assert scope.owner_roles_held(User("demo-viewer", "viewer", "ESX")) == set()


@pytest.mark.parametrize("role", ["viewer", "manager", "performance", "auditor", "admin"])
def test_every_page_offered_to_a_role_renders_without_a_refusal(app, role):
    """The pages a role is offered work at their default choices (the analyst's are tested in test_pages)."""
    import navigation

    user = USERS[role]
    at = app(user=(user.name, user.role, user.org_unit_id))
    for specs in navigation.pages_for(user).values():
        for spec in specs:
            at.switch_page(f"app_pages/{spec.path}.py").run()
            assert not at.exception, (spec.path, at.exception)
            assert not [e.value for e in at.error if "Not available to you" in e.value], spec.path


def test_a_board_pack_is_built_with_the_builders_scope(data_dir, month, stations):
    import board_pack

    with as_role("manager"):
        pack = board_pack.monthly_pack("ESX", month, GROUP)
        assert "<html" in pack.lower()
        with pytest.raises(scope.AccessDenied, match="outside your organisation scope"):
            board_pack.monthly_pack("ESX", month, stations["outside"])


# ---- districts and wards beside the organisation ------------------------------------------------


def test_organisation_pickers_and_drill_downs_list_no_districts_or_wards(data_dir, mart, month):
    """The service is the root of both hierarchies; where a page means the organisation it gets the
    organisation only, and a district's children are its wards."""
    geography = mart("select count(*) as n from marts.dim_org_unit where hierarchy = 'geography'").n.iloc[0]
    assert geography > 0  # the published marts do hold districts and wards
    with as_role("analyst"):
        units = reference.org_units("ESX", month)
        children = monthly.child_unit_kpis("ESX", month, "INC_TOTAL")
        district = mart(
            "select org_unit_id from marts.dim_org_unit where org_level = 'district' and service_id = 'ESX' "
            "and org_unit_id <> 'ESX-LAD-UNALLOCATED' order by org_unit_id limit 1"
        ).org_unit_id.iloc[0]
        wards = monthly.child_unit_kpis(district, month, "INC_TOTAL")
        observed = drill_through.kpi_observations("INC_TOTAL", "ESX", month)
    assert set(units.org_level) == {"service", "group", "station", "watch"}
    assert set(children.org_level) == {"group"}
    assert len(wards) > 0 and set(wards.org_level) == {"ward"}
    # The service's drill-through lists its organisation's observations only: they add up to it.
    service_value = mart(
        "select numerator from marts.rpt_kpi_monthly where kpi_code = 'INC_TOTAL' and org_unit_id = 'ESX' "
        "and period_month = ?", [month]
    ).numerator.iloc[0]
    assert not observed.org_unit_id.str.contains("-WARD-").any()
    assert observed.numerator.sum() == service_value


def test_a_viewer_sees_small_ward_counts_suppressed(data_dir, mart, month):
    row = mart(
        """
        select org_unit_id, period_month from marts.rpt_kpi_monthly
        where kpi_code = 'INC_TOTAL' and org_level = 'ward' and service_id = 'ESX' and numerator between 1 and 7
        order by period_month desc, org_unit_id limit 1
        """
    ).iloc[0]
    unit, when = row.org_unit_id, row.period_month.date()
    approve(data_dir, when)
    with as_role("analyst"):
        shown = monthly.monthly_kpis(unit, when).set_index("kpi_code")
    with as_role("viewer"):
        seen = monthly.monthly_kpis(unit, when).set_index("kpi_code")
    assert 1 <= shown.loc["INC_TOTAL", "numerator"] <= 7
    assert seen.loc["INC_TOTAL", "numerator"] is None and seen.loc["INC_TOTAL", "value"] is None
