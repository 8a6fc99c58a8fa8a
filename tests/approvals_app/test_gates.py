"""Gate evaluation is a pure function: plain values in, results out, no database."""

import pytest

from approvals_app.gates import Gate, Outcome, evaluate_gate, evaluate_gates


def absolute(key, operator, threshold, **overrides):
    return Gate(
        metric_key=key, kind="absolute", operator=operator, threshold=threshold, **overrides
    )


def relative(key, percent, **overrides):
    return Gate(metric_key=key, kind="relative", max_regression_percent=percent, **overrides)


HIGHER = {"auc": True, "accuracy": True, "latency_p95_ms": False}


@pytest.mark.parametrize(
    ("value", "outcome"),
    [(0.91, Outcome.PASS), (0.9, Outcome.PASS), (0.8999, Outcome.FAIL)],
)
def test_an_absolute_at_least_gate_passes_at_and_above_the_threshold(value, outcome):
    result = evaluate_gate(absolute("accuracy", ">=", 0.9), {("accuracy", ""): value}, None, HIGHER)

    assert result.outcome == outcome
    assert result.candidate_value == value
    assert result.limit == 0.9
    assert result.reference_value is None


@pytest.mark.parametrize(
    ("value", "outcome"),
    [(150.0, Outcome.PASS), (200.0, Outcome.PASS), (200.5, Outcome.FAIL)],
)
def test_an_absolute_at_most_gate_passes_at_and_below_the_threshold(value, outcome):
    gate = absolute("latency_p95_ms", "<=", 200)

    result = evaluate_gate(gate, {("latency_p95_ms", ""): value}, None, HIGHER)

    assert result.outcome == outcome


def test_an_absolute_gate_ignores_what_runs_now():
    gate = absolute("accuracy", ">=", 0.9)

    result = evaluate_gate(gate, {("accuracy", ""): 0.85}, {("accuracy", ""): 0.5}, HIGHER)

    assert result.outcome == Outcome.FAIL
    assert "does not meet >= 0.9" in result.summary


def test_the_summary_states_the_numbers_behind_a_pass():
    result = evaluate_gate(absolute("accuracy", ">=", 0.9), {("accuracy", ""): 0.93}, None, HIGHER)

    assert result.summary == "accuracy = 0.93 meets >= 0.9."


@pytest.mark.parametrize(
    ("candidate", "outcome"),
    [
        (0.95, Outcome.PASS),  # better than now
        (0.9405, Outcome.PASS),  # 1% worse than 0.95: 0.95 * 0.99 = 0.9405 is the limit
        (0.94, Outcome.FAIL),  # a little more than 1% worse
    ],
)
def test_a_relative_gate_on_a_higher_is_better_metric_tolerates_the_given_regression(
    candidate, outcome
):
    result = evaluate_gate(
        relative("auc", 1), {("auc", ""): candidate}, {("auc", ""): 0.95}, HIGHER
    )

    assert result.outcome == outcome
    assert result.reference_value == 0.95
    assert result.limit == pytest.approx(0.9405)
    assert result.extra["higher_is_better"] is True


@pytest.mark.parametrize(
    ("candidate", "outcome"),
    [
        (90.0, Outcome.PASS),  # faster than now
        (110.0, Outcome.PASS),  # exactly 10% slower
        (110.5, Outcome.FAIL),
    ],
)
def test_a_relative_gate_on_a_lower_is_better_metric_tolerates_an_increase(candidate, outcome):
    gate = relative("latency_p95_ms", 10)

    result = evaluate_gate(
        gate, {("latency_p95_ms", ""): candidate}, {("latency_p95_ms", ""): 100.0}, HIGHER
    )

    assert result.outcome == outcome
    assert result.limit == pytest.approx(110.0)
    assert result.extra["higher_is_better"] is False
    assert "lower is better" in result.summary


