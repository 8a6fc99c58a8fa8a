"""The comparison table as a pure function: rows, differences only, missing values, deltas
coloured by each metric's direction, the baseline, and the CSV rows."""

import pytest

from models_app.comparison import (
    MISSING,
    ComparisonError,
    build_comparison,
    choose_baseline,
    csv_rows,
    format_delta,
    format_number,
    format_value,
    parse_refs,
)

DEFINITIONS = {
    "auc": {"label": "ROC AUC", "unit": "ratio", "higher_is_better": True},
    "latency_p95_ms": {"label": "Latency p95", "unit": "ms", "higher_is_better": False},
    "mape": {"label": "MAPE", "unit": "%", "higher_is_better": False},
}


def column(ref, **sections):
    return {"ref": ref, **sections}


def section(comparison, key):
    return next(s for s in comparison.sections if s.key == key)


def row(comparison, section_key, row_key):
    return next(r for r in section(comparison, section_key).rows if r.key == row_key)


# --- parsing -----------------------------------------------------------------------------------


def test_it_parses_name_colon_number_and_drops_duplicates():
    refs = parse_refs(["fraud:3", " fraud:4 ", "fraud:v3", "", "churn.v2_x:12"])

    assert refs == [("fraud", 3), ("fraud", 4), ("churn.v2_x", 12)]


@pytest.mark.parametrize("bad", ["fraud", "fraud:", ":3", "fraud:three", "fraud:3:4", "<b>:1"])
def test_it_refuses_a_malformed_version_with_an_example(bad):
    with pytest.raises(ComparisonError) as caught:
        parse_refs(["ok:1", bad])

    assert "is not a version" in caught.value.message
    assert "fraud-classifier:3" in caught.value.message


def test_it_refuses_more_than_ten_versions():
    with pytest.raises(ComparisonError) as caught:
        parse_refs([f"fraud:{n}" for n in range(1, 12)])

    assert "At most 10" in caught.value.message
    assert "names 11" in caught.value.message


def test_ten_versions_and_fewer_than_two_are_not_errors_when_parsing():
    assert len(parse_refs([f"fraud:{n}" for n in range(1, 11)])) == 10
    assert parse_refs(["fraud:1"]) == [("fraud", 1)]
    assert parse_refs([]) == []


# --- baseline ----------------------------------------------------------------------------------


def test_the_baseline_is_the_one_asked_for_when_it_is_compared():
    assert choose_baseline(["a:1", "a:2", "a:3"], "a:3", {"a:2"}) == (2, "chosen")


def test_the_default_baseline_is_the_version_in_production():
    assert choose_baseline(["a:1", "a:2", "a:3"], None, {"a:2"}) == (1, "production")


def test_the_baseline_falls_back_to_the_first_column():
    assert choose_baseline(["a:1", "a:2"], "b:9", set()) == (0, "first")


# --- rows --------------------------------------------------------------------------------------


def test_every_key_of_any_version_becomes_a_row_and_a_missing_value_is_not_zero():
    comparison = build_comparison(
        [
            column("a:1", metrics={("auc", ""): 0.9}),
            column("a:2", metrics={("auc", ""): 0.92, ("latency_p95_ms", ""): 40.0}),
        ],
        definitions=DEFINITIONS,
    )

    latency = row(comparison, "metrics", "latency_p95_ms")
    first, second = latency.cells
    assert first.missing and first.value is None and first.text == MISSING
    assert first.delta_text == "" and first.tone == ""
    assert second.text == "40 ms"
    # The baseline (first column) lacks it, so there is nothing to measure a delta against.
    assert second.delta_text == ""
    assert latency.differs is True


