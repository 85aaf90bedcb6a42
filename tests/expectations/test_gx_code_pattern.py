"""The contract-code pattern means in pyarrow's RE2 (where pandas runs it) what the plain Python
pattern ``(?i)^\\s*(?:codes)\\s*$`` means: case and any Unicode white space around ignored."""

from __future__ import annotations

import re
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from expectations.suites.raw import WHITE_SPACE, all_entities, code_regex

CODES = sorted({a for e in all_entities() for c in e.loaded_columns if c.allowed for a in c.allowed})


def every_character() -> list[str]:
    return [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_white_space_is_pythons():
    assert [c for c in every_character() if re.fullmatch(WHITE_SPACE, c)] == [
        c for c in every_character() if c.isspace()
    ]
    arrow = pc.match_substring_regex(pa.array(every_character()), f"^{WHITE_SPACE}$").to_pylist()
    assert [c for c, hit in zip(every_character(), arrow, strict=True) if hit] == [
        c for c in every_character() if c.isspace()
    ]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_code_pattern_matches_what_the_python_pattern_matches_in_both_engines():
    # Every character either engine folds onto a character of a code, in every position of every code,
    # and every white-space character around each code.
    letters = sorted({ch for code in CODES for ch in code})
    chars = every_character()
    folding = re.compile("(?i)[" + "".join(re.escape(ch) for ch in letters) + "]")
    near = {c for c in chars if folding.fullmatch(c)}
    arrow = pc.match_substring_regex(pa.array(chars), "(?i)^[" + "".join(re.escape(ch) for ch in letters) + "]$")
    near |= {c for c, hit in zip(chars, arrow.to_pylist(), strict=True) if hit}
    spaces = [c for c in chars if c.isspace()]
    texts = [*CODES, "", " ", "fire x", "firex", "xfire", "fire\nx", "\n", "FIRE\n", "fire\n\n"]
    for code in CODES:
        texts += [code[:i] + c + code[i + 1 :] for i in range(len(code)) for c in near]
        texts += [w + code for w in spaces] + [code + w for w in spaces] + [w + code + w + w for w in spaces]

    plain = re.compile(r"(?i)^\s*(?:" + "|".join(re.escape(c) for c in CODES) + r")\s*$")
    expected = [bool(plain.search(t)) for t in texts]
    pattern = code_regex(CODES)
    assert [bool(re.search(pattern, t)) for t in texts] == expected
    assert pc.match_substring_regex(pa.array(texts), pattern.replace(r"\Z", r"\z")).to_pylist() == expected
    assert pd.Series(texts, dtype="str").str.contains(pattern).tolist() == expected  # as GX asks pandas
    assert sum(expected) > len(CODES) * 20  # case variants and white space matched, not only the codes
