"""The approvals demo builds on the catalogue demo, through the services."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from approvals_app.demo import build_approvals_demo
from approvals_app.models import ApprovalPolicy, ApprovalRequest, Review
from approvals_app.services import (
    ApprovalError,
    evaluate_policy,
    evidence_changes,
    quorum_state,
    submit_review,
    valid_approval_for,
)
from models_app.models import AuditEvent
from tests.models_app.ledger import assert_chain_intact

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_catalogue", stdout=io.StringIO())
    out = io.StringIO()
    build_approvals_demo(stdout=out)
    return out.getvalue()


def status_of(model, number, environment):
    return ApprovalRequest.objects.get(
        version__model__name=model, version__version=number, environment__name=environment
    )


def test_it_makes_requests_in_every_state_and_keeps_the_ledger_intact(demo):
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
    assert "Approvals demo: 3 policies" in demo
    opened = AuditEvent.objects.filter(action="approvals.request.opened").count()
    reviewed = AuditEvent.objects.filter(action__startswith="approvals.review.").count()
    assert opened == ApprovalRequest.objects.count()
    assert reviewed == Review.objects.count()
    assert AuditEvent.objects.filter(action="approvals.policy.created").count() == 3
    assert AuditEvent.objects.filter(action="approvals.reviewer_role.created").count() == 3
    assert_chain_intact()

    # A second run finds the policies and does nothing.
    requests, events = ApprovalRequest.objects.count(), AuditEvent.objects.count()
    out = io.StringIO()
    build_approvals_demo(stdout=out)
    assert "already present" in out.getvalue()
    assert ApprovalRequest.objects.count() == requests
    assert AuditEvent.objects.count() == events
    assert ApprovalPolicy.objects.count() == 3


def test_the_e2e_request_waits_for_lead_and_risk_and_they_can_approve_it(demo):
    users = {u.username: u for u in get_user_model().objects.all()}
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
    assert expired.is_expired
    assert valid_approval_for(expired.version, expired.environment) is None
    assert superseded.status == ApprovalRequest.Status.SUPERSEDED
    assert status_of("credit-scoring", 4, "production").status == "approved"
    assert status_of("churn-predictor", 6, "staging").status == "approved"


def test_it_refuses_to_run_without_the_catalogue_demo():
    with pytest.raises(CommandError, match="seed_demo"):
        build_approvals_demo(stdout=io.StringIO())

    assert not ApprovalPolicy.objects.exists()


def test_seed_demo_loads_catalogue_and_governance_once_without_mailing_anyone(mailoutbox):
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    assert "Demo organisation created" in first.getvalue()
    assert ApprovalRequest.objects.filter(status="open").exists()
    assert mailoutbox == []
    requests = ApprovalRequest.objects.count()

    again = io.StringIO()
    call_command("seed_demo", stdout=again)

    assert "already present" in again.getvalue()
    assert ApprovalRequest.objects.count() == requests
    assert_chain_intact()
