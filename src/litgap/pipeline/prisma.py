"""The PRISMA 2020 flow of a corpus: records identified per source, removed before
screening (duplicates, unreadable or over a reading limit), screened, excluded with
reasons, and included.

Pure: computed from plain data (the corpus files' names, the papers read, the files and
records skipped with their reasons, the screening exclusions, the uploads left out
before the job existed) and rendered as deterministic CSV, SVG and Markdown lines.

A record is one paper as a source gives it: a PDF, TXT or Markdown upload is one
record, a research-database CSV one per row, a .bib or .ris file one per entry; a file
that cannot be read at all is one record. A PDF taken as the full text of a library
entry is that entry's report, not a record of its own. An upload left out whole before
the job existed (same sha256, DOI or title as a paper the corpus had) counts as one
record, removed as a duplicate.

The numbers add up by construction, and `check` proves it: identified = duplicates +
unreadable + screened; screened = excluded + included; each box's detail sums to it.
"""

import csv
import io
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from litgap.pipeline.errors import PipelineError
from litgap.pipeline.svg import DASHES, Canvas, text_width

PRISMA_SVG = "prisma_flow.svg"
PRISMA_CSV = "prisma_flow.csv"
STAGES = {"title_abstract": "title/abstract", "full_text": "full text"}
DUPLICATE_WAYS = ("same content", "same DOI", "same title")
DETAIL_LINES = 8  # reasons listed in one box of the SVG; the CSV and the alt text hold all

_KINDS = {
    ".pdf": "pdf",
    ".txt": "txt",
    ".md": "markdown",
    ".markdown": "markdown",
    ".csv": "database",
    ".bib": "bibtex",
    ".ris": "ris",
}
# Uploads are counted together by format; a database or library file is its own source.
_GROUPED = {"pdf": "PDF uploads", "txt": "TXT uploads", "markdown": "Markdown uploads"}
_FILE_SOURCE = {"database": "research database", "bibtex": "BibTeX", "ris": "RIS"}
_DUPLICATE = re.compile(r"^duplicate of .*\((?P<way>[^()]*)\)$")

Flow = dict[str, Any]


@dataclass(frozen=True)
class Exclusion:
    """A screening decision that left a paper out: the reason and the stage."""

    paper: str
    reason: str
    stage: str = "title_abstract"


def source_kind(name: str) -> str:
    return _KINDS.get(PurePath(name).suffix.lower(), "other")


def source_label(name: str) -> str:
    """What the flow calls a file's source: "PDF uploads", "BibTeX: library.bib"..."""
    kind = source_kind(name)
    if kind in _GROUPED:
        return _GROUPED[kind]
    return f"{_FILE_SOURCE.get(kind, 'other')}: {name}"


def _source_of(record: str, files: Collection[str]) -> str:
    """The file a record id comes from: the id itself, or the longest file name it
    starts with followed by a space ("a.csv row 3", "lib.bib [key]", "x.ris entry 2").
    One lookup per space in the id, not a pass over the files."""
    if record in files:
        return record
    cut = len(record)
    while (cut := record.rfind(" ", 0, cut)) > 0:
        if record[:cut] in files:
            return record[:cut]
    return record


def duplicate_way(reason: str) -> str | None:
    """How a skipped record was found to be a duplicate, or None when it was not one."""
    if reason.startswith("same content as "):
        return "same content"
    match = _DUPLICATE.match(reason)
    return match.group("way") if match else None


