"""The year-end projection as the quarterly review and its board pack show it: one row per KPI with an
annual target, formatted for reading. The arithmetic is in the marts (int_kpi_projection, carried by
rpt_kpi_quarterly as at the quarter's last month); this module only words and formats it.
"""

from __future__ import annotations

import formatting as fmt
import pandas as pd

OUTLOOK_LABELS = {"likely met": "Likely met", "at risk": "At risk", "likely missed": "Likely missed"}
# The outlook in the RAG colours a reader already knows: met green, at risk amber, missed red.
OUTLOOK_RAG = {"likely met": "green", "at risk": "amber", "likely missed": "red"}
OUTLOOK_CELL_STYLES = {OUTLOOK_LABELS[o]: fmt.RAG_CELL_STYLES[rag.title()] for o, rag in OUTLOOK_RAG.items()}

CAPTION = (
    "Projected year-end value: the year to date plus the rest of the year at this year's run rate, "
    "spread over the months by the target profile. The interval is 80 %, from the unit's month-to-month "
    "variation over the three years before. Outlook: likely met when the whole interval meets the annual "
    "target, likely missed when none of it does, at risk otherwise."
)

COLUMNS = ["KPI", "Annual target", "Projected year end", "80 % interval", "Outlook", "Target profile"]


def outlook_label(outlook) -> str:
    """The outlook as words; a dash where there is none (no direction, too little history)."""
    return "—" if fmt.is_missing(outlook) else OUTLOOK_LABELS.get(outlook, str(outlook))


def projection_rows(kpis: pd.DataFrame) -> pd.DataFrame:
    """One row per KPI in ``kpis`` (rpt_kpi_quarterly rows joined to dim_kpi) with an annual target and
    a projected value, formatted with the KPI's decimals and unit; the raw ``projection_outlook`` kept
    for colouring. Empty (with the columns) when none has one."""
    needed = {"annual_target", "projected_value", "projected_lower_80", "projected_upper_80", "projection_outlook"}
    if kpis.empty or not needed <= set(kpis.columns):
        return pd.DataFrame(columns=[*COLUMNS, "projection_outlook"])
    rows = kpis[kpis.annual_target.notna() & kpis.projected_value.notna()]

    def interval(r) -> str:
        if fmt.is_missing(r.projected_lower_80) or fmt.is_missing(r.projected_upper_80):
            return "—"
        low = fmt.fmt_value(r.projected_lower_80, r.decimals, r.unit)
        high = fmt.fmt_value(r.projected_upper_80, r.decimals, r.unit)
        return f"{low} to {high}"

    shown = pd.DataFrame(
        {
            "KPI": rows.kpi_name,
            "Annual target": [
                fmt.fmt_value(v, d, u) for v, d, u in zip(rows.annual_target, rows.decimals, rows.unit, strict=True)
            ],
            "Projected year end": [
                fmt.fmt_value(v, d, u) for v, d, u in zip(rows.projected_value, rows.decimals, rows.unit, strict=True)
            ],
            "80 % interval": [interval(r) for r in rows.itertuples()],
            "Outlook": rows.projection_outlook.map(outlook_label),
            "Target profile": rows.get("target_profile_source", pd.Series(index=rows.index, dtype=object)).map(
                lambda s: "not profiled (a level)" if fmt.is_missing(s) else s
            ),
            "projection_outlook": rows.projection_outlook,
        }
    )
    return shown.reset_index(drop=True)


def styled(rows: pd.DataFrame):
    """The shown columns, the Outlook cells coloured like RAG."""
    return rows[COLUMNS].style.map(lambda v: OUTLOOK_CELL_STYLES.get(v, ""), subset=["Outlook"])
