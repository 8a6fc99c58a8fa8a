"""Promotion and rollback: approvals, promotion paths, traffic shares, refusals, the audit
trail, and the "what was live when" reads."""

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from approvals_app.models import ApprovalPolicy, ApprovalRequest
from approvals_app.promotion import (
    PromotionError,
    approval_needed,
    attach_approvals,
    live_at,
    promote,
    rollback,
    timeline,
)
from approvals_app.services import request_approval, submit_review
from models_app.models import AuditEvent, Deployment
from models_app.services import NotAllowed, archive_model, deprecate_version, retire_version
from tests.factories import (
    add_member,
    make_deployment,
    make_environment,
    make_model,
    make_user,
    make_version,
)
from tests.models_app.ledger import assert_chain_intact, last_event

CARD = {
    "intended_use": "Scoring card payments.",
    "limitations": "EU traffic only.",
    "ethical_considerations": "False declines are reviewed by a person.",
}


@pytest.fixture
def staging(db):
    return make_environment("staging", order=20)


@pytest.fixture
def production(staging):
    production = make_environment("production", order=30, requires_approval=True)
    production.promotion_sources.set([staging])
    return production


@pytest.fixture
def policy(production):
    return ApprovalPolicy.objects.create(name="Production release", environment=production)


@pytest.fixture
def versions(registered_model, contributor):
    return [make_version(registered_model, created_by=contributor, **CARD) for _ in range(4)]


def approve_directly(version, environment, requester, *, expires_in=timedelta(days=30)):
    """An approved request as the review workflow leaves it (the workflow has its own tests)."""
    now = timezone.now()
    return ApprovalRequest.objects.create(
        version=version,
        environment=environment,
        policy=ApprovalPolicy.objects.get(environment=environment),
        requester=requester,
        justification="Better recall.",
        status=ApprovalRequest.Status.APPROVED,
        decided_at=now,
        expires_at=now + expires_in,
    )


def counts() -> dict[str, int]:
    return {
        "deployments": Deployment.objects.count(),
        "active": Deployment.objects.active().count(),
        "events": AuditEvent.objects.count(),
    }


def active_in(environment) -> list[tuple[int, int]]:
    """(version number, traffic share) of the active deployments, full traffic first."""
    return list(
        Deployment.objects.active()
        .filter(environment=environment)
        .order_by("-traffic_percent", "version__version")
        .values_list("version__version", "traffic_percent")
    )


