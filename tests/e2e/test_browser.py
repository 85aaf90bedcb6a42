"""The app in a real browser: `streamlit run` on a free localhost port, driven by Playwright with
Debian's /usr/bin/chromium. Shows that no page gives a figure before sign-in, signs in with an
account, visits every page, writes a commentary and sees it in the monthly snapshot, drills down to
a station and a watch, and saves screenshots to tests/e2e/screenshots/.

Skipped when /usr/bin/chromium is absent, unless REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "apps"))
from app_fixtures import APP_SCRIPT, REPO_ROOT, prebuilt_serving_dir  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = [  # (sidebar link, page title)
    ("Monthly snapshot", "Monthly snapshot"),
    ("Quarterly review", "Quarterly review"),
    ("Golden thread", "Golden thread"),
    ("Station and watch profile", "Station and watch profile"),
    ("Districts and wards", "Districts and wards"),
    ("Map", "Map"),
    ("Owner commentary", "Owner commentary"),
    ("Data quality", "Data quality"),
    ("Data ingestion", "Data ingestion"),
]


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is absent (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is absent: install it with `apt-get install -y chromium` to run the browser test")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The accounts the browser signs in with, added to the test's own data directory: an analyst sees every
# page; commentary is written by the performance team (an analyst may not write it).
ACCOUNT = ("browser.tester", "analyst", "ESX", "a browser test password")
WRITER = ("browser.writer", "performance", "ESX", "a performance team password")
# One account per other role, for the test that signs in as each (the manager's unit is a group).
ROLE_ACCOUNTS = {
    "viewer": ("browser.viewer", "viewer", "ESX", "a viewer password"),
    "manager": ("browser.manager", "manager", "ESX-ESX-GM", "a manager password"),
    "auditor": ("browser.auditor", "auditor", "ESX", "an auditor password"),
    "admin": ("browser.admin", "admin", "ESX", "an admin password"),
}
REPORT_LINKS = {
    "Monthly snapshot", "Quarterly review", "Golden thread", "Station and watch profile", "Owner commentary",
    "Districts and wards", "Map",
}  # fmt: skip
SERVICE_WIDE_LINKS = {"Quarterly review", "Golden thread", "Districts and wards", "Map"}
ASSURANCE_LINKS = {"Data quality", "Data ingestion"}


@pytest.fixture(scope="module")
def server_data(chromium: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """The browser test's own GT_DATA_DIR: a copy of the pipeline's serving database and one account."""
    from orchestration.accounts.store import add_user

    serving = prebuilt_serving_dir() or request.getfixturevalue("demo_pipeline")
    data_dir = tmp_path_factory.mktemp("gt_browser_data")
    shutil.copy2(serving / "serving.duckdb", data_dir / "serving.duckdb")
    for name, role, unit, password in (ACCOUNT, WRITER, *ROLE_ACCOUNTS.values()):
        add_user(data_dir / "app_store" / "accounts.sqlite", name, role, unit, password)
    return data_dir


def approve_latest_month(data_dir: Path) -> dt.date:
    """The performance team approves ESX's latest complete month (what a viewer then reads)."""
    import duckdb

    from orchestration.accounts.store import User
    from orchestration.approvals.store import approve

    con = duckdb.connect(str(data_dir / "serving.duckdb"), read_only=True)
    try:
        [month] = con.execute(
            """
            select max(period_month) from marts.rpt_kpi_monthly, meta.publish_info
            where service_id = 'ESX' and org_level = 'service' and period_month < date_trunc('month', as_of)
            """
        ).fetchone()
    finally:
        con.close()
    approver = User(WRITER[0], WRITER[1], WRITER[2])
    approve(
        data_dir / "app_store" / "approvals.sqlite",
        data_dir / "serving.duckdb",
        "ESX",
        month,
        approver,
        data_dir / "app_store" / "accounts.sqlite",
    )
    return month


