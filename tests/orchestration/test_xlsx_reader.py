"""The workbook reader: cells as Excel stores them, written out as the text every other reader
gives (dates ISO, whole numbers without ``.0``, empty cells missing), with sheet row numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from orchestration.ingestion.readers import SchemaError, read_xlsx_sheet, shared_workbooks


@pytest.fixture
def workbook(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Staff"
    ws.append(["staff_number", " fte ", "start_date", "updated_at", "is_operational", "note"])
    ws.append(["S1", 1, dt.date(2020, 1, 31), dt.datetime(2024, 3, 1, 9, 30), True, None])  # row 2
    ws.append([None, None, None, None, None, None])  # row 3: blank, not a record
    ws.append(["S2", 0.5, dt.datetime(2021, 6, 1), dt.datetime(2024, 3, 1, 0, 0, 5), False, "x"])  # row 4
    ws.append(["S3", 37.5, "2022-02-02", None, "Y", None, "stray"])  # row 5: a value beyond the header
    ws.append([12345678901, -2, None, None, None, "  spaced  "])  # row 6
    wb.create_sheet("Empty")
    path = tmp_path / "hr_extract_2024-03-31.xlsx"
    wb.save(path)
    return path


def test_cells_are_read_as_text_with_their_sheet_rows(workbook):
    result = read_xlsx_sheet(workbook, "Staff")
    assert result.columns == ["staff_number", "fte", "start_date", "updated_at", "is_operational", "note"]
    assert result.records.to_dict("records") == [
        {
            "staff_number": "S1",
            "fte": "1",
            "start_date": "2020-01-31",
            "updated_at": "2024-03-01 09:30:00",
            "is_operational": "true",
            "note": None,
            "_source_row": 2,
        },
        {
            "staff_number": "S2",
            "fte": "0.5",
            "start_date": "2021-06-01",
            "updated_at": "2024-03-01 00:00:05",
            "is_operational": "false",
            "note": "x",
            "_source_row": 4,
        },
        {
            "staff_number": "12345678901",
            "fte": "-2",
            "start_date": None,
            "updated_at": None,
            "is_operational": None,
            "note": "  spaced  ",
            "_source_row": 6,
        },
    ]
    (stray,) = result.malformed
    assert (stray.row, stray.reason) == (5, "values beyond the 6 header columns")
    assert stray.raw_text == "S3\t37.5\t2022-02-02\t\tY\t\tstray"
    assert result.rows_received == 4  # three records and the malformed row: the blank row is not data


def test_an_empty_sheet_has_no_columns_and_a_missing_one_is_named(workbook):
    assert read_xlsx_sheet(workbook, "Empty").columns == []
    with pytest.raises(SchemaError, match=r"worksheet 'Absence' not found \(sheets: Staff, Empty\)"):
        read_xlsx_sheet(workbook, "Absence")


def test_sheets_of_a_shared_workbook_read_as_alone(workbook):
    alone = read_xlsx_sheet(workbook, "Staff")
    with shared_workbooks():
        first = read_xlsx_sheet(workbook, "Staff")
        again = read_xlsx_sheet(workbook, "Staff", data=workbook.read_bytes())
    for shared in (first, again):
        assert shared.records.equals(alone.records) and shared.malformed == alone.malformed
