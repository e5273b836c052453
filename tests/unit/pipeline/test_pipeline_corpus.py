"""Reading the corpus: every supported format, and every way a file can fail to be read."""

import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from litgap.pipeline import CorpusError, load_corpus
from litgap.pipeline.ingest import Limits
from tests.unit.pipeline.conftest import MakePdf
from tests.unit.pipeline.inputs import COVER_CROPS, DRIP, LEGUMES

Write = Callable[[str, str | bytes], Path]


def database_csv(rows: list[dict[str, str]]) -> str:
    columns = ["TITLE", "FILENAME", "MAJOR_FINDINGS", "KEYWORDS", "PUBLICATION_YEAR"]
    columns += ["Requirement(s)"]
    columns += sorted({key for row in rows for key in row} - set(columns))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


ROW = {
    "TITLE": "Legumes and nitrogen",
    "FILENAME": "legumes.pdf",
    "MAJOR_FINDINGS": "Root nodules fix nitrogen.\nThe next crop needs less fertiliser.",
    "KEYWORDS": json.dumps(["legume", "nitrogen fixation"]),
    "PUBLICATION_YEAR": "2021",
    "Requirement(s)": json.dumps(
        [{"sub_requirement": "Sub-S1.1", "evidence_chunk": "Nodules hosted rhizobia."}]
    ),
}


def test_pdf_pages_keep_their_numbers(make_pdf: MakePdf) -> None:
    path = make_pdf("legumes.pdf", [LEGUMES, COVER_CROPS])
    paper = load_corpus([path]).papers[0]
    assert [p.number for p in paper.pages] == [1, 2]
    assert "root nodules" in paper.pages[0].text
    assert "Cover crops" in paper.pages[1].text


def test_pdf_without_a_title_is_titled_by_its_file_name(make_pdf: MakePdf) -> None:
    paper = load_corpus([make_pdf("legumes.pdf", [LEGUMES])]).papers[0]
    assert (paper.id, paper.title, paper.kind) == ("legumes.pdf", "legumes", "pdf")


def test_corrupt_pdf_is_skipped_with_its_reason(make_pdf: MakePdf, write: Write) -> None:
    good = make_pdf("good.pdf", [LEGUMES])
    bad = write("bad.pdf", good.read_bytes()[:400])
    corpus = load_corpus([good, bad])
    assert [p.id for p in corpus.papers] == ["good.pdf"]
    assert corpus.skipped[0].name == "bad.pdf"
    assert corpus.skipped[0].reason.startswith("corrupt PDF: ")


def test_a_file_named_pdf_that_is_not_a_pdf_is_skipped_as_corrupt(write: Write) -> None:
    corpus = load_corpus([write("notes.pdf", "just words"), write("drip.txt", DRIP)])
    assert corpus.skipped[0].reason.startswith("corrupt PDF")


def test_password_protected_pdf_is_skipped(make_pdf: MakePdf, write: Write) -> None:
    locked = make_pdf("locked.pdf", [LEGUMES], password="secret")
    corpus = load_corpus([locked, write("drip.txt", DRIP)])
    assert [(s.name, s.reason) for s in corpus.skipped] == [
        ("locked.pdf", "encrypted PDF: it needs a password to be read")
    ]


def test_pdf_restricted_only_by_an_owner_password_is_read(make_pdf: MakePdf) -> None:
    restricted = make_pdf("restricted.pdf", [LEGUMES], password="")
    assert load_corpus([restricted]).papers[0].id == "restricted.pdf"


def test_pdf_above_the_page_limit_is_skipped(make_pdf: MakePdf, write: Write) -> None:
    long = make_pdf("long.pdf", [LEGUMES, DRIP, COVER_CROPS])
    corpus = load_corpus([long, write("drip.txt", DRIP)], limits=Limits(max_pages=2))
    assert corpus.skipped[0].reason == "PDF has 3 pages, more than the limit of 2 (max_pdf_pages)"


def test_max_pages_given_alone_overrides_the_limits(make_pdf: MakePdf, write: Write) -> None:
    long = make_pdf("long.pdf", [LEGUMES, DRIP, COVER_CROPS])
    corpus = load_corpus([long, write("drip.txt", DRIP)], limits=Limits(), max_pages=2)
    assert corpus.skipped[0].name == "long.pdf"


def test_a_paper_carries_its_source_files_sha256(make_pdf: MakePdf, write: Write) -> None:
    paths = [make_pdf("legumes.pdf", [LEGUMES]), write("drip.txt", DRIP)]
    corpus = load_corpus(paths)
    assert {p.id: p.sha256 for p in corpus.papers} == {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths
    }