def test_differences_only_hides_rows_where_all_versions_agree_and_counts_them():
    columns = [
        column(
            "a:1",
            overview={"Framework": "PyTorch 2.3", "Tags": ["fraud"]},
            hyperparameters={"lr": 0.1, "depth": 6},
            metrics={("auc", ""): 0.9},
        ),
        column(
            "a:2",
            overview={"Framework": "PyTorch 2.3", "Tags": ["fraud", "q3"]},
            hyperparameters={"lr": 0.05, "depth": 6},
            metrics={("auc", ""): 0.9},
        ),
    ]

    everything = build_comparison(columns)
    differences = build_comparison(columns, differences_only=True)

    assert [r.key for r in section(everything, "hyperparameters").rows] == ["depth", "lr"]
    assert [r.key for r in section(differences, "hyperparameters").rows] == ["lr"]
    assert section(differences, "hyperparameters").hidden == 1
    assert [r.key for r in section(differences, "overview").rows] == ["Tags"]
    assert section(differences, "metrics").rows == []
    assert section(differences, "metrics").hidden == 1
    assert differences.hidden_rows == 3
    assert everything.total_rows == differences.total_rows == 5
    assert everything.differing_rows == 2


def test_a_value_only_one_version_has_counts_as_a_difference():
    comparison = build_comparison(
        [column("a:1", hyperparameters={"dropout": 0.1}), column("a:2", hyperparameters={})],
        differences_only=True,
    )

    dropout = row(comparison, "hyperparameters", "dropout")
    assert [cell.text for cell in dropout.cells] == ["0.1", MISSING]


@pytest.mark.parametrize(
    ("key", "baseline_value", "value", "tone"),
    [
        ("auc", 0.90, 0.93, "good"),  # higher is better and it went up
        ("auc", 0.90, 0.85, "bad"),
        ("latency_p95_ms", 40.0, 35.0, "good"),  # lower is better and it went down
        ("latency_p95_ms", 40.0, 52.0, "bad"),
        ("auc", 0.90, 0.90, "same"),
        ("custom_score", 1.0, 2.0, ""),  # no definition: no direction to judge by
    ],
)
def test_deltas_are_coloured_by_the_metric_direction(key, baseline_value, value, tone):
    comparison = build_comparison(
        [
            column("a:1", metrics={(key, ""): baseline_value}),
            column("a:2", metrics={(key, ""): value}),
        ],
        definitions=DEFINITIONS,
    )

    base, other = row(comparison, "metrics", key).cells
    assert base.is_baseline and base.delta_text == "" and base.tone == ""
    assert other.tone == tone


def test_deltas_are_measured_against_the_chosen_baseline_column():
    metrics = [{("auc", ""): v} for v in (0.80, 0.90, 0.85)]
    comparison = build_comparison(
        [column(f"a:{n}", metrics=m) for n, m in enumerate(metrics, start=1)],
        baseline=1,
        definitions=DEFINITIONS,
    )

    cells = row(comparison, "metrics", "auc").cells
    assert [cell.is_baseline for cell in cells] == [False, True, False]
    assert [cell.delta_text for cell in cells] == ["−0.1", "", "−0.05"]
    assert [cell.tone for cell in cells] == ["bad", "", "bad"]
    assert cells[0].relative_text == "−11.1%"


def test_metric_rows_carry_unit_direction_and_slice():
    comparison = build_comparison(
        [
            column("a:1", metrics={("mape", ""): 4.0, ("auc", "gender=female"): 0.8}),
            column("a:2", metrics={("mape", ""): 4.5, ("auc", "gender=female"): 0.82}),
        ],
        definitions=DEFINITIONS,
    )

    mape = row(comparison, "metrics", "mape")
    assert (mape.label, mape.unit, mape.direction) == ("MAPE", "%", "down")
    assert mape.direction_text == "↓ lower is better"
    assert [cell.text for cell in mape.cells] == ["4%", "4.5%"]
    # A difference of percentages is in percentage points.
    assert mape.cells[1].delta_text == "+0.5 pp"
    sliced = row(comparison, "metrics", "auc[gender=female]")
    assert (sliced.label, sliced.note, sliced.code) == ("ROC AUC", "gender=female", "auc")


