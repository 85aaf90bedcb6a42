"""The raw suites look up ``raw_current`` only for the validated rows' services and deliveries
(filters DuckDB applies before the view's ranking); the frame is what the unrestricted look-ups give."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from expectations.suites import load_frame, raw_suites
from expectations.suites import raw as raw_module

AS_OF = dt.date(2026, 11, 1)


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_raw_current_look_ups_limited_to_the_validated_rows_change_nothing(clean_raw, rows, monkeypatch):
    clean_raw.land(
        "irs__incidents", [rows.incident(n, "2026-09") for n in range(1, 3)], service="AVN", period="2026-09"
    )
    clean_raw.land("irs__incidents", [rows.incident(n, "2026-10") for n in range(1, 4)], period="2026-10", revision=2)
    clean_raw.land(
        "mobilising__mobilisations",
        [rows.mobilisation(n, "2026-09") for n in range(1, 3)],
        service="AVN",
        period="2026-09",
    )
    for table in ("irs__incidents", "mobilising__mobilisations"):
        batches = clean_raw.batches(table)
        for ids in (batches, batches[-2:], batches[:1]):
            limited = raw_suites(clean_raw.con, table, ids, as_of=AS_OF)
            with monkeypatch.context() as m:
                m.setattr(raw_module._SuiteBuilder, "__init__", _unscoped(raw_module._SuiteBuilder.__init__))
                everything = raw_suites(clean_raw.con, table, ids, as_of=AS_OF)
            assert limited.query != everything.query
            pd.testing.assert_frame_equal(load_frame(clean_raw.con, limited), load_frame(clean_raw.con, everything))


def _unscoped(init):
    """The builder with its look-up filters (services, deliveries, periods) matching every row."""

    def build(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.of_services = self.of_deliveries = self.of_periods = "true"

    return build


def test_in_list_matches_nulls_only_when_asked():
    assert raw_module._in_list("s", ["B", "A", "A"]) == "(s in ('A', 'B'))"
    assert raw_module._in_list("s", [None, "O'Neil"]) == "(s in ('O''Neil') or s is null)"
    assert raw_module._in_list("s", []) == "false"
