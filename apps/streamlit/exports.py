"""Table exports: CSV and XLSX bytes from a DataFrame, ready for st.download_button.

Every text cell that a spreadsheet would read as a formula (it begins with =, +, -, @, a tab or a
carriage return) is prefixed with a single quote, so a landed value such as ``=HYPERLINK(...)``
opens as text; numbers, dates and booleans are written as they are (a negative number stays a number).
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text that would start a formula, made inert by a leading quote; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def _exportable(df: pd.DataFrame) -> pd.DataFrame:
    """Lists (sparklines) become text and time zones are dropped, since Excel can store neither; text
    that would start a formula is neutralised, in the column names too."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[col] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype == object and series.map(lambda v: isinstance(v, (list, tuple, dict))).any():
            out[col] = series.map(
                lambda v: ", ".join("" if x is None else str(x) for x in v) if isinstance(v, (list, tuple)) else v
            )
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_datetime64_any_dtype(out[col])):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    # utf-8-sig so Excel opens names with accents and the £ sign correctly. CRLF line ends (RFC 4180)
    # make the writer quote a field holding a lone carriage return, which would otherwise start a new
    # row whose first cell could be a formula.
    return _exportable(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "data") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _exportable(df).to_excel(writer, index=False, sheet_name=sheet_name[:31] or "data")
    return buffer.getvalue()
