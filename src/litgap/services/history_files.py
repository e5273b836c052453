"""The prompt history as the export's three files: JSON (the `prompts` array of
job_data.json), readable text, and CSV. Records are read from the store in batches and
written one at a time to any byte sink, so a history of any length costs little memory.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from litgap.records import decision_label, prompt_record, shown_value
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
HISTORY_BATCH = 500
TXT_STATUS = {
    "Responded": "OK",
    "Replayed": "REPLAYED",
    "Timed out": "TIMED OUT",
    "Default applied": "DEFAULT APPLIED",
    "Cancelled": "CANCELLED",
}
CSV_FIELDS = (
    "seq", "prompt_id", "type", "requested_at", "timestamp", "status", "decision",
    "response", "applied", "source", "answered_by", "response_time_ms", "timeout_seconds",
    "message", "note", "replayed_from", "drift",
)  # fmt: skip
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Sink(Protocol):
    def write(self, data: bytes, /) -> Any: ...


class _Row:
    """What csv.writer wrote since the last `take`, as UTF-8."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> bytes:
        data = "".join(self._parts).encode("utf-8")
        self._parts.clear()
        return data


@dataclass(frozen=True)
class TxtHeader:
    job_id: str
    status: str
    exported_at: str
    count: int
    partial: bool


def history(engine: sa.Engine, job_id: str) -> Iterator[dict[str, Any]]:
    """The job's prompt records in order, read in batches: a long history is never
    held whole in memory (10,000 records with their context are ~60 MB as objects)."""
    after = -1
    while True:
        rows = prompt_rows.job_prompts(engine, job_id, after_seq=after, limit=HISTORY_BATCH)
        for row in rows:
            yield prompt_record(row)
        if len(rows) < HISTORY_BATCH:
            return
        after = rows[-1]["seq"]


def json_pieces(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The JSON file, a record at a time."""
    # The `prompts` array of job_data.json, one record a line: the C encoder serves an
    # unindented dump, about 8x faster than indent=2 on a long history.
    yield b"["
    count = 0
    for record in records:
        text = json.dumps(record, ensure_ascii=False)
        yield (b",\n  " if count else b"\n  ") + text.encode()
        count += 1
    yield b"\n]\n" if count else b"]\n"


def write_json(out: Sink, records: Iterable[dict[str, Any]]) -> None:
    for piece in json_pieces(records):
        out.write(piece)


def txt_pieces(header: TxtHeader, records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The text file, a record at a time."""
    head = [
        f"Prompt history of job {header.job_id}",
        f"Job status: {header.status}",
        f"Exported at: {header.exported_at}",
        f"Decisions: {header.count}",
    ]
    if header.partial:
        head.append(f"PARTIAL: the job was still {header.status}; more decisions may follow.")
    yield ("\n".join(head) + "\n" + "=" * 60 + "\n").encode()
    for record in records:
        yield ("\n" + _txt_record(record)).encode()


def write_txt(out: Sink, header: TxtHeader, records: Iterable[dict[str, Any]]) -> None:
    for piece in txt_pieces(header, records):
        out.write(piece)


def _txt_record(record: dict[str, Any]) -> str:
    label = decision_label(record)
    shown = record["response"]
    if record["status"] == "timed_out":
        shown = f"none (default applied: {shown_value(record['applied'])})"
        if record["applied"] is None:
            shown = "none (no default)"
    who = record["answered_by"] or "—"
    lines = [
        f"[{record['timestamp']}] #{record['seq']} {record['type']}",
        f"  Response:    {shown_value(shown)}",
        f"  Status:      {TXT_STATUS.get(label, label.upper())}",
        f"  Answered by: {who} (source: {record['source'] or '—'})",
        f"  Asked at:    {record['requested_at']}  ({_ms(record['response_time_ms'])})",
        f"  Message:     {_one_line(str(record['prompt_data'].get('message', '')))}",
    ]
    if record.get("note"):
        lines.append(f"  Note:        {_one_line(record['note'])}")
    if record.get("replayed_from"):
        lines.append(f"  Replayed from: {record['replayed_from']}")
    if record.get("drift"):
        lines.append(f"  Drift:       {_one_line(record['drift'])}")
    return "\n".join(lines) + "\n"


def _ms(value: int | None) -> str:
    return "—" if value is None else f"{value} ms"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def write_csv(out: Sink, records: Iterable[dict[str, Any]]) -> None:
    for piece in csv_pieces(records):
        out.write(piece)


def csv_pieces(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The CSV file, a row at a time."""
    row = _Row()
    writer = csv.writer(row, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    yield row.take()
    for record in records:
        data = record["prompt_data"]
        writer.writerow(
            [
                record["seq"], record["prompt_id"], record["type"], record["requested_at"],
                record["timestamp"], record["status"], decision_label(record),
                _cell(record["response"]), _cell(record["applied"]), _cell(record["source"]),
                _cell(record["answered_by"]), _cell(record["response_time_ms"]),
                record["timeout_seconds"], _cell(data.get("message")), _cell(record["note"]),
                _cell(record.get("replayed_from")), _cell(record.get("drift")),
            ]
        )  # fmt: skip
        yield row.take()


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    # Keep a value from running as a formula when the CSV is opened in a spreadsheet.
    return "'" + text if text.startswith(_FORMULA_START) else text


EVIDENCE_CSV = "evidence_review.csv"
EVIDENCE_FIELDS = (
    "job_id", "sub_requirement", "evidence_id", "paper", "page", "verdict", "reviewer",
    "source", "note", "timestamp", "prompt_id", "model_label",
)  # fmt: skip


def evidence_csv_pieces(job_id: str, records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """evidence_review.csv, a row at a time: one row per verdict of the job's
    evidence_review decisions (the accepted options, and every other option rejected).
    A model's verdict (source llm) also names its label (supports, does_not_support,
    unclear, malformed, refused); one that is no verdict has the verdict "none"."""
    row = _Row()
    writer = csv.writer(row, lineterminator="\r\n")
    writer.writerow(EVIDENCE_FIELDS)
    yield row.take()
    for record in records:
        data = record["prompt_data"]
        model = data.get("llm") if isinstance(data.get("llm"), dict) else None
        if record["type"] != "evidence_review" or (record["applied"] is None and not model):
            continue
        applied = record["applied"]
        accepted = {applied} if isinstance(applied, str) else set(applied or [])
        passages = {str(p.get("evidence_id")): p for p in data.get("passages", [])}
        for eid in data.get("options") or []:
            passage = passages.get(eid, {})
            writer.writerow(
                [
                    _cell(job_id), _cell(data.get("sub_requirement")), _cell(eid),
                    _cell(passage.get("paper")), _cell(passage.get("page")),
                    "none" if applied is None else "accept" if eid in accepted else "reject",
                    _cell(passage.get("judged_by") or record["answered_by"]),
                    _cell(record["source"]), _cell(passage.get("note") or record["note"]),
                    _cell(record["timestamp"]), _cell(record["prompt_id"]),
                    _cell(model.get("label") if model else None),
                ]
            )  # fmt: skip
        yield row.take()
