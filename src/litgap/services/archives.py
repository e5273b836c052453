"""ZIP uploads (a Zotero "export with files" folder, a folder of PDFs) unpacked into
corpus files, safely: bounded entry count and total size (counted as the bytes come
out, not as the archive claims), no absolute paths or `..`, no symlinks, no nested
archives; hidden files and macOS resource forks are left out."""

import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath

from litgap.exceptions import InvalidInput, PayloadTooLarge
from litgap.services.inputs import CHUNK, InputFile

ARCHIVE_SUFFIX = ".zip"
MAX_ENTRIES = 2000
# Files inside an archive that are corpus inputs; anything else in it (HTML snapshots,
# notes) is left out.
MEMBER_SUFFIXES = (".pdf", ".txt", ".md", ".markdown", ".csv", ".bib", ".ris")


def _member_path(archive_name: str, info: zipfile.ZipInfo) -> PurePosixPath | None:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (path.parts and path.parts[0].endswith(":")) or ".." in path.parts:
        raise InvalidInput(
            f"archive {archive_name[:100]!r}: entry {name[:100]!r} points outside the archive"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidInput(f"archive {archive_name[:100]!r}: entry {name[:100]!r} is a symlink")
    if info.is_dir() or any(p.startswith(".") or p == "__MACOSX" for p in path.parts):
        return None
    return path if path.suffix.lower() in MEMBER_SUFFIXES else None


def expand_archive(item: InputFile, limit: int) -> Iterator[InputFile]:
    """The corpus files inside one ZIP upload, each as a spooled temporary file, named
    `<archive>/<path inside>`. Raises InvalidInput (not a ZIP, unsafe entry, too many
    entries) or PayloadTooLarge (more than `limit` bytes unpacked)."""
    try:
        archive = zipfile.ZipFile(item.stream)
    except (zipfile.BadZipFile, OSError) as err:
        raise InvalidInput(f"{item.name[:100]!r} is not a readable ZIP archive: {err}") from err
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InvalidInput(
                f"archive {item.name[:100]!r} has {len(infos)} entries; the limit is {MAX_ENTRIES}"
            )
        members = [(info, p) for info in infos if (p := _member_path(item.name, info))]
        used = 0
        for info, path in members:
            spool = tempfile.SpooledTemporaryFile(max_size=CHUNK)
            try:
                with archive.open(info) as source:
                    while chunk := source.read(CHUNK):
                        used += len(chunk)
                        if used > limit:
                            raise PayloadTooLarge(
                                f"archive {item.name[:100]!r} unpacks to more than {limit} "
                                "bytes; nothing was saved"
                            )
                        spool.write(chunk)
            except (zipfile.BadZipFile, EOFError) as err:
                spool.close()
                raise InvalidInput(
                    f"archive {item.name[:100]!r}: entry {info.filename[:100]!r} is damaged: {err}"
                ) from err
            except BaseException:
                spool.close()
                raise
            spool.seek(0)
            yield InputFile(f"{item.name}/{path}", spool)  # type: ignore[arg-type]


def expand_archives(files: list[InputFile], limit: int) -> list[InputFile]:
    """The uploads with each ZIP replaced by the corpus files it holds."""
    expanded: list[InputFile] = []
    for item in files:
        if item.name.lower().endswith(ARCHIVE_SUFFIX):
            found = list(expand_archive(item, limit))
            if not found:
                raise InvalidInput(f"archive {item.name[:100]!r} holds no corpus files")
            expanded.extend(found)
        else:
            expanded.append(item)
    return expanded