def test_a_database_row_carries_the_files_sha256_and_its_row(write: Write) -> None:
    path = write("db.csv", database_csv([ROW, dict(ROW, TITLE="Cover crops")]))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.sha256 for p in load_corpus([path]).papers] == [f"{digest}#1", f"{digest}#2"]


def test_a_database_row_gives_its_publication_year(write: Write) -> None:
    assert load_corpus([write("db.csv", database_csv([ROW]))]).papers[0].year == 2021


def test_a_database_row_without_a_year_has_none(write: Write) -> None:
    row = dict(ROW, PUBLICATION_YEAR="N/A")
    assert load_corpus([write("db.csv", database_csv([row]))]).papers[0].year is None


def test_a_database_row_gives_doi_authors_and_venue_from_their_columns(write: Write) -> None:
    extra = {
        "DOI": "https://doi.org/10.1145/3664647.3680573",
        "AUTHORS": json.dumps(["Xu, Q.", "Pan, G."]),
        "SOURCE": "ACM Multimedia",
    }
    paper = load_corpus([write("db.csv", database_csv([ROW | extra]))]).papers[0]
    assert (paper.doi, paper.authors, paper.venue) == (
        "10.1145/3664647.3680573",
        ("Xu, Q.", "Pan, G."),
        "ACM Multimedia",
    )
    assert "10.1145" not in paper.pages[0].text


def test_a_database_row_takes_authors_from_its_apa_reference_and_doi_from_its_link(
    write: Write,
) -> None:
    extra = {
        "APA_REFERENCE": "Xu, Q., Fang, X., & Pan, G. (2024). RSNN: Recurrent spiking networks.",
        "FULL_TEXT_LINK": "http://dx.doi.org/10.1145/3379350.3416153",
    }
    paper = load_corpus([write("db.csv", database_csv([ROW | extra]))]).papers[0]
    assert paper.authors == ("Xu, Q.", "Fang, X.", "Pan, G.")
    assert paper.doi == "10.1145/3379350.3416153"


def test_pdf_without_text_is_skipped(make_pdf: MakePdf, write: Write) -> None:
    corpus = load_corpus([make_pdf("blank.pdf", [""]), write("drip.txt", DRIP)])
    assert corpus.skipped[0].reason == "PDF has no extractable text (scanned images?)"


def test_text_file_is_one_page_titled_by_its_first_line(write: Write) -> None:
    paper = load_corpus([write("drip.txt", "\n\nDrip trial\n" + DRIP)]).papers[0]
    assert (paper.title, paper.kind, len(paper.pages)) == ("Drip trial", "text", 1)
    assert paper.pages[0].number is None


def test_markdown_is_titled_by_its_first_heading(write: Write) -> None:
    paper = load_corpus([write("c.md", "Draft\n\n# Cover crops\n\n" + COVER_CROPS)]).papers[0]
    assert (paper.title, paper.kind) == ("Cover crops", "markdown")


def test_windows_line_endings_are_normalised(write: Write) -> None:
    paper = load_corpus([write("drip.txt", DRIP.replace(". ", ".\r\n").encode())]).papers[0]
    assert "\r" not in paper.pages[0].text


def test_utf16_text_with_a_byte_order_mark_is_read(write: Write) -> None:
    paper = load_corpus([write("drip.txt", DRIP.encode("utf-16"))]).papers[0]
    assert paper.pages[0].text == DRIP


def test_undecodable_text_is_skipped_with_the_offending_byte(write: Write) -> None:
    corpus = load_corpus([write("latin.txt", "caf\xe9".encode("latin-1")), write("d.txt", DRIP)])
    assert corpus.skipped[0].reason == "not UTF-8 text (byte 0xe9 at offset 3)"


def test_empty_file_is_skipped(write: Write) -> None:
    corpus = load_corpus([write("empty.md", ""), write("blank.txt", " \n\n"), write("d.txt", DRIP)])
    assert [(s.name, s.reason) for s in corpus.skipped] == [
        ("blank.txt", "empty file"),
        ("empty.md", "empty file"),
    ]


def test_unsupported_file_type_is_skipped(write: Write) -> None:
    corpus = load_corpus([write("paper.docx", b"PK\x03\x04"), write("d.txt", DRIP)])
    assert corpus.skipped[0].reason.startswith("unsupported file type '.docx'")


def test_missing_file_is_skipped(tmp_path: Path, write: Write) -> None:
    corpus = load_corpus([tmp_path / "gone.txt", write("d.txt", DRIP)])
    assert corpus.skipped[0].reason == "cannot read the file (No such file or directory)"


def test_a_corpus_with_no_readable_paper_is_an_error(write: Write) -> None:
    with pytest.raises(CorpusError) as caught:
        load_corpus([write("empty.txt", ""), write("bad.pdf", b"%PDF-1.4 garbage")])
    assert caught.value.detail.startswith("no readable paper in the corpus (2 files, all skipped: ")
    assert "empty.txt: empty file" in caught.value.detail


