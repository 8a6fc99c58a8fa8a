"""The whole demo organisation: six months of catalogue, approvals and releases, replayed in
time order through the services, so that rows, timeline and audit ledger agree."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from approvals_app.demo import GovernanceHistory
from approvals_app.models import ApprovalPolicy, ApprovalRequest, Review
from approvals_app.promotion import PromotionError, live_at, promote, rollback
from approvals_app.services import (
    ApprovalError,
    evaluate_policy,
    evidence_changes,
    quorum_state,
    submit_review,
    valid_approval_for,
)
from models_app.management.commands.seed_catalogue import CatalogueHistory
from models_app.models import AuditEvent, Deployment, Environment, RegisteredModel
from models_app.services import rollback_candidate
from tests.models_app.ledger import assert_chain_intact

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(mailoutbox):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def users(demo):
    return {u.username: u for u in get_user_model().objects.all()}


@pytest.fixture
def production(demo):
    return Environment.objects.get(name="production")


def status_of(model, number, environment):
    return ApprovalRequest.objects.get(
        version__model__name=model, version__version=number, environment__name=environment
    )


def test_it_makes_requests_in_every_state_and_keeps_the_ledger_intact(demo, mailoutbox):
    shown = {a.display_status for a in ApprovalRequest.objects.all()}

    assert shown == {
        "Open",
        "Changes requested",
        "Approved",
        "Rejected",
        "Withdrawn",
        "Superseded",
        "Expired",
    }
    assert "Demo organisation created" in demo
    assert "Approvals demo: 3 policies" in demo
    assert "promotions and 1 rollback." in demo
    opened = AuditEvent.objects.filter(action="approvals.request.opened").count()
    reviewed = AuditEvent.objects.filter(action__startswith="approvals.review.").count()
    assert opened == ApprovalRequest.objects.count()
    assert reviewed == Review.objects.count()
    assert AuditEvent.objects.filter(action="approvals.policy.created").count() == 3
    assert AuditEvent.objects.filter(action="approvals.reviewer_role.created").count() == 3
    assert mailoutbox == []
    assert_chain_intact()

    # A second run finds the demo and changes nothing.
    requests, events = ApprovalRequest.objects.count(), AuditEvent.objects.count()
    deployments = Deployment.objects.count()

    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    assert "Demo data already present; nothing to do." in out.getvalue()
    assert ApprovalRequest.objects.count() == requests
    assert AuditEvent.objects.count() == events
    assert Deployment.objects.count() == deployments
    assert ApprovalPolicy.objects.count() == 3


def test_after_seed_catalogue_alone_it_says_the_history_cannot_be_added():
    call_command("seed_catalogue", stdout=io.StringIO())
    events = AuditEvent.objects.count()
    out, err = io.StringIO(), io.StringIO()

    call_command("seed_demo", stdout=out, stderr=err)

    assert "cannot be added afterwards" in err.getvalue()
    assert "nothing to do" in out.getvalue()
    assert AuditEvent.objects.count() == events
    assert not ApprovalPolicy.objects.exists()


def test_the_ledger_is_in_time_order_agrees_with_the_rows_and_ends_with_recent_work(demo):
    times = list(AuditEvent.objects.order_by("sequence").values_list("created_at", flat=True))
    assert times == sorted(times)
    now = timezone.now()
    assert times[-1] < now
    assert now - times[0] > timedelta(days=150)

    latest = list(AuditEvent.objects.order_by("-sequence")[:12])
    assert all(now - e.created_at < timedelta(days=2) for e in latest)
    assert now - latest[0].created_at < timedelta(hours=1)
    assert len({e.action for e in latest}) >= 5
    assert not AuditEvent.objects.filter(action="models_app.deployment.recorded").exists()

    # Each deployment row says when it started as its promotion or rollback event does.
    for deployment in Deployment.objects.all():
        event = AuditEvent.objects.get(
            object_type="models_app.Deployment",
            object_id=str(deployment.pk),
            action__in=["approvals.deployment.promoted", "approvals.deployment.rolled_back"],
        )
        assert deployment.deployed_at <= event.created_at, deployment
        assert event.created_at - deployment.deployed_at < timedelta(seconds=1), deployment
        assert (event.action == "approvals.deployment.rolled_back") == (
            deployment.rolled_back_from_id is not None
        )


def test_every_production_deployment_was_allowed_by_an_approval_granted_before_it(production):
    deployments = Deployment.objects.filter(environment=production).select_related("version")
    assert deployments.count() >= 20

    for deployment in deployments:
        approval = ApprovalRequest.objects.get(pk=deployment.approval_reference)
        assert approval.status == ApprovalRequest.Status.APPROVED, deployment
        assert (approval.version, approval.environment) == (deployment.version, production)
        assert approval.decided_at <= deployment.deployed_at < approval.expires_at, deployment


def _live_by_the_ledger(environment, moment) -> dict[str, int]:
    """Which version served each model at full traffic at ``moment``, read from the ledger
    alone: every promotion at 100% and every rollback replaces what ran before."""
    live = {}
    events = AuditEvent.objects.filter(
        action__in=["approvals.deployment.promoted", "approvals.deployment.rolled_back"],
        created_at__lte=moment,
    ).order_by("sequence")
    for event in events:
        after = json.loads(event.changes)["after"]
        if after["environment"] == environment.name and after.get("traffic_percent", 100) == 100:
            live[event.model_name] = after["version"]
    return live


def test_the_timeline_and_the_ledger_say_the_same_about_any_past_day(production):
    now = timezone.now()
    today = datetime(now.year, now.month, now.day, 14, tzinfo=UTC)
    checked = 0
    for days_ago in range(1, 200):
        moment = today - timedelta(days=days_ago)
        rows = live_at(production, moment).filter(traffic_percent=100)
        timeline = {d.model.name: d.version.version for d in rows}
        assert timeline == _live_by_the_ledger(production, moment), moment
        checked += bool(timeline)
    assert checked > 90
    # A day in the middle of churn-predictor's incident: v4 ran, then v3 came back.
    rolled_back = Deployment.objects.get(status=Deployment.Status.ROLLED_BACK)
    during = rolled_back.deployed_at + (rolled_back.ended_at - rolled_back.deployed_at) / 2
    after = rolled_back.ended_at + timedelta(hours=1)
    model = rolled_back.model
    assert live_at(production, during, model=model).get().version.version == 4
    assert live_at(production, after, model=model).get().version.version == 3


def test_a_rollback_goes_through_while_its_approval_is_valid_and_not_after_it_expired(
    production, users
):
    possible = []
    for model in RegisteredModel.objects.filter(deployments__environment=production).distinct():
        candidate = rollback_candidate(model, production)
        if candidate and valid_approval_for(candidate.version, production):
            possible.append((model, candidate))
    assert len(possible) >= 3
    model, candidate = next((m, c) for m, c in possible if m.name == "credit-scoring")

    restored = rollback(actor=users["admin"], model=model, environment=production, reason="Drill.")

    assert restored.version == candidate.version
    assert restored.approval_reference == valid_approval_for(candidate.version, production).pk

    # The fraud classifier's previous production version was approved over 90 days ago.
    model = RegisteredModel.objects.get(name="fraud-classifier")
    assert rollback_candidate(model, production).version.version == 4

    with pytest.raises(PromotionError, match="expired") as refused:
        rollback(actor=users["admin"], model=model, environment=production)

    assert refused.value.code == "approval_required"


def test_production_takes_only_versions_that_were_in_staging_and_the_ledger_says_since_when(
    production, users
):
    assert [e.name for e in production.promotion_sources.all()] == ["staging"]
    changed = AuditEvent.objects.get(action="models_app.environment.updated")
    assert (
        changed.created_at
        > Deployment.objects.filter(environment=production).latest("deployed_at").deployed_at
    )
    # document-embedder v2 still holds a valid production approval but never ran in staging.
    version = RegisteredModel.objects.get(name="document-embedder").versions.get(version=2)
    assert valid_approval_for(version, production)

    with pytest.raises(PromotionError, match="only takes versions") as refused:
        promote(actor=users["mei"], version=version, environment=production)

    assert refused.value.code == "promotion_path"


def test_the_e2e_request_waits_for_lead_and_risk_and_they_can_approve_it(users):
    approval = status_of("fraud-classifier", 7, "production")
    assert approval.status == ApprovalRequest.Status.OPEN
    assert approval.requester == users["engineer"]
    assert quorum_state(approval).describe_missing() == [
        "needs an approval from Risk & compliance",
        "needs 1 more approval",
    ]
    assert evaluate_policy(approval.version, approval.environment).passes

    with pytest.raises(ApprovalError, match="Separation of duties"):
        submit_review(actor=users["engineer"], approval=approval, decision="approve")
    submit_review(actor=users["lead"], approval=approval, decision="approve", confirmed=True)
    approval = submit_review(
        actor=users["risk"], approval=approval, decision="approve", confirmed=True
    )

    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.evidence["artifacts"]
    assert_chain_intact()


def test_the_other_requests_show_a_failing_gate_frozen_evidence_and_a_changed_card(demo):
    failing = status_of("credit-scoring", 5, "production")
    report = evaluate_policy(failing.version, failing.environment)
    assert failing.status == ApprovalRequest.Status.OPEN
    assert [r.gate.metric_key for r in report.blocking_failures] == ["auc"]
    assert report.blocking_failures[0].outcome == "fail"

    current = status_of("fraud-classifier", 6, "production")
    expired = status_of("fraud-classifier", 4, "production")
    superseded = status_of("fraud-classifier", 5, "production")

    assert current.evidence["metrics"]
    assert evidence_changes(current) == ["limitations"]
    assert valid_approval_for(current.version, current.environment) == current
    # Expired on its own: approved more than the policy's 90 days ago.
    assert expired.is_expired
    assert expired.expires_at == expired.decided_at + timedelta(days=90)
    assert valid_approval_for(expired.version, expired.environment) is None
    assert superseded.status == ApprovalRequest.Status.SUPERSEDED
    assert not superseded.version.deployments.filter(environment__name="production").exists()
    assert status_of("credit-scoring", 4, "production").status == "approved"
    assert status_of("churn-predictor", 6, "staging").status == "approved"
    overridden = status_of("demand-forecaster", 5, "production")
    assert overridden.status == "approved"
    assert "latency does not apply" in overridden.override_reason


@pytest.mark.parametrize("hour", range(24))
def test_the_history_never_reaches_the_future_whatever_the_hour(hour):
    now = datetime(2025, 6, 11, hour, 41, tzinfo=UTC)
    catalogue = CatalogueHistory(now=now)
    steps = [*catalogue.steps(), *GovernanceHistory(catalogue).steps()]

    assert max(step.moment for step in steps) < now
