"""Numbers in text: what is found, how it is normalised, and what supports it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarist.metrics.numbers import NumberIndex, extract_numbers

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

# text -> [(mention text, kind, normalised value)]
NORMALISED = [
    ("4 million", [("4 million", "amount", "4000000")]),
    ("4,000,000", [("4,000,000", "amount", "4000000")]),
    ("$4m", [("$4m", "amount", "4000000")]),
    ("four million", [("four million", "amount", "4000000")]),
    ("£3.5bn", [("£3.5bn", "amount", "3500000000")]),
    ("US$ 5 million", [("US$ 5 million", "amount", "5000000")]),
    ("20, 000 RMB", [("20, 000", "amount", "20000")]),
    ("twenty-five", [("twenty-five", "amount", "25")]),
    ("two hundred and fifty thousand", [("two hundred and fifty thousand", "amount", "250000")]),
    ("a million", [("a million", "amount", "1000000")]),
    ("$ 3.50", [("$ 3.50", "amount", "3.5")]),
    ("45%", [("45%", "percent", "45%")]),
    ("45 per cent", [("45 per cent", "percent", "45%")]),
    ("3 percentage points", [("3 percentage points", "percent", "3%")]),
    ("3 March 2015", [("3 March 2015", "date", "2015-03-03")]),
    ("March 3, 2015", [("March 3, 2015", "date", "2015-03-03")]),
    ("the 3rd of March", [("3rd of March", "date", "XXXX-03-03")]),
    ("2015-03-03", [("2015-03-03", "date", "2015-03-03")]),
    ("in 2015", [("2015", "date", "2015")]),
    ("in May", [("May", "date", "XXXX-05")]),
    ("on Friday", [("Friday", "date", "Friday")]),
    ("the 1990s", [("1990s", "date", "1990s")]),
    ("5 pm", [("5 pm", "time", "17:00")]),
    ("5:30", [("5:30", "time", "05:30")]),
    ("10 a.m.", [("10 a.m.", "time", "10:00")]),
    ("five o'clock", [("five o'clock", "time", "05:00")]),
    ("at noon", [("noon", "time", "12:00")]),
    ("2015年3月3日", [("2015年3月3日", "date", "2015-03-03")]),
    ("下午5点", [("5点", "time", "05:00")]),
    ("共4万人", [("4万", "amount", "40000")]),
    ("５０％", [("５０％", "percent", "50%")]),
]
NOT_NUMBERS = [
    "#Person1# and #Person2#",  # speaker tags
    "May I help? Jan said hi. march on.",  # verbs and names, not months
    "someone often weighs in",  # number words inside words
    "MP3 B52s COVID-19",  # digits inside names
    "no one, the first time",  # "one" alone and ordinal words
]


@pytest.mark.parametrize(("text", "expected"), NORMALISED, ids=[t for t, _ in NORMALISED])
def test_numbers_are_found_and_normalised(text: str, expected: list[tuple[str, str, str]]) -> None:
    got = [(m.text, m.kind, m.value) for m in extract_numbers(text)]
    assert got == expected
    for m in extract_numbers(text):
        assert text[m.start : m.end] == m.text


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_words_that_are_not_quantities_are_left_alone(text: str) -> None:
    assert extract_numbers(text) == []


SOURCE = "A 4,530,000 deal on 3 March 2015 at 17:00, up 45.3%; they meet at 5 on Friday."
# summary number -> supported by SOURCE?
SUPPORT = [
    ("4.5 million", True),  # rounds to the written precision
    ("4.6 million", False),
    ("4,530,000", True),
    ("5 million", True),  # 4.53 million to the nearest million
    ("6 million", False),
    ("March 2015", True),  # coarser date
    ("3 March", True),
    ("4 March 2015", False),
    ("2015", True),
    ("2016", False),
    ("5 pm", True),  # "at 5" in the source
    ("17:00", True),
    ("5:00 pm", True),
    ("6 pm", False),
    ("45%", True),
    ("46%", False),
    ("Friday", True),
    ("Monday", False),
    ("3", True),  # the day of the date
    ("7", False),
]


@pytest.mark.parametrize(("mention", "supported"), SUPPORT, ids=[m for m, _ in SUPPORT])
def test_support_by_the_source(mention: str, supported: bool) -> None:
    index = NumberIndex(extract_numbers(SOURCE))
    (m,) = extract_numbers(mention)
    span = index.find(m)
    assert (span is not None) == supported
    if span is not None:
        assert SOURCE[span[0] : span[1]].strip()


def test_the_supporting_span_is_where_the_source_says_it() -> None:
    source = "Sales were 4,000,000 units."
    span = NumberIndex(extract_numbers(source)).find(extract_numbers("four million")[0])
    assert span is not None and source[span[0] : span[1]] == "4,000,000"


def test_non_english_reads_digits_only() -> None:
    text = "Il a payé 4 millions le 3 mars, two hundred"
    assert [m.text for m in extract_numbers(text, english=False)] == ["4", "3"]
    assert [m.value for m in extract_numbers("２０１５年３月３日", english=False)] == ["2015-03-03"]


@pytest.mark.shared_data
@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
def test_every_real_text_parses_and_spans_point_at_their_text() -> None:
    texts = []
    for rel, fields in (("dialogsum/dev.jsonl", ("dialogue", "summary")),
                        ("samsum/validation.jsonl", ("dialogue", "summary")),
                        ("news/cnndm_xsum_sample.jsonl", ("article", "summary"))):  # fmt: skip
        for line in (DATA / rel).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [str(row[f]) for f in fields]
    for line in (DATA / "csl_zh" / "dev.tsv").read_text(encoding="utf-8").splitlines()[:300]:
        texts += line.split("\t")[1:]
    found = 0
    for text in texts:
        for english in (True, False):
            for m in extract_numbers(text, english):
                assert text[m.start : m.end] == m.text
                found += 1
    assert found > 1000
