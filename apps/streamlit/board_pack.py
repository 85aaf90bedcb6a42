"""Board packs: the monthly snapshot and the quarterly review as one self-contained HTML file each.

Built from the same data_access queries and commentary store as the pages; inline CSS and inline
SVG sparklines only (no scripts, fonts, images or links to fetch), and a print stylesheet so the
file prints cleanly to A4 from any browser.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import approval_panel
import commentary_store as store
import formatting as fmt
import pandas as pd
import projection_view
from data_access import annual_plan, approvals, connection, monthly, quarterly, reference

CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --rule: #d5dbe3; --band: #f4f6f9; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; color: var(--ink); margin: 24px auto;
       max-width: 1200px; font-size: 13px; line-height: 1.4; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid var(--ink); padding-bottom: 3px; margin: 28px 0 10px; }
h3 { font-size: 14px; margin: 18px 0 6px; }
.meta { color: var(--muted); margin: 0; }
.summary { display: flex; gap: 12px; margin: 14px 0; flex-wrap: wrap; }
.summary div { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.summary b { display: block; font-size: 22px; }
table { width: 100%; border-collapse: collapse; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
.rag { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 11px; }
.rag-red { background: #c62828; } .rag-amber { background: #ef8f00; } .rag-green { background: #2e7d32; }
.rag-none { background: #90a4ae; }
.comment { color: var(--ink); background: #fff8e1; border-left: 3px solid #ef8f00; padding: 3px 6px; }
.missing { color: #c62828; font-style: italic; }
.small { font-size: 11px; color: var(--muted); }
footer { margin-top: 30px; color: var(--muted); font-size: 11px; border-top: 1px solid var(--rule); padding-top: 6px; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5px; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr, .summary { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  .page-break { break-before: page; page-break-before: always; }
  .rag, th, .comment { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(value) -> str:
    return "" if fmt.is_missing(value) else escape(str(value))


def _rag(rag) -> str:
    if fmt.is_missing(rag):
        return '<span class="rag rag-none">n/a</span>'
    return f'<span class="rag rag-{escape(str(rag))}">{escape(str(rag).title())}</span>'


def _delta(value, decimals, unit, polarity) -> str:
    text = fmt.fmt_delta(value, decimals, unit)
    if text is None:
        return "—"
    return f'<span style="color:{fmt.delta_hex(value, polarity)}">{escape(text)}</span>'


def sparkline_svg(values, width: int = 110, height: int = 26) -> str:
    """A small inline SVG line of the values (gaps skipped); empty string with fewer than two points."""
    points = [(i, v) for i, v in enumerate(fmt.clean_history(values)) if v is not None]
    if len(points) < 2:
        return ""
    n = max(len(fmt.clean_history(values)) - 1, 1)
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1.0
    coords = " ".join(
        f"{2 + i * (width - 4) / n:.1f},{height - 3 - (v - low) * (height - 6) / span:.1f}" for i, v in points
    )
    last_x, last_y = coords.split(" ")[-1].split(",")
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="trend">'
        f'<polyline fill="none" stroke="#37474f" stroke-width="1.5" points="{coords}"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="2.2" fill="#37474f"/></svg>'
    )


def _table(headers: list[tuple[str, str]], rows: list[list[str]]) -> str:
    """headers: (label, css class); rows: already-escaped cell HTML."""
    head = "".join(f'<th class="{cls}">{escape(label)}</th>' for label, cls in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{cls}">{cell}</td>' for (_, cls), cell in zip(headers, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _document(title: str, subtitle: str, body: str) -> str:
    info = connection.publish_info()
    published = info.get("published_at")
    generated = dt.datetime.now(dt.UTC)
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="meta">{subtitle}</p>'
        f'<p class="meta">Data as of {_e(info.get("as_of"))} · published '
        f"{published:%Y-%m-%d %H:%M} UTC · generated {generated:%Y-%m-%d %H:%M} UTC</p></header>"
        f"{body}"
        "<footer>Golden Thread — figures from the published KPI marts (serving.duckdb); owner commentary from the "
        "commentary store. RAG uses each KPI's polarity and tolerance; SPC signals distinguish real change from noise."
        "</footer></body></html>"
    )


def _summary(kpis: pd.DataFrame) -> str:
    counts = kpis.rag_status.value_counts()
    cells = [
        ("Red", counts.get("red", 0)),
        ("Amber", counts.get("amber", 0)),
        ("Green", counts.get("green", 0)),
        ("No RAG", int(kpis.rag_status.isna().sum())),
    ]
    return '<div class="summary">' + "".join(f"<div>{label}<b>{int(n)}</b></div>" for label, n in cells) + "</div>"


def _commentary_cell(row: dict) -> str:
    if fmt.is_missing(row.get("commentary")):
        return '<span class="missing">No commentary yet</span>' if row.get("rag_status") in fmt.OFF_TARGET else ""
    text = f'<div class="comment">{_e(row["commentary"])}'
    if not fmt.is_missing(row.get("action")):
        due = "" if fmt.is_missing(row.get("action_due_date")) else f", due {_e(row['action_due_date'])}"
        text += f"<br><b>Action:</b> {_e(row['action'])} ({_e(row.get('action_owner')) or 'owner not named'}{due})"
    return text + f'<br><span class="small">{_e(row.get("author"))}</span></div>'


def _definitions(kpis: pd.DataFrame) -> str:
    rows = [
        [
            f'<b>{_e(r["kpi_name"])}</b><br><span class="small">{_e(r["kpi_code"])}</span>',
            _e(r["definition"]),
            _e(fmt.formula_text(r)),
            _e(r["unit"]),
            _e(fmt.POLARITY_LABELS.get(r["polarity"], r["polarity"])),
            _e(r["owner_role"]),
        ]
        for r in kpis.drop_duplicates("kpi_code").to_dict("records")
    ]
    return _table(
        [("KPI", ""), ("Definition", ""), ("Formula", ""), ("Unit", ""), ("Polarity", ""), ("Owner", "")], rows
    )


# ---- monthly ----------------------------------------------------------------------------------


def _projection(kpis: pd.DataFrame) -> str:
    """The year-end projection section (issue 21): projected value, 80 % interval, target and outlook."""
    rows = projection_view.projection_rows(kpis)
    body = "<h2>Year-end projection</h2>" + f'<p class="small">{_e(projection_view.CAPTION)}</p>'
    if rows.empty:
        return body + "<p>No KPI with an annual target has a projection for this quarter.</p>"
    outlook_class = {"likely met": "rag-green", "at risk": "rag-amber", "likely missed": "rag-red"}
    return body + _table(
        [(c, "num" if c in ("Annual target", "Projected year end") else "") for c in projection_view.COLUMNS],
        [
            [
                _e(r["KPI"]),
                _e(r["Annual target"]),
                _e(r["Projected year end"]),
                _e(r["80 % interval"]),
                f'<span class="rag {outlook_class.get(r["projection_outlook"], "rag-none")}">{_e(r["Outlook"])}</span>',
                _e(r["Target profile"]),
            ]
            for r in rows.to_dict("records")
        ],
    )


def approval_note(service_id: str, month: dt.date) -> str:
    """Which approved version these figures are, or that they are a draft or restated since approval."""
    status, approval = approvals.month_status(service_id, month)
    return f'<p class="approval"><b>{escape(approval_panel.approval_line(service_id, month, status, approval))}</b></p>'


def monthly_pack(service_id: str, month, org_unit_id: str | None = None) -> str:
    """The monthly snapshot for one unit (default: the whole service) as self-contained HTML."""
    month = dt.date.fromisoformat(month[:10]) if isinstance(month, str) else month
    unit = org_unit_id or service_id
    kpis = monthly.monthly_kpis(unit, month)
    comments = store.latest(service_id, None, unit, month, month)
    kpis = kpis.merge(
        comments[["kpi_code", "author", "commentary", "action", "action_owner", "action_due_date"]],
        on="kpi_code",
        how="left",
    )
    path = reference.unit_path(unit, month)
    where = " › ".join(escape(n) for n in path.org_unit_name) or escape(unit)
    records = kpis.to_dict("records")

    def value(r, col):
        return escape(fmt.fmt_value(r[col], r["decimals"], r["unit"]))

    exceptions = sorted(
        (r for r in records if r["rag_status"] in fmt.OFF_TARGET),
        key=lambda r: (r["rag_status"] != "red", r["priority_id"], r["display_order"]),
    )
    body = approval_note(service_id, month) + _summary(kpis)
    body += "<h2>Exceptions: KPIs off target</h2>"
    if exceptions:
        body += _table(
            [
                ("KPI", ""),
                ("Value", "num"),
                ("Target", "num"),
                ("RAG", ""),
                ("Variance", "num"),
                ("Same month last year", "num"),
                ("Direction", "nowrap"),
                ("SPC", ""),
                ("Owner", ""),
                ("Commentary and action", ""),
            ],
            [
                [
                    f"<b>{_e(r['kpi_name'])}</b>",
                    value(r, "value"),
                    value(r, "target"),
                    _rag(r["rag_status"]),
                    _delta(r["variance"], r["decimals"], r["unit"], r["polarity"]),
                    value(r, "value_same_month_last_year"),
                    _e(fmt.direction_label(r["direction_of_travel"])),
                    _e(fmt.spc_label(r["spc_signal"])),
                    _e(r["owner_role"]),
                    _commentary_cell(r),
                ]
                for r in exceptions
            ],
        )
    else:
        body += "<p>Every KPI with a target is on target this month.</p>"

    body += '<h2 class="page-break">All KPIs by plan priority</h2>'
    for (priority_id, priority_name), group in kpis.groupby(["priority_id", "priority_name"], sort=True):
        body += f"<h3>{int(priority_id)}. {_e(priority_name)}</h3>"
        body += _table(
            [
                ("KPI", ""),
                ("Value", "num"),
                ("Target", "num"),
                ("RAG", ""),
                ("Variance", "num"),
                ("13 months", ""),
                ("Direction", "nowrap"),
                ("YTD", "num"),
                ("Prior YTD", "num"),
                ("SPC", ""),
                ("Owner", ""),
                ("Commentary", ""),
            ],
            [
                [
                    _e(r["kpi_name"]),
                    value(r, "value"),
                    value(r, "target"),
                    _rag(r["rag_status"]),
                    _delta(r["variance"], r["decimals"], r["unit"], r["polarity"]),
                    sparkline_svg(r["history"]),
                    _e(fmt.direction_label(r["direction_of_travel"])),
                    value(r, "value_ytd"),
                    value(r, "value_prior_ytd"),
                    _e(fmt.spc_label(r["spc_signal"])),
                    _e(r["owner_role"]),
                    _commentary_cell(r),
                ]
                for r in group.to_dict("records")
            ],
        )
    body += '<h2 class="page-break">KPI definitions</h2>' + _definitions(kpis)
    return _document(f"Monthly performance snapshot — {fmt.month_label(month)}", where, body)


# ---- quarterly --------------------------------------------------------------------------------


def quarterly_pack(service_id: str, financial_year: str, financial_quarter: str) -> str:
    """The quarterly review for a service as self-contained HTML."""
    kpis = quarterly.quarterly_kpis(service_id, financial_year, financial_quarter)
    months = reference.quarter_months(financial_year, financial_quarter)
    comments = store.latest_per_kpi(service_id, service_id, months[0], months[-1]) if months else store.latest("")
    kpis = kpis.merge(
        comments[["kpi_code", "author", "commentary", "action", "action_owner", "action_due_date"]],
        on="kpi_code",
        how="left",
    )
    names = reference.services().set_index("service_id").service_name
    title = f"Quarterly performance review — {financial_year} {financial_quarter}"
    subtitle = escape(str(names.get(service_id, service_id)))

    def value(r, col):
        return escape(fmt.fmt_value(r[col], r["decimals"], r["unit"]))

    body = _summary(kpis)
    if len(kpis) and not kpis.is_complete_quarter.all():
        body += "<p><b>This quarter is still in progress:</b> figures cover the months published so far.</p>"

    body += "<h2>Performance against target</h2>"
    for (priority_id, priority_name), group in kpis.groupby(["priority_id", "priority_name"], sort=True):
        body += f"<h3>{int(priority_id)}. {_e(priority_name)}</h3>"
        body += _table(
            [
                ("KPI", ""),
                ("Value", "num"),
                ("Target", "num"),
                ("RAG", ""),
                ("Variance", "num"),
                ("4 years ago", "num"),
                ("3 years ago", "num"),
                ("2 years ago", "num"),
                ("Last year", "num"),
                ("Trend", ""),
                ("YTD", "num"),
                ("Prior YTD", "num"),
                ("Direction", "nowrap"),
                ("Owner", ""),
                ("Commentary and action", ""),
            ],
            [
                [
                    _e(r["kpi_name"]),
                    value(r, "value"),
                    value(r, "target"),
                    _rag(r["rag_status"]),
                    _delta(r["variance"], r["decimals"], r["unit"], r["polarity"]),
                    value(r, "value_4y_ago"),
                    value(r, "value_3y_ago"),
                    value(r, "value_2y_ago"),
                    value(r, "value_1y_ago"),
                    sparkline_svg(
                        [r["value_4y_ago"], r["value_3y_ago"], r["value_2y_ago"], r["value_1y_ago"], r["value"]]
                    ),
                    value(r, "value_ytd"),
                    value(r, "value_prior_ytd"),
                    _e(fmt.direction_label(r["direction_of_travel"])),
                    _e(r["owner_role"]),
                    _commentary_cell(r),
                ]
                for r in group.to_dict("records")
            ],
        )

    body += _projection(kpis)

    best = quarterly.best_practice(service_id, financial_year, financial_quarter, top_n=1)
    body += '<h2 class="page-break">Best practice: the leading station per KPI</h2>'
    if best.empty:
        body += "<p>No station-level values.</p>"
    else:
        body += _table(
            [
                ("KPI", ""),
                ("Station", ""),
                ("Station value", "num"),
                ("Service value", "num"),
                ("Gap to service", "num"),
            ],
            [
                [
                    _e(r["kpi_name"]),
                    _e(r["org_unit_name"]),
                    value(r, "value"),
                    value(r, "service_value"),
                    _delta(r["gap_to_service"], r["decimals"], r["unit"], r["polarity"]),
                ]
                for r in best.to_dict("records")
            ],
        )

    bench = quarterly.benchmarks(service_id)
    body += "<h2>Benchmarks: total response time (minutes)</h2>"
    if bench.empty:
        body += "<p>No benchmark data.</p>"
    else:
        for fire_type in ("Primary", "Dwellings"):
            rows = bench[bench.fire_type == fire_type]
            if rows.empty:
                continue
            rows = rows.assign(series=rows.comparator_type.str.replace("_", " ") + ": " + rows.comparator_name)
            wide = rows.pivot_table(
                index="series", columns="financial_year", values="total_response_minutes", aggfunc="first"
            )
            years = sorted(wide.columns)[-6:]
            body += f"<h3>{escape(fire_type)} fires</h3>" + _table(
                [("Comparator", ""), *[(y, "num") for y in years]],
                [
                    [_e(series), *[escape(fmt.fmt_number(wide.at[series, y], 2)) for y in years]]
                    for series in wide.index
                ],
            )

    plan = annual_plan.plan_activities(service_id, financial_year, financial_quarter)
    body += '<h2 class="page-break">Annual Plan highlight report</h2>'
    if plan.empty:
        body += "<p>No activity status this quarter.</p>"
    else:
        counts = plan.status.map(fmt.status_label).value_counts()
        body += '<div class="summary">' + "".join(f"<div>{escape(s)}<b>{int(n)}</b></div>" for s, n in counts.items())
        body += f"<div>Overdue<b>{int(plan.is_overdue.sum())}</b></div>"
        body += f"<div>HMICFRS AFIs<b>{int(plan.is_hmicfrs_area_for_improvement.sum())}</b></div></div>"
        flagged = plan[
            plan.is_overdue | plan.status.isin(["off_track", "at_risk"]) | plan.is_hmicfrs_area_for_improvement
        ]
        body += "<h3>Off track, at risk, overdue or an HMICFRS area for improvement</h3>" + _table(
            [
                ("Activity", ""),
                ("Title", ""),
                ("Labels", ""),
                ("Owner", ""),
                ("Status", ""),
                ("Due", ""),
                ("Commentary", ""),
            ],
            [
                [
                    _e(r["activity_id"]),
                    _e(r["title"]),
                    _e(r["labels"]),
                    _e(r["owner_role"]),
                    _e(fmt.status_label(r["status"])) + (" <b>(overdue)</b>" if r["is_overdue"] else ""),
                    _e(r["due_date"]),
                    _e(r["commentary"]),
                ]
                for r in flagged.to_dict("records")
            ],
        )

    actions = annual_plan.deep_dive_actions(service_id)
    open_actions = actions[~actions.status.isin(["complete", "closed"])]
    body += "<h2>Deep-dive action log: open actions</h2>"
    body += (
        "<p>None open.</p>"
        if open_actions.empty
        else _table(
            [
                ("Action", ""),
                ("Deep dive", ""),
                ("Area for review", ""),
                ("Contact", ""),
                ("Update due", ""),
                ("Notes", ""),
                ("Status", ""),
            ],
            [
                [
                    _e(r["action_number"]),
                    _e(r["deep_dive"]),
                    _e(r["area_for_review"]),
                    _e(r["contact_role"]),
                    _e(r["update_due_date"]) + (" <b>(overdue)</b>" if r["is_overdue"] else ""),
                    _e(r["notes"]),
                    _e(fmt.status_label(r["status"])),
                ]
                for r in open_actions.to_dict("records")
            ],
        )
    )
    body += '<h2 class="page-break">KPI definitions</h2>' + _definitions(kpis)
    return _document(title, subtitle, body)
