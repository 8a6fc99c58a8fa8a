"""The MLflow filter language: parsing, and LIKE patterns as portable regular expressions."""

import re

import pytest

from models_app.mlflow_search import (
    MODEL_FIELDS,
    VERSION_FIELDS,
    Condition,
    FilterError,
    like_to_regex,
    parse_filter,
    parse_order_by,
)


def test_it_reads_and_joined_conditions_with_quoted_keys_and_values():
    conditions = parse_filter(
        """name ILIKE 'fraud%' and tags.`owner team` = "risk" AND run_id NOT IN ('a', 'b''c')""",
        VERSION_FIELDS,
    )

    assert conditions == [
        Condition("attribute", "name", "ILIKE", "fraud%"),
        Condition("tag", "owner team", "=", "risk"),
        Condition("attribute", "run_id", "NOT IN", ("a", "b'c")),
    ]


def test_it_reads_the_clients_prompt_filter_and_numeric_comparisons():
    assert parse_filter("tag.`mlflow.prompt.is_prompt` != 'true'", MODEL_FIELDS) == [
        Condition("tag", "mlflow.prompt.is_prompt", "!=", "true")
    ]
    assert parse_filter("attributes.version_number >= 3", VERSION_FIELDS) == [
        Condition("attribute", "version_number", ">=", 3)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "name = 'a' OR name = 'b'",
        "colour = 'red'",
        "name =",
        "name 'a'",
        "version_number = 'x'",
        "run_id IN ('a'",
        "tags.k IN ('a')",
        "source_path IN ('a')",
        "name < 'b'",
        "name = 'a' AND",
    ],
)
def test_it_refuses_what_it_cannot_read(text):
    with pytest.raises(FilterError):
        parse_filter(text, VERSION_FIELDS)


def test_version_fields_are_not_model_fields():
    with pytest.raises(FilterError, match="run_id"):
        parse_filter("run_id = 'r'", MODEL_FIELDS)


def test_like_patterns_become_anchored_regexes_with_escaped_metacharacters():
    pattern = like_to_regex("fraud.v_%")

    assert re.fullmatch(pattern, "fraud.v2-final")
    assert not re.fullmatch(pattern, "fraudXv2")
    assert not re.fullmatch(like_to_regex("a"), "ab")


def test_order_by_maps_mlflow_keys_to_fields():
    assert parse_order_by(["name DESC", "version_number"], VERSION_FIELDS) == [
        "-model__name",
        "version",
    ]
    with pytest.raises(FilterError):
        parse_order_by(["name SIDEWAYS"], VERSION_FIELDS)
