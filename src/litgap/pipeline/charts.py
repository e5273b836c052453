"""Every chart of a report, as deterministic SVG readable without colour.

Each chart is a `Chart`: its file name, its SVG bytes (with a <title> and a <desc>
inside, for screen readers) and the same text alternative for the page that shows it.
Series differ by line style, marker and hatching, and values are written on the chart,
so a greyscale print or a reader who cannot tell colours apart loses nothing.

The SVG is written directly (`svg.Canvas`): plain shapes and <text>, no plotting
library, so the same report gives the same bytes in any process, and a 400-pillar
report's charts cost milliseconds. Where a chart would draw more series than a reader
can tell apart, it draws the most telling ones and says so; the text alternative
always holds every value.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litgap.pipeline.svg import DASHES, Canvas, clean, text_width

Report = dict[str, Any]

COMPLETENESS_SVG = "completeness.svg"
RADAR_SVG = "pillars_radar.svg"
HEATMAP_SVG = "papers_heatmap.svg"
ITERATIONS_SVG = "iterations.svg"
YEARS_SVG = "evidence_by_year.svg"
HEATMAP_PAPERS = 30
SERIES_DRAWN = 12  # pillar series on the iterations and year charts; the rest in words
NO_YEARS_NOTE = "No chart of evidence by publication year: no paper in the corpus has a known year."
LINE_STYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
HATCHES = ["///", "...", "xxx", "\\\\\\", "ooo", "---", "+++", "***"]
GREYS = ["#1f4e79", "#c0504d", "#4f6228", "#7f6000", "#5f497a", "#31859c", "#974806", "#404040"]
INK = "#222222"
GRID = "#d9d9d9"


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


def _ticks(top: float, most: int = 6) -> list[float]:
    """Round ticks from 0 to at least `top`: steps of 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return [0.0, 1.0]
    for power in range(0, 12):
        for base in (1, 2, 5):
            step = base * 10**power
            if math.ceil(top / step) <= most - 1:
                return [float(step * i) for i in range(math.ceil(top / step) + 1)]
    return [0.0, float(top)]  # pragma: no cover - counts never reach 10**12


def _legend(
    canvas: Canvas, x: float, y: float, entries: Sequence[tuple[str, dict[str, str]]]
) -> None:
    """A legend: one row per entry, its sample drawn as the series is (`line`: a stroke
    with `dash` and `marker`; `hatch`: a hatched swatch), then its name."""
    for i, (name, look) in enumerate(entries):
        row = y + 16 * i
        colour = look["colour"]
        if "hatch" in look:
            canvas.rect(x, row - 5, 22, 10, canvas.hatch(look["hatch"], colour), stroke=colour)
        else:
            canvas.line(
                x,
                row,
                x + 22,
                row,
                colour,
                float(look.get("width", "1.6")),
                look.get("dash") or None,
            )
            if "marker" in look:
                canvas.marker(look["marker"], x + 11, row, colour, 3.2)
        canvas.text(x + 28, row + 4, name, 10)


