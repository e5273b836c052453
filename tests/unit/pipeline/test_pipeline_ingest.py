"""The readers of ingest/: what each makes of a file, the bounds each keeps, and the text
decoding rules the upload check shares."""

from collections.abc import Callable
from pathlib import Path

import pytest

from litgap.pipeline import load_corpus
from litgap.pipeline.ingest import READERS, Limits, Unreadable, reader_for
from litgap.pipeline.ingest.text import NotText, decode_text, titles
from tests.unit.pipeline.conftest import MakePdf
from tests.unit.pipeline.inputs import COVER_CROPS, DRIP, LEGUMES, inflating_pdf, pdf_bytes

Write = Callable[[str, str | bytes], Path]

# One file per reader, each holding ~3,000 characters of text.
LONG = " ".join([LEGUMES, COVER_CROPS, DRIP] * 5)
EXAMPLES: dict[str, bytes] = {
    "pdf": pdf_bytes([LONG]),
    "text": LONG.encode(),
    "database": f'TITLE,MAJOR_FINDINGS\nLegumes,"{LONG}"\n'.encode(),
    "bibtex": f"@article{{smith2020,\n title = {{Legumes}},\n abstract = {{{LONG}}}\n}}\n".encode(),
    "ris": f"TY  - JOUR\nTI  - Legumes\nAB  - {LONG}\nER  - \n".encode(),
}


def test_every_suffix_has_an_example_reader() -> None:
    assert set(READERS.values()) == set(EXAMPLES)


@pytest.mark.parametrize("suffix", sorted(READERS))
def test_every_reader_is_found_by_its_suffix_in_any_case(suffix: str) -> None:
    assert reader_for(suffix.upper()) is reader_for(suffix)


def test_an_unknown_suffix_names_the_known_ones() -> None:
    with pytest.raises(
        Unreadable, match=r"^unsupported file type '\.docx'; expected one of "
    ) as err:
        reader_for(".docx")
    assert all(suffix in err.value.reason for suffix in READERS)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_reader_skips_a_file_over_the_text_limit(kind: str, write: Write) -> None:
    suffix = next(s for s, k in READERS.items() if k == kind)
    big = write(f"big{suffix}", EXAMPLES[kind])
    corpus = load_corpus([big, write("drip.txt", DRIP)], limits=Limits(max_file_chars=1000))
    assert [s.name for s in corpus.skipped] == [f"big{suffix}"]
    assert "more than 1,000 characters" in corpus.skipped[0].reason
    assert "(max_file_chars)" in corpus.skipped[0].reason


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_reader_reads_its_example_within_the_default_limits(kind: str, write: Write) -> None:
    suffix = next(s for s, k in READERS.items() if k == kind)
    corpus = load_corpus([write(f"paper{suffix}", EXAMPLES[kind])])
    assert "root nodules" in corpus.papers[0].pages[0].text


def test_pdf_title_authors_and_year_come_from_its_metadata(write: Write) -> None:
    data = pdf_bytes(
        [LEGUMES],
        title="  Legumes\nand nitrogen ",
        author="Smith, J.; Doe, A.",
        published="2019-05",
    )
    paper = load_corpus([write("x.pdf", data)]).papers[0]
    assert (paper.title, paper.authors, paper.year) == (
        "Legumes and nitrogen",
        ("Smith, J.", "Doe, A."),
        2019,
    )


def test_pdf_year_is_not_taken_from_the_files_creation_date(make_pdf: MakePdf) -> None:
    # fpdf2 stamps CreationDate with today; that dates the file, not the paper.
    assert load_corpus([make_pdf("x.pdf", [LEGUMES])]).papers[0].year is None


def test_pdf_text_has_unix_line_ends_and_no_control_characters(make_pdf: MakePdf) -> None:
    text = load_corpus([make_pdf("x.pdf", [LEGUMES])]).papers[0].pages[0].text
    assert "\r" not in text
    assert not [c for c in text if ord(c) < 32 and c not in "\n\t"]


def test_pdf_pages_without_text_are_left_out_and_the_others_keep_their_numbers(
    make_pdf: MakePdf,
) -> None:
    paper = load_corpus([make_pdf("x.pdf", [LEGUMES, "", DRIP])]).papers[0]
    assert [p.number for p in paper.pages] == [1, 3]


def test_a_small_pdf_inflating_to_huge_text_is_skipped_by_the_text_limit(write: Write) -> None:
    bomb = write("bomb.pdf", inflating_pdf(600_000))
    assert bomb.stat().st_size < 4_000
    corpus = load_corpus([bomb, write("drip.txt", DRIP)], limits=Limits(max_file_chars=500_000))
    assert [(s.name, s.reason) for s in corpus.skipped] == [
        (
            "bomb.pdf",
            "more than 500,000 characters of text, the limit per file (max_file_chars), "
            "reached at page 1 of 1",
        )
    ]


