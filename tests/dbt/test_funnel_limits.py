"""The funnel-plot limits (dbt macro ``funnel_limit``, the one place the rule lives) evaluated in DuckDB:
the numbers the dbt unit tests work by hand, to six decimal places, and the Poisson approximation against
the exact one-sided Poisson test. The macro is plain Jinja (no dbt context), so it renders without dbt."""

from __future__ import annotations

import math

import duckdb
import jinja2
import pytest

from orchestration.settings import REPO_ROOT

MACROS = jinja2.Environment().from_string((REPO_ROOT / "dbt_project/macros/funnel_limits.sql").read_text()).module
Z95, Z998 = 1.959964, 3.090232


def limits_for(unit: str, rows: list[tuple[float | None, float | None]]) -> list[list[float | None]]:
    """The four limits (lower 99.8 %, lower 95 %, upper 95 %, upper 99.8 %) the macro computes for each
    (proportion, denominator), in one query."""
    columns = ", ".join(str(MACROS.funnel_limit("unit", "p", "n", z)) for z in (-Z998, -Z95, Z95, Z998))
    con = duckdb.connect()
    con.execute("create table t (i integer, unit varchar, p double, n double)")
    con.executemany("insert into t values (?, ?, ?, ?)", [(i, unit, p, n) for i, (p, n) in enumerate(rows)])
    return [list(r) for r in con.execute(f"select {columns} from t order by i").fetchall()]


def limits(unit: str, proportion: float | None, denominator: float | None) -> list[float | None]:
    return limits_for(unit, [(proportion, denominator)])[0]


def test_binomial_limits_match_the_hand_worked_numbers():
    # p = 0.8, n = 100: sd = 0.04; 0.8 -+ 3.090232 x 0.04 and 0.8 -+ 1.959964 x 0.04.
    assert limits("percent", 0.8, 100) == pytest.approx([0.67639072, 0.72160144, 0.87839856, 0.92360928], abs=1e-9)
    # n = 50: sd = sqrt(0.16 / 50) = 0.0565685.
    assert limits("percent", 0.8, 50)[0] == pytest.approx(0.62519008, abs=1e-8)


def test_binomial_limits_stay_between_0_and_1():
    lower_998, _, _, upper_998 = limits("percent", 0.97, 10)
    assert lower_998 > 0.8 and upper_998 == 1.0
    assert limits("percent", 0.02, 10)[0] == 0.0


def test_poisson_limits_match_the_hand_worked_counts():
    # Y: L = 0.0003 x 30,000 = 9. Upper W(9.25) - 0.25: 9.25 x 1.202799^3 - 0.25 = 15.8461 and
    # 9.25 x 1.326675^3 - 0.25 = 21.3491 fires.
    lower_998, lower_95, upper_95, upper_998 = (v * 30000 for v in limits("rate", 0.0003, 30000))
    assert (upper_95, upper_998) == pytest.approx((15.8461, 21.3491), abs=1e-4)
    # Lower W(9) - 1: 9 x 0.769881^3 - 1 = 3.1069, 9 x 0.644295^3 - 1 = 1.4071.
    assert (lower_95, lower_998) == pytest.approx((3.1069, 1.4071), abs=1e-4)
    # X: L = 6: 6 x 0.714764^3 - 1 = 1.1910 fires.
    assert limits("rate", 0.0003, 20000)[1] * 20000 == pytest.approx(1.1910, abs=1e-4)


def test_a_zero_rate_or_no_denominator_gives_no_spurious_limits():
    assert limits("rate", 0.0, 1000) == [0.0, 0.0, 0.0, 0.0]
    assert limits("rate", 0.001, 0) == [None, None, None, None]
    assert limits("percent", 0.5, None) == [None, None, None, None]


def _poisson_cdfs(mean: float, counts: int) -> list[float]:
    """P(O <= k | mean) for k = 0 .. counts - 1."""
    term, total, out = math.exp(-mean), 0.0, []
    for i in range(counts):
        total += term
        out.append(total)
        term *= mean / (i + 1)
    return out


def test_poisson_limits_name_the_counts_the_exact_test_names():
    """Over expected counts 0.1 .. 60 and every plausible count: no count the exact one-sided Poisson test
    keeps within 2.5 % (0.1 %) is put above the upper limit, not even at the expected counts below 1 of a
    small ward; a count put below the lower limit has an exact tail under 3 x the limit's (only at the
    99.8 % limit does it exceed it); and the approximation agrees with the exact test on at least 99 % of
    the (expected, count) pairs."""
    agree = total = 0
    means = [tenth / 10 for tenth in range(1, 601)]
    for mean, four in zip(means, limits_for("rate", [(mean / 1000, 1000) for mean in means]), strict=True):
        lower_998, lower_95, upper_95, upper_998 = (v * 1000 for v in four)
        cdfs = _poisson_cdfs(mean, int(mean * 3 + 25))
        for count, below in enumerate(cdfs):
            above = 1 - cdfs[count - 1] if count else 1.0
            for low, high, alpha in ((lower_95, upper_95, 0.025), (lower_998, upper_998, 0.001)):
                total += 2
                if count > high:
                    assert above < alpha, ("above", mean, count, alpha, above)
                if count < low:
                    assert below < 3 * alpha, ("below", mean, count, alpha, below)
                    assert alpha == 0.001 or below < alpha, ("below", mean, count, alpha, below)
                agree += ((count > high) == (above < alpha)) + ((count < low) == (below < alpha))
    assert agree / total >= 0.99, f"{agree} of {total}"
