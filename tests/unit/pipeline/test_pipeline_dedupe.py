"""Duplicate papers: by content, by DOI, by normalised title; the paper with the most to
read is kept; the report counts papers, not files."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from litgap.pipeline import Corpus, Page, Paper, load_corpus
from litgap.pipeline.dedupe import (
    Duplicate,
    Identity,
    dedupe_corpus,
    find_duplicates,
    normalise_doi,
    normalise_title,
)


def paper(id: str, title: str, kind: str = "text", sha: str = "", doi: str | None = None) -> Paper:
    return Paper(id, title, kind, (Page(None, f"text of {id}"),), sha256=sha or id, doi=doi)


def test_titles_match_whatever_their_case_accents_and_punctuation() -> None:
    assert normalise_title("Rainwater Harvesting: São Paulo!") == normalise_title(
        "rainwater harvesting sao paulo"
    )


def test_a_short_title_identifies_nothing() -> None:
    assert normalise_title("Results") == ""


def test_dois_match_with_or_without_a_resolver_prefix() -> None:
    assert normalise_doi("https://doi.org/10.1016/J.WATRES.2010.12.015") == normalise_doi(
        "doi:10.1016/j.watres.2010.12.015"
    )


def test_a_database_row_and_the_pdf_of_the_same_paper_keep_the_pdf() -> None:
    row = Identity("db.csv row 1", "database row", "x#1", "Roof runoff quality in Athens")
    pdf = Identity("athens.pdf", "pdf", "y", "ROOF RUNOFF QUALITY IN ATHENS")
    [dup] = find_duplicates([row, pdf])
    assert (dup.paper, dup.duplicate_of, dup.reason) == ("db.csv row 1", "athens.pdf", "same title")


def test_two_different_dois_are_two_papers_whatever_their_titles() -> None:
    a = Identity("a.txt", "text", "a", "Rainwater tank sizing", "10.1/a")
    b = Identity("b.txt", "text", "b", "Rainwater tank sizing", "10.1/b")
    assert find_duplicates([a, b]) == []


def test_the_same_doi_is_one_paper_whatever_its_titles() -> None:
    a = Identity("a.bib [x]", "bibtex", "a", "One title", "10.1/A")
    b = Identity("b.ris entry 1", "ris", "b", "Another title", "https://doi.org/10.1/a")
    assert [d.reason for d in find_duplicates([a, b])] == ["same DOI"]


def test_papers_already_in_a_corpus_are_always_the_ones_kept() -> None:
    old = Identity("old.csv row 3", "database row", "o#3", "Sand filters for rooftop water")
    new = Identity("new.pdf", "pdf", "n", "Sand filters for rooftop water")
    [dup] = find_duplicates([new], existing=[old])
    assert dup.paper == "new.pdf" and dup.duplicate_of == "old.csv row 3"


def test_dedupe_moves_duplicates_to_skipped_with_the_kept_paper_named() -> None:
    corpus = Corpus(
        (
            paper("a.txt", "Sand filters for rooftop water"),
            paper("b.md", "Sand Filters for Rooftop Water"),
            paper("c.txt", "UV disinfection of stored rainwater"),
        )
    )
    deduped = dedupe_corpus(corpus)
    assert [p.id for p in deduped.papers] == ["a.txt", "c.txt"]
    assert [(s.name, s.reason) for s in deduped.skipped] == [
        ("b.md", "duplicate of 'a.txt' (same title)")
    ]


def test_load_corpus_counts_a_csv_row_and_its_text_file_once(tmp_path: Path) -> None:
    (tmp_path / "db.csv").write_text(
        "TITLE,MAJOR_FINDINGS\nSand filters for rooftop water,Slow sand filters remove turbidity.\n"
    )
    (tmp_path / "sand.txt").write_text("Sand filters for rooftop water\n\nA long study of sand.")
    corpus = load_corpus([tmp_path])
    assert [p.id for p in corpus.papers] == ["sand.txt"]
    assert "duplicate of 'sand.txt'" in corpus.skipped[0].reason


def test_a_markdown_paper_whose_first_line_is_a_text_papers_title_is_its_duplicate() -> None:
    text = Identity("sand.txt", "text", "t", "Sand filters for rooftop water")
    copy = Identity("sand.md", "markdown", "m", "Abstract", other_titles=(text.title,))
    [dup] = find_duplicates([text, copy])
    assert (dup.paper, dup.duplicate_of, dup.reason) == ("sand.txt", "sand.md", "same title")


def test_a_pdf_titled_like_a_markdown_papers_first_line_is_kept_over_it() -> None:
    pdf = Identity("sand.pdf", "pdf", "p", "SAND FILTERS FOR ROOFTOP WATER")
    copy = Identity(
        "sand.md", "markdown", "m", "Introduction", other_titles=("Sand filters for rooftop water",)
    )
    [dup] = find_duplicates([copy, pdf])
    assert (dup.paper, dup.duplicate_of, dup.reason) == ("sand.md", "sand.pdf", "same title")


def test_papers_sharing_only_an_other_title_are_two_papers() -> None:
    boilerplate = ("Preprint submitted to the Journal of Hydrology",)
    a = Identity("a.md", "markdown", "a", "Sand filters for rooftop water", None, boilerplate)
    b = Identity("b.md", "markdown", "b", "UV disinfection of stored rainwater", None, boilerplate)
    assert find_duplicates([a, b]) == []


def test_load_corpus_counts_a_markdown_copy_of_a_text_paper_once(tmp_path: Path) -> None:
    body = "Slow sand filters remove turbidity from roof runoff."
    (tmp_path / "sand.txt").write_text(f"Sand filters for rooftop water\n\nAbstract\n{body}\n")
    (tmp_path / "sand-copy.md").write_text(
        f"Sand filters for rooftop water\n\n## Abstract\n\n{body}\n"
    )
    corpus = load_corpus([tmp_path])
    assert [p.id for p in corpus.papers] == ["sand-copy.md"]
    assert [(s.name, s.reason) for s in corpus.skipped] == [
        ("sand.txt", "duplicate of 'sand-copy.md' (same title)")
    ]


def test_load_corpus_without_dedupe_keeps_both(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Sand filters for rooftop water\n\nOne text.")
    (tmp_path / "b.txt").write_text("Sand filters for rooftop water\n\nAnother text.")
    assert len(load_corpus([tmp_path], dedupe=False).papers) == 2


def pairwise(papers: list[Identity], existing: list[Identity]) -> list[Duplicate]:
    """The rule as the module states it, one pair at a time: the reference."""

    def reason(a: Identity, b: Identity) -> str | None:
        if a.sha256 and a.sha256 == b.sha256:
            return "same content"
        doi_a, doi_b = normalise_doi(a.doi), normalise_doi(b.doi)
        if doi_a and doi_a == doi_b:
            return "same DOI"
        if doi_a and doi_b:
            return None

        def titles(i: Identity) -> tuple[str, set[str]]:
            title = normalise_title(i.title)
            return title, {normalise_title(t) for t in i.other_titles} - {"", title}

        (title_a, others_a), (title_b, others_b) = titles(a), titles(b)
        alike = (title_a and title_a == title_b) or title_a in others_b or title_b in others_a
        return "same title" if alike else None

    kept, found = list(existing), []
    rank = {"pdf": 0, "text": 1, "markdown": 1, "database row": 3}
    for item in sorted(papers, key=lambda i: (rank[i.kind], i.id)):
        match = next(((k, r) for k in kept if (r := reason(item, k))), None)
        if match is None:
            kept.append(item)
        else:
            found.append(Duplicate(item.id, match[0].id, match[1]))
    return sorted(found, key=lambda d: d.paper)


TITLES = ["", "A study of rain tanks", "a STUDY of rain-tanks!", "Other paper title", "Results"]
identities = st.builds(
    Identity,
    id=st.integers(0, 10_000).map(lambda n: f"p{n:05d}"),
    kind=st.sampled_from(["pdf", "text", "markdown", "database row"]),
    sha256=st.sampled_from(["", "s1", "s2", "s3"]),
    title=st.sampled_from(TITLES),
    doi=st.sampled_from([None, "10.1/a", "https://doi.org/10.1/A", "10.1/b"]),
    other_titles=st.lists(st.sampled_from(TITLES), max_size=2).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(identities, max_size=12, unique_by=lambda i: i.id),
    st.lists(identities, max_size=4, unique_by=lambda i: i.id),
)
def test_indexed_matching_finds_what_comparing_every_pair_finds(
    papers: list[Identity], existing: list[Identity]
) -> None:
    assert find_duplicates(papers, existing) == pairwise(papers, existing)
