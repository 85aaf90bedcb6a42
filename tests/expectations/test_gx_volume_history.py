"""The volume check's history (row counts of the latest delivery of each previous period) read in
one query for all validated periods is what one query per period read."""

from __future__ import annotations

import pytest

from expectations.suites import raw as raw_module


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_previous_volumes_in_one_query_match_one_query_per_period(raw_wh, rows):
    months = [f"{2025 + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(3, 23)]  # 2025-03 .. 2026-10
    for i, month in enumerate(months):
        for service, count in (("ESX", 3 + i % 5), ("AVN", 2 + i % 2), (None, 1 + i % 7)):
            raw_wh.land(
                "irs__incidents", [rows.incident(n, month) for n in range(1, count + 1)], service=service, period=month
            )
    # Re-deliveries: a later revision of June for ESX, and a second batch of the same revision for AVN.
    raw_wh.land(
        "irs__incidents",
        [rows.incident(n, "2026-06") for n in range(1, 8)],
        service="ESX",
        period="2026-06",
        revision=2,
    )
    raw_wh.land("irs__incidents", [rows.incident(n, "2026-07") for n in range(1, 6)], service="AVN", period="2026-07")
    con = raw_wh.con
    groups = con.execute(
        "select service_id, _period, max(_batch_id) from raw.irs__incidents group by all order by 1 nulls last, 2"
    ).fetchall()
    volumes = raw_module._period_volumes(con, "irs__incidents", groups)
    assert set(volumes) == {"ESX", "AVN", None}
    for service, period, _ in groups:
        one_query = con.execute(
            f"""
            select _period, count(*) from (
                select _period, _batch_id,
                       dense_rank() over (partition by _period order by _revision desc, _batch_id desc) as _rank
                from raw.irs__incidents
                where service_id is not distinct from ? and _period <> '' and _period < ?
            ) where _rank = 1
            group by _period order by _period desc limit {raw_module.VOLUME_HISTORY}
            """,
            [service, period],
        ).fetchall()
        assert raw_module._previous_volumes(volumes[service], period) == one_query, (service, period)
    assert raw_module._previous_volumes(volumes["ESX"], "2026-07")[0] == ("2026-06", 7)
    assert len(raw_module._previous_volumes(volumes["AVN"], "2026-10")) == raw_module.VOLUME_HISTORY
