"""Every chart of a report, as deterministic SVG readable without colour.

Each chart is a `Chart`: its file name, its SVG bytes (with a <title> and a <desc>
inside, for screen readers) and the same text alternative for the page that shows it.
Series differ by line style, marker and hatching, and values are written on the chart,
so a greyscale print or a reader who cannot tell colours apart loses nothing.

Determinism: a fixed `svg.hashsalt`, no date, no creator (which names matplotlib's
version), text drawn as paths. The same report gives the same bytes in any process.
"""

import io
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Report = dict[str, Any]

COMPLETENESS_SVG = "completeness.svg"
RADAR_SVG = "pillars_radar.svg"
HEATMAP_SVG = "papers_heatmap.svg"
ITERATIONS_SVG = "iterations.svg"
YEARS_SVG = "evidence_by_year.svg"
HEATMAP_PAPERS = 30
NO_YEARS_NOTE = "No chart of evidence by publication year: no paper in the corpus has a known year."
LINE_STYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
HATCHES = ["///", "...", "xxx", "\\\\\\", "ooo", "---", "+++", "***"]
GREYS = ["#1f4e79", "#c0504d", "#4f6228", "#7f6000", "#5f497a", "#31859c", "#974806", "#404040"]

# matplotlib's settings are process-wide: two charts drawn at once from two threads
# (two jobs) could see each other's, and lose the fixed salt that keeps ids stable.
_CHART_LOCK = threading.Lock()


@dataclass(frozen=True)
class Chart:
    name: str  # file name in results/
    title: str
    alt: str  # the text alternative: what the chart shows, in words
    svg: bytes


@dataclass(frozen=True)
class Charts:
    charts: list[Chart]
    notes: list[str]  # why a chart is missing, in words


def render_charts(report: Report, parent: Mapping[str, float] | None = None) -> Charts:
    """Every chart the report supports. `parent` is the parent (or original) job's
    completeness per pillar, drawn against this job's on the radar."""
    charts = [
        completeness_chart(report),
        radar_chart(report, parent),
        heatmap_chart(report),
        iterations_chart(report),
    ]
    notes: list[str] = []
    years = years_chart(report)
    if years is None:
        notes.append(NO_YEARS_NOTE)
    else:
        charts.append(years)
    return Charts(charts, notes)


@contextmanager
def _figure(width: float, height: float, polar: bool = False) -> Iterator[tuple["Figure", Any]]:
    # Imported here: matplotlib takes a while to load and only the charts need it.
    # A bare Figure needs no pyplot and no global backend: nothing outside changes.
    import matplotlib
    from matplotlib.figure import Figure

    # A fixed salt makes the SVG's element ids the same every run; text stays plain
    # text (no $...$ mathematics) whatever a pillar is called.
    with (
        _CHART_LOCK,
        matplotlib.rc_context(
            {
                "svg.hashsalt": "litgap",
                "svg.fonttype": "path",
                "text.parse_math": False,
                "hatch.linewidth": 0.8,
            }
        ),
    ):
        figure = Figure(figsize=(width, height))
        axes = figure.add_subplot(projection="polar" if polar else None)
        yield figure, axes


def _save(figure: "Figure", title: str, alt: str) -> bytes:
    out = io.BytesIO()
    # No date and no "Creator: Matplotlib vX": the bytes must not depend on versions.
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None, "Title": title})
    return _with_text_alternative(out.getvalue(), title, alt)


_SVG_OPEN = re.compile(rb"<svg\b[^>]*>")


def _with_text_alternative(svg: bytes, title: str, alt: str) -> bytes:
    """Put <title> and <desc> first inside <svg> and name them as its accessible label."""
    match = _SVG_OPEN.search(svg)
    if match is None:  # pragma: no cover - matplotlib always writes one
        return svg
    head = match.group(0)[:-1] + b' role="img" aria-labelledby="chart-title chart-desc">'
    inner = (
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(alt)}</desc>'
    ).encode()
    return svg[: match.start()] + head + inner + svg[match.end() :]


def _chart(name: str, title: str, alt: str, draw: Callable[[], bytes]) -> Chart:
    return Chart(name=name, title=title, alt=alt, svg=draw())


# -- completeness per pillar and requirement ------------------------------------------


