"""HTML building blocks for the report: escaping, tables, n-gram highlighting, the page shell.

All text from run directories goes through `esc` (sources contain `<`, `&` and quotes); the
only markup that is not escaped is the markup built here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

# One CJK character is one token (no spaces to split on); elsewhere a run of word characters.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")

CSS = """
:root { --fg:#1f2328; --muted:#656d76; --line:#d8dee4; --bg:#ffffff; --soft:#f6f8fa;
        --accent:#2b7bba; --up:#1a7f37; --down:#cf222e; }
* { box-sizing: border-box; }
body { margin:0; background:var(--soft); color:var(--fg);
       font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 60px; }
header { background:var(--bg); border-bottom:1px solid var(--line); }
header .inner { max-width:980px; margin:0 auto; padding:20px; }
h1 { font-size:24px; margin:0 0 4px; }
h2 { font-size:19px; margin:0 0 12px; padding-bottom:6px; border-bottom:1px solid var(--line); }
h3 { font-size:16px; margin:22px 0 8px; }
h4 { font-size:14px; margin:14px 0 6px; color:var(--muted); text-transform:uppercase;
     letter-spacing:.04em; }
section { background:var(--bg); border:1px solid var(--line); border-radius:8px;
          padding:18px 20px; margin:18px 0; }
.sub, .muted { color:var(--muted); font-size:13px; }
nav { font-size:13px; margin-top:8px; } nav a { margin-right:14px; }
a { color:var(--accent); text-decoration:none; }
table { border-collapse:collapse; width:100%; font-size:13.5px; margin:6px 0 10px; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left;
         vertical-align:top; }
th { background:var(--soft); font-weight:600; white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr.baseline td { color:var(--muted); }
table.compact { width:auto; min-width:320px; }
.pair { display:grid; grid-template-columns:1fr 1fr; gap:4px 18px; }
.ci { color:var(--muted); font-size:12px; }
.up { color:var(--up); font-weight:600; } .down { color:var(--down); font-weight:600; }
.note { background:#fff8c5; border:1px solid #e9d66b; border-radius:6px; padding:8px 12px;
        font-size:13.5px; margin:8px 0; }
.alert { background:#ffebe9; border:2px solid var(--down); border-radius:6px; padding:10px 14px;
         font-size:14.5px; margin:8px 0; color:#82071e; }
img.plot { display:block; max-width:100%; height:auto; margin:8px auto; }
.plots { display:flex; flex-wrap:wrap; gap:8px; align-items:flex-start; }
.example { border:1px solid var(--line); border-radius:6px; padding:10px 12px; margin:10px 0; }
.ex-head { font-size:12.5px; color:var(--muted); margin-bottom:6px; }
.label { font-size:11.5px; font-weight:600; text-transform:uppercase; letter-spacing:.04em;
         color:var(--muted); margin-top:6px; }
.text { white-space:pre-wrap; overflow-wrap:anywhere; font-size:14px; }
.source { max-height:11em; overflow:auto; background:var(--soft); padding:6px 8px;
          border-radius:4px; font-size:13px; }
mark.bi { background:#ffd666; padding:0 1px; border-radius:2px; }
mark.uni { background:#fff1b8; padding:0 1px; border-radius:2px; }
mark.unsup { background:#ffcecb; color:#82071e; font-weight:600; padding:0 2px;
             border-radius:2px; outline:1px solid var(--down); }
mark.sup { background:#dafbe1; padding:0 1px; border-radius:2px; }
ul.unsup-list { margin:2px 0 4px; padding-left:20px; font-size:13px; }
pre { background:var(--soft); padding:10px; border-radius:6px; overflow:auto; font-size:12.5px; }
details > summary { cursor:pointer; color:var(--accent); font-size:13.5px; margin:6px 0; }
"""

# The page may load nothing: no scripts, no remote fonts or images, only inline data.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def data_attrs(**attrs: Any) -> str:
    """` data-key="value"` pairs (underscores become dashes); None values are left out."""
    return "".join(
        f' data-{k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None
    )


def table(header: Sequence[str], rows: Iterable[str], numeric_from: int = 1, css: str = "") -> str:
    """A table from header labels and pre-rendered `<tr>` rows; columns >= numeric_from align right."""
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i >= numeric_from else f"<th>{esc(h)}</th>"
        for i, h in enumerate(header)
    )
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def image(uri: str, alt: str) -> str:
    return f'<img class="plot" src="{uri}" alt="{esc(alt)}">'


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def fmt_ci(ci: dict[str, Any]) -> str:
    """`45.1 (44.2–46.0)`: the point estimate with its 95% interval, HTML-escaped."""
    mid = fmt(ci.get("mid"))
    if isinstance(ci.get("low"), int | float) and isinstance(ci.get("high"), int | float):
        return f'{mid} <span class="ci">({fmt(ci["low"])}–{fmt(ci["high"])})</span>'
    return mid


def highlight_overlap(text: str, other: str | list[str]) -> str:
    """Escape `text` and mark its words that also occur in `other` (case-insensitive).

    Words inside a bigram shared with `other` get `<mark class="bi">`, other shared words
    `<mark class="uni">`; adjacent marks of one kind are merged across spaces.
    """
    unigrams: set[str] = set()
    bigrams: set[tuple[str, str]] = set()
    for one in [other] if isinstance(other, str) else other:
        theirs = [m.group().lower() for m in TOKEN.finditer(one)]
        unigrams.update(theirs)
        bigrams.update(zip(theirs, theirs[1:], strict=False))
    matches = list(TOKEN.finditer(text))
    words = [m.group().lower() for m in matches]
    in_bigram = [False] * len(words)
    for i in range(len(words) - 1):
        if (words[i], words[i + 1]) in bigrams:
            in_bigram[i] = in_bigram[i + 1] = True
    out: list[str] = []
    pos, open_kind = 0, None
    for i, match in enumerate(matches):
        gap = text[pos : match.start()]
        kind = "bi" if in_bigram[i] else "uni" if words[i] in unigrams else None
        if open_kind and (kind != open_kind or gap.strip() or "\n" in gap):
            out.append("</mark>")
            open_kind = None
        out.append(esc(gap))
        if kind and kind != open_kind:
            out.append(f'<mark class="{kind}">')
            open_kind = kind
        out.append(esc(match.group()))
        pos = match.end()
    if open_kind:
        out.append("</mark>")
    out.append(esc(text[pos:]))
    return "".join(out)


def page(title: str, subtitle: str, nav: list[tuple[str, str]], body: str) -> str:
    links = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header><div class="inner"><h1>{esc(title)}</h1><div class="sub">{subtitle}</div>'
        f"<nav>{links}</nav></div></header><main>{body}</main></body></html>\n"
    )