@contextmanager
def at(moment):
    """Let the services believe it is ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


# --- promoting -----------------------------------------------------------------------------


def test_it_promotes_into_an_ungated_environment(contributor, versions, staging):
    deployment = promote(
        actor=contributor,
        version=versions[0],
        environment=staging,
        target="k8s://staging/fraud",
        notes="First rollout.",
    )

    deployment.refresh_from_db()
    assert deployment.status == Deployment.Status.ACTIVE
    assert (deployment.traffic_percent, deployment.target) == (100, "k8s://staging/fraud")
    assert deployment.deployed_by == contributor
    assert deployment.ended_at is None
    assert deployment.approval_reference is None
    event = last_event()
    assert event.action == "approvals.deployment.promoted"
    assert (event.model_name, event.version_number) == ("fraud-detector", 1)
    assert event.before == {"version": None, "deployment": None}
    assert event.after == {
        "version": 1,
        "environment": "staging",
        "target": "k8s://staging/fraud",
        "traffic_percent": 100,
        "notes": "First rollout.",
        "approval": None,
        "override_reason": None,
        "superseded": [],
    }
    assert_chain_intact(expected_events=1)


def test_a_full_traffic_promotion_supersedes_everything_active_there(
    contributor, versions, staging
):
    first = promote(actor=contributor, version=versions[0], environment=staging)
    canary = promote(
        actor=contributor, version=versions[1], environment=staging, traffic_percent=10
    )
    assert active_in(staging) == [(1, 100), (2, 10)]

    latest = promote(actor=contributor, version=versions[2], environment=staging)

    assert active_in(staging) == [(3, 100)]
    for old in (first, canary):
        old.refresh_from_db()
        assert old.status == Deployment.Status.SUPERSEDED
        assert old.ended_at == latest.deployed_at
        assert old.superseded_by == latest
    event = last_event()
    assert event.before == {"version": 1, "deployment": first.pk}
    assert event.after["superseded"] == [
        {"deployment": first.pk, "version": 1, "traffic": 100},
        {"deployment": canary.pk, "version": 2, "traffic": 10},
    ]
    assert_chain_intact(expected_events=3)


def test_promotion_into_one_environment_leaves_the_others_alone(
    contributor, versions, staging, registered_model
):
    development = make_environment("development", order=10)
    promote(actor=contributor, version=versions[0], environment=development)
    other_model = make_version(make_model("other", team=registered_model.team))
    promote(actor=contributor, version=other_model, environment=staging)

    promote(actor=contributor, version=versions[1], environment=staging)

    assert active_in(development) == [(1, 100)]
    assert sorted(active_in(staging)) == [(1, 100), (2, 100)]


def test_it_refuses_what_is_already_live(contributor, versions, staging):
    promote(actor=contributor, version=versions[0], environment=staging)
    before = counts()

    for share in (100, 20):
        with pytest.raises(PromotionError) as exc:
            promote(
                actor=contributor, version=versions[0], environment=staging, traffic_percent=share
            )
        assert exc.value.code == "already_live"

    assert counts() == before


@pytest.mark.parametrize("share", [0, 101, -5, "50", 50.0, True, None])
def test_it_refuses_a_traffic_share_outside_one_to_a_hundred(contributor, versions, staging, share):
    with pytest.raises(PromotionError) as exc:
        promote(actor=contributor, version=versions[0], environment=staging, traffic_percent=share)

    assert exc.value.field == "traffic_percent"
    assert counts()["deployments"] == 0


def test_it_refuses_an_overlong_target(contributor, versions, staging):
    with pytest.raises(PromotionError) as exc:
        promote(actor=contributor, version=versions[0], environment=staging, target="x" * 301)

    assert exc.value.field == "target"


# --- canaries ------------------------------------------------------------------------------


def test_canaries_run_beside_the_full_traffic_version_below_a_hundred_together(
    contributor, versions, staging
):
    promote(actor=contributor, version=versions[0], environment=staging)
    promote(actor=contributor, version=versions[1], environment=staging, traffic_percent=30)
    promote(actor=contributor, version=versions[2], environment=staging, traffic_percent=60)
    before = counts()

    with pytest.raises(PromotionError) as exc:
        promote(actor=contributor, version=versions[3], environment=staging, traffic_percent=10)

    assert (exc.value.code, exc.value.field) == ("traffic_exceeded", "traffic_percent")
    assert "already take 90%" in exc.value.message
    assert "at most 9% more" in exc.value.message
    assert counts() == before
    promote(actor=contributor, version=versions[3], environment=staging, traffic_percent=9)
    assert active_in(staging) == [(1, 100), (3, 60), (2, 30), (4, 9)]


def test_a_new_share_for_a_canary_replaces_its_old_one(contributor, versions, staging):
    promote(actor=contributor, version=versions[0], environment=staging)
    promote(actor=contributor, version=versions[1], environment=staging, traffic_percent=60)
    old = promote(actor=contributor, version=versions[2], environment=staging, traffic_percent=30)

    with pytest.raises(PromotionError, match="traffic"):
        promote(actor=contributor, version=versions[2], environment=staging, traffic_percent=40)
    new = promote(actor=contributor, version=versions[2], environment=staging, traffic_percent=39)

    assert active_in(staging) == [(1, 100), (2, 60), (3, 39)]
    old.refresh_from_db()
    assert (old.status, old.superseded_by) == (Deployment.Status.SUPERSEDED, new)


# --- what may be promoted -----------------------------------------------------------------


def test_it_refuses_retired_and_deprecated_versions_and_archived_models(
    contributor, superuser, versions, staging
):
    deprecate_version(actor=contributor, version=versions[0], reason="Drift.")
    retire_version(actor=contributor, version=versions[1])
    before = counts()

    with pytest.raises(PromotionError, match="deprecated") as exc:
        promote(actor=contributor, version=versions[0], environment=staging)
    assert exc.value.code == "deprecated"
    with pytest.raises(PromotionError, match="retired") as exc:
        promote(actor=superuser, version=versions[1], environment=staging)
    assert exc.value.code == "retired"
    assert counts() == before

    archive_model(actor=contributor, model=versions[2].model)
    with pytest.raises(PromotionError) as exc:
        promote(actor=contributor, version=versions[2], environment=staging)
    assert exc.value.code == "archived"


def test_a_deprecated_version_keeps_running_where_it_runs(contributor, versions, staging):
    promote(actor=contributor, version=versions[0], environment=staging)

    deprecate_version(actor=contributor, version=versions[0], reason="Drift.")

    assert active_in(staging) == [(1, 100)]


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_only_contributors_of_the_owning_team_promote(request, versions, staging, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(NotAllowed):
        promote(actor=actor, version=versions[0], environment=staging)

    assert counts()["deployments"] == 0


def test_a_superuser_promotes_without_being_a_member(superuser, versions, staging):
    deployment = promote(actor=superuser, version=versions[0], environment=staging)

    assert deployment.deployed_by == superuser


# --- approvals -----------------------------------------------------------------------------


def test_a_policy_or_the_environment_flag_makes_approval_necessary(
    versions, staging, production, policy
):
    assert approval_needed(versions[0], production)
    assert not approval_needed(versions[0], staging)
    ApprovalPolicy.objects.create(name="Staging checks", environment=staging)
    assert approval_needed(versions[0], staging)


def test_it_refuses_a_gated_promotion_without_an_approval(
    contributor, versions, staging, production, policy
):
    promote(actor=contributor, version=versions[0], environment=staging)
    before = counts()

    with pytest.raises(PromotionError) as exc:
        promote(actor=contributor, version=versions[0], environment=production)

    assert exc.value.code == "approval_required"
    assert exc.value.message == (
        "Promoting fraud-detector v1 into production needs an approved request (policy "
        "“Production release”), and none has been made. Request approval first."
    )
    assert counts() == before


def test_the_refusal_says_what_became_of_the_request(
    contributor, versions, staging, production, policy
):
    promote(actor=contributor, version=versions[0], environment=staging)
    request = request_approval(
        actor=contributor, version=versions[0], environment=production, justification="Ready."
    )

    with pytest.raises(PromotionError, match=rf"request #{request.pk} is still in review"):
        promote(actor=contributor, version=versions[0], environment=production)

    request.status = ApprovalRequest.Status.REJECTED
    request.save()
    with pytest.raises(PromotionError, match=rf"request #{request.pk} was rejected"):
        promote(actor=contributor, version=versions[0], environment=production)

    expired = approve_directly(versions[0], production, contributor, expires_in=-timedelta(days=1))
    with pytest.raises(PromotionError, match=rf"approval of request #{expired.pk} expired on"):
        promote(actor=contributor, version=versions[0], environment=production)


def test_an_environment_that_requires_approval_without_a_policy_refuses_everything(
    contributor, versions, staging, production
):
    promote(actor=contributor, version=versions[0], environment=staging)

    with pytest.raises(PromotionError, match="no active approval policy covers") as exc:
        promote(actor=contributor, version=versions[0], environment=production)

    assert exc.value.code == "approval_required"


def test_it_promotes_with_a_valid_approval_and_records_it(
    contributor, versions, staging, production, policy
):
    promote(actor=contributor, version=versions[0], environment=staging)
    approval = approve_directly(versions[0], production, contributor)

    deployment = promote(actor=contributor, version=versions[0], environment=production)

    assert deployment.approval_reference == approval.pk
    assert last_event().after["approval"] == approval.pk
    assert attach_approvals([deployment])[0].approval == approval


def test_an_approval_for_another_version_or_environment_does_not_count(
    contributor, versions, staging, production, policy
):
    promote(actor=contributor, version=versions[0], environment=staging)
    approve_directly(versions[1], production, contributor)
    ApprovalPolicy.objects.create(name="Staging", environment=staging)
    approve_directly(versions[0], staging, contributor)

    with pytest.raises(PromotionError) as exc:
        promote(actor=contributor, version=versions[0], environment=production)

    assert exc.value.code == "approval_required"


def test_an_approval_from_the_review_workflow_opens_production(
    contributor, team, versions, staging, production, policy
):
    reviewer = make_user("rita")
    add_member(reviewer, team, "reviewer")
    promote(actor=contributor, version=versions[0], environment=staging)
    request = request_approval(
        actor=contributor, version=versions[0], environment=production, justification="Ready."
    )
    submit_review(actor=reviewer, approval=request, decision="approve")

    deployment = promote(actor=contributor, version=versions[0], environment=production)

    assert deployment.approval_reference == request.pk
    assert_chain_intact()


# --- promotion paths -----------------------------------------------------------------------


def test_it_refuses_to_skip_the_promotion_path(contributor, versions, production, policy):
    approve_directly(versions[0], production, contributor)
    before = counts()

    with pytest.raises(PromotionError) as exc:
        promote(actor=contributor, version=versions[0], environment=production)

    assert exc.value.code == "promotion_path"
    assert "only takes versions that are or were deployed in staging" in exc.value.message
    assert counts() == before


def test_a_version_that_was_in_staging_before_may_go_to_production(
    contributor, versions, staging, production, policy
):
    promote(actor=contributor, version=versions[0], environment=staging)
    promote(actor=contributor, version=versions[1], environment=staging)
    approve_directly(versions[0], production, contributor)

    deployment = promote(actor=contributor, version=versions[0], environment=production)

    assert deployment.override_reason == ""


def test_a_superuser_overrides_the_promotion_path_with_a_reason(
    superuser, contributor, versions, production, policy
):
    approve_directly(versions[0], production, contributor)

    deployment = promote(
        actor=superuser,
        version=versions[0],
        environment=production,
        override_reason="Staging cluster is down; hotfix.",
    )

    assert deployment.override_reason == "Staging cluster is down; hotfix."
    promoted, overridden = AuditEvent.objects.order_by("sequence")
    assert promoted.after["override_reason"] == "Staging cluster is down; hotfix."
    assert overridden.action == "approvals.deployment.path_overridden"
    assert overridden.after == {
        "environment": "production",
        "required_sources": ["staging"],
        "reason": "Staging cluster is down; hotfix.",
    }
    assert_chain_intact(expected_events=2)


def test_only_a_superuser_may_override_the_path(contributor, versions, production, policy):
    approve_directly(versions[0], production, contributor)

    with pytest.raises(NotAllowed, match="Only an administrator"):
        promote(
            actor=contributor, version=versions[0], environment=production, override_reason="Hurry."
        )

    assert counts()["deployments"] == 0


def test_an_override_does_not_replace_the_approval(superuser, versions, production, policy):
    with pytest.raises(PromotionError) as exc:
        promote(actor=superuser, version=versions[0], environment=production, override_reason="X")

    assert exc.value.code == "approval_required"


# --- rollback ------------------------------------------------------------------------------


def test_it_rolls_back_to_the_previous_version(contributor, versions, staging):
    promote(actor=contributor, version=versions[0], environment=staging, target="ep-1")
    bad = promote(actor=contributor, version=versions[1], environment=staging, target="ep-2")

    restored = rollback(
        actor=contributor, model=versions[0].model, environment=staging, reason="Errors."
    )

    assert active_in(staging) == [(1, 100)]
    bad.refresh_from_db()
    assert bad.status == Deployment.Status.ROLLED_BACK
    assert bad.ended_at == restored.deployed_at
    assert bad.superseded_by == restored
    assert restored.rolled_back_from == bad
    assert (restored.target, restored.notes) == ("ep-1", "Errors.")
    event = last_event()
    assert event.action == "approvals.deployment.rolled_back"
    assert event.before == {"version": 2, "deployment": bad.pk}
    assert event.after["version"] == 1
    assert event.after["reason"] == "Errors."
    assert_chain_intact(expected_events=3)


def test_successive_rollbacks_walk_back_through_history(contributor, versions, staging):
    for version in versions[:3]:
        promote(actor=contributor, version=version, environment=staging)
    model = versions[0].model

    rollback(actor=contributor, model=model, environment=staging)
    assert active_in(staging) == [(2, 100)]
    rollback(actor=contributor, model=model, environment=staging)
    assert active_in(staging) == [(1, 100)]

    with pytest.raises(PromotionError) as exc:
        rollback(actor=contributor, model=model, environment=staging)
    assert exc.value.code == "nothing_to_roll_back"


def test_a_rollback_of_what_is_no_longer_live_is_refused_as_a_conflict(
    contributor, versions, staging
):
    deployments = [
        promote(actor=contributor, version=version, environment=staging) for version in versions[:3]
    ]
    model = versions[0].model
    rollback(actor=contributor, model=model, environment=staging, expected_live=deployments[2].pk)
    before = counts()

    with pytest.raises(PromotionError, match="since you looked") as exc:
        rollback(
            actor=contributor, model=model, environment=staging, expected_live=deployments[2].pk
        )

    assert exc.value.code == "conflict"
    assert active_in(staging) == [(2, 100)]
    assert counts() == before


def test_rollback_after_promoting_an_earlier_version_again_returns_to_the_later_one(
    contributor, versions, staging
):
    for version in (versions[0], versions[1], versions[0]):
        promote(actor=contributor, version=version, environment=staging)

    rollback(actor=contributor, model=versions[0].model, environment=staging)

    assert active_in(staging) == [(2, 100)]


def test_rollback_skips_retired_versions_and_accepts_deprecated_ones(
    contributor, versions, staging
):
    for version in versions[:3]:
        promote(actor=contributor, version=version, environment=staging)
    retire_version(actor=contributor, version=versions[1])
    deprecate_version(actor=contributor, version=versions[0], reason="Old.")

    rollback(actor=contributor, model=versions[0].model, environment=staging)

    assert active_in(staging) == [(1, 100)]


def test_rollback_is_refused_with_nothing_to_return_to(contributor, versions, staging):
    model = versions[0].model
    with pytest.raises(PromotionError, match="nothing to roll back") as exc:
        rollback(actor=contributor, model=model, environment=staging)
    assert exc.value.code == "nothing_to_roll_back"

    promote(actor=contributor, version=versions[0], environment=staging)
    before = counts()
    with pytest.raises(PromotionError, match="no earlier version") as exc:
        rollback(actor=contributor, model=model, environment=staging)
    assert exc.value.code == "nothing_to_roll_back"
    assert counts() == before


def test_rollback_in_a_gated_environment_needs_a_still_valid_approval(
    contributor, superuser, versions, staging, production, policy
):
    first = approve_directly(versions[0], production, contributor)
    approve_directly(versions[1], production, contributor)
    for version in versions[:2]:
        promote(actor=superuser, version=version, environment=production, override_reason="Test.")
    ApprovalRequest.objects.filter(pk=first.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    before = counts()

    with pytest.raises(PromotionError) as exc:
        rollback(actor=contributor, model=versions[0].model, environment=production)

    assert exc.value.code == "approval_required"
    assert exc.value.message.startswith("Rolling back fraud-detector v1 into production")
    assert counts() == before
    renewed = approve_directly(versions[0], production, contributor)
    restored = rollback(actor=contributor, model=versions[0].model, environment=production)
    assert restored.approval_reference == renewed.pk
    assert last_event().after["approval"] == renewed.pk


def test_rollback_leaves_other_canaries_running(contributor, versions, staging):
    promote(actor=contributor, version=versions[0], environment=staging)
    promote(actor=contributor, version=versions[1], environment=staging)
    promote(actor=contributor, version=versions[2], environment=staging, traffic_percent=10)
    promote(actor=contributor, version=versions[0], environment=staging, traffic_percent=5)

    rollback(actor=contributor, model=versions[0].model, environment=staging)

    # v1's own canary gave way to v1 at full traffic; v3's canary carries on.
    assert active_in(staging) == [(1, 100), (3, 10)]


def test_only_contributors_roll_back(contributor, viewer, versions, staging):
    promote(actor=contributor, version=versions[0], environment=staging)
    promote(actor=contributor, version=versions[1], environment=staging)

    with pytest.raises(NotAllowed):
        rollback(actor=viewer, model=versions[0].model, environment=staging)

    assert active_in(staging) == [(2, 100)]


# --- what was live when --------------------------------------------------------------------


@pytest.fixture
def history(contributor, versions, staging):
    """v1 from t1, v2 from t2 (with a v3 canary from t2 + 1h to t3), v4 from t3."""
    t1 = timezone.now() - timedelta(days=10)
    t2, t3 = t1 + timedelta(days=3), t1 + timedelta(days=6)
    with at(t1):
        promote(actor=contributor, version=versions[0], environment=staging)
    with at(t2):
        promote(actor=contributor, version=versions[1], environment=staging)
    with at(t2 + timedelta(hours=1)):
        promote(actor=contributor, version=versions[2], environment=staging, traffic_percent=10)
    with at(t3):
        promote(actor=contributor, version=versions[3], environment=staging)
    return t1, t2, t3


def live_versions(environment, moment, **kwargs) -> list[int]:
    return [d.version.version for d in live_at(environment, moment, **kwargs)]


def test_live_at_answers_at_every_boundary(history, staging):
    t1, t2, t3 = history
    tick = timedelta(microseconds=1)

    assert live_versions(staging, t1 - tick) == []
    assert live_versions(staging, t1) == [1]
    assert live_versions(staging, t2 - tick) == [1]
    assert live_versions(staging, t2) == [2]
    assert live_versions(staging, t2 + timedelta(hours=1)) == [2, 3]
    assert live_versions(staging, t3 - tick) == [2, 3]
    assert live_versions(staging, t3) == [4]
    assert live_versions(staging, timezone.now()) == [4]


def test_exactly_one_full_traffic_deployment_was_live_at_any_moment(history, staging):
    t1, _, t3 = history
    moment = t1
    while moment <= t3 + timedelta(days=1):
        full = [d for d in live_at(staging, moment) if d.traffic_percent == 100]
        assert len(full) == 1, moment
        moment += timedelta(hours=7)


def test_the_timeline_keeps_what_overlaps_the_period(history, staging, registered_model):
    t1, t2, t3 = history

    def versions_between(since, until):
        return [d.version.version for d in timeline(staging, since=since, until=until)]

    assert versions_between(None, None) == [4, 3, 2, 1]
    assert versions_between(t2, None) == [4, 3, 2]
    assert versions_between(None, t2 - timedelta(microseconds=1)) == [1]
    assert versions_between(t2 + timedelta(days=1), t2 + timedelta(days=2)) == [3, 2]
    assert versions_between(t3, t3) == [4]
    assert [d.version.version for d in timeline(staging, model=registered_model)] == [4, 3, 2, 1]


def test_the_timeline_shows_other_models_and_hides_restricted_ones(
    contributor, outsider, restricted_model, staging, history
):
    hidden = make_version(restricted_model)
    promote(actor=contributor, version=hidden, environment=staging)

    assert {d.model.name for d in timeline(staging, user=contributor)} == {
        "fraud-detector",
        "secret-scorer",
    }
    assert {d.model.name for d in timeline(staging, user=outsider)} == {"fraud-detector"}
    assert {d.model.name for d in live_at(staging, timezone.now(), user=outsider)} == {
        "fraud-detector"
    }


def test_timeline_rows_carry_their_approvals_in_constant_queries(
    django_assert_num_queries, superuser, contributor, versions, production, policy
):
    approvals = [approve_directly(v, production, contributor) for v in versions]
    for version in versions:
        promote(actor=superuser, version=version, environment=production, override_reason="T.")

    # deployments with model, version, deployer …; then the approvals with their policies
    with django_assert_num_queries(2):
        rows = attach_approvals(timeline(production))
        assert [row.approval for row in rows] == approvals[::-1]
        assert {row.approval.policy.name for row in rows} == {"Production release"}

    make_deployment(
        make_version(versions[0].model),
        production,
        status="superseded",
        ended_at=(timezone.now()),
        approval_reference=approvals[0].pk,
    )
    with django_assert_num_queries(2):
        assert len(attach_approvals(timeline(production))) == 5