def completeness_chart(report: Report) -> Chart:
    """Completeness per pillar and requirement as horizontal bars, values written."""
    labels: list[str] = []
    values: list[float] = []
    heads: list[bool] = []
    for pillar in report["pillars"]:
        labels.append(_short(pillar["name"], 60))
        values.append(pillar["completeness"])
        heads.append(True)
        for req in pillar["requirements"]:
            labels.append("    " + _short(f"{req['id']}: {req['name']}", 56))
            values.append(req["completeness"])
            heads.append(False)
    threshold = report["parameters"]["gap_threshold"]
    title = "Completeness by pillar and requirement"
    below = [p["name"] for p in report["pillars"] if p["completeness"] < threshold]
    alt = (
        f"Bar chart of completeness (0 to 100%) for {len(report['pillars'])} pillars and "
        f"their requirements; gap threshold {threshold:g}. "
        + "; ".join(f"{p['name']}: {p['completeness']:.0f}%" for p in report["pillars"])
        + (f". Pillars below the threshold: {', '.join(below)}." if below else ".")
    )

    def draw() -> bytes:
        with _figure(10, 1.2 + 0.32 * len(labels)) as (figure, axes):
            rows = list(range(len(labels)))
            colours = [
                ("#1f4e79" if head else "#5b9bd5") if value >= threshold else "#c0504d"
                for value, head in zip(values, heads, strict=True)
            ]
            # Bars under the threshold are hatched too: the colour is not the only cue.
            hatches = ["///" if value < threshold else "" for value in values]
            bars = axes.barh(rows, values, color=colours, edgecolor="#222222", linewidth=0.5)
            for bar, hatch in zip(bars, hatches, strict=True):
                bar.set_hatch(hatch)
            axes.bar_label(bars, fmt="%.0f", padding=3, fontsize=8)
            axes.axvline(threshold, color="#444444", linestyle="--", linewidth=1)
            axes.set_yticks(rows, labels)
            for tick, head in zip(axes.get_yticklabels(), heads, strict=True):
                tick.set_fontweight("bold" if head else "normal")
            axes.invert_yaxis()
            axes.set_xlim(0, 100)
            axes.set_xlabel(
                f"completeness (%) — dashed line: gap threshold {threshold:g}; hatched: below it"
            )
            axes.set_title(title)
            figure.tight_layout()
            return _save(figure, title, alt)

    return _chart(COMPLETENESS_SVG, title, alt, draw)


# -- pillars on a radar ----------------------------------------------------------------


def radar_chart(report: Report, parent: Mapping[str, float] | None = None) -> Chart:
    """Pillar completeness on a radar; the parent's as a second, dashed series."""
    import math

    names = [p["name"] for p in report["pillars"]]
    mine = [p["completeness"] for p in report["pillars"]]
    theirs = [float(parent.get(n, 0.0)) for n in names] if parent else None
    title = "Pillars: completeness on a radar"
    alt = "Radar chart of completeness per pillar (0 to 100%). This job: " + "; ".join(
        f"{n}: {v:.0f}%" for n, v in zip(names, mine, strict=True)
    )
    if theirs is not None:
        alt += ". Parent job (dashed): " + "; ".join(
            f"{n}: {v:.0f}%" for n, v in zip(names, theirs, strict=True)
        )
    alt += "."
    count = len(names)
    angles = [2 * math.pi * i / count for i in range(count)]

    def draw() -> bytes:
        with _figure(7, 6, polar=True) as (figure, axes):
            closed = [*angles, angles[0]]
            series = [("this job", mine, "-", "o", "#1f4e79", "///")]
            if theirs is not None:
                series.append(("parent job", theirs, "--", "s", "#c0504d", ""))
            for label, values, style, marker, colour, hatch in series:
                loop = [*values, values[0]]
                axes.plot(closed, loop, linestyle=style, marker=marker, color=colour, label=label)
                axes.fill(closed, loop, facecolor="none", edgecolor=colour, hatch=hatch, lw=0)
            for angle, value in zip(angles, mine, strict=True):
                axes.annotate(
                    f"{value:.0f}",
                    (angle, value),
                    textcoords="offset points",
                    xytext=(6, 6),
                    fontsize=8,
                    fontweight="bold",
                )
            axes.set_ylim(0, 100)
            axes.set_yticks([25, 50, 75, 100])
            axes.set_xticks(angles, [_short(n, 28) for n in names], fontsize=8)
            axes.set_title(title)
            axes.legend(loc="lower right", bbox_to_anchor=(1.25, -0.1), fontsize=8)
            figure.tight_layout()
            return _save(figure, title, alt)

    return _chart(RADAR_SVG, title, alt, draw)


