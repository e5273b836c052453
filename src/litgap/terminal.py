"""Asking a decision at the terminal: numbered choices, the default marked, a countdown.

Reads stdin with select() so that the countdown keeps moving and the question gives up
at the prompt's deadline (the broker then applies the timeout as specified).
"""

import select
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape

from litgap.clock import parse_iso, utcnow
from litgap.responses import SPECIAL_VALUES

# C0 controls, DEL, C1 controls, and the bidi embeddings, overrides and isolates that
# reorder what follows them on screen. Tab and newline stay: they lay text out and
# cannot move the cursor over earlier lines.
_BIDI = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}
_HIDDEN = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]}
_HIDDEN.update({c: f"\\u{c:04x}" for c in _BIDI})
del _HIDDEN[0x09], _HIDDEN[0x0A]


def visible(text: object) -> str:
    """`text` with every control character that a terminal would obey (ESC, BEL, CR,
    DEL, C1, bidi overrides) shown as its escape, e.g. ESC as the four characters
    ``\\x1b``: user and file text can neither move the cursor, nor rewrite earlier
    lines, nor reach the clipboard (OSC 52). Lone surrogates are shown escaped too."""
    out = str(text).translate(_HIDDEN)
    if out.isascii():
        return out
    return out.encode("utf-8", "backslashreplace").decode("utf-8")


def shown(text: object) -> str:
    """`visible(text)` made safe for rich markup as well."""
    return escape(visible(text))


def parse_choice(text: str, options: list[str], multiple: bool) -> str | list[str] | None:
    """'2' or '1,3' (numbers) or option names; None when it cannot be understood."""
    parts = [p.strip() for p in text.split(",")] if multiple else [text.strip()]
    chosen: list[str] = []
    for part in parts:
        if part.isdigit() and 1 <= int(part) <= len(options):
            chosen.append(options[int(part) - 1])
            continue
        match = [o for o in options if o.casefold() == part.casefold()]
        if not match:
            return None
        chosen.append(match[0])
    if not multiple:
        return chosen[0]
    if len(chosen) == 1 and chosen[0] in SPECIAL_VALUES:
        return chosen[0]
    return chosen


def _seconds_left(deadline: str) -> float:
    return (parse_iso(deadline) - utcnow()).total_seconds()


def _read_line(stream: TextIO, deadline: str, console: Console) -> str | None:
    """A line from `stream`, or None at the deadline or end of input. On a terminal the
    line above the cursor shows the seconds left."""
    interactive = stream.isatty() and console.is_terminal
    while True:
        left = _seconds_left(deadline)
        if left <= 0:
            return None
        if interactive:
            # Save the cursor, rewrite the countdown line above it, restore: what the
            # user is typing is not touched.
            sys.stdout.write(f"\x1b7\x1b[1A\r\x1b[K  ⏳ {int(left)} s left\x1b8")
            sys.stdout.flush()
        ready, _, _ = select.select([stream], [], [], min(1.0, left))
        if ready:
            line = stream.readline()
            if line == "":
                console.print("\n[yellow]Input closed: the prompt will time out as set.[/yellow]")
                return None
            return line.rstrip("\n")


PASSAGE_CHARS = 300  # of a passage's text shown under its number


def _passage_line(passage: dict[str, Any]) -> str:
    """One passage of an evidence_review: paper, page, score, then its text shortened."""
    page = passage.get("page")
    where = f"{passage.get('title') or passage.get('paper')}" + (f", p. {page}" if page else "")
    text = " ".join(str(passage.get("text", "")).split())
    if len(text) > PASSAGE_CHARS:
        text = text[: PASSAGE_CHARS - 1] + "…"
    score = shown(passage.get("score"))
    return f"[cyan]{shown(where)}[/cyan] [dim](score {score})[/dim]\n     {shown(text)}"


ABSTRACT_CHARS = 600  # of a screened paper's opening text shown under its title


def _paper_lines(data: dict[str, Any]) -> list[str]:
    """A screening prompt's paper: title, authors, year and DOI, then its opening text."""
    facts = [
        ", ".join(str(a) for a in (data.get("authors") or [])[:3]),
        str(data.get("year") or ""),
        f"doi:{data['doi']}" if data.get("doi") else "",
    ]
    text = " ".join(str(data.get("abstract") or "").split())
    if len(text) > ABSTRACT_CHARS:
        text = text[: ABSTRACT_CHARS - 1] + "…"
    lines = [f"  [cyan]{shown(data.get('title') or data.get('paper'))}[/cyan]"]
    if any(facts):
        lines.append(f"  [dim]{shown(' · '.join(f for f in facts if f))}[/dim]")
    if text:
        lines.append(f"  {shown(text)}")
    return lines


def ask(pending: dict[str, Any], console: Console, stream: TextIO = sys.stdin) -> Any:
    """Ask one pending prompt; returns the response, or None when none was given in time."""
    data = pending["prompt_data"]
    options: list[str] = list(data.get("options") or [])
    multiple = bool(data.get("multiple"))
    default = data.get("default")
    console.print()
    console.print(f"[bold]{shown(data.get('message', pending['type']))}[/bold]")
    if pending["type"] == "screening":
        for paper_line in _paper_lines(data):
            console.print(paper_line, highlight=False)
    # An evidence_review offers passages by id: show each one's paper, page and text.
    passages = {str(p.get("evidence_id")): p for p in data.get("passages") or []}
    for number, option in enumerate(options, start=1):
        chosen = option in default if isinstance(default, list) else option == default
        marker = "  [green](default)[/green]" if chosen else ""
        console.print(f"  {number}. {shown(option)}{marker}")
        if option in passages:
            console.print(f"     {_passage_line(passages[option])}", highlight=False)
    hint = "numbers separated by commas" if multiple else "a number"
    if default is not None:
        hint += ", Enter for the default"
    console.print(f"  [dim]{pending['timeout_seconds']} s to answer ({hint})[/dim]")
    console.print(f"  ⏳ {int(_seconds_left(pending['deadline']))} s left")
    while True:
        console.print("> ", end="")
        line = _read_line(stream, pending["deadline"], console)
        if line is None:
            console.print("\n[yellow]No answer in time.[/yellow]")
            return None
        if not line.strip() and default is not None:
            return default
        choice = parse_choice(line, options, multiple) if options else line
        if choice is not None:
            return choice
        console.print(f"[red]Not an option: {shown(line)}.[/red] Try again.")
