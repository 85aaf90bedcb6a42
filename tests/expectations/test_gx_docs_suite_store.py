"""Data Docs keep each suite's latest definition: ``save_suite`` stores what GX's ``add_or_update``
stores, without comparing every new expectation with every stored one."""

from __future__ import annotations

import pytest

from expectations.runner import docs_context, gx_suite, save_suite
from expectations.suites import Check, Suite


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_save_suite_stores_what_add_or_update_stores_in_linear_time(tmp_path, monkeypatch):
    checks = [Check("ExpectColumnValuesToNotBeNull", {"column": f"c{i}"}, "warning", f"c{i}") for i in range(150)]
    ours, theirs = docs_context(tmp_path / "ours"), docs_context(tmp_path / "theirs")
    for context, save in ((ours, save_suite), (theirs, lambda ctx, s: ctx.suites.add_or_update(s))):
        save(context, gx_suite(Suite("s", "t", checks[:100], ["c0"])))
        save(context, gx_suite(Suite("s", "t", checks[50:], ["c0"])))

    def stored(context) -> dict:
        suite = context.suites.get(name="s").to_json_dict()
        suite.pop("id")
        for e in suite["expectations"]:
            e.pop("id")
        return suite

    assert stored(ours) == stored(theirs)
    first = ours.suites.get(name="s")
    kept = first.expectations[0]
    again = gx_suite(Suite("s", "t", checks[50:], ["c0"]))
    again.expectations[0].id = kept.id  # equal to a stored expectation: it keeps that expectation's id
    comparisons = []
    original_eq = type(kept).__eq__

    def counting_eq(self, other):
        comparisons.append(1)
        return original_eq(self, other)

    monkeypatch.setattr(type(kept), "__eq__", counting_eq)
    save_suite(ours, again)
    monkeypatch.undo()
    second = ours.suites.get(name="s")
    assert second.id == first.id and second.expectations[0].id == kept.id
    assert len({e.id for e in second.expectations}) == 100
    assert len(comparisons) <= 2 * len(again.expectations)  # GX's add_or_update makes about 100 x 100