def test_a_pdf_over_the_time_limit_is_skipped_naming_the_limit(
    make_pdf: MakePdf, write: Write
) -> None:
    slow = make_pdf("slow.pdf", [LEGUMES, DRIP])
    corpus = load_corpus([slow, write("drip.txt", DRIP)], limits=Limits(max_file_seconds=1e-9))
    assert corpus.skipped[0].name == "slow.pdf"
    assert corpus.skipped[0].reason == (
        "reading stopped at page 1 of 2: over the limit of 1e-09 s per file (max_file_seconds)"
    )


def test_decode_text_reads_utf8() -> None:
    assert decode_text("café".encode()) == "café"


def test_decode_text_drops_a_utf8_byte_order_mark() -> None:
    assert decode_text(b"\xef\xbb\xbfcaf\xc3\xa9") == "café"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_decode_text_reads_utf16_with_its_byte_order_mark(codec: str) -> None:
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[codec]
    assert decode_text(bom + "café".encode(codec)) == "café"


def test_decode_text_refuses_utf16_without_a_byte_order_mark() -> None:
    with pytest.raises(NotText, match="NUL bytes"):
        decode_text("plain".encode("utf-16-le"))


def test_decode_text_refuses_invalid_utf8_naming_the_byte_and_offset() -> None:
    with pytest.raises(NotText) as caught:
        decode_text("caf\xe9".encode("latin-1"))
    assert (caught.value.reason, caught.value.offset) == (
        "not UTF-8 text (byte 0xe9 at offset 3)",
        3,
    )


def test_decode_text_refuses_an_encoded_lone_surrogate() -> None:
    with pytest.raises(NotText, match="not UTF-8 text"):
        decode_text(b"a\xed\xa0\x80b")  # U+D800 written as UTF-8


def test_decode_text_refuses_a_lone_surrogate_in_utf16() -> None:
    with pytest.raises(NotText, match="not UTF-16 text"):
        decode_text(b"\xff\xfe" + b"a\x00\x00\xd8b\x00")


def test_decode_text_refuses_nul_bytes() -> None:
    with pytest.raises(NotText, match=r"binary content \(NUL bytes\), not text"):
        decode_text(b"abc\x00def")


def test_a_text_file_with_a_utf8_byte_order_mark_is_read_without_it(write: Write) -> None:
    paper = load_corpus([write("drip.txt", b"\xef\xbb\xbf" + DRIP.encode())]).papers[0]
    assert paper.pages[0].text == DRIP
    assert paper.title == DRIP[:200]


def test_a_database_csv_with_a_utf8_byte_order_mark_finds_its_title_column(
    write: Write,
) -> None:
    data = b"\xef\xbb\xbfTITLE,MAJOR_FINDINGS\nLegumes," + LEGUMES.encode() + b"\n"
    assert load_corpus([write("db.csv", data)]).papers[0].title == "Legumes"


def test_a_text_file_is_titled_by_its_first_line_alone() -> None:
    assert titles("\n  Sand filters for rooftop water \n\n# Results\n", markdown=False) == (
        "Sand filters for rooftop water",
        (),
    )


def test_a_markdown_file_is_titled_by_its_first_heading_and_also_by_its_first_line() -> None:
    text = "Sand filters for rooftop water\n\n## Abstract\n\nSlow sand filters...\n"
    assert titles(text, markdown=True) == ("Abstract", ("Sand filters for rooftop water",))


def test_a_markdown_file_opening_with_its_heading_has_no_other_title() -> None:
    assert titles("# Sand filters for rooftop water\n\n## Abstract\n", markdown=True) == (
        "Sand filters for rooftop water",
        (),
    )


def test_markdown_front_matter_is_not_a_line_and_its_title_is_one_of_the_titles() -> None:
    text = '---\ntitle: "Sand filters for rooftop water"\nauthor: A. Smith\n---\n\nWe test.\n'
    assert titles(text, markdown=True) == ("Sand filters for rooftop water", ("We test.",))


def test_the_markdown_reader_keeps_the_other_titles_on_the_paper(write: Write) -> None:
    path = write("sand.md", "Sand filters for rooftop water\n\n## Abstract\n\n" + DRIP)
    paper = load_corpus([path]).papers[0]
    assert (paper.title, paper.other_titles) == ("Abstract", ("Sand filters for rooftop water",))
