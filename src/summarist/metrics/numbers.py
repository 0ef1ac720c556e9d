"""Numbers in text: amounts, percentages, dates and times, found with their spans and normalised.

A summary's number is *supported* when the source states the same value (`NumberIndex.find`):

- amounts compare by value: "4 million" = "4,000,000" = "4m" after a currency sign = "four
  million"; a value written with a scale word (or a percentage) is also supported by a source
  value that rounds to it at the written precision ("4.5 million" by "4,530,000");
- percentages by value (`%`, "percent", "per cent", "percentage points");
- dates field by field: "March 2015" is supported by "3 March 2015", "Friday" by any Friday; a
  bare year is a date;
- times as hours and minutes: "5 pm" = "17:00"; without am/pm both readings count;
- a bare number is also supported by the same value inside any source number (the year of a
  date, the hour of a full-hour time, a percentage's value).

Ordinals written as words ("first") and "one" on its own are not counted (too often not a
quantity). English number words, month and day names are read only for English text; digits
everywhere, and Chinese/Japanese dates, times and 万/亿 scales in any text. Full-width digits
count as digits. Currencies and units are not compared (documented in docs/guide.md).

>>> [(m.text, m.kind, m.value) for m in extract_numbers("They paid $4m on 3 March 2015 at 5 pm.")]
[('$4m', 'amount', '4000000'), ('3 March 2015', 'date', '2015-03-03'), ('5 pm', 'time', '17:00')]
>>> NumberIndex(extract_numbers("a 4,000,000 deal")).find(extract_numbers("4 million")[0])
(2, 11)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any

from summarist.metrics.tokenizers import CJK_CLASS

KINDS = ("amount", "percent", "date", "time")

_UNITS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}  # fmt: skip
_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])}  # fmt: skip
_SCALES = {
    "hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
    "mn": 10**6, "mln": 10**6, "bn": 10**9, "bln": 10**9, "tn": 10**12, "k": 10**3,
    "m": 10**6, "b": 10**9, "千": 10**3, "万": 10**4, "萬": 10**4, "百万": 10**6, "亿": 10**8,
    "億": 10**8,
}  # fmt: skip
_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9,
    "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12,
    "december": 12,
}  # fmt: skip
_WEEKDAYS = {d: i for i, d in enumerate(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}  # fmt: skip
# A month name alone is a date; "May" and "March" (also verbs) only after one of these words.
_MONTH_CUES = {"in", "on", "of", "since", "until", "till", "by", "last", "next", "this", "early",
               "late", "mid", "from", "through", "before", "after", "during", "every"}  # fmt: skip
_FULLWIDTH = str.maketrans("０１２３４５６７８９％，．：", "0123456789%,.:")
_FULLWIDTH_RE = re.compile("[０-９％，．：]")


def _trie(words: list[str]) -> str:
    """An alternation of `words` as a prefix tree ("t(?:en|wo|...)"): the regex engine then
    tries one branch per letter instead of every word (4-5x faster scans of long sources)."""
    tree: dict[str, Any] = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(tree)


# "4,000,000"; also "20, 000" (tokenized corpora split thousands so)
_NUM = r"\d{1,3}(?:, ?\d{3}(?!\d))+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORD = _trie([*_UNITS, *_TENS, "hundred", "thousand", "million", "billion", "trillion"])
_WORDNUM = rf"(?:a\s+(?=(?:hundred|thousand|million|billion)\b))?(?:{_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_WORD}))*"
_MONTH = _trie(list(_MONTHS))
_WEEKDAY = _trie(list(_WEEKDAYS))
_AMPM = r"(?:[ap]\.m\.|[ap]\s?m\b)"
_SCALE = r"thousand|million|billion|trillion|mn|mln|bn|bln|tn"
_CUR = r"(?:US|A|C|NZ|HK|S)?\$|[£€¥₹]|Rs\.?\s?"

# Order matters: at one position the first alternative that matches wins (dates and times
# before the plain numbers they start with).
_DIGIT_PATTERNS = [
    r"(?P<zh_date>(?:(?P<zy>\d{4})\s*年\s*)?(?P<zm>\d{1,2})\s*月(?:\s*(?P<zd>\d{1,2})\s*[日号])?|(?P<zy2>\d{4})\s*年)",
    r"(?P<zh_time>(?P<zh>\d{1,2})\s*[点點時时](?:\s*(?P<zmin>\d{1,2})\s*分)?)",
    r"(?P<iso>(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2}))(?!\d)",
    r"(?P<ndate>(?P<na>\d{1,2})/(?P<nb>\d{1,2})/(?P<ny>\d{4}|\d{2}))(?!\d)",
    rf"(?P<clock>(?P<ch>\d{{1,2}}):(?P<cm>\d{{2}})(?:\s*(?P<cap>{_AMPM}))?|(?P<dh>\d{{1,2}})\.(?P<dm>\d{{2}})\s*(?P<dap>{_AMPM}))",
    rf"(?P<pct>(?P<pv>{_NUM})\s*(?:%|per\s?cent\b|percentage\s+points?\b|pct\b))",
    rf"(?P<amount>(?:(?P<cur>{_CUR})\s?)?(?P<av>{_NUM})(?:\s*(?P<ascale>{_SCALE}|[kmb](?![a-z])|百万|千|万|萬|亿|億))?)",
]
_ENGLISH_PATTERNS = [
    rf"(?P<hour>(?P<hh>\d{{1,2}}|{_WORD})\s*(?:(?P<hap>{_AMPM})|o'?clock\b))",
    rf"(?P<mdate>(?P<mm>{_MONTH})\b\.?(?:\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?\b)?(?:,?\s+(?P<my>\d{{4}})\b)?)",
    rf"(?P<ddate>(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<dmon>{_MONTH})\b\.?(?:,?\s+(?P<dy>\d{{4}})\b)?)",
    rf"(?P<wday>(?P<wd>{_WEEKDAY})s?\b)",
    r"(?P<noon>noon|midnight)\b",
    r"(?P<decade>(?P<dec>(?:1[0-9]|20)\d0)'?s)\b",
    rf"(?P<wpct>(?P<wpv>{_WORDNUM})\s+(?:percent|per\s+cent|percentage\s+points?)\b)",
    rf"(?P<wamount>(?P<wav>{_NUM})\s+(?P<wscale>hundred|thousand|million|billion|trillion)\b|(?P<wnum>{_WORDNUM})\b)",
]
# Without English: digits, currency signs and CJK scales only ("4 millions" is just 4).
_DIGITS_RE = re.compile("|".join([*_DIGIT_PATTERNS[:-1], _DIGIT_PATTERNS[-1].replace(
    f"{_SCALE}|[kmb](?![a-z])|", "")]), re.IGNORECASE)  # fmt: skip
_ENGLISH_RE = re.compile("|".join(_ENGLISH_PATTERNS[:4] + _DIGIT_PATTERNS[:5]
                                  + _ENGLISH_PATTERNS[4:7] + _DIGIT_PATTERNS[5:6]
                                  + _ENGLISH_PATTERNS[7:] + _DIGIT_PATTERNS[6:]),
                         re.IGNORECASE)  # fmt: skip
_FULL_MONTHS = frozenset(m for m in _MONTHS if len(m) > 4 or m in ("may", "june", "july"))


_STARTERS = [*_UNITS, *_TENS, *_MONTHS, *_WEEKDAYS, "noon", "midnight"]
# Where a number can start (a digit run not glued to a letter, a currency sign, a number, month
# or day word): the big pattern is tried only there, anchored, ~20x faster than letting it scan
# every position of a long source. The scan runs on the lowercased text, case-sensitively.
_STARTS = _trie(_STARTERS)
_START_RE = re.compile(
    rf"(?<![a-z])\d+|[$£€¥₹]|\b(?:{_STARTS}|a(?=\s+(?:hundred|thousand|million|billion)\b))\b"
)
_START_DIGITS_RE = re.compile(r"(?<![a-z])\d+|[$£€¥₹]")
_CURRENCY_PREFIXES = ("US", "NZ", "HK", "A", "C", "S")
_YEAR_RE = re.compile(r"(?:19|20)\d{2}")
_CJK_RE = re.compile(f"[{CJK_CLASS}]")

Key = tuple[Any, ...]


@dataclass(frozen=True)
class NumberMention:
    """One number in a text: `text[start:end]`, its kind, a readable normalised value, and
    the keys that a supporting source number must share (any one of them)."""

    text: str
    start: int
    end: int
    kind: str
    value: str
    keys: tuple[Key, ...]
    rounding: tuple[Decimal, Decimal] | None = None
    """(value, step): also supported by a source value within half a step (written precision)."""

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "kind": self.kind,
                "value": self.value}  # fmt: skip


def _dec(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace(" ", ""))


def _fmt(value: Decimal) -> str:
    out = format(value.normalize(), "f")
    return out.rstrip("0").rstrip(".") if "." in out else out


def _word_value(text: str) -> Decimal | None:
    """ "two hundred and fifty" -> 250, "four million" -> 4000000, "a thousand" -> 1000."""
    words = [w for w in re.split(r"[\s-]+", text.lower()) if w and w != "and"]
    total, current = 0, 0
    for w in words:
        if w == "a":
            current = 1
        elif w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALES:
            total += max(current, 1) * _SCALES[w]
            current = 0
        else:
            return None
    return Decimal(total + current)


def _step(number: str, scale: int) -> Decimal:
    """The written precision of `number` times `scale`: "4.5" million -> 100,000."""
    decimals = len(number.split(".")[1]) if "." in number else 0
    return Decimal(scale) / (Decimal(10) ** decimals)


def _date(y: Any = None, m: Any = None, d: Any = None, wd: Any = None) -> NumberMention | None:
    year = int(y) if y else None
    if year is not None and year < 100:
        year += 2000 if year < 50 else 1900
    month, day = (int(m) if m else None), (int(d) if d else None)
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    # ISO order with XXXX for a missing year: 2015-03-03, 2015-03, XXXX-03-03, XXXX-05, 2015
    parts = [f"{year:04d}" if year else "XXXX"]
    parts += [f"{month:02d}"] if month else []
    parts += [f"{day:02d}"] if day and month else []
    value = "-".join(parts) if (year or month) else ""
    if wd is not None:
        value = (value + " " if value else "") + list(_WEEKDAYS)[wd].capitalize()
    keys: list[Key] = [("date", year, month, day, wd)]
    if year and not (month or day or wd):
        keys.append(("num", str(year)))
    return NumberMention("", 0, 0, "date", value or "?", tuple(keys))


def _time(hour: int, minute: int, ampm: str | None) -> NumberMention | None:
    if not (0 <= hour <= 24 and 0 <= minute < 60):
        return None
    if ampm:
        pm = ampm.lower().startswith("p")
        hours = [(hour % 12) + (12 if pm else 0)]
    elif 1 <= hour <= 12:
        hours = [hour % 12, hour % 12 + 12]
    else:
        hours = [hour % 24]
    keys: list[Key] = [("time", h, minute) for h in hours]
    if minute == 0 and 1 <= hour <= 12:
        keys.append(("num", str(hour)))
    return NumberMention("", 0, 0, "time", f"{hours[0]:02d}:{minute:02d}", tuple(keys))


def _amount(value: Decimal, rounding: tuple[Decimal, Decimal] | None = None,
            extra: tuple[Key, ...] = ()) -> NumberMention:  # fmt: skip
    v = _fmt(value)
    return NumberMention("", 0, 0, "amount", v, (("num", v), *extra), rounding)


def _from_match(m: re.Match[str], text: str) -> NumberMention | None:
    g = m.groupdict()
    if g.get("zh_date"):
        return _date(g["zy"] or g["zy2"], g["zm"], g["zd"])
    if g.get("zh_time"):
        return _time(int(g["zh"]), int(g["zmin"] or 0), None)
    if g.get("iso"):
        return _date(g["iy"], g["im"], g["id"])
    if g.get("ndate"):
        a, b = int(g["na"]), int(g["nb"])
        first = _date(g["ny"], a, b) if a <= 12 else _date(g["ny"], b, a)
        second = _date(g["ny"], b, a) if a <= 12 and b <= 12 and a != b else None
        if first is None:
            return None
        keys = first.keys + (second.keys if second else ())
        return NumberMention("", 0, 0, "date", first.value, keys)
    if g.get("ch"):
        return _time(int(g["ch"]), int(g["cm"]), g.get("cap"))
    if g.get("dh"):
        return _time(int(g["dh"]), int(g["dm"]), g["dap"])
    if g.get("hour"):
        h = g["hh"]
        hour = int(h) if h.isdigit() else _UNITS.get(h.lower(), 0) or int(_word_value(h) or 0)
        return _time(hour, 0, g.get("hap")) if 1 <= hour <= 12 or h.isdigit() else None
    if g.get("noon"):
        noon = g["noon"].lower() == "noon"
        return NumberMention("", 0, 0, "time", "12:00" if noon else "00:00",
                             (("time", 12 if noon else 0, 0),))  # fmt: skip
    if g.get("mdate") or g.get("ddate"):
        month_word = g.get("mm") or g.get("dmon") or ""
        day, year = g.get("md") or g.get("dd"), g.get("my") or g.get("dy")
        if not (day or year) and not _month_alone(month_word, m.start(), text):
            return None
        if len(month_word) <= 3 and month_word.lower() != "may" and not (day or year):
            return None  # "Jan" alone: too often a name
        return _date(year, _MONTHS[month_word.lower()], day)
    if g.get("wday"):
        return _date(wd=_WEEKDAYS[g["wd"].lower()])
    if g.get("decade"):
        return NumberMention("", 0, 0, "date", g["dec"] + "s", (("decade", int(g["dec"])),))
    if g.get("pct") or g.get("wpct"):
        raw = g.get("pv") or ""
        value = _dec(raw) if raw else _word_value(g["wpv"])
        if value is None:
            return None
        v = _fmt(value)
        step = _step(raw, 1) if raw else Decimal(1)
        return NumberMention("", 0, 0, "percent", v + "%", (("pct", v),), (value, step))
    if g.get("amount"):
        raw, scale_word, cur = g["av"], (g.get("ascale") or ""), g.get("cur")
        if cur is None and _YEAR_RE.fullmatch(raw) and not scale_word:
            return _date(raw)
        scale = _SCALES.get(scale_word.lower(), 1)
        if scale_word.lower() in ("k", "m", "b") and not cur:
            # "5m" without a currency sign: million or metres; both readings count
            plain = _fmt(_dec(raw))
            return _amount(_dec(raw) * scale, (_dec(raw) * scale, _step(raw, scale)),
                           (("num", plain),))  # fmt: skip
        rounding = (_dec(raw) * scale, _step(raw, scale)) if scale > 1 else None
        clock = re.fullmatch(r"(\d{1,2})\.(\d{2})", raw) if not (cur or scale_word) else None
        if clock and int(clock[1]) <= 24 and int(clock[2]) < 60:
            # "8.30": an amount or half past eight; either reading counts
            as_time = _time(int(clock[1]), int(clock[2]), None)
            return _amount(_dec(raw), None, as_time.keys if as_time else ())
        return _amount(_dec(raw) * scale, rounding)
    if g.get("wav"):
        scale = _SCALES[g["wscale"].lower()]
        return _amount(_dec(g["wav"]) * scale, (_dec(g["wav"]) * scale, _step(g["wav"], scale)))
    if g.get("wnum"):
        words = g["wnum"].lower().split()
        if words in (["one"], ["zero"]) or g["wnum"].lower() in ("a", "hundred"):
            return None
        value = _word_value(g["wnum"])
        if value is None:
            return None
        if not any(w in _SCALES for w in words):
            return _amount(value)
        digits = str(int(value))
        return _amount(value, (value, Decimal(10) ** (len(digits) - len(digits.rstrip("0")))))
    return None


def _month_alone(word: str, start: int, text: str) -> bool:
    if word.lower() not in ("may", "march"):
        return True
    before = re.findall(r"[A-Za-z]+", text[max(0, start - 20) : start])
    return bool(before) and before[-1].lower() in _MONTH_CUES


def _glued(text: str, start: int, end: int) -> bool:
    """True when the match sits inside a word ("Person1", "mp3", "B52s"): not a number."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() and not _CJK_RE.match(before):
        return True
    if before in "#_" or after in "#_":
        return True
    if before == "-" and start > 1 and text[start - 2].isalpha():  # "COVID-19", "F-16"
        return True
    # digits followed by letters ("3D", "5km") are kept; a word number inside a word is not
    return after.isalpha() and text[end - 1].isalpha() and not _CJK_RE.match(after)


