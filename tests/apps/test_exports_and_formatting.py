"""Table exports (CSV and XLSX) and the display formatting every page uses."""

from __future__ import annotations

import io
import re

import exports
import formatting as fmt
import openpyxl
import pandas as pd


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kpi_code": ["PRI_FIRES_10K", "ADF_CONFINED_PCT"],
            "value": [0.9135, 83.33],
            "history": [[0.9, None, 1.1], [80.0, 82.5]],
            "created_at": pd.to_datetime(["2026-10-05T09:00:00Z", "2026-10-06T10:30:00Z"], utc=True),
            "name": ["Colchester", "Saffron Walden – Day"],
        }
    )


def test_csv_export_round_trips():
    back = pd.read_csv(io.BytesIO(exports.to_csv_bytes(sample())), encoding="utf-8-sig")
    assert back.kpi_code.tolist() == ["PRI_FIRES_10K", "ADF_CONFINED_PCT"]
    assert back.value.tolist() == [0.9135, 83.33]
    assert back.history.iloc[0] == "0.9, , 1.1"
    assert back.name.iloc[1] == "Saffron Walden – Day"


def test_xlsx_export_opens_in_excel_format():
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx_bytes(sample(), "monthly snapshot")))
    sheet = book["monthly snapshot"]
    rows = list(sheet.values)
    assert rows[0] == ("kpi_code", "value", "history", "created_at", "name")
    assert rows[1][1] == 0.9135 and rows[2][0] == "ADF_CONFINED_PCT"


def hostile() -> pd.DataFrame:
    """Landed text that a spreadsheet would run as a formula, beside numbers that must stay numbers."""
    return pd.DataFrame(
        {
            "station_name": ['=HYPERLINK("http://x.example","click")', "+44 1245", "-1+2", "@SUM(A1)", "Harlow"],
            "commentary": ["\tleading tab", "\r=1+1", "fine", None, "a = b"],
            "value": [-3.5, 2.0, -1.0, 0.0, 7.25],
            "count": pd.array([-2, 1, 0, 5, None], dtype="Int64"),
            "=header": ["x", "y", "z", "w", "v"],
        }
    )


def test_xlsx_export_writes_formula_leading_text_as_text_and_numbers_as_numbers():
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx_bytes(hostile(), "exceptions"))).active
    header, *rows = list(sheet.iter_rows())
    assert [c.value for c in header] == ["station_name", "commentary", "value", "count", "'=header"]
    first = rows[0][0]
    assert first.data_type == "s" and first.value == "'=HYPERLINK(\"http://x.example\",\"click\")"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    assert [r[0].value for r in rows] == [
        "'=HYPERLINK(\"http://x.example\",\"click\")",
        "'+44 1245",
        "'-1+2",
        "'@SUM(A1)",
        "Harlow",
    ]
    # (XML reads a stored carriage return back as a line feed.)
    assert [r[1].value for r in rows] == ["'\tleading tab", "'\n=1+1", "fine", None, "a = b"]
    # A negative number is a number, not text to neutralise.
    assert [r[2].value for r in rows] == [-3.5, 2, -1, 0, 7.25] and rows[0][2].data_type == "n"
    assert [r[3].value for r in rows] == [-2, 1, 0, 5, None]


def test_csv_export_neutralises_formula_leading_text_and_keeps_numbers():
    back = pd.read_csv(io.BytesIO(exports.to_csv_bytes(hostile())), encoding="utf-8-sig")
    assert back.station_name.tolist() == [
        "'=HYPERLINK(\"http://x.example\",\"click\")",
        "'+44 1245",
        "'-1+2",
        "'@SUM(A1)",
        "Harlow",
    ]
    assert back["value"].tolist() == [-3.5, 2.0, -1.0, 0.0, 7.25]
    assert back["count"].tolist()[:4] == [-2, 1, 0, 5]
    assert back.commentary.tolist()[:3] == ["'\tleading tab", "'\r=1+1", "fine"]
    assert "'=header" in back.columns
    # No field starts a formula (the carriage return above is inside a quoted field, read back whole);
    # "-" leads only the negative numbers.
    text = exports.to_csv_bytes(hostile()).decode("utf-8-sig")
    assert not any(f"{sep}{lead}" in text for sep in (",", "\n") for lead in "=+@")
    assert re.findall(r"(?:^|,)(-[^,\r\n]*)", text, flags=re.M) == ["-3.5", "-2", "-1.0"]


def test_values_use_the_catalogue_decimals_and_unit():
    assert fmt.fmt_value(83.333, 1, "percent") == "83.3%"
    assert fmt.fmt_value(9.70625, 2, "minutes") == "9.71 min"
    assert fmt.fmt_value(1221.0, 0, "count") == "1,221"
    assert fmt.fmt_value(None, 2, "rate") == "—"
    assert fmt.fmt_delta(-0.0381, 2, "rate") == "-0.04"
    assert fmt.fmt_delta(2.97, 2, "rate") == "+2.97"
    assert fmt.fmt_delta(0.001, 1, "percent") == "0.0%"


def test_a_missing_value_shows_its_reason_instead_of_a_dash_or_zero():
    assert fmt.fmt_value(None, 1, "percent", "not recorded") == "not recorded"
    assert fmt.fmt_value(float("nan"), 2, "rate", None) == "—"
    assert fmt.fmt_value(0.0, 1, "percent", None) == "0.0%"
    table = fmt.add_display_columns(
        pd.DataFrame(
            {
                "value": [None, None, 50.0],
                "value_ytd": [None, None, 50.0],
                "value_note": ["not recorded", "no ward denominators", None],
                "decimals": [1, 2, 1],
                "unit": ["percent", "rate", "percent"],
            }
        ),
        {"Value": "value", "YTD": "value_ytd"},
    )
    assert table["Value"].tolist() == ["not recorded", "no ward denominators", "50.0%"]
    # The note explains the month's value only.
    assert table["YTD"].tolist() == ["—", "—", "50.0%"]


def test_delta_colours_follow_polarity():
    assert fmt.delta_color("up") == "normal"
    assert fmt.delta_color("down") == "inverse"
    assert fmt.delta_color("none") == "off"
    assert fmt.delta_hex(1.0, "down") == fmt.RAG_COLOURS["red"]
    assert fmt.delta_hex(1.0, "up") == fmt.RAG_COLOURS["green"]


def test_kpi_help_carries_definition_unit_polarity_and_formula():
    text = fmt.kpi_help(
        {
            "definition": "Primary fires per 10,000 population.",
            "unit": "rate",
            "polarity": "down",
            "numerator_definition": "Primary fires",
            "denominator_definition": "Resident population",
            "multiplier": 10000.0,
            "owner_role": "Area Manager Prevention",
        }
    )
    assert "Primary fires / Resident population × 10,000" in text
    assert "lower is better" in text and "rate" in text and "Area Manager Prevention" in text
