"""The benchmark harness runs at a tiny size so it cannot rot.

One service, the first quarter of a financial year (as of 1 July: three months, the smallest
period whose Annual Plan already has a quarterly update), through the whole Dagster job, the two
baselines and the data-quality suites alone; the baselines must equal ``rpt_kpi_monthly`` and the
JSON must be written. Pages are covered by tests/apps/test_bench_page_render.py; the monthly close
runs the same pipeline stage again, so only its landing step is tested here (without a pipeline).
Figures are not asserted: they depend on the machine.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from bench import baselines
from bench.report import growth
from bench.run import run
from bench.stages import w_close_land, w_simulate

pytestmark = [pytest.mark.slow]


def test_benchmark_runs_at_a_tiny_size(tmp_path: Path, capsys):
    out = tmp_path / "results"
    report = run(
        [
            "--sizes", "1x1",
            "--as-of", "2026-07-01",
            "--out", str(out),
            "--work-dir", str(tmp_path / "work"),
            "--skip", "pages,close",
            "--baseline-repeats", "1",
            "--dagster-instance", "ephemeral",
        ]
    )  # fmt: skip
    written = list(out.glob("bench_*.json"))
    assert len(written) == 1 and json.loads(written[0].read_text())["sizes"][0]["size"] == "1x1"
    (size,) = report["sizes"]
    assert "error" not in size, size.get("error")
    stages = size["stages"]
    assert stages["pipeline"]["success"], stages["pipeline"]["failures"]
    phases = stages["pipeline"]["phases"]
    for phase in ("startup", "ingest", "raw_dq", "dbt_build", "mart_dq", "publish"):
        assert phases[phase] > 0, phase
    assert stages["pipeline"]["dbt"]["nodes"] > 100
    assert stages["pipeline"]["process"]["peak_rss_mib"] > 0
    for name in ("baseline_duckdb_sql", "baseline_pandas"):
        comparison = stages[name]["comparison"]
        assert comparison["equal"], comparison
        assert comparison["rows_mart"] > 0 and comparison["rows_mart"] == comparison["rows_baseline"]
    assert stages["dq"]["raw"]["suites"] > 0 and stages["dq"]["marts"]["suites"] > 0
    assert stages["scan"]["readers"]["irs_csv"]["rows"] > 0
    # The bare DuckDB read of the landed CSV and JSON-lines files: fewer rows than were ingested (the
    # workbooks, the planner's documents and the real public data are not in it).
    landed = stages["scan"]["landed"]
    assert 0 < landed["rows"] < size["summary"]["raw_rows"] and landed["files"] > 10
    summary = size["summary"]
    assert summary["baselines_equal"] is True
    assert summary["ratios"]["pipeline_vs_duckdb"] > 1
    assert summary["ingest"]["rows_per_s"] > 0 and summary["ingest"]["ratio_to_bare_duckdb"] > 1
    printed = capsys.readouterr().out
    assert "full pipeline, landed → published" in printed
    assert "ingest throughput, rows/s" in printed and "ratio: ingest / bare DuckDB read" in printed


def test_close_lands_only_the_new_months_deliveries(tmp_path: Path):
    data_dir = tmp_path / "data"
    spec = {"data_dir": str(data_dir), "seed": 42, "services": 1, "years": 1, "preset": "demo",
            "as_of": "2026-07-01", "new_as_of": "2026-08-01"}  # fmt: skip
    simulated = w_simulate(spec)
    landing = data_dir / "landing"
    assert not list(landing.rglob("*2026-07.*")) and not list(landing.rglob("*2026-07-31.*"))
    assert (landing / "irs/ESX/incidents_2026-06.csv").exists()
    assert (landing / "hr/ESX/hr_extract_2026-06-30.xlsx").exists()
    assert "irs/ESX/incidents_2026-07.csv" in simulated["next_month"]["files_held_for_close"]
    before = {p: p.read_bytes() for p in landing.rglob("*") if p.is_file()}

    result = w_close_land(spec)
    assert result["month"] == "2026-07"
    landed = set(result["files_landed"])
    # Each monthly system's July file and the snapshot extracts dated 31 July, nothing else.
    assert {"irs/ESX/incidents_2026-07.csv", "mobilising/ESX/mobilisations_2026-07.jsonl",
            "hr/ESX/hr_extract_2026-07-31.xlsx", "reference/ESX/stations_2026-07-31.csv"} <= landed  # fmt: skip
    assert all("2026-07" in name for name in landed), landed
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} changed"
    # The new month continues the landed series: no incident number is reused.
    ids = [
        row["incident_id"]
        for path in sorted((landing / "irs/ESX").glob("*.csv"))
        for row in csv.DictReader(path.open(encoding="utf-8"))
    ]
    assert len(ids) == len(set(ids))
    assert not list(data_dir.glob("next-*")), "scratch folder left behind"


def test_compare_catches_a_wrong_value_and_a_missing_row():
    rows = pd.DataFrame(
        {
            "kpi_code": ["INC_TOTAL", "PRI_FIRES_10K"],
            "org_unit_id": ["ESX", "ESX"],
            "org_level": ["service", "service"],
            "period_month": pd.to_datetime(["2026-04-01", "2026-04-01"]),
            "numerator": [10.0, 2.0],
            "denominator": [None, 100000.0],
            "value": [10.0, 0.2],
        }
    )
    assert baselines.compare(rows, rows).equal
    off = rows.copy()
    off.loc[1, "value"] = 0.2 + 1e-6
    result = baselines.compare(off, rows)
    assert not result.equal and result.mismatched_values == 1
    result = baselines.compare(rows.iloc[:1], rows)
    assert not result.equal and result.missing_from_baseline == 1


def test_growth_fits_a_line_through_the_sizes():
    def size(label, rows, seconds):
        return {"size": label, "summary": {"raw_rows": rows, "incidents": rows // 4, "pipeline_s": seconds,
                                           "close_s": None, "dq_raw_s": None, "dq_marts_s": None,
                                           "duckdb_sql_s": None, "pandas_s": None, "peak_rss_mib": 100}}  # fmt: skip

    g = growth([size("a", 100_000, 20.0), size("b", 300_000, 40.0)])
    fit = g["linear_fit"]["pipeline.total"]
    assert fit["fixed"] == pytest.approx(10.0) and fit["per_100k_rows"] == pytest.approx(10.0)
    assert fit["national_estimate"] == pytest.approx(10.0 + 10.0 * 6_000_000 * 4 / 100_000)


def test_redelivery_lands_the_months_monthly_extracts_again_reordered(tmp_path: Path):
    from bench.redelivered_close import redeliver

    irs = tmp_path / "irs" / "ESX"
    irs.mkdir(parents=True)
    (irs / "incidents_2026-10.csv").write_text("incident_id,x\n1,a\n2,b\n")
    (irs / "incidents_2026-09.csv").write_text("incident_id,x\n3,c\n")
    mob = tmp_path / "mobilising" / "ESX"
    mob.mkdir(parents=True)
    (mob / "mobilisations_2026-10.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    (tmp_path / "hr").mkdir()
    (tmp_path / "hr" / "hr_extract_2026-10-31.xlsx").write_bytes(b"x")

    assert redeliver(tmp_path, "2026-10") == 2
    assert (irs / "incidents_2026-10_r2.csv").read_text() == "incident_id,x\n2,b\n1,a\n"
    assert (mob / "mobilisations_2026-10_r2.jsonl").read_text() == '{"a": 2}\n{"a": 1}\n'
    assert not (irs / "incidents_2026-09_r2.csv").exists()
    # Measured a second time: the next revision, so the close has new files to take in.
    assert redeliver(tmp_path, "2026-10") == 2
    assert (irs / "incidents_2026-10_r3.csv").read_text() == "incident_id,x\n2,b\n1,a\n"