def extract_numbers(text: str, english: bool = True) -> list[NumberMention]:
    """Every number mention in `text`, left to right, non-overlapping.

    `english=False` reads digits only (and CJK dates/times), no number words, month or day
    names.

    >>> [m.value for m in extract_numbers("Sales rose 45 per cent to four million on Friday")]
    ['45%', '4000000', 'Friday']
    """
    if not text:
        return []
    scan = text.translate(_FULLWIDTH) if _FULLWIDTH_RE.search(text) else text
    pattern = _ENGLISH_RE if english else _DIGITS_RE
    out: list[NumberMention] = []
    last_end = 0
    lowered = scan.lower()
    if len(lowered) != len(scan):  # a character whose lowercase is longer: keep offsets
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in scan)
    for cand in (_START_RE if english else _START_DIGITS_RE).finditer(lowered):
        pos = cand.start()
        if cand.group() == "$":  # "US$ 5": the prefix belongs to the amount
            pos -= next((len(p) for p in _CURRENCY_PREFIXES if scan[max(0, pos - len(p)) : pos] == p
                         and (pos - len(p) == 0 or not scan[pos - len(p) - 1].isalpha())), 0)  # fmt: skip
        if pos < last_end:
            continue
        m = pattern.match(scan, pos)
        if m is None:
            continue
        start, end = m.span()
        while end > start and scan[end - 1] in " \t\n,":
            end -= 1
        month = (m["mm"] or m["dmon"] or "") if english else ""
        if scan[end - 1] == "." and month.lower() in _FULL_MONTHS and scan[end - 2].isalpha():
            end -= 1  # "on 12 May." : the sentence's full stop, not an abbreviation's
        if start >= end or _glued(scan, start, end):
            continue
        found = _from_match(m, scan)
        if found is None:
            continue
        out.append(NumberMention(text[start:end], start, end, found.kind, found.value,
                                 found.keys, found.rounding))  # fmt: skip
        last_end = end
    return out


