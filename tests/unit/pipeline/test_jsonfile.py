"""JSON laid out for people: the outer structure indented, each object that holds no
object on one line, keys sorted; the same value gives the same text in any process."""

import json
import math
import os
import subprocess
import sys

import pytest

from litgap.pipeline.jsonfile import dumps

REPORT = {
    "summary": {"papers": 2, "pillars": {"Water": 40.5, "Soil": 12.0}},
    "gaps": [{"id": "S1", "completeness": 0.0, "text": "Drip irrigation, «dry» years"}],
    "empty": {"list": [], "object": {}},
    "history": [[1, 2], [3]],
}


def test_the_text_reads_back_as_the_value() -> None:
    assert json.loads(dumps(REPORT)) == REPORT


def test_objects_holding_objects_are_indented_and_the_others_on_one_line() -> None:
    assert dumps(REPORT) == "\n".join(
        [
            "{",
            '  "empty": {',
            '    "list": [],',
            '    "object": {}',
            "  },",
            '  "gaps": [',
            '    {"completeness": 0.0, "id": "S1", "text": "Drip irrigation, «dry» years"}',
            "  ],",
            '  "history": [[1, 2], [3]],',
            '  "summary": {',
            '    "papers": 2,',
            '    "pillars": {"Soil": 12.0, "Water": 40.5}',
            "  }",
            "}",
        ]
    )


def test_a_value_without_objects_is_one_line_as_the_c_encoder_writes_it() -> None:
    flat = {"b": [1.5, None, True], "a": "x"}
    assert dumps(flat) == json.dumps(flat, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        dumps({"rows": [{"score": bad}]})


def test_a_key_that_is_not_a_string_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match="keys must be strings, not int: 3"):
        dumps({3: {"a": 1}})


def test_another_process_with_another_hash_seed_writes_the_same_text() -> None:
    script = "import json, sys; from litgap.pipeline.jsonfile import dumps; "
    script += "sys.stdout.write(dumps(json.loads(sys.stdin.read())))"
    value = {"set_like": {f"key {n}": {"n": n} for n in range(50)}, **REPORT}
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(value),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {dumps(value)}