# -- papers by pillars ------------------------------------------------------------------


def contributions(report: Report) -> tuple[list[str], list[str], list[list[float]]]:
    """(papers, columns, share[paper][column]): the share (%) of a column's evidence that
    a paper carries. A column is a pillar, or a requirement when one pillar was analysed.
    In each sub-requirement, every paper's best passage score counts; a column's share
    is the mean over its sub-requirements. Papers: the HEATMAP_PAPERS largest in total."""
    one_pillar = len(report["pillars"]) == 1
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for pillar in report["pillars"]:
        if one_pillar:
            for req in pillar["requirements"]:
                groups.append((f"{req['id']}: {req['name']}", req["sub_requirements"]))
        else:
            subs = [s for r in pillar["requirements"] for s in r["sub_requirements"]]
            groups.append((pillar["name"], subs))
    order = {p["id"]: i for i, p in enumerate(report["corpus"]["papers"])}
    share: dict[str, list[float]] = {}
    for column, (_, subs) in enumerate(groups):
        for sub in subs:
            best: dict[str, float] = {}
            for e in sub["evidence"]:
                best[e["paper"]] = max(best.get(e["paper"], 0.0), e["score"])
            total = sum(best.values())
            if total <= 0:
                continue
            for paper, score in best.items():
                row = share.setdefault(paper, [0.0] * len(groups))
                row[column] += 100 * score / total / len(subs)
    ranked = sorted(share, key=lambda p: (-sum(share[p]), order.get(p, len(order)), p))
    papers = ranked[:HEATMAP_PAPERS]
    return papers, [g[0] for g in groups], [[round(v, 1) for v in share[p]] for p in papers]


def heatmap_chart(report: Report) -> Chart:
    papers, columns, values = contributions(report)
    kind = "requirements" if len(report["pillars"]) == 1 else "pillars"
    title = f"Papers by {kind}: share of the evidence each paper carries"
    if papers:
        carried = []
        for c, column in enumerate(columns):
            top = max(range(len(papers)), key=lambda r: (values[r][c], -r))
            carried.append(f"{column}: {papers[top]} ({values[top][c]:.0f}%)")
        alt = (
            f"Heatmap of {len(papers)} papers by {len(columns)} {kind}; each cell is the share "
            "(%) of that column's evidence the paper carries. Largest share per column: "
            + "; ".join(carried)
            + "."
        )
    else:
        alt = f"Heatmap of papers by {kind}: no paper has evidence above the noise level."

    def draw() -> bytes:
        rows = max(1, len(papers))
        with _figure(3.5 + 1.5 * len(columns), 1.6 + 0.34 * rows) as (figure, axes):
            grid = values or [[0.0] * len(columns)]
            axes.imshow(grid, cmap="Greys", vmin=0, vmax=100, aspect="auto")
            for r, row in enumerate(values):
                for c, value in enumerate(row):
                    axes.text(
                        c,
                        r,
                        f"{value:.0f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if value > 55 else "black",
                    )
            axes.set_xticks(range(len(columns)), [_short(c, 24) for c in columns], fontsize=7)
            # Paper ids (file names) are unique and short; titles often share a prefix.
            labels = [_short(p, 44) for p in papers] or ["(no evidence)"]
            axes.set_yticks(range(rows), labels, fontsize=7)
            axes.tick_params(axis="x", labelrotation=20)
            axes.set_title(title, fontsize=10)
            figure.tight_layout()
            return _save(figure, title, alt)

    return _chart(HEATMAP_SVG, title, alt, draw)


# -- completeness over the deep-loop iterations ----------------------------------------


