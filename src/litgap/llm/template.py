"""The prompt template, the request it makes and the verdict schema the answer must meet.

A template is versioned (`TEMPLATE_VERSION`, recorded with every verdict): changing its
words changes the requests, so their hashes, so a replay of an older job sees drift
instead of answers to a question it did not ask. The request body is canonical JSON
(sorted keys, no spaces) and is sent as those exact bytes: `request_hash` is the
sha256 of what went over the wire.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litgap.llm.settings import ResponseFormat

TEMPLATE_VERSION = "evidence-v1"
LABELS = ("supports", "does_not_support", "unclear")
# What a record's label may also say when the model gave no verdict.
MALFORMED, REFUSED = "malformed", "refused"
# The verdicts that are a reviewer's accept / reject; "unclear" is neither.
AS_VERDICT = {"supports": "accept", "does_not_support": "reject"}
MAX_REASON = 500
MAX_PASSAGE_CHARS = 4000  # of a passage's text sent to the model
MAX_TOKENS = 200

SYSTEM = (
    "You screen evidence for a literature gap analysis. You are shown one "
    "sub-requirement of a framework and one passage from a paper. Decide whether the "
    "passage is evidence that the paper addresses the sub-requirement. Answer with one "
    'JSON object and nothing else: {"verdict": "supports" | "does_not_support" | '
    '"unclear", "reason": "<one short sentence>"}.'
)

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": list(LABELS)},
        "reason": {"type": "string", "maxLength": 300},
    },
    "required": ["verdict", "reason"],
    "additionalProperties": False,
}

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class MalformedVerdict(ValueError):
    """The answer is not a verdict object (its reason says what is wrong)."""


@dataclass(frozen=True)
class Verdict:
    label: str
    reason: str


def user_message(sub: Mapping[str, Any], passage: Mapping[str, Any]) -> str:
    text = " ".join(str(passage.get("text", "")).split())[:MAX_PASSAGE_CHARS]
    where = f"paper {passage.get('title') or passage.get('paper')}, page {passage.get('page')}"
    return (
        f"Sub-requirement {sub['id']}: {sub.get('text', '')}\n"
        f"Requirement: {sub.get('requirement')}\nPillar: {sub.get('pillar')}\n\n"
        f'Passage ({where}):\n"""{text}"""\n\n'
        "Does this passage support the sub-requirement?"
    )


def request_body(
    model: str, sub: Mapping[str, Any], passage: Mapping[str, Any], response_format: ResponseFormat
) -> bytes:
    """The exact bytes POSTed to /chat/completions for one passage (canonical JSON)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": user_message(sub, passage)},
        ],
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
    }
    if response_format == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "strict": True, "schema": VERDICT_SCHEMA},
        }
    elif response_format == "json_object":
        body["response_format"] = {"type": "json_object"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def parse_verdict(content: str) -> Verdict:
    """The verdict in a model's answer (a JSON object, possibly in a ``` fence).
    Raises MalformedVerdict saying what is wrong."""
    fenced = _FENCE.match(content)
    text = fenced.group(1) if fenced else content.strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise MalformedVerdict(f"not JSON ({err.msg} at character {err.pos})") from None
    if not isinstance(data, dict):
        raise MalformedVerdict(f"expected a JSON object, got {type(data).__name__}")
    label = data.get("verdict")
    if label not in LABELS:
        raise MalformedVerdict(f"verdict {str(label)[:40]!r} is not one of {list(LABELS)}")
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        raise MalformedVerdict(f"reason is {type(reason).__name__}, not a string")
    return Verdict(str(label), " ".join(reason.split())[:MAX_REASON])
