"""report.html: the whole report as one self-contained page a reader can hand on.

No network, no script: inline CSS (with print rules), the SVG charts inlined, every
string from a paper, a framework or a user escaped by Jinja2's autoescape. What the
pipeline does not know (the job's decisions and lineage) arrives as a `ReportContext`.
Deterministic: no clock is read; the same report and context give the same bytes.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from litgap.pipeline.charts import Charts
from litgap.pipeline.prisma import STAGES, describe, row_label, scopes, steps
from litgap.pipeline.prisma import render_svg as render_prisma_svg

Report = dict[str, Any]

REPORT_HTML = "report.html"
HTML_PASSAGES = 5  # passages shown per sub-requirement
HTML_PASSAGE_CHARS = 600
SUMMARY_TOP_GAPS = 5
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ReportContext:
    """What the job knows about itself: plain data, picklable for a worker."""

    job_id: str | None = None
    decisions: Sequence[Mapping[str, Any]] = ()  # the job's resolved prompt records
    parent_job_id: str | None = None
    relation: str | None = None  # replay_of | revision_of | continues
    parent_manifest_hash: str | None = None
    parent_pillars: Mapping[str, float] | None = None  # the parent's completeness
    # For the PRISMA flow: uploads left out before the job existed (config.duplicates
    # entries not kept), and a continuation's added corpus files (None for other jobs).
    left_out: Sequence[Mapping[str, Any]] = ()
    added_files: Sequence[str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every string from a paper, a framework or a user
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


_PROLOGUE = re.compile(rb"^.*?(?=<svg\b)", re.DOTALL)
_ID = re.compile(rb'\bid="([^"]+)"')


def inline_svg(svg: bytes, prefix: str) -> Markup:
    """An SVG chart ready to sit inside HTML: no XML prologue, ids scoped by `prefix`
    so that several charts on one page cannot reference each other's elements."""
    body = _PROLOGUE.sub(b"", svg, count=1)
    ids = set(_ID.findall(body))
    body = _ID.sub(lambda m: b'id="' + prefix.encode() + m.group(1) + b'"', body)

    def scoped(m: re.Match[bytes]) -> bytes:
        name = m.group(2)
        return m.group(1) + (prefix.encode() + name if name in ids else name)

    body = re.sub(rb'(href="#|url\(#)([^")\s]+)', scoped, body)
    body = re.sub(
        rb'aria-labelledby="([^"]*)"',
        lambda m: (
            b'aria-labelledby="'
            + b" ".join(prefix.encode() + n if n in ids else n for n in m.group(1).split())
            + b'"'
        ),
        body,
    )
    # The chart is our own renderer's output (its texts escaped when drawn as paths and
    # in <title>/<desc>), so it is markup, not data.
    return Markup(body.decode("utf-8"))


def executive_summary(report: Report) -> dict[str, Any]:
    s = report["summary"]
    by_name = {p["name"]: p for p in report["pillars"]}
    return {
        "overall": s["overall_completeness"],
        "strongest": s["strongest_pillar"],
        "strongest_value": by_name[s["strongest_pillar"]]["completeness"],
        "weakest": s["weakest_pillar"],
        "weakest_value": by_name[s["weakest_pillar"]]["completeness"],
        "gap_count": s["gap_count"],
        "sub_requirements": s["sub_requirements"],
        "top_gaps": report["gaps"][:SUMMARY_TOP_GAPS],
    }


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _snippet(text: str, limit: int = HTML_PASSAGE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _prisma(flow: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The PRISMA section's data: the diagram inlined, its words, each scope's rows and
    the papers excluded at screening."""
    if not flow:
        return None
    return {
        "svg": inline_svg(render_prisma_svg(dict(flow)), "prisma-"),
        "alt": describe(dict(flow)),
        "scopes": [
            {
                "name": "Papers added" if name == "added" else "All records",
                "rows": [(row_label(s, d), bool(d), n) for s, d, n in steps(box)],
            }
            for name, box in scopes(dict(flow))
        ],
        "excluded": [
            {**r, "stage_label": STAGES.get(str(r.get("stage")), str(r.get("stage")))}
            for r in flow["records"]
            if r["outcome"] == "excluded"
        ],
    }


def render_html(report: Report, charts: Charts, context: ReportContext | None = None) -> bytes:
    """report.html as bytes."""
    context = context or ReportContext()
    template = _environment().get_template("report.html.j2")
    titles = {p["id"]: p["title"] for p in report["corpus"]["papers"]}
    text = template.render(
        report=report,
        summary=executive_summary(report),
        charts=[
            {"chart": c, "svg": inline_svg(c.svg, f"c{i}-")} for i, c in enumerate(charts.charts)
        ],
        chart_notes=charts.notes,
        context=context,
        prisma=_prisma(report.get("prisma")),
        titles=titles,
        passages=HTML_PASSAGES,
        shown=_shown,
        snippet=_snippet,
    )
    return text.encode("utf-8")
