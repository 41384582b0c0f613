"""Planning a counterfactual set: which image is edited into which attribute value, with which
prompts and seed. Pure bookkeeping over the data table, no model calls (those are in
:mod:`bias.editing.counterfactuals`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath

import pandas as pd

from bias.editing.base import EditRequest
from bias.editing.selection import DIRECTIONS, swap_terms, value_prompt
from bias.errors import VitbiasError


@dataclass(frozen=True)
class EditJob:
    """One planned edit; ``out_file`` is relative to ``<out>/train`` and names the result."""

    row: int                 # index into the data table
    source_file: str         # relative to the data's class-folder root
    cls: str
    request: EditRequest
    out_file: str
    seed: int


def item_seed(seed: int, *parts: str) -> int:
    """A 63-bit seed from the run seed and the item's identity (stable across runs and
    batches, unlike Python's salted ``hash``)."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def pick_pair(attribute: str, values: list[str], pair: list[str] | None) -> tuple[str, str]:
    """The two values (a, b) swapped by the edit; ``pair`` overrides, and is needed when the
    attribute has more than two values."""
    if pair:
        if len(pair) != 2 or any(v not in values for v in pair):
            raise VitbiasError(f"--values {pair} must be two of {attribute}'s values {values}")
        return pair[0], pair[1]
    if len(values) != 2:
        raise VitbiasError(f"attribute '{attribute}' has values {values}: pass --values A,B "
                           "to choose the pair to swap")
    return values[0], values[1]


def _targets(direction: str, a: str, b: str) -> dict[str, str]:
    if direction not in DIRECTIONS:
        raise VitbiasError(f"unknown direction '{direction}'; choose one of {DIRECTIONS}")
    out = {}
    if direction in ("both", "a-to-b"):
        out[a] = b
    if direction in ("both", "b-to-a"):
        out[b] = a
    return out


def make_request(attribute: str, source: dict[str, str], target_value: str,
                 term_pairs: list[tuple[str, str]], caption: str = "") -> EditRequest:
    """The request with prompts: the caption (or "a photo of a {value}") and its term-pair swap
    (falling back to "a photo of a {target}" when the caption has no swappable word)."""
    from_value = source[attribute]
    source_prompt = caption or value_prompt(from_value)
    target_prompt = swap_terms(source_prompt, term_pairs)
    if target_prompt == source_prompt:
        source_prompt, target_prompt = value_prompt(from_value), value_prompt(target_value)
    return EditRequest(attribute=attribute, source=dict(source),
                       target={**source, attribute: target_value},
                       source_prompt=source_prompt, target_prompt=target_prompt,
                       instruction=f"make the person a {target_value}")


def plan_edits(table: pd.DataFrame, attribute: str, pair: tuple[str, str], direction: str,
               term_pairs: list[tuple[str, str]], seed: int,
               protected: list[str] | None = None, limit: int | None = None) -> list[EditJob]:
    """Jobs for every row of ``table`` (columns ``file``, ``class``, ``attribute`` and the other
    ``protected`` attributes, optional ``caption``) whose value is swapped by ``direction``.

    In table order; with ``limit``, the first ``limit`` jobs in class round-robin order (the
    i-th job of every class before the (i+1)-th of any), so small sets cover every class and a
    larger limit only adds jobs."""
    targets = _targets(direction, *pair)
    protected = protected or [attribute]
    jobs: list[EditJob] = []
    for i, rec in enumerate(table.to_dict("records")):
        source = {a: str(rec[a]) for a in protected}
        to = targets.get(source[attribute])
        if to is None:
            continue
        src = PurePosixPath(str(rec["file"]))
        out_file = f"{rec['class']}/{src.stem}__{attribute}-{to}.png"
        caption = rec.get("caption")
        caption = str(caption) if isinstance(caption, str) else ""
        jobs.append(EditJob(row=i, source_file=str(src), cls=str(rec["class"]),
                            request=make_request(attribute, source, to, term_pairs, caption),
                            out_file=out_file, seed=item_seed(seed, str(src), attribute, to)))
    if limit is None:
        return jobs
    by_class: dict[str, list[EditJob]] = {}
    for job in jobs:
        by_class.setdefault(job.cls, []).append(job)
    rank = {id(j): (i, c) for c, js in enumerate(by_class.values()) for i, j in enumerate(js)}
    return sorted(jobs, key=lambda j: rank[id(j)])[:limit]
