"""Screening uploads for duplicates reads their files as the run would, PDFs in the
analysis workers, and leaves what it extracted in the cache for the run."""

import hashlib
from pathlib import Path

from litgap.pipeline.cache import FileCache
from litgap.pipeline.ingest.pdf import CACHE_NAMESPACE, cache_key_for
from litgap.runtime import Runtime
from litgap.services.duplicates import bounded_reader
from tests.unit.pipeline.inputs import COVER_CROPS, DRIP, pdf_bytes


def saved(folder: Path, name: str, data: bytes) -> tuple[Path, str]:
    path = folder / name
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_the_bounded_reader_reads_pdfs_and_text_into_their_papers(
    runtime: Runtime, tmp_path: Path
) -> None:
    pdf = saved(tmp_path, "cover.pdf", pdf_bytes([COVER_CROPS], title="Cover crops in dry years"))
    text = saved(tmp_path, "drip.txt", f"Drip irrigation trials\n\n{DRIP}".encode())
    damaged = saved(tmp_path, "broken.pdf", b"%PDF-1.7 not really")
    papers = bounded_reader(runtime)([pdf, text, damaged])
    assert [[p.title for p in found] for found in papers] == [
        ["Cover crops in dry years"],
        ["Drip irrigation trials"],
        [],
    ]


def test_what_the_screening_extracted_the_run_finds_in_the_cache(
    runtime: Runtime, tmp_path: Path
) -> None:
    path, sha = saved(tmp_path, "cover.pdf", pdf_bytes([COVER_CROPS], title="Cover crops"))
    bounded_reader(runtime)([(path, sha)])
    cache = FileCache(runtime.workspace.root / "cache")
    assert cache.get(CACHE_NAMESPACE, cache_key_for(sha)) is not None
