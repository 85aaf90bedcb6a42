"""The sign-in gate: before sign-in the app shows the form and no figure; a good password opens the
pages; a wrong one is refused; an idle or old session ends; the identity-provider mode shows its
button (the provider itself is out of reach in tests); exports and sign-ins reach the audit trail."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import auth
import pytest
from app_fixtures import APP_SCRIPT
from streamlit.testing.v1 import AppTest

from orchestration.accounts.config import AuthConfig
from orchestration.accounts.store import User, add_user, list_events

PASSWORD = "a long enough password"


def assert_no_figure(at: AppTest) -> None:
    """Nothing from the serving database: no tile, table, chart or page title."""
    assert not at.exception
    assert [t.value for t in at.title] == ["Golden Thread"]
    assert len(at.metric) == 0 and len(at.dataframe) == 0 and len(at.get("plotly_chart")) == 0
    assert len(at.selectbox) == 0 and len(at.tabs) == 0


def fresh_app() -> AppTest:
    return AppTest.from_file(str(APP_SCRIPT), default_timeout=120)


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_before_sign_in_every_page_shows_the_form_and_no_figure(data_dir: Path):
    at = fresh_app()
    at.run()
    assert_no_figure(at)
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert [b.label for b in at.button] == ["Sign in"]
    # A direct link to a page is no way round it.
    at = fresh_app()
    at.query_params.update({"service": "ESX"})
    at.run()
    assert_no_figure(at)


def test_a_good_password_opens_the_pages_and_a_wrong_one_is_refused(data_dir: Path):
    config = AuthConfig.from_env()
    add_user(config.accounts_path, "jane.smith", "manager", "ESX-ESX-GM", PASSWORD)
    at = fresh_app()
    at.run()
    sign_in(at, "jane.smith", "not the password")
    assert_no_figure(at)
    assert [e.value for e in at.error] == ["Wrong user name or password."]
    sign_in(at, "jane.smith", PASSWORD)
    assert not at.exception
    assert at.title[0].value == "Monthly snapshot" and len(at.metric) > 0
    assert "Signed in as **jane.smith** · manager · ESX-ESX-GM" in [c.value for c in at.sidebar.caption]
    assert list_events(config.accounts_path, events=("sign_in", "sign_in_failed")).event.tolist() == [
        "sign_in",
        "sign_in_failed",
    ]
    # Signing out returns to the form.
    at.sidebar.button(key="gt_sign_out").click().run()
    assert_no_figure(at)
    assert list_events(config.accounts_path, limit=1).event.tolist() == ["signed_out"]


def test_signed_in_user_is_read_from_one_place(app):
    at = app("monthly_snapshot", user=("pat.viewer", "viewer", "ESX"))
    session = at.session_state[auth.SESSION_KEY]
    assert (session.user.name, session.user.role, session.user.org_unit_id) == ("pat.viewer", "viewer", "ESX")
    assert not at.exception and at.title[0].value == "Monthly snapshot"


def test_an_idle_or_old_session_ends_and_says_why(data_dir: Path):
    config = AuthConfig.from_env()
    now = dt.datetime.now(dt.UTC)
    user = User("jane.smith", "manager", "ESX")
    for session, reason in [
        (
            auth.Session(user, "password", now - dt.timedelta(minutes=40), now - dt.timedelta(minutes=31)),
            "idle for more than 30 min",
        ),
        (
            auth.Session(user, "password", now - dt.timedelta(hours=11), now - dt.timedelta(minutes=1)),
            "signed in more than 10 h ago",
        ),
    ]:
        at = fresh_app()
        at.session_state[auth.SESSION_KEY] = session
        at.run()
        assert_no_figure(at)
        assert [i.value for i in at.info] == [f"Your session has ended ({reason}). Sign in again."]
        assert list_events(config.accounts_path, limit=1)[["event", "detail"]].values.tolist() == [
            ["session_expired", reason]
        ]


def test_expiry_rules(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GT_SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("GT_SESSION_MAX_HOURS", "1")
    config = AuthConfig.from_env()
    t0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    session = auth.signed_in_session(User("a", "viewer", "ESX"), now=t0)
    assert auth.expiry_reason(session, config, t0 + dt.timedelta(minutes=4)) is None
    assert auth.expiry_reason(session, config, t0 + dt.timedelta(minutes=5)) == "idle for more than 5 min"
    active = dataclasses.replace(session, last_seen=t0 + dt.timedelta(minutes=58))
    assert auth.expiry_reason(active, config, t0 + dt.timedelta(minutes=59)) is None
    assert auth.expiry_reason(active, config, t0 + dt.timedelta(minutes=60)) == "signed in more than 1 h ago"


def test_identity_provider_mode_up_to_the_provider(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """GT_AUTH_MODE=oidc: the provider's button, then what the app does with the identity it returns
    (st.user seeded as the provider would leave it): a mapped e-mail opens the pages, an unmapped one
    is refused and recorded; without an [auth] section the app says sign-in is not configured."""
    monkeypatch.setenv("GT_AUTH_MODE", "oidc")
    mapping = data_dir / "oidc_users.yml"
    mapping.write_text("people:\n  - {email: jane@essex-fire.gov.uk, role: manager, unit: ESX-ESX-GM}\n")
    monkeypatch.setenv("GT_OIDC_USER_MAP", str(mapping))
    config = AuthConfig.from_env()

    at = fresh_app()
    at.user = {}  # no [auth] section: st.user carries no is_logged_in
    at.run()
    assert_no_figure(at)
    assert "has no [auth] section" in at.error[0].value

    at = fresh_app()
    at.user = {"is_logged_in": False}
    at.run()
    assert_no_figure(at)
    assert len(at.text_input) == 0
    assert [b.label for b in at.button] == ["Sign in with your organisation account"]

    at = fresh_app()
    at.user = {"is_logged_in": True, "email": "someone@else.org", "name": "Some One"}
    at.run()
    assert_no_figure(at)
    assert at.error[0].value == "someone@else.org has no access to Golden Thread. Ask the performance team to add you."
    assert list_events(config.accounts_path, limit=1)[["user_name", "event"]].values.tolist() == [
        ["someone@else.org", "sign_in_refused"]
    ]

    at = fresh_app()
    at.user = {"is_logged_in": True, "email": "Jane@essex-fire.gov.uk", "name": "Jane"}
    at.run()
    assert not at.exception and at.title[0].value == "Monthly snapshot" and len(at.metric) > 0
    assert "Signed in as **jane@essex-fire.gov.uk** · manager · ESX-ESX-GM" in [c.value for c in at.sidebar.caption]
    assert list_events(config.accounts_path, limit=1)[["event", "detail"]].values.tolist() == [
        ["sign_in", "identity provider"]
    ]

    # A provider sign-in older than the absolute limit (the token's iat) ends at once: sign in there again.
    at = fresh_app()
    issued = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=11)).timestamp()
    at.user = {"is_logged_in": True, "email": "jane@essex-fire.gov.uk", "iat": issued}
    at.run()
    assert_no_figure(at)
    assert [b.label for b in at.button] == ["Sign in with your organisation account"]
    assert list_events(config.accounts_path, limit=1).event.tolist() == ["session_expired"]


def test_identity_provider_claims_map_to_a_user_or_a_reason(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    mapping = data_dir / "oidc_users.yml"
    monkeypatch.setenv("GT_OIDC_USER_MAP", str(mapping))
    config = AuthConfig.from_env()
    user, message = auth.oidc_user({"email": "jane@essex-fire.gov.uk"}, config)
    assert user is None and "no identity mapping file" in message and str(mapping) in message
    mapping.write_text("people:\n  - {email: jane@essex-fire.gov.uk, role: performance, unit: ESX}\n")
    user, message = auth.oidc_user({"preferred_username": "Jane@essex-fire.gov.uk"}, config)
    assert (user.name, user.role, user.org_unit_id, message) == ("jane@essex-fire.gov.uk", "performance", "ESX", "")
    user, message = auth.oidc_user({"email": "someone@else.org"}, config)
    assert (
        user is None
        and message == "someone@else.org has no access to Golden Thread. Ask the performance team to add you."
    )
    user, message = auth.oidc_user({"sub": "123"}, config)
    assert user is None and "did not give a verified e-mail address" in message


def test_an_export_is_recorded_with_who_and_which_table(data_dir: Path):
    config = AuthConfig.from_env()
    # audited_export takes the signed-in user when the button is drawn; build the file as a click would.
    # The file is built as that person, so the data access applies its role even outside the script run.
    from data_access import scope

    build = auth._record_then_build
    jane = User("jane.smith", "manager", "ESX")
    built = build(
        lambda: scope.acting_user().name.encode(), config.accounts_path, jane, "monthly_snapshot_ESX_2026-10", "csv"
    )
    assert built == b"jane.smith"
    assert list_events(config.accounts_path)[["user_name", "event", "detail"]].values.tolist() == [
        ["jane.smith", "export", "csv monthly_snapshot_ESX_2026-10"]
    ]


def test_the_audit_tab_shows_sign_ins_to_auditors_only(app, data_dir: Path):
    config = AuthConfig.from_env()
    add_user(config.accounts_path, "jane.smith", "manager", "ESX", PASSWORD)
    auditor = app("data_quality", user=("demo-auditor", "auditor", "ESX"))
    assert not auditor.exception
    trail = auditor.tabs[4].dataframe[0].value
    assert trail[trail.event == "user_added"].user_name.tolist() == ["jane.smith"]
    # The page's own record-level tables (flagged records, quarantined rows) are views the trail records.
    views = trail[trail.event == "record_view"]
    assert set(views.user_name) == {"demo-auditor"} and len(views) >= 2, trail
    assert set(trail.event) == {"user_added", "record_view"}
    analyst = app("data_quality", user=("demo-analyst", "analyst", "ESX"))
    assert len(analyst.tabs[4].dataframe) == 0
    assert "only the auditor and admin roles see it" in analyst.tabs[4].info[0].value