def _generalise(key: Key) -> list[Key]:
    """A source date also supports each coarser date: (2015, 3, 3, None) supports (2015, 3, -)."""
    if key[0] != "date":
        return [key]
    fields = [i for i in range(1, 5) if key[i] is not None]
    out = []
    for r in range(1, len(fields) + 1):
        for kept in combinations(fields, r):
            out.append(tuple(key[i] if i in kept or i == 0 else None for i in range(5)))
    return out


class NumberIndex:
    """The numbers of one source, ready for `find`: built once, shared by every summary."""

    def __init__(self, mentions: list[NumberMention]) -> None:
        self.spans: dict[Key, tuple[int, int]] = {}
        self.values: list[tuple[str, Decimal, tuple[int, int]]] = []
        for m in mentions:
            span = (m.start, m.end)
            keys = list(m.keys)
            if m.kind == "percent":
                keys.append(("num", m.value.rstrip("%")))
            if m.kind == "date":
                for k in m.keys:
                    if k[0] == "date":
                        keys += [("num", str(v)) for v in (k[1], k[3]) if v is not None]
            for key in keys:
                for general in _generalise(key):
                    self.spans.setdefault(general, span)
            if m.kind in ("amount", "percent"):
                kind_value = m.value.rstrip("%")
                self.values.append((m.kind, Decimal(kind_value), span))

    def find(self, mention: NumberMention) -> tuple[int, int] | None:
        """The source span supporting `mention`, or None when the source does not state it."""
        for key in mention.keys:
            if key in self.spans:
                return self.spans[key]
        if mention.rounding is not None:
            value, step = mention.rounding
            for kind, source_value, span in self.values:
                if kind == mention.kind and abs(source_value - value) * 2 <= step:
                    return span
        return None


__all__ = ["KINDS", "NumberIndex", "NumberMention", "extract_numbers"]
