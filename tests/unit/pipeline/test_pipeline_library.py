"""Reference libraries: BibTeX and RIS entries as papers (title, authors, year, venue,
DOI, abstract as text), and an entry's attached PDF used for its full text."""

from pathlib import Path

import pytest
from fpdf import FPDF

from litgap.pipeline import load_corpus
from litgap.pipeline.ingest import Limits, Source, Unreadable, bibtex, ris

FIXTURES = Path(__file__).parents[2] / "fixtures" / "library"
MENDEZ_PDF = "Mendez et al. - 2011 - The effect of roofing material on the quality of h.pdf"


def read(module: object, name: str, raw: bytes | None = None) -> tuple[list, list]:  # type: ignore[type-arg]
    data = raw if raw is not None else (FIXTURES / name).read_bytes()
    return module.read(Source(name, name, data, "f" * 64), Limits())  # type: ignore[attr-defined, no-any-return]


def make_pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def test_a_bibtex_entry_is_a_paper_with_its_metadata_and_abstract_as_text() -> None:
    papers, _ = read(bibtex, "zotero.bib")
    mendez = next(p for p in papers if "mendez" in p.id)
    assert mendez.id == "zotero.bib [mendez_quality_2011]"
    assert mendez.title == "The effect of roofing material on the quality of harvested rainwater"
    assert mendez.authors[0] == "Mendez, Carolina B." and len(mendez.authors) == 7
    assert (mendez.year, mendez.venue, mendez.doi) == (
        2011,
        "Water Research",
        "10.1016/j.watres.2010.12.015",
    )
    assert mendez.pages[0].text.startswith("Due to decreases in the availability")
    assert mendez.attachments == (MENDEZ_PDF.lower(),)


def test_braces_protecting_case_are_removed_from_titles() -> None:
    papers, _ = read(bibtex, "zotero.bib")
    campisano = next(p for p in papers if "campisano" in p.id)
    assert campisano.title.startswith(
        "Urban rainwater harvesting systems: Research, implementation"
    )


def test_a_bibtex_entry_without_abstract_or_file_is_skipped_with_a_reason() -> None:
    _, skipped = read(bibtex, "zotero.bib")
    assert [(s.name, s.reason) for s in skipped] == [
        ("zotero.bib [no_text_2020]", "library entry without an abstract or an attached PDF")
    ]


def test_a_file_with_no_bibtex_entry_is_unreadable() -> None:
    with pytest.raises(Unreadable, match="no BibTeX entries"):
        read(bibtex, "empty.bib", b"just some words, no entries\n")


def test_a_ris_record_is_a_paper_with_its_metadata() -> None:
    papers, skipped = read(ris, "endnote.ris")
    gikas, ghisi = papers
    assert gikas.id == "endnote.ris entry 1" and skipped == []
    assert gikas.authors == ("Gikas, Georgios D.", "Tsihrintzis, Vassilios A.")
    assert (gikas.year, gikas.venue, gikas.doi) == (
        2012,
        "Journal of Hydrology",
        "10.1016/j.jhydrol.2012.08.020",
    )
    assert gikas.attachments == ("gikas-2012-assessment of water quality.pdf",)
    assert ghisi.pages[0].text.startswith("The potential for potable water savings")


def test_an_entry_takes_the_full_text_of_its_attached_pdf(tmp_path: Path) -> None:
    (tmp_path / "zotero.bib").write_bytes((FIXTURES / "zotero.bib").read_bytes())
    body = "Full text: galvalume metal roofs gave the best harvested rainwater quality."
    (tmp_path / MENDEZ_PDF).write_bytes(make_pdf(body))
    corpus = load_corpus([tmp_path])
    mendez = next(p for p in corpus.papers if "mendez" in p.id)
    assert "galvalume metal roofs" in mendez.pages[0].text.lower()
    assert mendez.year == 2011
    assert MENDEZ_PDF not in {p.id for p in corpus.papers}  # counted once, as the entry


def test_years_of_library_entries_reach_the_corpus(tmp_path: Path) -> None:
    (tmp_path / "endnote.ris").write_bytes((FIXTURES / "endnote.ris").read_bytes())
    corpus = load_corpus([tmp_path])
    assert sorted(p.year for p in corpus.papers) == [2006, 2012]