def build_flow(
    files: Sequence[str],
    papers: Iterable[tuple[str, str]],
    skipped: Iterable[tuple[str, str]],
    exclusions: Iterable[Exclusion] = (),
    left_out: Iterable[Mapping[str, Any]] = (),
    added: Collection[str] | None = None,
) -> Flow:
    """The flow as a JSON-able dict. `files`: the corpus file names; `papers`: (id,
    title) of every paper read and kept by deduplication; `skipped`: (name, reason) of
    every file or record left out while reading; `exclusions`: screening decisions (an
    exclusion of a paper not among `papers` is ignored); `left_out`: the uploads left out
    before the job existed (config.duplicates entries with `kept` false; `inherited`
    when an ancestor's); `added`: for a continuation, the file names it added (its flow
    then also counts those alone, with the uploads it left out and did not inherit).
    Raises PipelineError if the counts do not add up (a bug, never a user's error)."""
    names = set(files)
    titles = dict(papers)
    excluded = {e.paper: e for e in exclusions if e.paper in titles}
    records: list[dict[str, Any]] = []
    for paper_id in sorted(titles):
        outcome = "excluded" if paper_id in excluded else "included"
        entry: dict[str, Any] = {
            "id": paper_id,
            "source": _source_of(paper_id, names),
            "outcome": outcome,
        }
        if paper_id in excluded:
            why = excluded[paper_id]
            entry.update(title=titles[paper_id], reason=why.reason, stage=why.stage)
        records.append(entry)
    for name, reason in sorted(skipped):
        way = duplicate_way(reason)
        records.append(
            {
                "id": name,
                "source": _source_of(name, names),
                "outcome": "unreadable" if way is None else "duplicate",
                "reason": reason if way is None else way,
            }
        )
    for item in sorted(left_out, key=lambda d: (str(d.get("file")), str(d.get("paper")))):
        records.append(
            {
                "id": str(item.get("paper") or item.get("file")),
                "source": str(item.get("file")),
                "outcome": "duplicate",
                "reason": str(item.get("reason") or "same content"),
                "before_job": True,
                # A continuation's running totals hold what its ancestors left out.
                "inherited": bool(item.get("inherited")),
            }
        )
    if added is not None:
        new = set(added)
        for entry in records:
            before = entry.get("before_job", False) and not entry.get("inherited")
            entry["added"] = before or entry["source"] in new
    flow: Flow = {
        "totals": counts(records),
        "added": counts([r for r in records if r.get("added")]) if added is not None else None,
        # Every record but the included ones, each with its reason: what the boxes count.
        "records": [r for r in records if r["outcome"] != "included"],
    }
    check(flow["totals"])
    if flow["added"] is not None:
        check(flow["added"])
    return flow


