"""Table exports: CSV and XLSX bytes from a DataFrame, ready for st.download_button."""

from __future__ import annotations

import io

import pandas as pd


def _exportable(df: pd.DataFrame) -> pd.DataFrame:
    """Lists (sparklines) become text and time zones are dropped: Excel cannot store either."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[col] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype == object and series.map(lambda v: isinstance(v, (list, tuple, dict))).any():
            out[col] = series.map(
                lambda v: ", ".join("" if x is None else str(x) for x in v) if isinstance(v, (list, tuple)) else v
            )
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    # utf-8-sig so Excel opens names with accents and the £ sign correctly.
    return _exportable(df).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "data") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _exportable(df).to_excel(writer, index=False, sheet_name=sheet_name[:31] or "data")
    return buffer.getvalue()