def _axis_frame(
    canvas: Canvas, left: float, top: float, width: float, height: float, ticks: Sequence[float]
) -> None:
    """Horizontal grid lines with their values on the left, and the frame."""
    for tick in ticks:
        y = top + height - height * tick / ticks[-1]
        canvas.line(left, y, left + width, y, GRID)
        canvas.text(left - 6, y + 4, f"{tick:g}", 10, "end")
    canvas.rect(left, top, width, height, "none", stroke=INK, **{"stroke-width": 0.8})


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
        size, row = 11, 18
        label_width = max([text_width(label, size) for label in labels] or [0]) + 16
        left, top, plot = label_width, 40, 520.0
        height = top + row * len(labels) + 56
        canvas = Canvas(left + plot + 50, height, title, alt)
        canvas.text((left + plot) / 2, 22, title, 14, "middle", weight="bold")
        bottom = top + row * len(labels)
        for tick in (0, 25, 50, 75, 100):
            x = left + plot * tick / 100
            canvas.line(x, top, x, bottom, GRID)
            canvas.text(x, bottom + 14, tick, 10, "middle")
        for i, (label, value, head) in enumerate(zip(labels, values, heads, strict=True)):
            y = top + row * i
            weight = "bold" if head else None
            canvas.text(left - 8, y + row / 2 + 4, label, size, "end", weight=weight)
            colour = ("#1f4e79" if head else "#5b9bd5") if value >= threshold else "#c0504d"
            width = plot * max(0.0, min(value, 100.0)) / 100
            canvas.rect(left, y + 3, width, row - 6, colour, stroke=INK, **{"stroke-width": 0.5})
            if value < threshold:  # hatched too: the colour is not the only cue
                canvas.rect(left, y + 3, width, row - 6, canvas.hatch("///", "#ffffff"))
            canvas.text(left + width + 4, y + row / 2 + 4, f"{value:.0f}", 9)
        x = left + plot * threshold / 100
        canvas.line(x, top - 4, x, bottom + 4, "#444444", 1.2, DASHES["--"])
        canvas.rect(left, top, plot, bottom - top, "none", stroke=INK, **{"stroke-width": 0.8})
        canvas.text(
            left + plot / 2,
            bottom + 34,
            f"completeness (%) — dashed line: gap threshold {threshold:g}; hatched: below it",
            11,
            "middle",
        )
        return canvas.to_bytes()

    return Chart(COMPLETENESS_SVG, title, alt, draw())


# -- pillars on a radar ----------------------------------------------------------------