def test_a_relative_gate_takes_the_direction_from_the_metric_definitions():
    gate = relative("error_rate", 0)
    candidate, current = {("error_rate", ""): 0.05}, {("error_rate", ""): 0.04}

    as_higher = evaluate_gate(gate, candidate, current, {"error_rate": True})
    as_lower = evaluate_gate(gate, candidate, current, {"error_rate": False})

    assert as_higher.outcome == Outcome.PASS
    assert as_lower.outcome == Outcome.FAIL


def test_a_metric_without_a_definition_counts_as_higher_is_better():
    result = evaluate_gate(
        relative("custom_score", 0), {("custom_score", ""): 2.0}, {("custom_score", ""): 3.0}, {}
    )

    assert result.outcome == Outcome.FAIL
    assert result.extra["higher_is_better"] is True


def test_a_zero_tolerance_relative_gate_passes_an_equal_value_and_fails_any_regression():
    gate = relative("auc", 0)
    current = {("auc", ""): 0.9}

    assert evaluate_gate(gate, {("auc", ""): 0.9}, current, HIGHER).outcome == Outcome.PASS
    assert evaluate_gate(gate, {("auc", ""): 0.8999}, current, HIGHER).outcome == Outcome.FAIL


def test_the_relative_summary_reports_the_change_in_percent():
    result = evaluate_gate(relative("auc", 1), {("auc", ""): 0.99}, {("auc", ""): 0.9}, HIGHER)

    assert result.extra["change_percent"] == pytest.approx(10.0)
    assert "+10.00%" in result.summary
    assert "tolerated 1% worse" in result.summary


@pytest.mark.parametrize(
    ("candidate", "higher", "outcome"),
    [
        (0.0, True, Outcome.PASS),
        (0.1, True, Outcome.PASS),
        (-0.1, True, Outcome.FAIL),
        (0.0, False, Outcome.PASS),
        (0.1, False, Outcome.FAIL),
    ],
)
def test_a_reference_value_of_zero_leaves_no_tolerance_and_does_not_divide_by_zero(
    candidate, higher, outcome
):
    result = evaluate_gate(
        relative("delta", 5), {("delta", ""): candidate}, {("delta", ""): 0.0}, {"delta": higher}
    )

    assert result.outcome == outcome
    assert result.limit == 0.0
    assert result.extra["change_percent"] == 0.0


def test_a_negative_reference_value_tolerates_in_the_right_direction():
    # abs(reference) keeps "5% worse" below a negative value for a higher-is-better metric.
    result = evaluate_gate(
        relative("r2", 5), {("r2", ""): -0.104}, {("r2", ""): -0.1}, {"r2": True}
    )

    assert result.limit == pytest.approx(-0.105)
    assert result.outcome == Outcome.PASS


@pytest.mark.parametrize("gate", [absolute("auc", ">=", 0.9), relative("auc", 1)])
def test_a_candidate_without_the_metric_is_missing_data(gate):
    result = evaluate_gate(gate, {("accuracy", ""): 0.99}, {("auc", ""): 0.9}, HIGHER)

    assert result.outcome == Outcome.MISSING
    assert result.candidate_value is None
    assert result.summary == "The candidate has no auc metric."
    assert result.blocks


def test_a_current_deployment_without_the_metric_is_missing_data():
    result = evaluate_gate(relative("auc", 1), {("auc", ""): 0.95}, {("accuracy", ""): 0.9}, HIGHER)

    assert result.outcome == Outcome.MISSING
    assert result.candidate_value == 0.95
    assert result.reference_value is None
    assert "version running now has no auc" in result.summary


def test_a_relative_gate_passes_when_nothing_is_deployed_yet():
    result = evaluate_gate(relative("auc", 1), {("auc", ""): 0.5}, None, HIGHER)

    assert result.outcome == Outcome.PASS
    assert result.reference_value is None
    assert "Nothing runs in the target environment" in result.summary


def test_an_empty_current_deployment_is_not_the_same_as_nothing_deployed():
    # Something runs there, but it recorded no metrics: the comparison cannot be made.
    result = evaluate_gate(relative("auc", 1), {("auc", ""): 0.5}, {}, HIGHER)

    assert result.outcome == Outcome.MISSING


