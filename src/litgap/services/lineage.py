"""A job's family: its parents up to the first job (by `continues`, `revision_of`,
`replay_of`), its children, and the whole tree from that first job, for the lineage
view. Bounded: a family of more than MAX_NODES jobs is cut, and says so."""

from typing import Any

from litgap.ids import validate_job_id
from litgap.runtime import Runtime
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
