"""The read-ahead worker gives what reading in this process gives, names the file it failed on, and
stops when its caller stops."""

from __future__ import annotations

import pytest

from orchestration.ingestion.contracts import entity
from orchestration.ingestion.read_ahead import read_ahead
from orchestration.ingestion.readers import read_landed

MOBILISATIONS = entity("mobilising__mobilisations")


@pytest.fixture
def files(tmp_path):
    paths = []
    for month in range(1, 8):
        path = tmp_path / f"mobilisations_2024-{month:02d}.jsonl"
        lines = [f'{{"mobilisation_id": "M{month}-{i}", "callsign": "E{i}", "pump_order": {i}}}' for i in range(month)]
        path.write_text("\n".join([*lines, "not json"]) + "\n")
        paths.append(path)
    return paths


def comparable(read):
    size, sha, result, error = read
    return (
        size,
        sha,
        result.columns,
        result.records.to_dict("list"),
        [vars(m) for m in result.malformed],
        result.warnings,
        error,
    )


def test_the_worker_reads_what_this_process_reads(files):
    ahead = list(read_ahead(MOBILISATIONS, files, depth=2))
    assert [comparable(r) for r in ahead] == [comparable(read_landed(MOBILISATIONS, p)) for p in files]
    assert ahead[3][2].rows_received == 4 + 1  # three records and a malformed line: nothing dropped


def test_a_file_the_worker_cannot_read_is_refused_by_name_and_the_next_is_read(files):
    missing = files[0].with_name("mobilisations_2024-12.jsonl")
    first, gone, after = read_ahead(MOBILISATIONS, [files[0], missing, files[1]], depth=2)
    assert first[1] and after[2] is not None and after[2].rows_received == 3
    assert gone == (0, "", None, "mobilisations_2024-12.jsonl: could not be read: No such file or directory")


def test_a_caller_that_stops_early_stops_the_worker(files):
    reads = read_ahead(MOBILISATIONS, files * 20, depth=1)
    next(reads)
    reads.close()  # the generator's cleanup waits for the worker to end
