"""The page-render benchmark runs (at one repeat) so it cannot rot; its figures are not asserted."""

from __future__ import annotations

from bench.page_render import PAGES, run


def test_page_render_benchmark_runs(data_dir):
    report = run(repeats=1, write=False)
    for page in PAGES:
        assert report["pages"][page]["first_s"] > 0
        assert report["pages"][page]["first_vs_baseline"] > 0