def test_an_absolute_gate_on_a_slice_reads_only_that_slice():
    gate = absolute("recall", ">=", 0.7, metric_slice="age=65+")
    candidate = {("recall", ""): 0.9, ("recall", "age=65+"): 0.65}

    result = evaluate_gate(gate, candidate, None, HIGHER)

    assert result.outcome == Outcome.FAIL
    assert result.candidate_value == 0.65
    assert result.summary.startswith("recall[age=65+] = 0.65")


def test_a_slice_gate_is_missing_when_only_the_overall_value_exists():
    gate = absolute("recall", ">=", 0.7, metric_slice="age=65+")

    result = evaluate_gate(gate, {("recall", ""): 0.9}, None, HIGHER)

    assert result.outcome == Outcome.MISSING
    assert result.summary == "The candidate has no recall[age=65+] metric."


def test_a_relative_slice_gate_compares_the_same_slice():
    gate = relative("recall", 2, metric_slice="gender=female")
    candidate = {("recall", ""): 0.5, ("recall", "gender=female"): 0.80}
    current = {("recall", ""): 0.9, ("recall", "gender=female"): 0.81}

    result = evaluate_gate(gate, candidate, current, HIGHER)

    assert result.outcome == Outcome.PASS
    assert result.reference_value == 0.81


@pytest.mark.parametrize(
    ("candidate", "outcome"), [({("auc", ""): 0.5}, Outcome.FAIL), ({}, Outcome.MISSING)]
)
def test_a_non_blocking_gate_reports_its_outcome_but_does_not_block(candidate, outcome):
    gate = absolute("auc", ">=", 0.9, blocking=False)

    result = evaluate_gate(gate, candidate, None, HIGHER)

    assert result.outcome == outcome
    assert not result.blocks
    assert result.as_dict()["blocks"] is False


@pytest.mark.parametrize(
    ("candidate", "blocks"),
    [({("auc", ""): 0.95}, False), ({("auc", ""): 0.5}, True), ({}, True)],
)
def test_a_blocking_gate_blocks_unless_it_passes(candidate, blocks):
    result = evaluate_gate(absolute("auc", ">=", 0.9), candidate, None, HIGHER)

    assert result.blocks is blocks


def test_evaluate_gates_keeps_the_order_of_the_gates():
    gates = [
        absolute("latency_p95_ms", "<=", 50),
        relative("auc", 1),
        absolute("accuracy", ">=", 0.99, blocking=False),
    ]
    candidate = {("latency_p95_ms", ""): 40.0, ("auc", ""): 0.90, ("accuracy", ""): 0.98}
    current = {("auc", ""): 0.95}

    results = evaluate_gates(gates, candidate, current, HIGHER)

    assert [r.gate.metric_key for r in results] == ["latency_p95_ms", "auc", "accuracy"]
    assert [r.outcome for r in results] == [Outcome.PASS, Outcome.FAIL, Outcome.FAIL]
    assert [r.blocks for r in results] == [False, True, False]


def test_as_dict_is_plain_data_for_the_frozen_evidence():
    result = evaluate_gate(relative("auc", 1), {("auc", ""): 0.96}, {("auc", ""): 0.95}, HIGHER)

    data = result.as_dict()

    assert data["outcome"] == "pass"
    assert data["gate"]["metric_key"] == "auc"
    assert data["gate"]["kind"] == "relative"
    assert data["candidate_value"] == 0.96
    assert data["reference_value"] == 0.95
    assert data["blocks"] is False


def test_an_unknown_operator_or_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="operator"):
        evaluate_gate(absolute("auc", "==", 0.9), {("auc", ""): 0.9}, None, HIGHER)
    with pytest.raises(ValueError, match="kind"):
        evaluate_gate(Gate(metric_key="auc", kind="ratio"), {("auc", ""): 0.9}, None, HIGHER)
