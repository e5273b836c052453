"""Decision analytics: how each prompt type is answered, from the store's records.

Per prompt type, over the prompts resolved in [since, until]:

- `count`: resolved prompts (answered, timed out, cancelled), replayed ones excluded:
  a replay answers from a recorded decision, nobody decided anything (`replayed` counts
  them apart);
- `median_ms`, `p90_ms`: time from request to answer of the answered prompts (a
  timeout's time is its deadline, not a decision); p90 interpolates linearly between
  the closest ranks (as numpy's default does);
- `timeout_rate`, `default_applied_rate`: shares of `count` that timed out, and that
  timed out with the default applied;
- `top_responses`: the five most frequent answers, most frequent first.

A model's verdicts (`source: "llm"`) are no person's decisions: they are left out of
those figures and given apart, as a row of their own (`"source": "llm"`, its times
the model's latency, its top responses the verdict labels) and as `llm`: per model the
verdicts, their labels, calls, tokens, answers taken from the cache, and latency.
"""

import json
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from litgap.clock import iso
from litgap.exceptions import InvalidInput
from litgap.llm.records import model_label
from litgap.runtime import Runtime
from litgap.status import PromptSource, PromptStatus
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
TOP_RESPONSES = 5


def parse_time(name: str, text: str | None) -> str | None:
    """An ISO-8601 time (a date alone means its midnight; no offset means UTC) in the
    store's form; InvalidInput names the parameter and the value."""
    if text is None or text == "":
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise InvalidInput(
            f"{name}: {text[:60]!r} is not an ISO-8601 time (e.g. 2025-11-17T10:00:00Z)"
        ) from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)


def percentile(values: list[int], fraction: float) -> float:
    """Linear interpolation between closest ranks; `values` must not be empty."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _model_figures(rows: list[Row]) -> list[Row]:
    by_model: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_model[str(row["answered_by"])].append(row)
    figures = []
    for model, given in sorted(by_model.items()):
        blocks = [r["prompt_data"].get("llm") or {} for r in given]
        paid = [b for b in blocks if not b.get("cached")]
        latencies = [int(b["latency_ms"]) for b in paid if b.get("latency_ms") is not None]
        figures.append(
            {
                "model": model,
                "verdicts": len(given),
                "labels": dict(sorted(Counter(str(b.get("label")) for b in blocks).items())),
                "calls": sum(int(b.get("calls") or 0) for b in paid),
                "prompt_tokens": sum(int(b.get("prompt_tokens") or 0) for b in paid),
                "completion_tokens": sum(int(b.get("completion_tokens") or 0) for b in paid),
                "cached": len(blocks) - len(paid),
                "median_latency_ms": (
                    round(float(statistics.median(latencies)), 1) if latencies else None
                ),
            }
        )
    return figures


def _type_figures(prompt_type: str, rows: list[Row], replayed: int) -> Row:
    answered = [r for r in rows if r["status"] == PromptStatus.ANSWERED]
    timed_out = [r for r in rows if r["status"] == PromptStatus.TIMED_OUT]
    defaulted = [r for r in timed_out if r["applied"] is not None]
    times = [r["response_time_ms"] for r in answered if r["response_time_ms"] is not None]
    responses: Counter[str] = Counter(
        json.dumps(r["response"], ensure_ascii=False, sort_keys=True) for r in answered
    )
    top = sorted(responses.items(), key=lambda item: (-item[1], item[0]))[:TOP_RESPONSES]
    count = len(rows)
    return {
        "type": prompt_type,
        "count": count,
        "answered": len(answered),
        "replayed": replayed,
        "median_ms": round(float(statistics.median(times)), 1) if times else None,
        "p90_ms": round(percentile(times, 0.9), 1) if times else None,
        "timeout_rate": round(len(timed_out) / count, 4) if count else 0.0,
        "default_applied_rate": round(len(defaulted) / count, 4) if count else 0.0,
        "top_responses": [{"response": json.loads(k), "count": n} for k, n in top],
    }


def prompt_analytics(rt: Runtime, since: str | None = None, until: str | None = None) -> Row:
    """Figures per prompt type for the prompts resolved between `since` and `until`
    (ISO-8601, both inclusive, either may be omitted). Raises InvalidInput for a bad
    time or since after until."""
    start, end = parse_time("since", since), parse_time("until", until)
    if start and end and start > end:
        raise InvalidInput(f"since ({since}) is after until ({until})")
    by_type: dict[str, list[Row]] = defaultdict(list)
    by_model: dict[str, list[Row]] = defaultdict(list)
    replayed: Counter[str] = Counter()
    for row in prompt_rows.resolved_in_range(rt.engine, start, end):
        if row["source"] == PromptSource.REPLAY:
            replayed[row["type"]] += 1
        elif row["source"] == PromptSource.LLM:
            by_model[row["type"]].append(row)
        else:
            by_type[row["type"]].append(row)
    types = sorted(set(by_type) | set(replayed))
    figures = [_type_figures(t, by_type.get(t, []), replayed[t]) for t in types]
    for prompt_type, rows in sorted(by_model.items()):
        labels = [{**r, "response": model_label(r)} for r in rows]
        figures.append({**_type_figures(prompt_type, labels, 0), "source": "llm"})
    return {
        "since": start,
        "until": end,
        "types": figures,
        "llm": _model_figures([r for rows in by_model.values() for r in rows]),
    }
