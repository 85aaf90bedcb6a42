"""Values that used to crash the cast or load as null without a reason are refused by name."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from orchestration.ingestion.contracts import entity
from orchestration.ingestion.validate import Pseudonymiser, validate

INCIDENTS = entity("irs__incidents")


def _incident(**values: str) -> dict:
    row = {c.name: None for c in INCIDENTS.columns} | {
        "incident_id": "A1",
        "call_at": "2026-10-01 10:00:00",
        "incident_category": "primary_fire",
        "incident_type": "fire",
        "property_category": "dwelling",
    }
    return row | values | {"_source_row": 2}


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"appliances_attending": "9223372036854775808"}, "'9223372036854775808' is not a valid int"),
        ({"appliances_attending": "99999999999999999999999"}, "is not a valid int"),
        ({"appliances_attending": "\u0663"}, "appliances_attending: '\u0663' is not a valid int"),  # an Arabic-Indic 3
        ({"call_at": "0000-01-01 10:00:00"}, "call_at: '0000-01-01 10:00:00' is not a valid timestamp"),
        ({"call_at": "2026-10-0\u0663 10:00:00"}, "is not a valid timestamp"),
        ({"first_pump_attendance_seconds": "-50"}, "first_pump_attendance_seconds: '-50' outside 0..86400"),
        ({"first_pump_attendance_seconds": "1e12"}, "outside 0..86400"),
    ],
)
def test_an_impossible_value_is_refused_with_its_reason(values: dict, reason: str) -> None:
    checked = validate(
        INCIDENTS,
        pd.DataFrame([_incident(**values)]),
        service_id="T1",
        pseudonymise=Pseudonymiser(b"k" * 32),
        loaded_at=dt.datetime(2026, 11, 1),
    )
    assert checked.good.empty
    assert any(reason in r for r in checked.reasons), checked.reasons


def test_plain_values_still_load() -> None:
    checked = validate(
        INCIDENTS,
        pd.DataFrame([_incident(appliances_attending="3.0", first_pump_attendance_seconds="416")]),
        service_id="T1",
        pseudonymise=Pseudonymiser(b"k" * 32),
        loaded_at=dt.datetime(2026, 11, 1),
    )
    assert checked.reasons == [] and checked.good["appliances_attending"].tolist() == [3]
