"""The extraction cache: a PDF read once is never opened again, and what is kept is only
what the file's bytes decide."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from litgap.pipeline import load_corpus
from litgap.pipeline.cache import FileCache, cache_key
from litgap.pipeline.ingest import Limits
from litgap.pipeline.ingest.pdf import CACHE_NAMESPACE, cache_key_for
from tests.unit.pipeline.conftest import MakePdf
from tests.unit.pipeline.inputs import COVER_CROPS, DRIP, LEGUMES

Write = Callable[[str, str | bytes], Path]


@pytest.fixture
def cache(tmp_path: Path) -> FileCache:
    return FileCache(tmp_path / "cache")


def entry(cache: FileCache, path: Path) -> bytes | None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return cache.get(CACHE_NAMESPACE, cache_key_for(digest))


def test_file_cache_returns_what_was_put(cache: FileCache) -> None:
    key = cache_key("a", "b")
    cache.put("extract", key, b"value")
    assert cache.get("extract", key) == b"value"


def test_file_cache_misses_an_unknown_key(cache: FileCache) -> None:
    assert cache.get("extract", cache_key("nothing")) is None


def test_file_cache_refuses_a_name_that_could_leave_its_folder(cache: FileCache) -> None:
    with pytest.raises(ValueError, match="bad cache name"):
        cache.put("../x", cache_key("a"), b"")


def test_cache_keys_differ_when_any_part_differs() -> None:
    assert cache_key("ab", "c") != cache_key("a", "bc")


def test_a_cached_read_gives_the_same_corpus(make_pdf: MakePdf, cache: FileCache) -> None:
    path = make_pdf("legumes.pdf", [LEGUMES, COVER_CROPS])
    assert load_corpus([path], cache=cache) == load_corpus([path], cache=cache)
    assert load_corpus([path], cache=cache) == load_corpus([path])


def test_a_second_read_takes_the_pages_from_the_cache_without_opening_the_pdf(
    make_pdf: MakePdf, cache: FileCache
) -> None:
    path = make_pdf("legumes.pdf", [LEGUMES, COVER_CROPS])
    load_corpus([path], cache=cache)
    kept = json.loads(entry(cache, path) or b"")
    assert [number for number, _ in kept["pages"]] == [1, 2]
    # Text the PDF does not hold can only come from the cache.
    kept["pages"] = [[1, "words only the cache holds"]]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    cache.put(CACHE_NAMESPACE, cache_key_for(digest), json.dumps(kept).encode())
    paper = load_corpus([path], cache=cache).papers[0]
    assert [(p.number, p.text) for p in paper.pages] == [(1, "words only the cache holds")]


def test_a_renamed_file_is_served_from_the_cache_under_its_new_name(
    make_pdf: MakePdf, cache: FileCache, tmp_path: Path
) -> None:
    path = make_pdf("legumes.pdf", [LEGUMES])
    first = load_corpus([path], cache=cache).papers[0]
    renamed = path.rename(tmp_path / "renamed.pdf")
    second = load_corpus([renamed], cache=cache).papers[0]
    assert (second.id, second.title, second.sha256) == ("renamed.pdf", "renamed", first.sha256)
    assert second.pages == first.pages


def test_the_reason_a_corrupt_pdf_is_skipped_is_cached(
    make_pdf: MakePdf, write: Write, cache: FileCache
) -> None:
    bad = write("bad.pdf", make_pdf("good.pdf", [LEGUMES]).read_bytes()[:400])
    first = load_corpus([bad, write("drip.txt", DRIP)], cache=cache).skipped
    assert json.loads(entry(cache, bad) or b"") == {"skip": first[0].reason}
    assert load_corpus([bad, write("drip.txt", DRIP)], cache=cache).skipped == first


def test_the_reason_an_encrypted_pdf_is_skipped_is_cached(
    make_pdf: MakePdf, write: Write, cache: FileCache
) -> None:
    locked = make_pdf("locked.pdf", [LEGUMES], password="secret")
    load_corpus([locked, write("drip.txt", DRIP)], cache=cache)
    assert json.loads(entry(cache, locked) or b"") == {
        "skip": "encrypted PDF: it needs a password to be read"
    }


def test_a_time_limit_is_never_cached(make_pdf: MakePdf, write: Write, cache: FileCache) -> None:
    slow = make_pdf("slow.pdf", [LEGUMES])
    limits = Limits(max_file_seconds=1e-9)
    load_corpus([slow, write("drip.txt", DRIP)], cache=cache, limits=limits)
    assert entry(cache, slow) is None
    assert load_corpus([slow], cache=cache).papers[0].id == "slow.pdf"


def test_a_cached_pdf_is_held_to_the_limits_of_the_run_that_reads_it(
    make_pdf: MakePdf, write: Write, cache: FileCache
) -> None:
    long = make_pdf("long.pdf", [LEGUMES, DRIP, COVER_CROPS])
    load_corpus([long], cache=cache)
    pages = load_corpus([long, write("d.txt", DRIP)], cache=cache, limits=Limits(max_pages=2))
    chars = load_corpus(
        [long, write("d.txt", DRIP)], cache=cache, limits=Limits(max_file_chars=400)
    )
    assert pages.skipped[0].reason.endswith("more than the limit of 2 (max_pdf_pages)")
    assert "(max_file_chars)" in chars.skipped[0].reason


def test_a_broken_cache_entry_is_read_again_from_the_file(
    make_pdf: MakePdf, cache: FileCache
) -> None:
    path = make_pdf("legumes.pdf", [LEGUMES])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    cache.put(CACHE_NAMESPACE, cache_key_for(digest), b'{"pages": [[1, "tru')
    assert "root nodules" in load_corpus([path], cache=cache).papers[0].pages[0].text
    assert json.loads(entry(cache, path) or b"")["pages"][0][0] == 1


def test_a_cache_that_cannot_be_written_does_not_stop_the_read(
    make_pdf: MakePdf, write: Write
) -> None:
    blocked = FileCache(write("not-a-folder", b"x"))
    paper = load_corpus([make_pdf("legumes.pdf", [LEGUMES])], cache=blocked).papers[0]
    assert paper.id == "legumes.pdf"
