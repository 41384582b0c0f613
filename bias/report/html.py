"""Self-contained HTML: inline CSS, figures as base64 PNG data URIs, no script, no external URL.

A report must open from a cluster's scratch space, an e-mail attachment or a browser with no
network, so nothing is linked: everything the page shows is in the one file. Every value that
comes from data goes through :func:`esc`.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from bias.report.figures import RenderedFigure

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2329;
background:#fafbfc;line-height:1.45}
main{max-width:1200px;margin:0 auto;padding:1.5rem 2rem 4rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:1px solid #d8dee4;
padding-bottom:.2rem;margin-top:2.2rem}h3{font-size:1.05rem}
.subtitle{color:#57606a;margin:0 0 1rem}
nav{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:.5rem 1rem;
font-size:.9rem}nav a{margin-right:1rem;color:#0b5cad;text-decoration:none}
figure{margin:1rem 0;background:#fff;border:1px solid #d8dee4;border-radius:6px;
padding:.6rem;overflow-x:auto}figure img{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#57606a;margin-top:.4rem}
.table-wrap{overflow-x:auto;margin:.6rem 0}
table{border-collapse:collapse;font-size:.8rem;background:#fff}
th,td{border:1px solid #d8dee4;padding:.2rem .45rem;text-align:right;white-space:nowrap}
th{background:#f0f3f6;position:sticky;top:0}td.text,th.text{text-align:left}
tr.sig td{background:#fff4e5}
.note{background:#f6f8fa;border-left:4px solid #8c959f;padding:.4rem .8rem;color:#57606a}
details{margin:.6rem 0}summary{cursor:pointer;color:#0b5cad}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.78rem}
"""


def esc(value: Any) -> str:
    """HTML-escaped text of a value; missing values are empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value))


def fmt_num(value: Any, digits: int = 3) -> str:
    """Compact number: fixed decimals for moderate values, scientific for tiny p-values."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if math.isnan(v):
        return ""
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if v != 0 and abs(v) < 10 ** -digits:
        return f"{v:.2e}"
    return f"{v:.{digits}f}"


def figure(fig: RenderedFigure, files: bool = True) -> str:
    """``<figure>`` with the PNG inlined as a data URI and the caption (also the alt text);
    ``files`` adds where the PNG/SVG copies are (reports that write ``figures/``)."""
    data = base64.b64encode(fig.png).decode("ascii")
    where = f" (files: figures/{fig.name}.png, .svg)" if files else ""
    return (f'<figure id="fig-{esc(fig.name)}"><img src="data:image/png;base64,{data}" '
            f'alt="{esc(fig.caption)}"><figcaption>{esc(fig.caption + where)}</figcaption>'
            "</figure>")


def table(frame: pd.DataFrame, *, columns: Mapping[str, str] | None = None,
          formats: Mapping[str, Callable[[Any], str]] | None = None,
          highlight: Sequence[bool] | None = None, drop_empty: bool = True) -> str:
    """An HTML table of ``frame``; ``columns`` maps column → header (and selects/orders),
    ``formats`` column → formatter, ``highlight`` marks rows (class ``sig``); columns with
    no value at all are left out unless ``drop_empty`` is false."""
    columns = dict(columns) if columns else {c: c for c in frame.columns}
    columns = {c: h for c, h in columns.items() if c in frame.columns
               and not (drop_empty and frame[c].isna().all() and len(frame))}
    formats = formats or {}
    text_cols = {c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])}
    head = "".join(f'<th class="{"text" if c in text_cols else "num"}">{esc(h)}</th>'
                   for c, h in columns.items())
    rows = []
    marks = list(highlight) if highlight is not None else [False] * len(frame)
    for mark, (_, r) in zip(marks, frame.iterrows(), strict=True):
        cells = "".join(
            f'<td class="{"text" if c in text_cols else "num"}">'
            f"{formats[c](r[c]) if c in formats else fmt_num(r[c])}</td>" for c in columns)
        rows.append(('<tr class="sig">' if mark else "<tr>") + f"{cells}</tr>")
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def kv_table(items: Mapping[str, Any]) -> str:
    """Two-column table of key → value (values shown as text; dicts as compact JSON)."""
    rows = "".join(
        f'<tr><th class="text">{esc(k)}</th><td class="text">'
        f"{esc(json.dumps(v, sort_keys=True, default=str) if isinstance(v, dict | list) else v)}"
        "</td></tr>" for k, v in items.items())
    return f'<div class="table-wrap"><table><tbody>{rows}</tbody></table></div>'


def paragraphs(texts: Sequence[str]) -> str:
    return "".join(f"<p>{esc(t)}</p>" for t in texts)


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def details(summary: str, inner_html: str) -> str:
    return f"<details><summary>{esc(summary)}</summary>{inner_html}</details>"


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


def section(sid: str, title: str, body_html: str) -> tuple[str, str, str]:
    """A section as (id, title, inner HTML); :func:`page` builds the table of contents."""
    return sid, title, body_html


def page(title: str, sections: Sequence[tuple[str, str, str]], subtitle: str = "") -> str:
    """The whole document: header, contents, sections."""
    nav = "".join(f'<a href="#{esc(sid)}">{esc(t)}</a>' for sid, t, _ in sections)
    body = "".join(f'<section id="{esc(sid)}"><h2>{esc(t)}</h2>{inner}</section>'
                   for sid, t, inner in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            f'<h1>{esc(title)}</h1><p class="subtitle">{esc(subtitle)}</p>'
            f"<nav>{nav}</nav>{body}</main></body></html>\n")
