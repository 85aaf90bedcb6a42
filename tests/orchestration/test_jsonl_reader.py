"""The JSON-lines reader parses with orjson where orjson reads exactly as ``json.loads`` does, and
gives what the ``json.loads`` reader gave: the same columns, values, row numbers, malformed lines
and messages, encoding and warnings, on simulated extracts (clean and faulty), on random lines
built from JSON's awkward corners, and on hand-made edge cases."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from orchestration.ingestion import readers
from orchestration.ingestion.contracts import entity
from orchestration.ingestion.oracle import load_manifest
from orchestration.ingestion.readers import Malformed, ReadResult, _column_frame, _scalar, decode, read_jsonl_file

MOBILISATIONS = entity("mobilising__mobilisations")
EXPECTED = [c.name for c in MOBILISATIONS.columns]


def read_jsonl_with_json_loads(path: Path, expected: list[str], data: bytes | None = None) -> ReadResult:
    """The reader as it was before orjson: ``json.loads`` per line, the oracle for the new one."""
    text, encoding, warnings = decode(path.read_bytes() if data is None else data, path.name)
    key_orders: dict[tuple, None] = {}
    rows: list[dict] = []
    numbers: list[int] = []
    malformed: list[Malformed] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            malformed.append(Malformed(number, f"not valid JSON: {exc.msg}", line))
            continue
        if not isinstance(obj, dict):
            malformed.append(Malformed(number, "line is not a JSON object", line))
            continue
        key_orders[tuple(obj)] = None
        rows.append(obj)
        numbers.append(number)
    seen: dict[str, None] = {}
    for keys in key_orders:
        seen.update(dict.fromkeys(keys))
    columns = list(seen) or list(expected)
    values = [[_scalar(r.get(c)) for r in rows] for c in columns]
    return ReadResult(columns, _column_frame(columns, values, numbers), malformed, encoding, warnings)


def comparable(result: ReadResult) -> tuple:
    records = result.records
    cells = records.to_dict("list")
    value_types = {type(v) for c, vs in cells.items() if c != readers.ROW_COLUMN for v in vs}
    return (
        result.columns,
        list(records.columns),
        [str(t) for t in records.dtypes],
        cells,
        value_types,
        [vars(m) for m in result.malformed],
        result.encoding,
        result.warnings,
    )


def assert_same(path: Path, data: bytes | None = None, expected: list[str] = EXPECTED) -> ReadResult:
    new = read_jsonl_file(path, expected, data=data)
    old = read_jsonl_with_json_loads(path, expected, data=data)
    assert comparable(new) == comparable(old), path.name
    assert comparable(new)[4] <= {str, type(None)}  # every value a str or None
    return new


@pytest.fixture(scope="module")
def simulated(faulty_landing) -> Path:
    """One service, one year, with faults (duplicates, text in numbers, ...) in about 1% of rows
    (the session's, shared with the fault-detection tests)."""
    return faulty_landing


@pytest.mark.slow  # reads a simulated year: over 0.7 s of CPU
def test_every_simulated_json_lines_file_reads_as_with_json_loads(simulated):
    files = sorted(simulated.rglob("*.jsonl"))
    assert len(files) >= 6
    results = [assert_same(path) for path in files]
    assert sum(len(r.records) for r in results) > 10_000
    faults = load_manifest(simulated)
    assert faults.file.str.endswith(".jsonl").sum() > 0, "the extracts should hold faults"


# Values that orjson and json.loads read differently, or refuse differently; ``_BAD`` ones make
# the line invalid JSON (or valid only to json.loads), so they are drawn less often.
_VALUES = [
    '"text"',
    '""',
    '" "',
    "null",
    "true",
    "false",
    "0",
    "-0",
    "12",
    "-7",
    "12.0",
    "1e2",
    "1E-2",
    "0.1",
    "-0.0",
    "3.141592653589793",
    "1.7976931348623157e308",
    "1e400",
    "-1e400",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    '"\\ud83d\\ude00"',
    '"caf\\u00e9"',
    '"café"',
    '"\\u0000"',
    '"tab\\there"',
    '["a", "b"]',
    "[1, 2.5, true]",
    "[12345678901234567890123]",
    "[]",
    '{"x": 1}',
    '[{"x": 1}]',
    "{}",
    '"\\"quoted\\""',
    '"\u2028"',
]
_BAD = ["NaN", "Infinity", "-Infinity", '"\\ud800"', "01", "1.", ".5", "+1", "'single'", '"unclosed', "tru"]
_KEYS = ['"a"', '"b"', '"c"', '"a"', '""', '"é"', '"\\u0061"']
_SPACE = ["", "", "", " ", "\t", "\r", "\u00a0", "\ufeff", "\x0c"]


def _random_line(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.08:
        return rng.choice(["[1, 2]", "1", '"s"', "null", "", "   ", "{", "}", "{}", "{} {}", "not json"])

    def pair() -> str:
        value = rng.choice(_BAD if rng.random() < 0.05 else _VALUES)
        return f"{rng.choice(_KEYS)}{rng.choice(_SPACE)}:{rng.choice(_SPACE)}{value}"

    pairs = [pair() for _ in range(rng.randint(0, 4))]
    line = "{" + ",".join(pairs) + "}"
    if rng.random() < 0.15:
        line = rng.choice(_SPACE) + line + rng.choice(_SPACE)
    if rng.random() < 0.03:
        line += rng.choice([",", "x", "}", " {}"])
    return line


@pytest.mark.parametrize("seed", range(8))
def test_random_lines_from_json_corners_read_as_with_json_loads(tmp_path, seed):
    rng = random.Random(seed)
    lines = [_random_line(rng) for _ in range(400)]
    path = tmp_path / "mobilisations_2024-01.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = assert_same(path)
    assert result.rows_received > 0


def test_big_integers_nan_and_lone_surrogates_keep_json_loads_values(tmp_path):
    path = tmp_path / "mobilisations_2024-01.jsonl"
    path.write_text(
        '{"a": 123456789012345678901234567890, "b": 12.0}\n'
        '{"a": 123456789012345678901234567890, "b": 12.0, "c": NaN, "d": "\\ud800", "e": [1.5, 2], "f": {"g": 1}}\n'
        '{"a": 7, "b": true, "c": null, "d": "", "e": "x"}\n'
    )
    result = assert_same(path)
    big = "123456789012345678901234567890"
    assert result.records.to_dict("records") == [
        {"a": big, "b": "12", "c": None, "d": None, "e": None, "f": None, "_source_row": 1},
        {"a": big, "b": "12", "c": "nan", "d": "\ud800", "e": "1.5;2", "f": "{'g': 1}", "_source_row": 2},
        {"a": "7", "b": "true", "c": None, "d": None, "e": "x", "f": None, "_source_row": 3},
    ]


@pytest.mark.parametrize(
    ("content", "encoding_name"),
    [
        pytest.param('{"id": "A1", "name": "Café"}\n'.encode("utf-8-sig"), "utf-8-sig", id="utf8-bom"),
        pytest.param('{"id": "A1", "name": "Café"}\n'.encode("utf-16"), "utf-16-le", id="utf16-bom"),
        pytest.param('{"id": "A1", "name": "Café"}\n'.encode("utf-16-le"), "utf-16-le", id="utf16-no-bom"),
        pytest.param('{"id": "A1", "name": "Café"}\n'.encode("cp1252"), "cp1252", id="cp1252"),
    ],
)
def test_encodings_are_decoded_and_warned_as_before(tmp_path, content, encoding_name):
    path = tmp_path / "mobilisations_2024-01.jsonl"
    path.write_bytes(content)
    result = assert_same(path)
    assert result.encoding == encoding_name and result.warnings
    assert result.records["name"].tolist() == ["Café"]


def test_blank_lines_missing_and_empty_values_and_key_order(tmp_path):
    path = tmp_path / "mobilisations_2024-01.jsonl"
    path.write_text('\n{"b": "1", "a": ""}\n   \n{"a": "2", "c": "3"}\r\n{"b": null}\nnot json\n[1]\n')
    result = assert_same(path)
    assert result.columns == ["b", "a", "c"]
    assert result.records.to_dict("list") == {
        "b": ["1", None, None],
        "a": [None, "2", None],
        "c": [None, "3", None],
        "_source_row": [2, 4, 5],
    }
    assert [(m.row, m.reason, m.raw_text) for m in result.malformed] == [
        (6, "not valid JSON: Expecting value", "not json"),
        (7, "line is not a JSON object", "[1]"),
    ]


def test_very_wide_rows_and_a_value_over_128_kb(tmp_path):
    path = tmp_path / "mobilisations_2024-01.jsonl"
    wide = {f"k{i}": str(i) for i in range(2000)}
    path.write_text(json.dumps(wide) + "\n" + json.dumps({"k0": "x" * 200_000}) + "\n")
    result = assert_same(path)
    assert len(result.columns) == 2000 and result.records["k0"].str.len().tolist() == [1, 200_000]


def test_only_empty_objects_fall_back_to_the_contract_columns(tmp_path):
    path = tmp_path / "mobilisations_2024-01.jsonl"
    path.write_text("{}\n{}\n")
    result = assert_same(path)
    assert result.columns == EXPECTED and result.records[ROW].tolist() == [1, 2]


ROW = readers.ROW_COLUMN