@pytest.fixture(scope="module")
def server(server_data: Path) -> Iterator[str]:
    """`streamlit run` in its own process group on a free port."""
    data_dir = server_data
    port = free_port()
    log = (data_dir / "streamlit.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP_SCRIPT),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=REPO_ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "GT_AUTH_MODE"}, "GT_DATA_DIR": str(data_dir)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as a whole below
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{(data_dir / 'streamlit.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()


def sign_in(page, name: str, password: str) -> None:
    page.get_by_role("textbox", name="User name", exact=True).fill(name)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_ready(page)


def wait_ready(page, timeout: float = 60.0) -> None:
    """Wait until the script run has finished (the status widget gone for a while) and tables are drawn."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    quiet_since = None
    while True:  # a rerun can start a moment after a click: require a quiet second
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        now = time.monotonic()
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= 1.0:
            break
        if now > deadline:
            raise TimeoutError("the app was still running after the timeout")
        page.wait_for_timeout(100)
    for frame in page.locator('[data-testid="stDataFrame"]').all()[:4]:
        if frame.is_visible():
            frame.locator("canvas").first.wait_for(state="attached", timeout=timeout * 1000)
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (a combobox in this Streamlit)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)  # filter the list first: long lists are virtualised
    page.get_by_role("option", name=option, exact=True).first.click()
    wait_ready(page)


def go_to(page, link: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=link).click()
    wait_ready(page)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def station_with_watches(data_dir: Path) -> tuple[str, str, str]:
    """Names of (group, station, watch) for the first current simulated station that has watches."""
    import duckdb

    con = duckdb.connect(str(data_dir / "serving.duckdb"), read_only=True)
    try:
        return con.execute(
            """
            select g.org_unit_name, s.org_unit_name, min(w.org_unit_name)
            from marts.dim_org_unit as w
            join marts.dim_org_unit as s on s.org_unit_id = w.parent_org_unit_id and s.is_current
            join marts.dim_org_unit as g on g.org_unit_id = s.parent_org_unit_id and g.is_current
            where w.org_level = 'watch' and w.is_current and w.service_id = 'ESX'
            group by g.org_unit_name, s.org_unit_name, s.org_unit_id order by s.org_unit_id limit 1
            """
        ).fetchone()
    finally:
        con.close()


def test_every_page_commentary_and_drill_down_in_a_browser(server: str, server_data: Path, chromium: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
        try:
            # Tall: Streamlit scrolls inside its main block, so a full-page shot is one viewport.
            page = browser.new_page(viewport={"width": 1440, "height": 2200})
            # Before sign-in: the form, and no figure, whichever page the link names.
            for path in ("", "/quarterly_review?service=ESX"):
                page.goto(server + path)
                wait_ready(page)
                main = page.locator('[data-testid="stMain"]')
                assert main.locator("h1").first.inner_text().strip() == "Golden Thread"
                assert page.get_by_role("textbox", name="Password", exact=True).count() == 1
                for figure in ("stMetric", "stDataFrame", "stPlotlyChart", "stTable"):
                    assert page.locator(f'[data-testid="{figure}"]').count() == 0, figure
                assert page.locator('[data-testid="stSidebarNav"]').count() == 0
            shot(page, "00_sign_in")
            name, _, _, password = ACCOUNT
            sign_in(page, name, "not the password")
            assert "Wrong user name or password." in page.locator('[data-testid="stMain"]').inner_text()
            assert page.locator('[data-testid="stMetric"]').count() == 0
            sign_in(page, name, password)
            assert f"Signed in as {name}" in page.locator('[data-testid="stSidebar"]').inner_text()

            # Every page, through the sidebar navigation.
            for number, (link, title) in enumerate(PAGES, start=1):
                go_to(page, link)
                assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == title
                assert "Data as of" in page.locator('[data-testid="stSidebar"]').inner_text()
                shot(page, f"{number:02d}_{link.lower().replace(' ', '_')}")

            # A commentary for an off-target KPI at service level, written as a member of the performance
            # team (signed in after the analyst signs out), then seen in the monthly snapshot.
            page.get_by_role("button", name="Sign out").click()
            wait_ready(page)
            writer, _, _, writer_password = WRITER
            sign_in(page, writer, writer_password)
            assert f"Signed in as {writer}" in page.locator('[data-testid="stSidebar"]').inner_text()
            go_to(page, "Owner commentary")
            assert f"Written as {writer}" in page.locator('[data-testid="stMain"]').inner_text()
            text = f"Browser test commentary {time.time():.0f}: rise within SPC limits."
            page.get_by_role("textbox", name="Commentary", exact=True).fill(text)
            page.get_by_role("textbox", name="Action", exact=True).fill("Review at the next performance board.")
            page.get_by_role("button", name="Save commentary").click()
            wait_ready(page)
            assert "Saved as entry" in page.locator('[data-testid="stMain"]').inner_text()
            shot(page, "08_commentary_saved")
            go_to(page, "Monthly snapshot")
            assert text in page.locator('[data-testid="stMain"]').inner_text()

            # Drill down service → group → station → watch with the selectors.
            group, station, watch = station_with_watches(server_data)
            choose(page, "Group", group)
            choose(page, "Station", station)
            main = page.locator('[data-testid="stMain"]').inner_text()
            assert f"{station} (station)" in main and f"{group} (group)" in main
            shot(page, "09_monthly_station")
            choose(page, "Watch", watch)
            assert f"{watch} (watch)" in page.locator('[data-testid="stMain"]').inner_text()
            shot(page, "10_monthly_watch")

            # The selection carries over to the profile page.
            choose(page, "Watch", "(all watches)")
            go_to(page, "Station and watch profile")
            assert f"{station} (station)" in page.locator('[data-testid="stMain"]').inner_text()
            shot(page, "11_profile_station")
        finally:
            browser.close()


def sidebar_links(page) -> set[str]:
    nav = page.locator('[data-testid="stSidebarNav"]')
    # A link's text is its icon's name, then its title on the last line.
    return {link.inner_text().strip().splitlines()[-1].strip() for link in nav.get_by_role("link").all()}


def test_each_role_in_a_browser(server: str, server_data: Path, chromium: Path):
    """Signs in as each role and checks what its navigation offers and what its pages show or refuse: a
    viewer reads an approved month (a draft before), a manager its group and no service-wide page, an
    auditor the assurance pages (its view of flagged records lands in the audit trail), an admin people."""
    from playwright.sync_api import sync_playwright

    from orchestration.accounts.store import list_events

    accounts = server_data / "app_store" / "accounts.sqlite"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1600})

            def sign_in_as(role: str) -> None:
                name, _, _, password = ROLE_ACCOUNTS[role]
                page.goto(server)
                wait_ready(page)
                sign_in(page, name, password)
                assert f"Signed in as {name}" in page.locator('[data-testid="stSidebar"]').inner_text()

            def sign_out() -> None:
                page.get_by_role("button", name="Sign out").click()
                wait_ready(page)

            sign_in_as("viewer")
            assert sidebar_links(page) == REPORT_LINKS
            main = page.locator('[data-testid="stMain"]').inner_text()
            assert "No month has been approved for this service yet" in main
            assert page.locator('[data-testid="stMetric"]').count() == 0
            sign_out()
            month = approve_latest_month(server_data)
            sign_in_as("viewer")
            main = page.locator('[data-testid="stMain"]').inner_text()
            assert f"ESX {month:%Y-%m}: approved version 1, by {WRITER[0]}" in main
            assert page.locator('[data-testid="stMetric"]').count() > 0
            assert "Approve" not in main
            shot(page, "20_viewer_approved_month")
            sign_out()

            sign_in_as("manager")
            assert sidebar_links(page) == REPORT_LINKS - SERVICE_WIDE_LINKS
            assert "ESX-ESX-GM" in page.locator('[data-testid="stMain"]').inner_text() or "(group)" in (
                page.locator('[data-testid="stMain"]').inner_text()
            )
            shot(page, "21_manager")
            sign_out()

            sign_in_as("auditor")
            assert sidebar_links(page) == ASSURANCE_LINKS
            go_to(page, "Data quality")
            assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "Data quality"
            shot(page, "22_auditor_data_quality")
            sign_out()
            viewed = list_events(accounts, events=("record_view",))
            assert ROLE_ACCOUNTS["auditor"][0] in set(viewed.user_name)

            sign_in_as("admin")
            assert sidebar_links(page) == set()  # its one page: Streamlit shows no navigation
            assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "People and audit trail"
            assert page.locator('[data-testid="stMetric"]').count() == 0
            shot(page, "23_admin_people")
        finally:
            browser.close()