def test_cells_that_differ_from_the_baseline_are_marked_changed():
    comparison = build_comparison(
        [
            column("a:1", overview={"Framework": "XGBoost 2.1"}),
            column("a:2", overview={"Framework": "XGBoost 2.1"}),
            column("a:3", overview={"Framework": "XGBoost 2.0"}),
        ]
    )

    cells = row(comparison, "overview", "Framework").cells
    assert [cell.changed for cell in cells] == [False, False, True]


def test_datasets_compare_version_and_digest_and_artefacts_their_digest():
    digest_a, digest_b = "a" * 64, "b" * 64
    comparison = build_comparison(
        [
            column(
                "a:1",
                datasets={"Training · cards": {"version": "2024-05", "digest": "sha256:1"}},
                artifacts={"model.bin": {"sha256": digest_a}},
            ),
            column(
                "a:2",
                datasets={"Training · cards": {"version": "2024-05", "digest": "sha256:2"}},
                artifacts={"model.bin": {"sha256": digest_b}},
            ),
        ],
        differences_only=True,
    )

    training = row(comparison, "datasets", "Training · cards")
    assert [cell.text for cell in training.cells] == ["2024-05", "2024-05"]
    assert [cell.detail for cell in training.cells] == ["sha256:1", "sha256:2"]
    weights = row(comparison, "artifacts", "model.bin")
    assert [cell.text for cell in weights.cells] == ["a" * 12, "b" * 12]


def test_links_and_lists_are_recognised_for_display():
    comparison = build_comparison(
        [
            column("a:1", overview={"Source": "https://ci.example.com/1", "Tags": ["x", "y"]}),
            column("a:2", overview={"Source": "s3://bucket/run", "Tags": []}),
        ]
    )

    source = row(comparison, "overview", "Source").cells
    assert source[0].href == "https://ci.example.com/1"
    assert source[1].href == ""
    tags = row(comparison, "overview", "Tags").cells
    assert tags[0].items == ["x", "y"]
    assert tags[1].missing


def test_it_refuses_a_baseline_outside_the_columns():
    with pytest.raises(ValueError):
        build_comparison([column("a:1"), column("a:2")], baseline=2)


# --- formatting and CSV ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (0.94123456, "0.9412"),
        (12.3456, "12.35"),
        (123.456, "123.5"),
        (3294.4, "3,294"),
        (2500000.0, "2.5e+06"),
        (0.00001234, "1.234e-05"),
        (-0.25, "-0.25"),
        (42.0, "42"),
    ],
)
def test_numbers_are_short_but_tell_versions_apart(value, text):
    assert format_number(value) == text


def test_units_are_written_the_way_people_read_them():
    assert format_value(12.5, "ms") == "12.5 ms"
    assert format_value(0.91, "ratio") == "0.91"
    assert format_value(4.2, "%") == "4.2%"
    assert format_value(0.31, "×") == "0.31×"
    assert format_value(None, "ms") == MISSING
    assert format_delta(-1.5, "ms") == "−1.5 ms"
    assert format_delta(0.0, "") == "±0"


def test_csv_rows_have_raw_values_blank_missing_cells_and_deltas():
    comparison = build_comparison(
        [
            column("a:1", metrics={("auc", ""): 0.9}, artifacts={"m.bin": {"sha256": "c" * 64}}),
            column("a:2", metrics={("auc", ""): 0.95, ("latency_p95_ms", ""): 12.0}),
        ],
        definitions=DEFINITIONS,
    )

    lines = csv_rows(comparison)

    assert lines[0] == ["section", "field", "slice", "unit", "a:1", "a:2", "delta a:2 vs a:1"]
    auc = next(line for line in lines if line[1] == "auc")
    assert auc[4:6] == [0.9, 0.95]
    assert auc[6] == pytest.approx(0.05)
    latency = next(line for line in lines if line[1] == "latency_p95_ms")
    assert latency[4:] == ["", 12.0, ""]
    artefact = next(line for line in lines if line[1] == "m.bin")
    assert artefact[4:] == ["c" * 64, "", ""]
