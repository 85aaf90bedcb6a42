"""Display formatting shared by the pages and the board pack: numbers with each KPI's decimals,
RAG and direction labels, and KPI help text from dim_kpi. Presentation only, no KPI arithmetic.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import pandas as pd

RAG_LABELS = {"red": "Red", "amber": "Amber", "green": "Green", "context": "Context"}
RAG_COLOURS = {"red": "#c62828", "amber": "#ef8f00", "green": "#2e7d32"}
# Streamlit Markdown: a coloured dot. Not emoji: they need a colour-emoji font the reader's
# machine may lack (Debian's chromium shows empty boxes).
RAG_MARKERS = {"red": ":red[●]", "amber": ":orange[●]", "green": ":green[●]", None: ":gray[○]"}
RAG_CELL_STYLES = {
    "Red": "background-color: #fdecea; color: #b71c1c; font-weight: 600",
    "Amber": "background-color: #fff4e0; color: #a15c00; font-weight: 600",
    "Green": "background-color: #e8f5e9; color: #1b5e20; font-weight: 600",
}
OFF_TARGET = ("red", "amber")

DIRECTION_LABELS = {
    "improving": "↗ Improving",
    "worsening": "↘ Worsening",
    "no_change": "→ No change",
    "up": "↑ Up",
    "down": "↓ Down",
}

SPC_LABELS = {
    "none": "Common cause",
    "above_upper_limit": "Above upper limit",
    "below_lower_limit": "Below lower limit",
    "run_above_centre": "Run above centre line",
    "run_below_centre": "Run below centre line",
}

POLARITY_LABELS = {"up": "higher is better", "down": "lower is better", "none": "context measure, no target"}

STATUS_LABELS = {
    "on_track": "On track",
    "off_track": "Off track",
    "at_risk": "At risk",
    "not_started": "Not started",
    "complete": "Complete",
    "deferred": "Deferred",
    "in_progress": "In progress",
    "closed": "Closed",
    "open": "Open",
    "overdue": "Overdue",
}

UNIT_SUFFIX = {"percent": "%", "minutes": " min", "days": " days"}


def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _decimals(decimals) -> int:
    return 0 if is_missing(decimals) else int(decimals)


def fmt_number(value, decimals=0) -> str:
    if is_missing(value):
        return "—"
    return f"{float(value):,.{_decimals(decimals)}f}"


def fmt_value(value, decimals=0, unit: str | None = None, note=None) -> str:
    """A KPI value with its catalogue decimals and unit: 83.3%, 9.71 min, 1,221.

    A missing value shows the mart's ``value_note`` when it has one ('not recorded', 'no ward
    denominators'), so a reader never takes an unrecorded input for zero.
    """
    if is_missing(value):
        return "—" if is_missing(note) else str(note)
    return fmt_number(value, decimals) + UNIT_SUFFIX.get(unit or "", "")


def fmt_delta(value, decimals=0, unit: str | None = None) -> str | None:
    """A signed difference (variance, gap) with the KPI's decimals; None when missing."""
    if is_missing(value):
        return None
    # An ASCII minus: st.metric reads the sign from the text to pick the arrow.
    text = fmt_value(abs(float(value)), decimals, unit)
    if round(float(value), _decimals(decimals)) > 0:
        return "+" + text
    if round(float(value), _decimals(decimals)) < 0:
        return "-" + text
    return text


def delta_color(polarity: str | None) -> str:
    """st.metric delta colour: a rise is good for 'up' KPIs, bad for 'down', neutral for 'none'."""
    return {"up": "normal", "down": "inverse"}.get(polarity or "", "off")


def delta_hex(value, polarity: str | None) -> str:
    """The colour a difference earns under the KPI's polarity (board pack)."""
    if is_missing(value) or float(value) == 0 or polarity not in ("up", "down"):
        return "#555555"
    good = (float(value) > 0) == (polarity == "up")
    return RAG_COLOURS["green"] if good else RAG_COLOURS["red"]


def rag_label(rag) -> str:
    return "—" if is_missing(rag) else RAG_LABELS.get(str(rag), str(rag))


