"""The figures of a benchmark run: the goals, each size's summary (``summarise``: the figures picked
from the stages' results, the keys of the results JSON's ``summary``), the table printed per size
(``print_size``) and the growth across sizes.

A new figure: its stage measures it (bench/stages.py lists the stages and their workers), then
``summarise`` picks it and ``print_size`` gives it a row, both here.
"""

from __future__ import annotations

import os

from bench.stage_pipeline import PHASES

GOALS = {
    # Issue 19, by size: the full build (landed -> published) and the monthly close, whole process.
    "pipeline_s": {"1x5": 25.0, "national": 300.0},
    "close_s": {"1x5": 15.0, "national": 60.0},
    "peak_rss_mib": 4096.0,
    "page_first_s": 1.5,
    "pipeline_vs_duckdb": 10.0,
    # Issue 18: ingestion at national scale, and one service's monthly ingest.
    "ingest_rows_per_s": 250_000.0,
    "national_ingest_s": 90.0,
    "close_ingest_s": 2.0,
}


# Brief's national figures: ~6M incidents, ~9M mobilisations, 10 years, 44 services.
NATIONAL_INCIDENTS = 6_000_000


PHASE_NAMES = {
    "startup": "start-up (imports, definitions)",
    "ingest": "ingest (12 steps)",
    "raw_dq": "raw DQ gate",
    "dbt_build": "dbt build (models + tests)",
    "mart_dq": "mart DQ gate",
    "publish": "publish",
    "dagster_overhead": "Dagster overhead (outside steps)",
}


