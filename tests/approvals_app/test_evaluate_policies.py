"""evaluate_policies, the batched dry run behind the queue, the request page and the version
panel, must agree with evaluate_policy, which decides."""

import pytest

from approvals_app.services import evaluate_policies, evaluate_policy
from tests.approvals_app.builders import (
    auc_gate,
    build_world,
    latency_gate,
    make_policy,
    relative_auc_gate,
)
from tests.factories import make_metric

pytestmark = pytest.mark.django_db


def outcome(report):
    return (
        report.policy,
        report.current,
        report.model_card_complete,
        [
            (r.outcome, r.candidate_value, r.reference_value, r.limit, r.summary)
            for r in report.results
        ],
    )


def test_it_agrees_with_the_single_dry_run(django_assert_max_num_queries):
    world = build_world()
    production = make_policy(
        world.production,
        gates=[auc_gate(0.9), relative_auc_gate(1.0), latency_gate(200, blocking=False)],
    )
    staging = make_policy(world.staging, gates=[relative_auc_gate(0.5)])
    world.deploy(world.version)
    better = world.version_of(auc=0.97, latency_p95_ms=90.0)
    worse = world.version_of(auc=0.90)
    make_metric(worse, "auc", 0.80, step=5)  # the highest step is the latest value
    incomplete = world.version_of(latency_p95_ms=300.0)
    incomplete.limitations = ""
    incomplete.save(update_fields=["limitations"])
    targets = [
        (version, policy.environment, policy)
        for version in (world.version, better, worse, incomplete)
        for policy in (production, staging)
    ]

    with django_assert_max_num_queries(4):
        batched = evaluate_policies(targets)

    for (version, environment, policy), report in zip(targets, batched, strict=True):
        assert outcome(report) == outcome(evaluate_policy(version, environment, policy=policy))


def test_an_environment_without_a_policy_has_no_results():
    world = build_world()

    [report] = evaluate_policies([(world.version, world.production, None)])

    assert report.policy is None
    assert report.results == []
    assert report.passes
