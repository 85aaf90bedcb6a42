"""The docs a newcomer reads stay true to the repository: every relative link in README.md and
docs/*.md leads to a file (and heading) that exists inside the repository, and every `make <target>`
they name is a target of the Makefile. Reads text only: no pipeline, no warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

# Pages another branch is writing, linked to already. An entry must go once its page exists (the
# test below says so), so the exemption cannot outlive the gap it covers.
PENDING_PAGES: set[str] = set()

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]+`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
SHELL_COMMENT = re.compile(r"(?:^|\s)#.*$", re.MULTILINE)
MAKE_CALL = re.compile(r"(?:^|[\s;&|(`])make\s+(?:[A-Z_]+=\S+\s+)*([a-z][a-z0-9_-]*)")
MAKE_TARGET = re.compile(r"^([a-zA-Z0-9_][a-zA-Z0-9_-]*)\s*:(?!=)", re.MULTILINE)


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _prose(text: str) -> str:
    """The text outside fenced code blocks and code spans, where a link is a link."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _code(text: str) -> list[str]:
    """Fenced code blocks and code spans, shell comments dropped: what a doc tells the reader to run."""
    blocks = [m.group(0) for m in FENCE.finditer(text)] + CODE_SPAN.findall(FENCE.sub("", text))
    return [SHELL_COMMENT.sub("", block) for block in blocks]


def github_anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {github_anchor(h) for h in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8")))}


def relative_links(path: Path) -> list[str]:
    targets = LINK.findall(_prose(path.read_text(encoding="utf-8")))
    return [t.strip("<>") for t in targets if not EXTERNAL.match(t)]


def link_problem(source: Path, target: str) -> str | None:
    """Why a link from ``source`` is broken, or None when it leads somewhere real."""
    file_part, _, fragment = target.partition("#")
    resolved = (source.parent / file_part).resolve() if file_part else source
    if not resolved.is_relative_to(REPO):
        return f"{target} leads outside the repository ({resolved}): state the fact instead"
    if not resolved.exists():
        if _rel(resolved) in PENDING_PAGES:
            return None
        return f"{target} does not exist ({_rel(resolved)})"
    if fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
        return f"{target}: {_rel(resolved)} has no heading with the anchor #{fragment}"
    return None


def makefile_targets() -> set[str]:
    return set(MAKE_TARGET.findall((REPO / "Makefile").read_text(encoding="utf-8")))


def named_make_targets(path: Path) -> set[str]:
    return {t for block in _code(path.read_text(encoding="utf-8")) for t in MAKE_CALL.findall(block)}


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_every_relative_link_leads_to_a_file_in_the_repository(doc: Path) -> None:
    links = relative_links(doc)
    problems = [p for p in (link_problem(doc, t) for t in links) if p]
    assert not problems, f"{_rel(doc)}: broken links:\n" + "\n".join(problems)


def test_the_readme_links_into_docs_for_every_user() -> None:
    readme = REPO / "README.md"
    linked = {(readme.parent / t.partition("#")[0]).resolve() for t in relative_links(readme)}
    for page in ("architecture", "data_engineer", "monthly_close", "analyst", "manager", "auditor"):
        assert REPO / "docs" / f"{page}.md" in linked, f"README.md does not link to docs/{page}.md"


def test_pending_pages_are_still_missing() -> None:
    written = sorted(p for p in PENDING_PAGES if (REPO / p).exists())
    assert not written, f"{written} exist now: remove them from PENDING_PAGES in {_rel(Path(__file__))}"


def test_every_make_target_the_readme_names_is_in_the_makefile() -> None:
    named = named_make_targets(REPO / "README.md")
    assert {"run", "test", "test-fast", "lint"} <= named  # the README's own commands were found
    missing = sorted(named - makefile_targets())
    assert not missing, f"README.md names make targets the Makefile does not have: {missing}"


@pytest.mark.parametrize("doc", DOCS[1:], ids=_rel)
def test_every_make_target_a_docs_page_names_is_in_the_makefile(doc: Path) -> None:
    missing = sorted(named_make_targets(doc) - makefile_targets())
    assert not missing, f"{_rel(doc)} names make targets the Makefile does not have: {missing}"


# The checks themselves, on small texts: a check that never fails proves nothing.


def test_link_problem_names_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    page = REPO / "docs" / "analyst.md"
    assert link_problem(page, "architecture.md") is None
    assert link_problem(page, "architecture.md#make-targets") is None
    assert link_problem(page, "no_such_page.md") == "no_such_page.md does not exist (docs/no_such_page.md)"
    assert "has no heading with the anchor #nowhere" in link_problem(page, "architecture.md#nowhere")
    assert "leads outside the repository" in link_problem(page, "../../shared/docs/DESIGN.md")


def test_links_in_code_are_not_links_and_external_links_are_skipped(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "See [a](a.md), [b `c`](sub/b.md#x) and <https://x.org> [web](https://x.org/y.md).\n"
        "`[not](code.md)`\n```\n[nor](block.md)\n```\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["a.md", "sub/b.md#x"]


def test_make_targets_are_read_from_code_only(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "To make sure, run `make run` or `GT_FAULT_RATE=0.01 make data`.\n"
        "```bash\nmake share PARTNER=\"Essex Police\"\nmake bench BENCH_ARGS=x  # make it quick\n```\n",
        encoding="utf-8",
    )
    assert named_make_targets(page) == {"run", "data", "share", "bench"}
    assert {"run", "data", "share", "bench", "test-fast", "lint"} <= makefile_targets()
    assert not {"SHELL", "DBT", "export", "sure"} & makefile_targets()


def test_github_anchor() -> None:
    assert github_anchor("Make targets") == "make-targets"
    assert github_anchor("Quarterly review (in depth)") == "quarterly-review-in-depth"
    assert github_anchor("`irs__incidents`") == "irs__incidents"
    assert github_anchor("Data engineer: running the pipeline") == "data-engineer-running-the-pipeline"