def _get(d: dict, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def summarise(size_result: dict) -> dict:
    s = size_result["stages"]
    pipe, close = s.get("pipeline", {}), s.get("close", {})
    duck, pand = s.get("baseline_duckdb_sql", {}), s.get("baseline_pandas", {})
    pages = _get(s, "pages", "pages", default={}) or {}
    # The memory goal is the platform's: the pipeline, the close, the DQ suites and the pages. The
    # baselines (pandas holds every table at once) and the scan lower bound are reported apart.
    apart = ("baseline_duckdb_sql", "baseline_pandas", "scan")
    peak = max(
        (st.get("process", {}).get("peak_rss_mib", 0) for name, st in s.items() if name not in apart), default=0
    )
    peak_apart = max((_get(s, name, "process", "peak_rss_mib", default=0) or 0 for name in apart), default=0)
    peak_pipeline = max(
        _get(pipe, "process", "peak_rss_mib", default=0), _get(close, "process", "peak_rss_mib", default=0)
    )
    pipeline_s = _get(pipe, "process", "wall_s")
    duck_best = duck.get("best_s")
    summary = {
        "raw_rows": _get(pipe, "ingested", "rows_received"),
        "incidents": _get(pipe, "ingested", "incidents_current"),
        "mobilisations": _get(pipe, "ingested", "mobilisations_current"),
        "simulate_s": _get(s, "simulate", "seconds"),
        "simulate_next_month_s": _get(s, "simulate", "next_month", "seconds"),
        "pipeline_s": pipeline_s,
        "pipeline_phases": pipe.get("phases"),
        "close_s": _get(close, "process", "wall_s"),
        "close_phases": close.get("phases"),
        "close_rows": _get(close, "ingested", "rows_received"),
        "dq_raw_s": _get(s, "dq", "raw_s"),
        "dq_marts_s": _get(s, "dq", "marts_s"),
        "pages": {p: {"first_s": v.get("first_s"), "repeat_s": v.get("repeat_median_s")} for p, v in pages.items()},
        "peak_rss_mib": peak,
        "peak_rss_pipeline_mib": peak_pipeline,
        "peak_rss_baselines_mib": peak_apart,
        "duckdb_sql_s": duck_best,
        "pandas_s": pand.get("best_s"),
        "baselines_equal": all(
            _get(s, k, "comparison", "equal", default=False)
            for k in ("baseline_duckdb_sql", "baseline_pandas")
            if k in s
        )
        if "baseline_duckdb_sql" in s or "baseline_pandas" in s
        else None,
        "baselines_equal_after_close": all(
            _get(s, k, "comparison", "equal", default=False)
            for k in ("close_baseline_duckdb_sql", "close_baseline_pandas")
            if k in s
        )
        if "close_baseline_duckdb_sql" in s
        else None,
        "mart_rows_compared": _get(duck, "comparison", "rows_mart"),
        "scan": _get(s, "scan", "readers"),
        "scan_landed": _get(s, "scan", "landed"),
    }
    ingest_s = _get(pipe, "phases", "ingest")
    landed = summary["scan_landed"] or {}
    if ingest_s and summary["raw_rows"]:
        summary["ingest"] = {
            "seconds": ingest_s,
            "rows": summary["raw_rows"],
            "rows_per_s": round(summary["raw_rows"] / ingest_s),
            "bare_duckdb_rows_per_s": landed.get("rows_per_s"),
            "ratio_to_bare_duckdb": round(ingest_s / landed["seconds"], 1) if landed.get("seconds") else None,
            "close_ingest_s": _get(close, "phases", "ingest"),
        }
    if pipeline_s and duck_best:
        summary["ratios"] = {
            "pipeline_vs_duckdb": round(pipeline_s / duck_best, 1),
            "close_vs_duckdb": round(summary["close_s"] / duck_best, 1) if summary["close_s"] else None,
            "dbt_build_vs_duckdb": round(_get(pipe, "phases", "dbt_build", default=0) / duck_best, 1),
            "pandas_vs_duckdb": round(pand["best_s"] / duck_best, 1) if pand.get("best_s") else None,
            "pipeline_vs_pandas": round(pipeline_s / pand["best_s"], 1) if pand.get("best_s") else None,
        }
    first_renders = [v.get("first_s") for p, v in pages.items() if p != "ingestion" and v.get("first_s")]
    label = "national" if size_result.get("preset") == "national" else size_result.get("size")
    summary["targets"] = {"pipeline_s": GOALS["pipeline_s"].get(label), "close_s": GOALS["close_s"].get(label)}
    summary["goals"] = {
        "pipeline_target": _goal(pipeline_s, summary["targets"]["pipeline_s"]),
        "close_target": _goal(summary["close_s"], summary["targets"]["close_s"]),
        "peak_under_4GiB": _goal(peak, GOALS["peak_rss_mib"]),
        "page_first_under_1_5s": _goal(max(first_renders) if first_renders else None, GOALS["page_first_s"]),
        "within_10x_duckdb": _goal(_get(summary, "ratios", "pipeline_vs_duckdb"), GOALS["pipeline_vs_duckdb"]),
        "ingest_250k_rows_per_s": _goal_at_least(_get(summary, "ingest", "rows_per_s"), GOALS["ingest_rows_per_s"]),
        "close_ingest_under_2s": _goal(_get(summary, "ingest", "close_ingest_s"), GOALS["close_ingest_s"]),
    }
    if size_result.get("preset") == "national":
        summary["goals"]["national_ingest_under_90s"] = _goal(ingest_s, GOALS["national_ingest_s"])
    return summary


def _goal(value, limit) -> str | None:
    if value is None or limit is None:
        return None
    return "met" if value <= limit else "missed"


def _goal_at_least(value, floor) -> str | None:
    if value is None:
        return None
    return "met" if value >= floor else "missed"


def _target(sm: dict, key: str) -> str:
    limit = (sm.get("targets") or {}).get(key)
    return "" if limit is None else f"≤ {limit:.0f} s"


def _fmt(x, spec=".1f", none="—") -> str:
    return none if x is None else format(x, spec)


def print_size(result: dict) -> None:
    sm = result.get("summary")
    print()
    title = (
        f"== size {result['size']}: {result['services']} service(s) × {result['years']} year(s), "
        f"as of {result['as_of']}"
    )
    if not sm:
        print(title, "—", result.get("error", "no result"))
        return
    print(
        f"{title}; {_fmt(sm['raw_rows'], ',d')} raw rows ({_fmt(sm['incidents'], ',d')} incidents, "
        f"{_fmt(sm['mobilisations'], ',d')} mobilisations)"
    )
    s = result["stages"]
    rows: list[tuple[str, str, str, str]] = []
    if "simulate" in s:
        rows.append(("simulate (not in the pipeline total)", _fmt(sm["simulate_s"], ".2f"), "", ""))
        if sm.get("simulate_next_month_s") is not None:
            rows.append(("simulate the next month (for the close)", _fmt(sm["simulate_next_month_s"], ".2f"), "", ""))
    ph = sm.get("pipeline_phases") or {}
    for key in ("startup", *PHASES, "dagster_overhead"):
        if key in ph:
            rows.append(("  " + PHASE_NAMES[key], _fmt(ph[key], ".2f"), "", ""))
    rows.append(
        (
            "full pipeline, landed → published",
            _fmt(sm["pipeline_s"], ".2f"),
            _target(sm, "pipeline_s"),
            sm["goals"].get("pipeline_target") or "",
        )
    )
    ov = _get(s, "pipeline", "dagster_overhead") or {}
    if ov:
        rows.append(
            (
                f"    of which {ov['planned_events']} 'planned' events at run creation",
                _fmt(ov["planned_events_s"], ".2f"),
                "",
                "",
            )
        )
    cp = sm.get("close_phases") or {}
    if cp:
        rows.append(
            (
                f"monthly close ({_fmt(sm['close_rows'], ',d')} rows landed)",
                _fmt(sm["close_s"], ".2f"),
                _target(sm, "close_s"),
                sm["goals"].get("close_target") or "",
            )
        )
        for key in ("startup", *PHASES, "dagster_overhead"):
            if key in cp:
                rows.append(("  " + PHASE_NAMES[key], _fmt(cp[key], ".2f"), "", ""))
    if sm.get("dq_raw_s") is not None:
        rows.append(("DQ suites alone: raw (all current batches)", _fmt(sm["dq_raw_s"], ".2f"), "", ""))
        rows.append(("DQ suites alone: marts", _fmt(sm["dq_marts_s"], ".2f"), "", ""))
    for page, v in sm["pages"].items():
        goal = "< 1.5 s" if page != "ingestion" else "(bare page)"
        met = _goal(v["first_s"], 1.5) if page != "ingestion" else ""
        rows.append(
            (
                f"page {page}: first / repeat",
                f"{_fmt(v['first_s'], '.2f')} / {_fmt(v['repeat_s'], '.2f')}",
                goal,
                met or "",
            )
        )
    rows.append(
        (
            "peak RSS, MiB (platform stages / pipeline runs)",
            f"{sm['peak_rss_mib']:.0f} / {sm['peak_rss_pipeline_mib']:.0f}",
            "< 4096",
            sm["goals"]["peak_under_4GiB"] or "",
        )
    )
    if sm.get("peak_rss_baselines_mib"):
        baselines = f"{sm['peak_rss_baselines_mib']:.0f}"
        rows.append(("peak RSS of the baselines, MiB (not the platform)", baselines, "", ""))
    scan = sm.get("scan") or {}
    for name, v in scan.items():
        rows.append((f"scan lower bound: {name} ({v['rows']:,} rows)", _fmt(v["seconds"], ".2f"), "", ""))
    ing = sm.get("ingest") or {}
    if ing:
        landed = sm.get("scan_landed") or {}
        goals = sm["goals"]
        rows.append(
            (
                f"ingest throughput, rows/s ({ing['rows']:,} rows in {ing['seconds']:.1f} s)",
                _fmt(ing["rows_per_s"], ",d"),
                "≥ 250,000",
                goals.get("ingest_250k_rows_per_s") or "",
            )
        )
        if landed:
            rows.append(
                (
                    f"bare DuckDB read of the landed files, rows/s ({landed['rows']:,} rows, {landed['files']} files)",
                    _fmt(landed["rows_per_s"], ",d"),
                    "",
                    "",
                )
            )
            rows.append(("ratio: ingest / bare DuckDB read", f"{_fmt(ing['ratio_to_bare_duckdb'])}×", "", ""))
        if "national_ingest_under_90s" in goals:
            met = goals["national_ingest_under_90s"] or ""
            rows.append(("national ingest", _fmt(ing["seconds"], ".1f"), "≤ 90 s", met))
        if ing.get("close_ingest_s") is not None:
            met = goals.get("close_ingest_under_2s") or ""
            rows.append(("monthly close: ingest", _fmt(ing["close_ingest_s"], ".2f"), "< 2 s", met))
    for key, label in (
        ("baseline_duckdb_sql", "baseline: hand-written DuckDB SQL (best)"),
        ("baseline_pandas", "baseline: pandas (best)"),
    ):
        if key in s:
            b = s[key]
            c = b.get("comparison", {})
            eq = (
                "equal"
                if c.get("equal")
                else f"NOT EQUAL ({c.get('missing_from_baseline')} missing, "
                f"{c.get('extra_in_baseline')} extra, {c.get('mismatched_values')} differ)"
            )
            rows.append((label, _fmt(b.get("best_s"), ".3f"), f"{c.get('rows_mart', 0):,} rows", eq))
    if sm.get("baselines_equal_after_close") is not None:
        rows.append(
            (
                "baselines equal to the mart after the close",
                "",
                "",
                "equal" if sm["baselines_equal_after_close"] else "NOT EQUAL",
            )
        )
    r = sm.get("ratios") or {}
    if r:
        rows.append(
            (
                "ratio: full pipeline / DuckDB baseline",
                f"{r['pipeline_vs_duckdb']:.0f}×",
                "≤ 10×",
                sm["goals"]["within_10x_duckdb"] or "",
            )
        )
        if r.get("close_vs_duckdb") is not None:
            rows.append(("ratio: monthly close / DuckDB baseline", f"{r['close_vs_duckdb']:.0f}×", "", ""))
        rows.append(("ratio: dbt build alone / DuckDB baseline", f"{r['dbt_build_vs_duckdb']:.0f}×", "", ""))
        rows.append(("ratio: pandas / DuckDB baseline", f"{_fmt(r['pandas_vs_duckdb'])}×", "", ""))
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'':<{width}}{'seconds':>14}  {'goal':<12}")
    for label, value, goal, met in rows:
        print(f"{label:<{width}}{value:>14}  {goal:<12}{met}")
    loads = [st["process"]["load_after"][0] for st in s.values() if "process" in st]
    other = sum(st["process"].get("other_cpu_s") or 0 for st in s.values() if "process" in st)
    walls = sum(st["process"]["wall_s"] for st in s.values() if "process" in st)
    if loads:
        print(
            f"machine: 1-minute load {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs (includes the "
            f"benchmark itself); other processes used {other:.0f} CPU-s over the {walls:.0f} s of stages "
            f"({other / walls / (os.cpu_count() or 1):.0%} of the machine)"
        )