def counts(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Each box of the flow for `records`, with its detail, in a stable order."""
    by_outcome = Counter(str(r["outcome"]) for r in records)
    sources = Counter(source_label(str(r["source"])) for r in records)
    ways = Counter(str(r["reason"]) for r in records if r["outcome"] == "duplicate")
    unreadable = Counter(str(r["reason"]) for r in records if r["outcome"] == "unreadable")
    reasons = Counter(str(r["reason"]) for r in records if r["outcome"] == "excluded")
    stages = Counter(str(r["stage"]) for r in records if r["outcome"] == "excluded")
    return {
        "identified": len(records),
        "by_source": _ranked(sources, by_name=True),
        "duplicates": by_outcome["duplicate"],
        "duplicates_by": _ranked(ways),
        "unreadable": by_outcome["unreadable"],
        "unreadable_by": _ranked(unreadable),
        "screened": by_outcome["excluded"] + by_outcome["included"],
        "excluded": by_outcome["excluded"],
        "excluded_by": _ranked(reasons),
        "excluded_by_stage": _ranked(stages),
        "included": by_outcome["included"],
    }


def _ranked(counter: Counter[str], *, by_name: bool = False) -> list[dict[str, Any]]:
    # Most first, then by name: the same counts always list the same way.
    order = sorted(counter.items(), key=lambda kv: kv[0] if by_name else (-kv[1], kv[0]))
    return [{"name": name, "count": count} for name, count in order]


def check(box: Mapping[str, Any]) -> None:
    """Raise PipelineError naming the first sum that fails."""
    sums = [
        ("identified", box["duplicates"] + box["unreadable"] + box["screened"]),
        ("screened", box["excluded"] + box["included"]),
        ("identified", _total(box["by_source"])),
        ("duplicates", _total(box["duplicates_by"])),
        ("unreadable", _total(box["unreadable_by"])),
        ("excluded", _total(box["excluded_by"])),
        ("excluded", _total(box["excluded_by_stage"])),
    ]
    for name, value in sums:
        if box[name] != value:
            raise PipelineError(f"PRISMA flow does not add up: {name} is {box[name]}, not {value}")


def _total(items: Sequence[Mapping[str, Any]]) -> int:
    return sum(int(i["count"]) for i in items)


# -- rendering -------------------------------------------------------------------------

CSV_COLUMNS = ["scope", "step", "detail", "count"]


def steps(box: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(step, detail, count) rows of one scope: each box, then its detail lines."""
    rows = [("identified", "", box["identified"])]
    rows += [("identified", s["name"], s["count"]) for s in box["by_source"]]
    rows.append(("duplicates removed", "", box["duplicates"]))
    rows += [("duplicates removed", s["name"], s["count"]) for s in box["duplicates_by"]]
    rows.append(("unreadable or over limits", "", box["unreadable"]))
    rows += [("unreadable or over limits", s["name"], s["count"]) for s in box["unreadable_by"]]
    rows.append(("screened", "", box["screened"]))
    rows.append(("excluded", "", box["excluded"]))
    rows += [("excluded", s["name"], s["count"]) for s in box["excluded_by"]]
    rows += [
        ("excluded at stage", STAGES.get(s["name"], s["name"]), s["count"])
        for s in box["excluded_by_stage"]
    ]
    rows.append(("included", "", box["included"]))
    return rows


def row_label(step: str, detail: str) -> str:
    """How a row of `steps` reads in a table: the step, or its detail under it."""
    if not detail:
        return step.capitalize()
    return f"at {detail}" if step == "excluded at stage" else detail


def scopes(flow: Flow) -> list[tuple[str, Mapping[str, Any]]]:
    """("all", totals), and for a continuation ("added", the added papers' flow) first."""
    added = flow.get("added")
    return [("added", added), ("all", flow["totals"])] if added else [("all", flow["totals"])]


def render_csv(flow: Flow) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for scope, box in scopes(flow):
        for step, detail, count in steps(box):
            # A reason or a file name from a user: never a spreadsheet formula.
            safe = "'" + detail if detail[:1] in ("=", "+", "-", "@", "\t", "\r") else detail
            writer.writerow([scope, step, safe, count])
    return out.getvalue().encode("utf-8")


def describe(flow: Flow) -> str:
    """The flow in words: the SVG's text alternative, and the page's."""
    parts = []
    for scope, box in scopes(flow):
        head = "Papers added by this continuation" if scope == "added" else "All records"
        parts.append(
            f"{head}: {box['identified']} records identified ("
            + ", ".join(f"{s['name']} {s['count']}" for s in box["by_source"])
            + f"); {box['duplicates']} duplicates removed"
            + _detail(box["duplicates_by"])
            + f"; {box['unreadable']} unreadable or over limits"
            + _detail(box["unreadable_by"])
            + f"; {box['screened']} screened; {box['excluded']} excluded"
            + _detail(box["excluded_by"])
            + f"; {box['included']} included."
        )
    return "PRISMA 2020 flow diagram. " + " ".join(parts)


def _detail(items: Sequence[Mapping[str, Any]]) -> str:
    return " (" + ", ".join(f"{i['name']}: {i['count']}" for i in items) + ")" if items else ""


def markdown_lines(flow: Flow, escape: Any) -> list[str]:
    """The report.md section's lines (`escape` makes a user's text plain Markdown)."""
    lines = ["## PRISMA 2020 flow", ""]
    for scope, box in scopes(flow):
        if len(scopes(flow)) > 1:
            title = "Papers added" if scope == "added" else "Running totals"
            lines += [f"### {title}", ""]
        lines += ["| Step | Records |", "|---|---:|"]
        for step, detail, count in steps(box):
            label = escape(row_label(step, detail))
            label = f"· {label}" if detail else f"**{label}**"
            lines.append(f"| {label} | {count} |")
        lines.append("")
    excluded = [r for r in flow["records"] if r["outcome"] == "excluded"]
    if excluded:
        lines += ["Excluded at screening:", ""]
        lines += [
            f"- {escape(r['id'])}: {escape(r['reason'])} "
            f"({STAGES.get(str(r.get('stage')), r.get('stage'))})"
            for r in excluded
        ]
        lines.append("")
    lines.append(f"The diagram is {PRISMA_SVG}; the counts are in {PRISMA_CSV}.")
    return lines


_BOX_W, _SIDE_W, _LINE = 300.0, 330.0, 15.0
_PHASES = ("Identification", "Screening", "Included")


def render_svg(flow: Flow) -> bytes:
    """The flow diagram: the main boxes down the left (solid), what left the flow on
    the right (dashed), phases named in a band; for a continuation each count reads
    "total (added n)". Readable without colour: the lines and words carry it all."""
    box = flow["totals"]
    added = flow.get("added")

    def n(key: str) -> str:
        return f"n = {box[key]}" + (f" (added {added[key]})" if added else "")

    def items(key: str) -> list[str]:
        shown = [f"{_short(str(i['name']))}: {i['count']}" for i in box[key]]
        if len(shown) > DETAIL_LINES:
            shown = [*shown[: DETAIL_LINES - 1], f"… {len(shown) - DETAIL_LINES + 1} more"]
        return shown

    main = [
        ("Records identified", n("identified"), items("by_source")),
        ("Records screened", n("screened"), []),
        ("Studies included", n("included"), []),
    ]
    side = [
        (
            "Removed before screening",
            f"duplicates: {box['duplicates']}"
            + (f" (added {added['duplicates']})" if added else ""),
            [
                *[f"· {line}" for line in items("duplicates_by")],
                f"unreadable or over limits: {box['unreadable']}"
                + (f" (added {added['unreadable']})" if added else ""),
                *[f"· {line}" for line in items("unreadable_by")],
            ],
        ),
        (
            "Records excluded",
            n("excluded"),
            [
                *items("excluded_by"),
                *[
                    f"at {STAGES.get(s['name'], s['name'])}: {s['count']}"
                    for s in box["excluded_by_stage"]
                ],
            ],
        ),
    ]
    side_w = max(_SIDE_W, _widest(side) + 24)
    box_w = max(_BOX_W, _widest(main) + 24)
    left, gap, top = 44.0, 40.0, 46.0
    heights = [
        max(_height(main[i][2]), _height(side[i][2]) if i < len(side) else 0) for i in range(3)
    ]
    ys = [top, top + heights[0] + gap, top + heights[0] + heights[1] + 2 * gap]
    width = left + box_w + gap + side_w + 16
    height = ys[2] + heights[2] + 20
    canvas = Canvas(width, height, "PRISMA 2020 flow diagram", describe(flow))
    canvas.text(width / 2, 24, "PRISMA 2020 flow diagram", 14, "middle", weight="bold")
    for i, phase in enumerate(_PHASES):
        # A hatched band with the phase's name: the phases differ by words, not hue.
        canvas.rect(8, ys[i], 24, heights[i], canvas.hatch("...", "#bbbbbb"), stroke="#444444")
        canvas.text(24, ys[i] + heights[i] / 2, phase, 11, "middle", rotate=-90, weight="bold")
    for i, (title, count, lines) in enumerate(main):
        _box(canvas, left, ys[i], box_w, heights[i], title, count, lines, dashed=False)
        if i + 1 < len(main):
            _arrow(canvas, left + box_w / 2, ys[i] + heights[i], left + box_w / 2, ys[i + 1])
    for i, (title, count, lines) in enumerate(side):
        x = left + box_w + gap
        _box(canvas, x, ys[i], side_w, heights[i], title, count, lines, dashed=True)
        middle = ys[i] + min(heights[i], 60) / 2
        _arrow(canvas, left + box_w, middle, x, middle)
    return canvas.to_bytes()


def _short(text: str, limit: int = 80) -> str:
    # A reason or a file name can be long; the CSV and the text alternative hold it whole.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _height(lines: Sequence[str]) -> float:
    return max(64.0, 44 + _LINE * len(lines))  # room for the phase's name, written upright


def _widest(boxes: Sequence[tuple[str, str, Sequence[str]]]) -> float:
    return max(text_width(t, 10.5) for _, count, lines in boxes for t in [count, *lines])


def _box(
    canvas: Canvas,
    x: float,
    y: float,
    w: float,
    h: float,
    title: str,
    count: str,
    lines: Sequence[str],
    *,
    dashed: bool,
) -> None:
    attrs: dict[str, object] = {"stroke": "#222222", "stroke-width": 1.2}
    if dashed:
        attrs["stroke-dasharray"] = DASHES["--"]
    canvas.rect(x, y, w, h, "#ffffff", **attrs)
    canvas.text(x + 10, y + 17, title, 11, weight="bold")
    canvas.text(x + 10, y + 33, count, 11)
    for i, line in enumerate(lines):
        canvas.text(x + 10, y + 48 + _LINE * i, line, 10)


def _arrow(canvas: Canvas, x1: float, y1: float, x2: float, y2: float) -> None:
    canvas.line(x1, y1, x2, y2, "#222222", 1.2)
    if x1 == x2:  # down
        head = [(x2, y2), (x2 - 4, y2 - 7), (x2 + 4, y2 - 7)]
    else:  # right
        head = [(x2, y2), (x2 - 7, y2 - 4), (x2 - 7, y2 + 4)]
    canvas.path(head, True, fill="#222222")