def rag_marker(rag) -> str:
    """A coloured dot for Streamlit Markdown (labels, captions)."""
    return RAG_MARKERS[None] if is_missing(rag) else RAG_MARKERS.get(str(rag), RAG_MARKERS[None])


def rag_md(rag) -> str:
    return f"{rag_marker(rag)} {rag_label(rag)}"


def direction_label(direction) -> str:
    return "—" if is_missing(direction) else DIRECTION_LABELS.get(str(direction), str(direction))


def spc_label(signal) -> str:
    return "—" if is_missing(signal) else SPC_LABELS.get(str(signal), str(signal).replace("_", " ").capitalize())


def status_label(status) -> str:
    return "—" if is_missing(status) else STATUS_LABELS.get(str(status), str(status).replace("_", " ").capitalize())


def month_label(month) -> str:
    if is_missing(month):
        return "—"
    if isinstance(month, str):
        month = dt.date.fromisoformat(month[:10])
    return f"{month:%B %Y}"


def formula_text(kpi: Mapping) -> str:
    numerator = kpi.get("numerator_definition")
    denominator = kpi.get("denominator_definition")
    multiplier = kpi.get("multiplier")
    if is_missing(denominator):
        return f"{numerator} (count)"
    text = f"{numerator} / {denominator}"
    if not is_missing(multiplier) and float(multiplier) != 1:
        text += f" × {float(multiplier):,.0f}"
    return text


def kpi_help(kpi: Mapping) -> str:
    """Help text for a KPI from dim_kpi: definition, unit, polarity, formula and owner."""
    polarity = kpi.get("polarity")
    parts = [
        str(kpi.get("definition") or ""),
        f"**Unit:** {kpi.get('unit')} · **Polarity:** {POLARITY_LABELS.get(polarity, polarity)}",
        f"**Formula:** {formula_text(kpi)}",
    ]
    if not is_missing(kpi.get("owner_role")):
        parts.append(f"**Owner:** {kpi.get('owner_role')}")
    if kpi.get("is_small_count_spc") is True:
        parts.append("Small counts: judged by SPC, no RAG below service level.")
    return "  \n".join(p for p in parts if p)


def add_display_columns(df: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Copies ``df`` adding text columns formatted with each row's decimals and unit.

    ``columns`` maps a new column name to the numeric column it formats; a name starting with
    'Δ' is formatted as a signed difference.
    """
    out = df.copy()
    decimals = out["decimals"] if "decimals" in out.columns else [0] * len(out)
    units = out["unit"] if "unit" in out.columns else [""] * len(out)
    notes = out["value_note"] if "value_note" in out.columns else [None] * len(out)
    for new, source in columns.items():
        if source not in out.columns:
            continue
        if new.startswith("Δ") or source in ("variance", "gap_to_service"):
            out[new] = [fmt_delta(v, d, u) or "—" for v, d, u in zip(out[source], decimals, units, strict=True)]
        elif source == "value":
            # The note explains the month's value only, not YTD or targets.
            out[new] = [fmt_value(v, d, u, n) for v, d, u, n in zip(out[source], decimals, units, notes, strict=True)]
        else:
            out[new] = [fmt_value(v, d, u) for v, d, u in zip(out[source], decimals, units, strict=True)]
    if "rag_status" in out.columns:
        out["RAG"] = out["rag_status"].map(rag_label)
    if "direction_of_travel" in out.columns:
        out["Direction"] = out["direction_of_travel"].map(direction_label)
    if "spc_signal" in out.columns:
        out["SPC"] = out["spc_signal"].map(spc_label)
    return out


def clean_history(values) -> list[float | None]:
    """A sparkline list with missing points as None (for charts that skip gaps)."""
    if values is None:
        return []
    if hasattr(values, "tolist"):  # DuckDB lists arrive as (masked) numpy arrays
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        return []
    return [None if is_missing(v) or (isinstance(v, float) and math.isnan(v)) else float(v) for v in list(values)]


def sparkline_values(values) -> list[float]:
    """The numbers of a history for a chart cell or tile, months without a value left out
    (Streamlit's chart columns and st.metric accept numbers only)."""
    return [v for v in clean_history(values) if v is not None]