def growth(results: list[dict]) -> dict:
    """Each figure per size, and a least-squares line (seconds = a + b × raw rows) over the sizes,
    extrapolated to national scale."""
    ok = [r for r in results if r.get("summary") and r["summary"].get("raw_rows")]
    if len(ok) < 2:
        return {}
    series: dict[str, list] = {}
    for r in ok:
        sm = r["summary"]
        figures = {
            **{f"pipeline.{k}": v for k, v in (sm.get("pipeline_phases") or {}).items() if k != "other"},
            "pipeline.total": sm["pipeline_s"],
            "close.total": sm["close_s"],
            "dq_alone.raw": sm["dq_raw_s"],
            "dq_alone.marts": sm["dq_marts_s"],
            "baseline.duckdb_sql": sm["duckdb_sql_s"],
            "baseline.pandas": sm["pandas_s"],
            "peak_rss_mib": sm["peak_rss_mib"],
        }
        for k, v in figures.items():
            series.setdefault(k, []).append(v)
    x = [r["summary"]["raw_rows"] for r in ok]
    incidents = [r["summary"]["incidents"] or 0 for r in ok]
    rows_per_incident = x[-1] / incidents[-1] if incidents[-1] else None
    national_rows = NATIONAL_INCIDENTS * rows_per_incident if rows_per_incident else None
    fits = {}
    for k, ys in series.items():
        pts = [(a, b) for a, b in zip(x, ys, strict=True) if b is not None]
        if len(pts) < 2:
            continue
        mx = sum(p[0] for p in pts) / len(pts)
        my = sum(p[1] for p in pts) / len(pts)
        sxx = sum((p[0] - mx) ** 2 for p in pts)
        slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else 0.0
        intercept = my - slope * mx
        fits[k] = {
            "fixed": round(intercept, 3),
            "per_100k_rows": round(slope * 1e5, 4),
            "national_estimate": round(intercept + slope * national_rows, 1) if national_rows else None,
        }
    return {
        "sizes": [r["size"] for r in ok],
        "raw_rows": x,
        "incidents": incidents,
        "series": series,
        "linear_fit": fits,
        "national_assumption": {
            "incidents": NATIONAL_INCIDENTS,
            "raw_rows_per_incident": round(rows_per_incident, 2) if rows_per_incident else None,
            "raw_rows": round(national_rows) if national_rows else None,
        },
    }