def radar_chart(report: Report, parent: Mapping[str, float] | None = None) -> Chart:
    """Pillar completeness on a radar; the parent's as a second, dashed series."""
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
        size = 10
        labels = [_short(n, 28) for n in names]
        reach = max([text_width(label, size) for label in labels] or [0]) + 12
        radius = 180.0
        cx, cy = radius + reach + 10, radius + 60
        canvas = Canvas(2 * cx, cy + radius + 64, title, alt)
        canvas.text(cx, 24, title, 14, "middle", weight="bold")

        def point(i: int, value: float) -> tuple[float, float]:
            # Clockwise from the top, the first pillar at twelve o'clock.
            a = angles[i] - math.pi / 2
            r = radius * max(0.0, min(value, 100.0)) / 100
            return cx + r * math.cos(a), cy + r * math.sin(a)

        for ring in (25, 50, 75, 100):
            canvas.path([point(i, ring) for i in range(count)], True, stroke=GRID)
            canvas.text(cx + 3, cy - radius * ring / 100 - 2, ring, 8, fill="#555555")
        for i, label in enumerate(labels):
            x, y = point(i, 100)
            canvas.line(cx, cy, x, y, GRID)
            lx, ly = point(i, 108)
            dx = lx - cx
            anchor = "middle" if abs(dx) < radius * 0.15 else ("start" if dx > 0 else "end")
            canvas.text(lx, ly + 4, label, size, anchor)
        series = [("this job", mine, "-", "o", "#1f4e79", "///")]
        if theirs is not None:
            series.append(("parent job", theirs, "--", "s", "#c0504d", ""))
        for _, values, style, marker, colour, hatch in series:
            outline = [point(i, v) for i, v in enumerate(values)]
            fill = canvas.hatch(hatch, colour) if hatch else "none"
            canvas.path(
                outline,
                True,
                fill=fill,
                stroke=colour,
                **{"stroke-width": 1.8, "stroke-dasharray": DASHES[style]},
            )
            for x, y in outline:
                canvas.marker(marker, x, y, colour, 3.5)
        for i, value in enumerate(mine):
            x, y = point(i, value)
            canvas.text(x + 6, y - 6, f"{value:.0f}", 9, weight="bold")
        looks = [
            (label, {"colour": colour, "dash": DASHES[style] or "", "marker": marker})
            for label, _, style, marker, colour, _ in series
        ]
        _legend(canvas, 2 * cx - 120, cy + radius + 28, looks)
        return canvas.to_bytes()

    return Chart(RADAR_SVG, title, alt, draw())


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
        size, cell_w, cell_h = 9, 46.0, 18.0
        # Paper ids (file names) are unique and short; titles often share a prefix.
        labels = [_short(p, 44) for p in papers] or ["(no evidence)"]
        heads = [_short(c, 24) for c in columns]
        left = max(text_width(label, size) for label in labels) + 14
        # Column names are written at 45 degrees above their column.
        rise = max([text_width(h, size) for h in heads] or [0]) * 0.72 + 50
        rows = max(1, len(papers))
        key = "cell: share (%) of the column's evidence; darker = larger"
        width = left + max(cell_w * len(columns) + rise * 0.8, text_width(key, 10), 230) + 20
        canvas = Canvas(width, rise + cell_h * rows + 70, title, alt)
        canvas.text(10, 20, title, 13, weight="bold")
        for c, head in enumerate(heads):
            x = left + cell_w * (c + 0.5)
            canvas.text(x, rise - 6, head, size, rotate=-45)
        for r, label in enumerate(labels):
            canvas.text(left - 6, rise + cell_h * r + cell_h / 2 + 3, label, size, "end")
        for r, row in enumerate(values):
            for c, value in enumerate(row):
                x, y = left + cell_w * c, rise + cell_h * r
                level = round(255 * (1 - max(0.0, min(value, 100.0)) / 100))
                canvas.rect(x, y, cell_w, cell_h, f"#{level:02x}{level:02x}{level:02x}")
                ink = "#ffffff" if value > 55 else "#000000"
                canvas.text(
                    x + cell_w / 2, y + cell_h / 2 + 3, f"{value:.0f}", 8, "middle", fill=ink
                )
        bottom = rise + cell_h * rows
        grid_w = cell_w * len(columns)
        canvas.rect(left, rise, grid_w, bottom - rise, "none", stroke=INK, **{"stroke-width": 0.8})
        canvas.text(left, bottom + 22, key, 10)
        for i, share in enumerate((0, 25, 50, 75, 100)):
            level = round(255 * (1 - share / 100))
            x = left + 46 * i
            canvas.rect(x, bottom + 32, 40, 14, f"#{level:02x}{level:02x}{level:02x}", stroke=INK)
            canvas.text(x + 20, bottom + 60, share, 9, "middle")
        return canvas.to_bytes()

    return Chart(HEATMAP_SVG, title, alt, draw())


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

    drawn = [series[0], *_most_telling(series[1:], lambda values: -values[-1])]

    def draw() -> bytes:
        left, top, plot_w, plot_h = 50.0, 44.0, 460.0, 300.0
        legend_w = max(text_width(_short(name, 40), 10) for name, _ in drawn) + 44
        canvas = Canvas(left + plot_w + 50 + legend_w, top + plot_h + 80, title, alt)
        canvas.text(left + plot_w / 2, 24, title, 14, "middle", weight="bold")
        _axis_frame(canvas, left, top, plot_w, plot_h, [0, 25, 50, 75, 100])
        span = max(1, numbers[-1] - numbers[0]) if numbers else 1

        def at(number: int, value: float) -> tuple[float, float]:
            x = (
                left
                + 20
                + (plot_w - 60) * ((number - numbers[0]) / span if len(numbers) > 1 else 0.5)
            )
            return x, top + plot_h * (1 - max(0.0, min(value, 100.0)) / 100)

        for number in numbers:
            x, _ = at(number, 0)
            canvas.text(x, top + plot_h + 16, number, 10, "middle")
        canvas.text(left + plot_w / 2, top + plot_h + 36, "iteration", 11, "middle")
        canvas.text(16, top + plot_h / 2, "completeness (%)", 11, "middle", rotate=-90)
        looks = []
        ends: list[tuple[float, float, float]] = []
        for i, (name, values) in enumerate(drawn):
            colour = "#000000" if i == 0 else GREYS[(i - 1) % len(GREYS)]
            dash = DASHES[LINE_STYLES[i % len(LINE_STYLES)]]
            marker = MARKERS[i % len(MARKERS)]
            width = 2.5 if i == 0 else 1.4
            points = [at(n, v) for n, v in zip(numbers, values, strict=True)]
            canvas.path(
                points, False, stroke=colour, **{"stroke-width": width, "stroke-dasharray": dash}
            )
            for x, y in points:
                canvas.marker(marker, x, y, colour, 3.5)
            if points:
                ends.append((points[-1][1], points[-1][0], values[-1]))
            looks.append(
                (
                    _short(name, 40),
                    {"colour": colour, "dash": dash or "", "marker": marker, "width": str(width)},
                )
            )
        # The last value at each line's end (no legend lookup needed), moved apart
        # where lines end close together.
        below = -math.inf
        for y, x, value in sorted(ends):
            below = max(y, below + 11)
            canvas.text(x + 7, below + 4, f"{value:.0f}", 9)
        _legend(canvas, left + plot_w + 30, top + 8, looks)
        if len(drawn) < len(series):
            canvas.text(
                left,
                top + plot_h + 60,
                f"Drawn: overall and the {len(drawn) - 1} of {len(series) - 1} pillars with the "
                "lowest completeness; every value is in the text alternative.",
                10,
            )
        return canvas.to_bytes()

    return Chart(ITERATIONS_SVG, title, alt, draw())


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

    shown = _most_telling(list(zip(names, counts, strict=True)), lambda row: sum(row))

    def draw() -> bytes:
        left, top, plot_h = 56.0, 44.0, 280.0
        bar = 14.0
        group = bar * len(shown) + 18
        plot_w = max(360.0, group * len(years))
        legend_w = max(text_width(_short(name, 40), 10) for name, _ in shown) + 44
        canvas = Canvas(left + plot_w + 40 + legend_w, top + plot_h + 80, title, alt)
        canvas.text(left + plot_w / 2, 24, title, 14, "middle", weight="bold")
        ticks = _ticks(max(max(row) for _, row in shown))
        _axis_frame(canvas, left, top, plot_w, plot_h, ticks)
        group = plot_w / len(years)
        bar = min(30.0, (group - 18) / len(shown))
        looks = []
        for i, (name, row) in enumerate(shown):
            colour, hatch = GREYS[i % len(GREYS)], HATCHES[i % len(HATCHES)]
            fill = canvas.hatch(hatch, colour)
            for y_index, n in enumerate(row):
                x = left + group * y_index + (group - bar * len(shown)) / 2 + bar * i
                h = plot_h * n / ticks[-1]
                canvas.rect(x, top + plot_h - h, bar - 2, h, "#ffffff", stroke=colour)
                canvas.rect(x, top + plot_h - h, bar - 2, h, fill)
                if n:
                    canvas.text(x + bar / 2 - 1, top + plot_h - h - 3, n, 8, "middle")
            looks.append((_short(name, 40), {"colour": colour, "hatch": hatch}))
        for y_index, year in enumerate(years):
            canvas.text(left + group * (y_index + 0.5), top + plot_h + 16, year, 10, "middle")
        canvas.text(left + plot_w / 2, top + plot_h + 36, "publication year", 11, "middle")
        canvas.text(16, top + plot_h / 2, "passages kept as evidence", 11, "middle", rotate=-90)
        _legend(canvas, left + plot_w + 24, top + 8, looks)
        if len(shown) < len(names):
            canvas.text(
                left,
                top + plot_h + 60,
                f"Drawn: the {len(shown)} of {len(names)} pillars with the most evidence; "
                "every count is in the text alternative.",
                10,
            )
        return canvas.to_bytes()

    return Chart(YEARS_SVG, title, alt, draw())


def _most_telling(items: list[Any], key: Any) -> list[Any]:
    """At most SERIES_DRAWN of `items`, those with the largest `key`, in their order."""
    if len(items) <= SERIES_DRAWN:
        return items
    ranked = sorted(range(len(items)), key=lambda i: (-key(items[i][1]), i))[:SERIES_DRAWN]
    return [items[i] for i in sorted(ranked)]


def _short(text: str, limit: int) -> str:
    flat = clean(text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
