"""A job's family: its parents up to the first job (by `continues`, `revision_of`,
`replay_of`), its children, and the whole tree from that first job, for the lineage
view. Bounded: a family of more than MAX_NODES jobs is cut, and says so."""

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litgap.exceptions import InvalidInput
from litgap.ids import validate_job_id
from litgap.runtime import Runtime
from litgap.services.export import MANIFEST, result_paths
from litgap.services.inputs import file_sha256
from litgap.services.manifest import Verification, parse_manifest, verify_archive
from litgap.store import jobs as job_rows
from litgap.store import lineage as lineage_rows

Row = dict[str, Any]
MAX_NODES = 500
_FIELDS = ("job_id", "status", "created_at", "relation", "parent_job_id")


def _public(node: Row) -> Row:
    return {k: node.get(k) for k in _FIELDS}


def job_lineage(rt: Runtime, job_id: str) -> Row:
    """Raises InvalidJobId or UnknownJob."""
    job_rows.get_job(rt.engine, validate_job_id(job_id))
    start = lineage_rows.nodes(rt.engine, [job_id])[job_id]
    parents: list[Row] = []
    seen = {job_id}
    node = start
    while node.get("parent_job_id") and len(parents) < MAX_NODES:
        parent_id = node["parent_job_id"]
        found = lineage_rows.nodes(rt.engine, [parent_id]).get(parent_id)
        if found is None or parent_id in seen:
            break  # a parent deleted, or a loop written by hand
        seen.add(parent_id)
        parents.append(_public(found))
        node = found
    root = parents[-1] if parents else _public(start)
    tree, truncated = _tree(rt, root)
    kids = [_public(c) for c in lineage_rows.children(rt.engine, [job_id])]
    return {
        "job_id": job_id,
        "relation": start.get("relation"),
        "parent_job_id": start.get("parent_job_id"),
        "parents": parents,
        "children": kids,
        "tree": tree,
        "truncated": truncated,
    }


def _tree(rt: Runtime, root: Row) -> tuple[Row, bool]:
    """The family from `root` down, breadth first, each node with its `children`."""
    by_id: dict[str, Row] = {root["job_id"]: {**_public(root), "children": []}}
    level = [root["job_id"]]
    while level and len(by_id) < MAX_NODES:
        found = lineage_rows.children(rt.engine, level)
        level = []
        for child in found:
            if child["job_id"] in by_id or len(by_id) >= MAX_NODES:
                continue
            node = {**_public(child), "children": []}
            by_id[child["job_id"]] = node
            by_id[child["parent_job_id"]]["children"].append(node)
            level.append(child["job_id"])
    return by_id[root["job_id"]], bool(level) and len(by_id) >= MAX_NODES


# -- exports: a child's archive names its parent's, so a chain of exports verifies ---

LINEAGE_ENTRY = "LINEAGE.json"


def content_hash(entries: dict[str, str]) -> str:
    """The hash of an export's lasting content: the manifest lines (sha256sum format,
    sorted) of job_data.json and results/. The prompt history files are left out: they
    restate job_data.json's records, and the text one carries the time of export."""
    lines = "".join(
        f"{sha}  {name}\n"
        for name, sha in sorted(entries.items())
        if name == "job_data.json" or name.startswith("results/")
    )
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def _job_entries(rt: Runtime, job_id: str) -> dict[str, str]:
    entries = {
        name: file_sha256(path) for name, path in result_paths(rt.workspace.results_dir(job_id))
    }
    document = rt.workspace.document(job_id)
    if document.is_file():
        entries["job_data.json"] = file_sha256(document)
    return entries


def lineage_entry(rt: Runtime, job_id: str) -> bytes | None:
    """LINEAGE.json for a job's export: its parent's id, relation and content hash
    (None for a job made from no other). The caller has flushed the documents."""
    row = job_rows.get_job(rt.engine, job_id)
    node = lineage_rows.nodes(rt.engine, [job_id])[job_id]
    parent_id = node.get("parent_job_id")
    if not parent_id or not job_rows.job_exists(rt.engine, parent_id):
        return None
    document = {
        "job_id": job_id,
        "parent_job_id": parent_id,
        "relation": node.get("relation"),
        "parent_manifest_hash": content_hash(_job_entries(rt, parent_id)),
        "added": [
            {"name": i.get("name"), "sha256": i.get("sha256")}
            for i in row.get("inputs") or []
            if i.get("added")
        ],
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


@dataclass
class ChainLink:
    archive: Path
    job_id: str | None
    parent_job_id: str | None
    relation: str | None
    content_hash: str
    expected_parent_hash: str | None
    verification: Verification


@dataclass
class ChainCheck:
    links: list[ChainLink] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(link.verification.ok for link in self.links)


def _read_link(path: Path) -> ChainLink:
    result = verify_archive(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        listed = parse_manifest(archive.read(MANIFEST).decode("utf-8"))
        lineage: Row = {}
        if LINEAGE_ENTRY in names:
            try:
                lineage = json.loads(archive.read(LINEAGE_ENTRY))
            except ValueError as err:
                raise InvalidInput(f"{LINEAGE_ENTRY} in {path} is not JSON: {err}") from err
        job_id = None
        if "job_data.json" in names:
            try:
                job_id = json.loads(archive.read("job_data.json")).get("job_id")
            except (ValueError, AttributeError):
                job_id = None
    return ChainLink(
        archive=path,
        job_id=job_id,
        parent_job_id=lineage.get("parent_job_id"),
        relation=lineage.get("relation"),
        content_hash=content_hash(listed),
        expected_parent_hash=lineage.get("parent_manifest_hash"),
        verification=result,
    )


def verify_chain(paths: list[Path]) -> ChainCheck:
    """Verify each archive against its manifest, and each one whose parent is among
    them against that parent's content hash. Every archive but the first of the chain
    must have its parent given. Raises InvalidInput for a file that is not an export."""
    check = ChainCheck(links=[_read_link(p) for p in paths])
    by_job = {link.job_id: link for link in check.links if link.job_id}
    for link in check.links:
        if link.parent_job_id is None:
            continue
        parent = by_job.get(link.parent_job_id)
        if parent is None:
            if len(check.links) > 1 and not _is_root_of(check.links, link):
                check.problems.append(
                    f"{link.archive}: its parent {link.parent_job_id} is not among the archives"
                )
            continue
        if parent.content_hash != link.expected_parent_hash:
            check.problems.append(
                f"{link.archive}: names {parent.archive} ({link.parent_job_id}) as its parent, "
                "but that archive's content differs from the one it was made from"
            )
    return check


def _is_root_of(links: list[ChainLink], link: ChainLink) -> bool:
    """The oldest archive given may have a parent not given: the chain starts there."""
    given = {other.job_id for other in links}
    return all(other is link or other.parent_job_id in given for other in links)