def print_growth(g: dict) -> None:
    if not g:
        return
    print()
    print("== growth across sizes (seconds; fit: seconds = fixed + per-100k-rows × raw rows / 100k)")
    head = "".join(f"{s:>11}" for s in g["sizes"])
    print(f"{'figure':<28}{head}{'fixed':>9}{'/100k rows':>12}{'national≈':>12}")
    print(f"{'raw rows':<28}" + "".join(f"{v:>11,}" for v in g["raw_rows"]))
    print(f"{'incidents':<28}" + "".join(f"{v:>11,}" for v in g["incidents"]))
    for k, ys in g["series"].items():
        fit = g["linear_fit"].get(k, {})
        cells = "".join(f"{_fmt(v, '.2f' if 'rss' not in k else '.0f'):>11}" for v in ys)
        print(
            f"{k:<28}{cells}{_fmt(fit.get('fixed'), '.1f'):>9}{_fmt(fit.get('per_100k_rows'), '.2f'):>12}"
            f"{_fmt(fit.get('national_estimate'), ',.0f'):>12}"
        )
    n = g["national_assumption"]
    if n.get("raw_rows"):
        print(
            f"national ≈ {n['incidents']:,} incidents × {n['raw_rows_per_incident']} raw rows per incident "
            f"= {n['raw_rows']:,} raw rows (a straight-line extrapolation, not a measurement)"
        )
