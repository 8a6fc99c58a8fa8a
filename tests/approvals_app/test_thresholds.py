"""The approval gates the catalogue's metric trend charts draw, offered through
models_app.extensions without models_app importing this app."""

from approvals_app.thresholds import gate_thresholds
from models_app.extensions import _threshold_providers, metric_thresholds
from tests.approvals_app.builders import auc_gate, latency_gate, make_policy, relative_auc_gate
from tests.factories import make_environment, make_model


def test_the_provider_is_registered_when_the_app_is_ready():
    assert gate_thresholds in _threshold_providers


def test_absolute_gates_of_policies_covering_the_risk_tier_become_labelled_lines(team):
    staging = make_environment("staging", display_name="Staging", order=20)
    production = make_environment("production", display_name="Production", order=30)
    make_policy(staging, gates=[auc_gate(0.85)])
    make_policy(
        production,
        risk_tiers=["high"],
        gates=[
            auc_gate(0.9),
            relative_auc_gate(1.0),  # no fixed line to draw
            latency_gate(150.0, blocking=False),
            auc_gate(0.8, metric_slice="gender=female"),
        ],
    )
    high = make_model("fraud-detector", team=team, risk_tier="high")
    minimal = make_model("churn", team=team, risk_tier="minimal")

    assert metric_thresholds(high) == {
        "auc": [("Staging gate ≥ 0.85", 0.85), ("Production gate ≥ 0.9", 0.9)],
        "latency_p95_ms": [("Production gate ≤ 150 (advisory)", 150.0)],
        "auc[gender=female]": [("Production gate ≥ 0.8", 0.8)],
    }
    # The production policy covers only high-risk models.
    assert metric_thresholds(minimal) == {"auc": [("Staging gate ≥ 0.85", 0.85)]}


def test_only_the_policy_promotion_would_use_draws_its_gates(team):
    production = make_environment("production", display_name="Production", order=30)
    make_policy(production, name="first", gates=[auc_gate(0.9)])
    make_policy(production, name="second", gates=[auc_gate(0.99)])
    make_policy(production, name="inactive", active=False, gates=[auc_gate(0.5)])

    lines = gate_thresholds(make_model("fraud-detector", team=team))

    assert lines == {"auc": [("Production gate ≥ 0.9", 0.9)]}


def test_no_policy_means_no_lines(team):
    assert gate_thresholds(make_model("fraud-detector", team=team)) == {}
