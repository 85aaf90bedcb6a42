"""Who is signed in. ``require_sign_in()`` is the first thing the app does: it shows the sign-in form
(or the identity provider's button) and stops until someone has signed in, and it ends sessions that
are idle or too old. ``current_user()`` is the one place pages and the data access read the signed-in
person's name, role and organisation unit from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial

import streamlit as st

from orchestration.accounts.config import AuthConfig, ConfigError
from orchestration.accounts.identity import MappingFileError, identity_email, load_mapping
from orchestration.accounts.signin import authenticate
from orchestration.accounts.store import User, record_event, utc_now

SESSION_KEY = "gt_session"
NOTICE_KEY = "gt_sign_in_notice"


@dataclass(frozen=True)
class Session:
    user: User
    method: str  # "password" or "identity provider"
    signed_in_at: dt.datetime
    last_seen: dt.datetime


def current_user() -> User | None:
    """The signed-in person (name, role, org_unit_id), or None before sign-in."""
    session = st.session_state.get(SESSION_KEY)
    return session.user if isinstance(session, Session) else None


def signed_in_session(user: User, method: str = "password", now: dt.datetime | None = None) -> Session:
    now = now or utc_now()
    return Session(user, method, now, now)


def expiry_reason(session: Session, config: AuthConfig, now: dt.datetime) -> str | None:
    """Why a session has ended (too long idle, or older than the absolute limit), or None."""
    if now - session.signed_in_at >= config.session_max:
        return f"signed in more than {_duration(config.session_max)} ago"
    if now - session.last_seen >= config.session_idle:
        return f"idle for more than {_duration(config.session_idle)}"
    return None


def _duration(delta: dt.timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes} min"


def oidc_user(claims: Mapping, config: AuthConfig) -> tuple[User | None, str]:
    """The user an identity-provider sign-in maps to, or (None, why not). Everything short of the
    provider itself: the e-mail claim, the mapping file, an unmapped address."""
    email = identity_email(claims)
    if email is None:
        return None, "The identity provider did not give a verified e-mail address, so access cannot be decided."
    try:
        mapping = load_mapping(config.oidc_map_path)
    except MappingFileError as exc:
        return None, f"Sign-in is not configured correctly ({exc}). Tell the system administrator."
    user = mapping.user_for(email)
    if user is None:
        return None, f"{email} has no access to Golden Thread. Ask the performance team to add you."
    return user, ""


def require_sign_in() -> User:
    """The signed-in user; otherwise show the sign-in and stop the script (no page runs)."""
    try:
        config = AuthConfig.from_env()
    except ConfigError as exc:
        st.error(f"Sign-in is not configured correctly: {exc}")
        st.stop()
    now = utc_now()
    session = st.session_state.get(SESSION_KEY)
    if isinstance(session, Session):
        reason = expiry_reason(session, config, now)
        if reason is None:
            st.session_state[SESSION_KEY] = replace(session, last_seen=now)
            return session.user
        record_event(config.accounts_path, session.user.name, "session_expired", reason, now)
        del st.session_state[SESSION_KEY]
        st.session_state[NOTICE_KEY] = f"Your session has ended ({reason}). Sign in again."
        if config.mode == "oidc":
            st.logout()  # clears st.user and the provider's cookie; below, the sign-in button shows
    if config.mode == "oidc":
        return _identity_provider_sign_in(config, now)
    _password_form(config)
    st.stop()


def _sign_in_page_header() -> None:
    st.title("Golden Thread")
    st.caption("Fire and rescue performance and assurance. Sign in to see the reports.")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice)


def _password_form(config: AuthConfig) -> None:
    _sign_in_page_header()
    with st.columns([2, 3])[0], st.form("sign_in"):
        name = st.text_input("User name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        result = authenticate(config, name, password)
        if result.ok:
            st.session_state[SESSION_KEY] = signed_in_session(result.user, "password")
            st.rerun()
        st.error(result.message)


def _identity_provider_sign_in(config: AuthConfig, now: dt.datetime) -> User:
    logged_in = st.user.get("is_logged_in")
    if logged_in is None:  # st.user says nothing about sign-in when secrets.toml has no [auth] section
        _sign_in_page_header()
        st.error(
            "GT_AUTH_MODE=oidc, but .streamlit/secrets.toml has no [auth] section for the identity provider "
            "(docs/signing_in.md). Tell the system administrator."
        )
        st.stop()
    if not logged_in:
        _sign_in_page_header()
        st.button("Sign in with your organisation account", type="primary", on_click=st.login)
        st.stop()
    claims = st.user.to_dict()
    user, message = oidc_user(claims, config)
    if user is None:
        _sign_in_page_header()
        record_event(config.accounts_path, identity_email(claims) or "(no e-mail)", "sign_in_refused", message, now)
        st.error(message)
        st.button("Sign out", on_click=st.logout)
        st.stop()
    session = signed_in_session(user, "identity provider", now)
    issued = claims.get("iat")  # the provider's sign-in time, so a reloaded page keeps the absolute limit
    if isinstance(issued, (int, float)):
        session = replace(session, signed_in_at=dt.datetime.fromtimestamp(issued, dt.UTC))
    reason = expiry_reason(session, config, now)
    if reason is not None:  # the provider's sign-in is older than the absolute limit: sign in there again
        record_event(config.accounts_path, user.name, "session_expired", reason, now)
        st.session_state[NOTICE_KEY] = f"Your session has ended ({reason}). Sign in again."
        st.logout()  # clears st.user and the cookie, but does not stop the run
        st.rerun()
    record_event(config.accounts_path, user.name, "sign_in", "identity provider", now)
    st.session_state[SESSION_KEY] = session
    return user


def sign_out() -> None:
    """Record the sign-out and forget the session (and the provider's cookie)."""
    user = current_user()
    config = AuthConfig.from_env()
    if user is not None:
        record_event(config.accounts_path, user.name, "signed_out")
    st.session_state.pop(SESSION_KEY, None)
    if config.mode == "oidc" and st.user.get("is_logged_in"):
        st.logout()


def sidebar_identity() -> None:
    user = current_user()
    if user is None:
        return
    st.caption(f"Signed in as **{user.name}** · {user.role} · {user.org_unit_id}")
    st.button("Sign out", on_click=sign_out, type="tertiary", icon=":material/logout:", key="gt_sign_out")


def audited_export(build: Callable[..., bytes], table: str, kind: str) -> Callable[[], bytes]:
    """``build`` for a download button, recording who exported which table when the file is built.
    The user and accounts file are taken now: the download may be built outside the script run."""
    user = current_user()
    accounts_path = AuthConfig.from_env().accounts_path
    return partial(_record_then_build, build, accounts_path, user, table, kind)


def _record_then_build(build: Callable[[], bytes], accounts_path, user: User | None, table: str, kind: str) -> bytes:
    from data_access.scope import acting_as  # the data access checks the same person when the file is built

    record_event(accounts_path, user.name if user else "(not signed in)", "export", f"{kind} {table}")
    with acting_as(user):
        return build()
