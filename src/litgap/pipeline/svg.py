"""A small SVG writer for the report's charts: shapes and text in, bytes out.

Deterministic by construction: elements are written in the order they are drawn,
numbers with at most two decimals, no ids but the ones asked for, no date and no
generator name. Every text and attribute value is escaped, so a pillar named
`<script>` stays text. Text widths are estimated (no font is read): layouts leave room.
"""

import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
CHAR_WIDTH = 0.62  # average advance of a character, in ems, a little over DejaVu Sans's

# XML 1.0 forbids most C0 controls even escaped; a framework's name could hold one.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

DASHES = {"-": None, "--": "6 4", ":": "1.5 3", "-.": "7 3 1.5 3"}

# Hatches drawn in an 8x8 tile: (name, path data, dots as (cx, cy, r, filled)).
_HATCH_PATHS = {
    "///": "M-2,2L2,-2M0,8L8,0M6,10L10,6",
    "\\\\\\": "M-2,6L2,10M0,0L8,8M6,-2L10,2",
    "xxx": "M0,0L8,8M0,8L8,0",
    "---": "M0,4H8",
    "+++": "M0,4H8M4,0V8",
    "***": "M0,4H8M4,0V8M1,1L7,7M1,7L7,1",
}
# Marker outlines around (0, 0), about one unit across ("o" is a circle).
_MARKERS: dict[str, list[tuple[float, float]]] = {
    "s": [(-1, -1), (1, -1), (1, 1), (-1, 1)],
    "^": [(0, -1.2), (1.1, 0.9), (-1.1, 0.9)],
    "v": [(0, 1.2), (1.1, -0.9), (-1.1, -0.9)],
    "D": [(0, -1.3), (1.1, 0), (0, 1.3), (-1.1, 0)],
    "P": [
        *[(-0.4, -1.2), (0.4, -1.2), (0.4, -0.4), (1.2, -0.4), (1.2, 0.4), (0.4, 0.4)],
        *[(0.4, 1.2), (-0.4, 1.2), (-0.4, 0.4), (-1.2, 0.4), (-1.2, -0.4), (-0.4, -0.4)],
    ],
    "X": [
        *[(-1, -1.3), (0, -0.3), (1, -1.3), (1.3, -1), (0.3, 0), (1.3, 1), (1, 1.3)],
        *[(0, 0.3), (-1, 1.3), (-1.3, 1), (-0.3, 0), (-1.3, -1)],
    ],
}
_STAR = [
    (
        round(math.cos(math.pi * (i / 5 - 0.5)) * r, 4),
        round(math.sin(math.pi * (i / 5 - 0.5)) * r, 4),
    )
    for i, r in zip(range(10), [1.3, 0.55] * 5, strict=True)
]
_HATCH_DOTS = {"...": (1.2, True), "ooo": (2.3, False)}


def num(value: float) -> str:
    """A coordinate as short, stable text: at most two decimals, never `-0`."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def clean(text: object) -> str:
    """Text fit for a chart: one line, no control characters."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


class Canvas:
    """One SVG picture of `width` x `height` user units, with its text alternative."""

    def __init__(self, width: float, height: float, title: str, alt: str) -> None:
        self.width = math.ceil(width)
        self.height = math.ceil(height)
        self._title = title
        self._alt = alt
        self._hatches: dict[tuple[str, str], str] = {}
        self._defs: list[str] = []
        self._body: list[str] = []

    def _element(self, tag: str, attrs: dict[str, object], text: str | None = None) -> None:
        parts = [tag]
        for key, value in attrs.items():
            if value is None:
                continue
            shown = num(value) if isinstance(value, float | int) else str(value)
            parts.append(f"{key}={quoteattr(shown)}")
        head = "<" + " ".join(parts)
        self._body.append(f"{head}/>" if text is None else f"{head}>{escape(text)}</{tag}>")

    def rect(self, x: float, y: float, w: float, h: float, fill: str, **attrs: object) -> None:
        self._element("rect", {"x": x, "y": y, "width": w, "height": h, "fill": fill, **attrs})

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        stroke: str = "#444444",
        width: float = 1,
        dash: str | None = None,
    ) -> None:
        self._element(
            "line",
            {
                "x1": x1,
                "y1": y1,
                "x2": x2,
                "y2": y2,
                "stroke": stroke,
                "stroke-width": width,
                "stroke-dasharray": dash,
            },
        )

    def path(self, points: Sequence[tuple[float, float]], closed: bool, **attrs: object) -> None:
        if not points:
            return
        data = "M" + "L".join(f"{num(x)},{num(y)}" for x, y in points) + ("Z" if closed else "")
        self._element("path", {"d": data, "fill": "none", **attrs})

    def text(
        self,
        x: float,
        y: float,
        content: object,
        size: float = 11,
        anchor: str = "start",
        rotate: float | None = None,
        weight: str | None = None,
        **attrs: object,
    ) -> None:
        transform = f"rotate({num(rotate)} {num(x)} {num(y)})" if rotate else None
        self._element(
            "text",
            {
                "x": x,
                "y": y,
                "font-size": size,
                "text-anchor": None if anchor == "start" else anchor,
                "transform": transform,
                "font-weight": weight,
                **attrs,
            },
            clean(content),
        )

    def marker(self, kind: str, x: float, y: float, colour: str, size: float = 4) -> None:
        """A filled marker (o s ^ v D P X *) centred on (x, y)."""
        if kind == "o":
            self._element("circle", {"cx": x, "cy": y, "r": size, "fill": colour})
            return
        corners = _MARKERS.get(kind, _STAR)
        self.path([(x + dx * size, y + dy * size) for dx, dy in corners], True, fill=colour)

    def hatch(self, kind: str, colour: str) -> str:
        """A fill (`url(#…)`) of `kind` hatching (matplotlib's names: /// ... xxx) in
        `colour` over a transparent ground; defined once per picture."""
        key = self._hatches.get((kind, colour))
        if key is None:
            key = self._hatches[(kind, colour)] = f"hatch-{len(self._hatches)}"
            if kind in _HATCH_DOTS:
                r, filled = _HATCH_DOTS[kind]
                tile = (
                    f'<circle cx="4" cy="4" r="{num(r)}" fill="{colour if filled else "none"}" '
                    f'stroke="{colour}" stroke-width="0.8"/>'
                )
            else:
                data = _HATCH_PATHS.get(kind, _HATCH_PATHS["///"])
                tile = f'<path d="{data}" stroke="{colour}" stroke-width="0.9"/>'
            self._defs.append(
                f'<pattern id="{key}" width="8" height="8" patternUnits="userSpaceOnUse">'
                f"{tile}</pattern>"
            )
        return f"url(#{key})"

    def to_bytes(self) -> bytes:
        defs = "".join(self._defs)
        head = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-labelledby="chart-title chart-desc" font-family={quoteattr(FONT)}>'
            f'<title id="chart-title">{escape(_CONTROL.sub(" ", self._title))}</title>'
            f'<desc id="chart-desc">{escape(_CONTROL.sub(" ", self._alt))}</desc>'
        )
        background = f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>'
        body = "\n".join(self._body)
        return (
            head
            + (f"<defs>{defs}</defs>" if defs else "")
            + background
            + "\n"
            + body
            + "\n</svg>\n"
        ).encode("utf-8")
