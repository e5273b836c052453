"""The pillar framework: the original format loads unchanged; mistakes are named by place."""

import json
from pathlib import Path

import pytest

from litgap.pipeline import FrameworkError, load_framework, parse_framework
from tests.unit.pipeline.inputs import SOIL, WATER, framework_data


def problem(data: object) -> str:
    with pytest.raises(FrameworkError) as caught:
        parse_framework(data, "f.json")
    return caught.value.detail


def test_pillars_are_listed_in_file_order() -> None:
    assert parse_framework(framework_data()).pillar_names() == [SOIL, WATER]


def test_non_pillar_sections_are_kept_by_name_but_never_offered_as_pillars() -> None:
    framework = parse_framework(framework_data())
    assert framework.sections == (
        "Framework_Overview",
        "Cross_Cutting_Requirements",
        "Success_Criteria",
    )
    assert "Framework_Overview" not in framework.pillar_names()


def test_a_key_shaped_like_a_pillar_counts_as_one_whatever_its_name() -> None:
    data = framework_data()
    data["Theme: Soil life"] = {"requirements": {"REQ-X: Life": ["Sub-X.1: Earthworm counts"]}}
    assert "Theme: Soil life" in parse_framework(data).pillar_names()


def test_ids_and_texts_are_split_from_labels() -> None:
    pillar = parse_framework(framework_data()).pillars[0]
    req = pillar.requirements[0]
    assert (req.id, req.name) == ("REQ-S1", "Fertility")
    assert (req.subs[0].id, req.subs[0].text) == (
        "Sub-S1.1",
        "Nitrogen fixation by legume root nodules",
    )


def test_labels_without_ids_get_positional_ids() -> None:
    data = {"Pillar A": {"requirements": {"Fertility": ["nitrogen", "carbon"]}}}
    req = parse_framework(data).pillars[0].requirements[0]
    assert req.id == "REQ-1.1"
    assert [s.id for s in req.subs] == ["Sub-1.1.1", "Sub-1.1.2"]


def test_extra_keys_in_a_pillar_are_allowed() -> None:
    data = framework_data()
    data[SOIL]["validation_criteria"] = {"anything": ["goes", 1, None]}
    assert parse_framework(data).sub_requirement_count == 6


def test_requirement_that_is_not_a_list_names_its_place() -> None:
    data = {"Pillar 3: X": {"requirements": {"REQ-B3.1": "Sub-3.1.1: text"}}}
    assert problem(data) == (
        'f.json: "Pillar 3: X" -> requirements -> "REQ-B3.1": expected a list of strings, '
        "got a string"
    )


def test_sub_requirement_that_is_not_a_string_names_its_item() -> None:
    data = {"Pillar 3: X": {"requirements": {"REQ-B3.1": ["Sub-3.1.1: a", 7]}}}
    assert '"Pillar 3: X" -> requirements -> "REQ-B3.1" -> item 2: expected a string' in problem(
        data
    )


def test_missing_requirements_key_is_named() -> None:
    assert problem({"Pillar 3: X": {"description": "d"}}) == (
        'f.json: "Pillar 3: X": missing required key "requirements"'
    )


def test_keywords_must_be_a_list_of_strings() -> None:
    data = {"Pillar 3: X": {"keywords": "soil", "requirements": {"R": ["s"]}}}
    assert (
        problem(data)
        == 'f.json: "Pillar 3: X" -> keywords: expected a list of strings, got a string'
    )


def test_a_pillar_that_is_not_an_object_is_an_error() -> None:
    assert problem({"Pillar 3: X": ["a"]}) == (
        'f.json: "Pillar 3: X": expected an object with a "requirements" key, got a list'
    )


def test_empty_requirement_list_is_an_error() -> None:
    assert problem({"Pillar 3: X": {"requirements": {"REQ-1: R": []}}}) == (
        'f.json: "Pillar 3: X" -> requirements -> "REQ-1: R": expected at least one sub-requirement'
    )


def test_every_problem_is_kept_and_the_message_counts_the_rest() -> None:
    data = {"Pillar 1: A": {"description": 1}, "Pillar 2: B": {"requirements": {"R": [1]}}}
    with pytest.raises(FrameworkError) as caught:
        parse_framework(data)
    assert len(caught.value.problems) == 3
    assert caught.value.detail.endswith("(and 2 more problems)")


def test_duplicate_sub_requirement_ids_are_an_error() -> None:
    data = framework_data()
    data[WATER]["requirements"]["REQ-W1: Irrigation"][1] = "Sub-S1.1: Again"
    assert "duplicate sub-requirement id 'Sub-S1.1'" in problem(data)


def test_a_file_without_pillars_is_an_error() -> None:
    assert "no pillars found" in problem({"Framework_Overview": {"vision": "v"}})


def test_top_level_must_be_an_object() -> None:
    assert problem([1, 2]) == "f.json: expected a JSON object with pillars as keys, got a list"


def test_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "Pillar 1: A": {\n    "requirements": {,}\n  }\n}\n', encoding="utf-8")
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    assert caught.value.detail.startswith("broken.json: invalid JSON at line 3, column 22:")


def test_duplicate_json_keys_are_an_error_not_silently_merged(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text('{"Pillar 1: A": {"requirements": {"R": ["s"]}}, "Pillar 1: A": {}}')
    with pytest.raises(FrameworkError, match='duplicate key "Pillar 1: A"'):
        load_framework(path)


def test_a_missing_file_is_a_framework_error(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="cannot read the framework file"):
        load_framework(tmp_path / "absent.json")


def test_a_file_is_loaded_from_disk_with_its_name_as_source(tmp_path: Path) -> None:
    path = tmp_path / "pillar_definitions.json"
    path.write_text(json.dumps(framework_data()), encoding="utf-8-sig")
    framework = load_framework(path)
    assert (framework.source, framework.requirement_count) == ("pillar_definitions.json", 3)


def test_selection_keeps_file_order_whatever_the_order_chosen() -> None:
    framework = parse_framework(framework_data())
    assert [p.name for p in framework.select([WATER, SOIL])] == [SOIL, WATER]


def test_selecting_an_unknown_pillar_is_an_error_that_lists_the_known_ones() -> None:
    framework = parse_framework(framework_data())
    with pytest.raises(FrameworkError, match="unknown pillar 'Pillar 9'; the framework has: "):
        framework.select(["Pillar 9"])


def test_selecting_no_pillar_is_an_error() -> None:
    with pytest.raises(FrameworkError, match="no pillar selected"):
        parse_framework(framework_data()).select([])