def test_an_empty_corpus_is_an_error() -> None:
    with pytest.raises(CorpusError, match="the corpus is empty"):
        load_corpus([])


def test_database_csv_gives_one_paper_per_row(write: Write) -> None:
    second = dict(ROW, TITLE="Cover crops", MAJOR_FINDINGS=COVER_CROPS)
    corpus = load_corpus([write("db.csv", database_csv([ROW, second]))])
    assert [(p.id, p.title, p.kind) for p in corpus.papers] == [
        ("db.csv row 1", "Legumes and nitrogen", "database row"),
        ("db.csv row 2", "Cover crops", "database row"),
    ]


def test_database_cells_keep_their_line_breaks_and_columns(write: Write) -> None:
    page = load_corpus([write("db.csv", database_csv([ROW]))]).papers[0].pages[0]
    assert "Root nodules fix nitrogen.\nThe next crop" in page.text
    assert [name for _, name in page.sections] == [
        "TITLE",
        "MAJOR_FINDINGS",
        "KEYWORDS",
        "Requirement(s)",
    ]


def test_database_json_lists_become_text_and_claims_give_only_their_quoted_evidence(
    write: Write,
) -> None:
    text = load_corpus([write("db.csv", database_csv([ROW]))]).papers[0].pages[0].text
    assert "legume\nnitrogen fixation" in text
    assert "Nodules hosted rhizobia." in text
    assert "Sub-S1.1" not in text


def test_database_metadata_columns_are_not_evidence(write: Write) -> None:
    text = load_corpus([write("db.csv", database_csv([ROW]))]).papers[0].pages[0].text
    assert "legumes.pdf" not in text
    assert "2021" not in text


def test_a_span_of_a_database_row_names_the_columns_it_comes_from(write: Write) -> None:
    page = load_corpus([write("db.csv", database_csv([ROW]))]).papers[0].pages[0]
    start = page.text.index("Root nodules")
    assert page.sections_between(start, start + 10) == "MAJOR_FINDINGS"
    assert page.sections_between(0, start + 10) == "TITLE, MAJOR_FINDINGS"


def test_csv_without_a_title_column_is_skipped(write: Write) -> None:
    corpus = load_corpus([write("other.csv", "name,value\na,1\n"), write("d.txt", DRIP)])
    assert corpus.skipped[0].reason == "CSV is not a research database: no TITLE column"


def test_database_row_without_text_is_skipped_and_named(write: Write) -> None:
    empty = {key: "" for key in ROW} | {"PUBLICATION_YEAR": "2020"}
    corpus = load_corpus([write("db.csv", database_csv([ROW, empty]))])
    assert [(s.name, s.reason) for s in corpus.skipped] == [
        ("db.csv row 2", "no text in any column")
    ]


def test_papers_come_out_in_the_same_order_whatever_the_input_order(write: Write) -> None:
    paths = [write("b.txt", DRIP), write("a.md", COVER_CROPS), write("c.txt", LEGUMES)]
    forward = load_corpus(paths)
    backward = load_corpus(list(reversed(paths)))
    assert forward == backward
    assert [p.id for p in forward.papers] == ["a.md", "b.txt", "c.txt"]


def test_the_same_content_twice_is_read_once(write: Write) -> None:
    corpus = load_corpus([write("a.txt", DRIP), write("copy/b.txt", DRIP)])
    assert [p.id for p in corpus.papers] == ["a.txt"]
    assert corpus.skipped[0].reason == "same content as 'a.txt'"


def test_two_different_files_with_one_name_are_both_kept(write: Write) -> None:
    corpus = load_corpus([write("x/paper.txt", DRIP), write("y/paper.txt", LEGUMES)])
    assert sorted(p.id for p in corpus.papers) == ["paper.txt", "paper.txt (2)"]


def test_a_folder_is_read_file_by_file_ignoring_hidden_files(tmp_path: Path, write: Write) -> None:
    write("papers/a.txt", DRIP)
    write("papers/deeper/b.md", LEGUMES)
    write("papers/.DS_Store", b"\x00\x01")
    corpus = load_corpus([tmp_path / "papers"])
    assert [p.id for p in corpus.papers] == ["a.txt", "b.md"]
    assert corpus.skipped == ()


def test_progress_is_reported_from_zero_to_one(write: Write) -> None:
    seen: list[tuple[float, str]] = []
    load_corpus(
        [write("a.txt", DRIP), write("b.txt", LEGUMES)], progress=lambda f, s: seen.append((f, s))
    )
    assert [f for f, _ in seen] == [0.0, 0.5, 1.0]
    assert {s for _, s in seen} == {"reading corpus"}
