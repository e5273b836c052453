"""terminal.visible: what a terminal would obey is shown, not obeyed."""

import pytest

from litgap.terminal import shown, visible


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[2K", "\\x1b[2K"),
        ("bell\x07", "bell\\x07"),
        ("\r over", "\\x0d over"),
        ("del\x7f", "del\\x7f"),
        ("csi\x9b", "csi\\x9b"),
        ("\u202eabc\u2069", "\\u202eabc\\u2069"),
        ("lone \ud800", "lone \\ud800"),
    ],
)
def test_controls_are_shown_as_escapes(text: str, expected: str) -> None:
    assert visible(text) == expected


def test_plain_text_tabs_newlines_and_accents_are_kept() -> None:
    assert visible("Pillar 1: Qualité\tok\nnext") == "Pillar 1: Qualité\tok\nnext"


def test_every_c0_and_c1_control_is_made_visible() -> None:
    controls = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A)]
    out = visible("".join(controls))
    assert not any(c in out for c in controls)


def test_shown_also_escapes_rich_markup() -> None:
    assert shown("[red]x\x1b") == "\\[red]x\\x1b"