def iterations_chart(report: Report) -> Chart:
    """Overall and per-pillar completeness after each iteration (from the report's
    per-iteration figures)."""
    its = report["iterations"]
    numbers = [it["iteration"] for it in its]
    series = [("overall", [it["overall_completeness"] for it in its])]
    for pillar in report["pillars"]:
        series.append((pillar["name"], [it["pillars"].get(pillar["name"], 0.0) for it in its]))
    title = "Completeness over the iterations"
    alt = (
        f"Line chart of completeness (%) over {len(numbers)} iteration(s). "
        + "; ".join(f"{name}: " + " → ".join(f"{v:.0f}" for v in values) for name, values in series)
        + "."
    )

    def draw() -> bytes:
        with _figure(9, 5) as (figure, axes):
            for i, (name, values) in enumerate(series):
                axes.plot(
                    numbers,
                    values,
                    linestyle=LINE_STYLES[i % len(LINE_STYLES)],
                    marker=MARKERS[i % len(MARKERS)],
                    color="#000000" if i == 0 else GREYS[(i - 1) % len(GREYS)],
                    linewidth=2.5 if i == 0 else 1.4,
                    label=_short(name, 40),
                )
                # The last value is written at the line's end: no legend lookup needed.
                axes.annotate(
                    f"{values[-1]:.0f}",
                    (numbers[-1], values[-1]),
                    textcoords="offset points",
                    xytext=(6, 0),
                    fontsize=8,
                    va="center",
                )
            axes.set_xticks(numbers)
            axes.set_xlim(numbers[0] - 0.3, numbers[-1] + 0.6)
            axes.set_ylim(0, 100)
            axes.set_xlabel("iteration")
            axes.set_ylabel("completeness (%)")
            axes.set_title(title)
            axes.legend(fontsize=8, loc="lower right")
            figure.tight_layout()
            return _save(figure, title, alt)

    return _chart(ITERATIONS_SVG, title, alt, draw)


# -- evidence by publication year ------------------------------------------------------


def evidence_by_year(report: Report) -> tuple[list[int], list[str], list[list[int]]]:
    """(years, pillars, counts[pillar][year]): passages kept as evidence, counted by the
    publication year of their paper; papers without a year are left out."""
    years_of = {p["id"]: p["year"] for p in report["corpus"]["papers"] if p.get("year")}
    names = [p["name"] for p in report["pillars"]]
    counted: dict[int, list[int]] = {}
    for i, pillar in enumerate(report["pillars"]):
        for req in pillar["requirements"]:
            for sub in req["sub_requirements"]:
                for e in sub["evidence"]:
                    year = years_of.get(e["paper"])
                    if year is not None:
                        counted.setdefault(int(year), [0] * len(names))[i] += 1
    years = sorted(counted)
    return years, names, [[counted[y][i] for y in years] for i in range(len(names))]


def years_chart(report: Report) -> Chart | None:
    """Evidence per pillar by publication year, or None when no paper has a year."""
    years, names, counts = evidence_by_year(report)
    if not years:
        return None
    title = "Evidence by publication year, per pillar"
    alt = (
        f"Grouped bar chart: passages kept as evidence, by the publication year of their "
        f"paper ({years[0]} to {years[-1]}), one hatched bar per pillar. "
        + "; ".join(
            f"{name}: " + ", ".join(f"{y}: {n}" for y, n in zip(years, row, strict=True) if n)
            for name, row in zip(names, counts, strict=True)
        )
        + "."
    )

    def draw() -> bytes:
        with _figure(max(7, 1.2 * len(years) + 3), 5) as (figure, axes):
            width = 0.8 / len(names)
            for i, (name, row) in enumerate(zip(names, counts, strict=True)):
                positions = [x + (i - (len(names) - 1) / 2) * width for x in range(len(years))]
                bars = axes.bar(
                    positions,
                    row,
                    width,
                    label=_short(name, 40),
                    color="white",
                    edgecolor=GREYS[i % len(GREYS)],
                    hatch=HATCHES[i % len(HATCHES)],
                )
                axes.bar_label(bars, labels=[str(n) if n else "" for n in row], fontsize=7)
            axes.set_xticks(range(len(years)), [str(y) for y in years])
            axes.set_xlabel("publication year")
            axes.set_ylabel("passages kept as evidence")
            axes.set_title(title)
            axes.legend(fontsize=8)
            figure.tight_layout()
            return _save(figure, title, alt)

    return _chart(YEARS_SVG, title, alt, draw)


def _short(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
