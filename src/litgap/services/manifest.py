"""Checking an exported archive against its MANIFEST.sha256."""

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from litgap.exceptions import InvalidInput
from litgap.services.export import CHUNK, MANIFEST, PARTIAL_NOTE

# sha256sum's format: 64 hex digits, a space, a space or "*" (binary mode), the name.
_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


@dataclass
class Verification:
    checked: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    partial: bool = False

    @property
    def ok(self) -> bool:
        return not (self.altered or self.missing or self.unlisted)


def parse_manifest(text: str) -> dict[str, str]:
    """name -> sha256; InvalidInput names the first malformed line."""
    listed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise InvalidInput(f"{MANIFEST} line {number} is not '<sha256>  <name>': {line[:80]!r}")
        listed[match.group(2)] = match.group(1).lower()
    return listed


def _entry_sha256(archive: zipfile.ZipFile, name: str) -> str | None:
    """The entry's SHA-256, or None when its stored bytes are damaged (bad CRC)."""
    digest = hashlib.sha256()
    try:
        with archive.open(name) as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except (zipfile.BadZipFile, EOFError, OSError):
        return None
    return digest.hexdigest()


def verify_archive(path: Path) -> Verification:
    """Compare every entry of an export with the manifest. Raises InvalidInput when the
    file is not a ZIP or has no readable manifest."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise InvalidInput(f"{path} is not a readable ZIP archive: {err}") from err
    with archive:
        names = [i.filename for i in archive.infolist() if not i.is_dir()]
        if MANIFEST not in names:
            raise InvalidInput(f"{path} has no {MANIFEST}: it is not a litgap export")
        try:
            listed = parse_manifest(archive.read(MANIFEST).decode("utf-8"))
        except (UnicodeDecodeError, zipfile.BadZipFile) as err:
            raise InvalidInput(f"{MANIFEST} in {path} is unreadable: {err}") from err
        result = Verification(partial=PARTIAL_NOTE in names)
        present = set(names)
        # A second entry under a listed name is a substitution: unzip tools disagree on
        # which of the two they extract.
        doubled = {n for n in present if names.count(n) > 1}
        for name, expected in sorted(listed.items()):
            if name not in present:
                result.missing.append(name)
            elif name in doubled or _entry_sha256(archive, name) != expected:
                result.altered.append(name)
            else:
                result.checked.append(name)
        result.unlisted = sorted(present - set(listed) - {MANIFEST})
    return result
