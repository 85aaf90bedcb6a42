"""Render time of the monthly snapshot and quarterly review pages, first and repeat.

Each page is rendered headless with Streamlit's AppTest against the published
``serving.duckdb`` (GT_DATA_DIR): the first render of a fresh app session (cold: Python
imports warm, query caches empty) and then repeat renders of the same session. A bare page
that only reads ``meta.publish_info`` is timed alongside as the baseline, so the figures can
be read as ratios on a noisy machine. Prints a table and writes JSON to bench/results/.

    python -m bench.page_render [--repeats 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_DIR = REPO_ROOT / "apps" / "streamlit"
RESULTS_DIR = REPO_ROOT / "bench" / "results"
PAGES = ("monthly_snapshot", "quarterly_review")
BASELINE_PAGE = "ingestion"


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def render_times(page: str, repeats: int) -> dict[str, float]:
    import auth  # the app's own module (APP_DIR is on sys.path)
    from streamlit.testing.v1 import AppTest

    from orchestration.accounts.store import User

    at = AppTest.from_file(str(APP_DIR / "streamlit_app.py"), default_timeout=300)
    # Pages render only after sign-in: time them as a signed-in analyst of the simulated service.
    at.session_state[auth.SESSION_KEY] = auth.signed_in_session(User("bench", "analyst", "ESX"))
    at.run()

    def render() -> None:
        at.switch_page(f"app_pages/{page}.py").run()
        if at.exception:
            raise RuntimeError(f"{page} raised: {at.exception[0].value}")

    first = _timed(render)
    repeat = [_timed(render) for _ in range(repeats)]
    return {"first_s": round(first, 3), "repeat_median_s": round(statistics.median(repeat), 3),
            "repeat_max_s": round(max(repeat), 3)}


def run(repeats: int = 5, write: bool = True) -> dict:
    data_dir = Path(os.environ.get("GT_DATA_DIR") or REPO_ROOT / "data")
    if not (data_dir / "serving.duckdb").exists():
        raise SystemExit(f"{data_dir / 'serving.duckdb'} not found: run `make pipeline` first")
    if str(APP_DIR) not in sys.path:
        sys.path.insert(0, str(APP_DIR))
    results = {page: render_times(page, repeats) for page in (BASELINE_PAGE, *PAGES)}
    base = results[BASELINE_PAGE]["first_s"] or 1e-9
    for page in PAGES:
        results[page]["first_vs_baseline"] = round(results[page]["first_s"] / base, 1)
    report = {
        "benchmark": "page_render",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "serving_bytes": (data_dir / "serving.duckdb").stat().st_size,
        "repeats": repeats,
        "goal_first_render_s": 1.5,
        "pages": results,
    }
    print(f"{'page':<20}{'first s':>9}{'repeat s':>10}{'max s':>8}{'× baseline':>12}")
    for page, r in results.items():
        ratio = r.get("first_vs_baseline", 1.0)
        print(f"{page:<20}{r['first_s']:>9.3f}{r['repeat_median_s']:>10.3f}{r['repeat_max_s']:>8.3f}{ratio:>12.1f}")
    if write:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"page_render_{dt.datetime.now():%Y%m%dT%H%M%S}.json"
        path.write_text(json.dumps(report, indent=2))
        print(f"written {path.relative_to(REPO_ROOT)}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page_render", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    run(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
