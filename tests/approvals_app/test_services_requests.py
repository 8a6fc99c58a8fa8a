"""A request's life: opening, withdrawal, changes and re-submission, superseding, expiry,
the audit trail and the emails."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from approvals_app import services
from approvals_app.models import ApprovalRequest, Review
from approvals_app.services import (
    ApprovalError,
    NotEligible,
    eligible_reviewers,
    find_policy,
    quorum_state,
    request_approval,
    resubmit_request,
    submit_review,
    tick_checklist_item,
    valid_approval_for,
    withdraw_request,
)
from models_app.models import AuditEvent
from tests.approvals_app.builders import auc_gate, build_world, make_policy
from tests.factories import add_member, make_model, make_user, make_version
from tests.models_app.ledger import assert_chain_intact, last_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def policy(world):
    return make_policy(world.production, required_approvals=2, required_roles=[world.risk_group])


def approve(approval, who, **kwargs):
    return submit_review(actor=who, approval=approval, decision="approve", **kwargs)


def request_changes(approval, who, comment="Add the fairness slices."):
    return submit_review(actor=who, approval=approval, decision="request_changes", comment=comment)


# --- opening ---------------------------------------------------------------------------------


def test_a_contributor_opens_a_request_under_the_matching_policy(world, policy):
    approval = request_approval(
        actor=world.engineer,
        version=world.version,
        environment=world.production,
        justification="  Better AUC.  ",
    )

    assert approval.status == ApprovalRequest.Status.OPEN
    assert approval.policy == policy
    assert approval.requester == world.engineer
    assert approval.justification == "Better AUC."
    assert approval.round == 1
    event = last_event()
    assert event.action == "approvals.request.opened"
    assert event.object_id == str(approval.pk)
    assert event.model_name == "fraud-classifier"
    assert event.version_number == 1
    assert event.after == {
        "version": 1,
        "environment": "production",
        "policy": policy.name,
        "justification": "Better AUC.",
    }
    assert_chain_intact()


def test_it_refuses_a_viewer(world, policy):
    with pytest.raises(NotEligible, match="contributor role"):
        world.open_request(requester=world.viewer)

    assert not ApprovalRequest.objects.exists()


def test_it_needs_a_justification(world, policy):
    with pytest.raises(ApprovalError) as refusal:
        world.open_request(justification="   ")

    assert refusal.value.field == "justification"


def test_it_refuses_a_second_open_request_for_the_same_target(world, policy):
    world.open_request()
    events = AuditEvent.objects.count()

    with pytest.raises(ApprovalError) as refusal:
        world.open_request()

    assert refusal.value.code == "duplicate"
    assert ApprovalRequest.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_a_closed_request_does_not_stop_a_new_one(world, policy):
    withdraw_request(actor=world.engineer, approval=world.open_request())

    again = world.open_request()

    assert again.status == ApprovalRequest.Status.OPEN
    assert ApprovalRequest.objects.count() == 2


def test_it_refuses_when_no_policy_covers_the_target(world, policy):
    with pytest.raises(ApprovalError, match="No approval policy covers limited-risk models"):
        world.open_request(environment=world.staging)


def test_it_refuses_archived_models_and_retired_versions(world, policy):
    world.version.retired_at = timezone.now()
    world.version.save()
    with pytest.raises(ApprovalError, match="retired"):
        world.open_request()

    world.model.archived_at = timezone.now()
    world.model.save()
    with pytest.raises(ApprovalError, match="archived"):
        world.open_request()


def test_the_policy_is_chosen_by_the_models_risk_tier(world):
    high = make_policy(world.production, name="High risk", risk_tiers=["high"])
    rest = make_policy(world.production, name="Others", risk_tiers=["limited", "minimal"])
    make_policy(world.production, name="Switched off", active=False)

    assert find_policy(world.version, world.production) == rest
    world.model.risk_tier = "high"
    assert find_policy(world.version, world.production) == high


# --- withdrawal ------------------------------------------------------------------------------


def test_the_requester_withdraws_an_open_request(world, policy):
    approval = world.open_request()

    approval = withdraw_request(actor=world.engineer, approval=approval, reason="Wrong version.")

    assert approval.status == ApprovalRequest.Status.WITHDRAWN
    assert approval.decided_at is not None
    event = last_event()
    assert event.action == "approvals.request.withdrawn"
    assert event.before == {"status": "open"}
    assert event.after == {"status": "withdrawn", "reason": "Wrong version."}


def test_a_team_admin_may_withdraw_someone_elses_request(world, policy):
    team_admin = make_user("team-admin")
    add_member(team_admin, world.team, "admin")

    approval = withdraw_request(actor=team_admin, approval=world.open_request())

    assert approval.status == ApprovalRequest.Status.WITHDRAWN


@pytest.mark.parametrize("who", ["lead", "risk", "viewer"])
def test_reviewers_and_others_cannot_withdraw(world, policy, who):
    approval = world.open_request()

    with pytest.raises(NotEligible, match="Only the requester or a team admin"):
        withdraw_request(actor=getattr(world, who), approval=approval)

    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN


def test_a_request_sent_back_for_changes_can_be_withdrawn(world, policy):
    approval = request_changes(world.open_request(), world.lead)

    approval = withdraw_request(actor=world.engineer, approval=approval)

    assert approval.status == ApprovalRequest.Status.WITHDRAWN
    assert last_event().before == {"status": "changes_requested"}


@pytest.mark.parametrize("close", ["approve", "reject", "withdraw"])
def test_only_open_requests_can_be_withdrawn(world, close):
    make_policy(world.production)
    approval = world.open_request()
    if close == "approve":
        approve(approval, world.lead)
    elif close == "reject":
        submit_review(actor=world.lead, approval=approval, decision="reject", comment="No.")
    else:
        withdraw_request(actor=world.engineer, approval=approval)
    events = AuditEvent.objects.count()

    with pytest.raises(ApprovalError, match="only open requests can be withdrawn"):
        withdraw_request(actor=world.engineer, approval=approval)

    assert AuditEvent.objects.count() == events


def test_approving_a_withdrawn_request_is_refused(world, policy):
    # The reviewer's page was loaded before the withdrawal: the stale instance says open.
    stale = world.open_request()
    withdraw_request(actor=world.engineer, approval=ApprovalRequest.objects.get(pk=stale.pk))

    with pytest.raises(ApprovalError, match="withdrawn; it can no longer be reviewed"):
        approve(stale, world.lead)

    assert not Review.objects.exists()


# --- request changes and re-submission -------------------------------------------------------


def test_request_changes_sends_the_request_back_to_the_requester(world, policy):
    approval = world.open_request()

    approval = request_changes(approval, world.risk)

    assert approval.status == ApprovalRequest.Status.CHANGES_REQUESTED
    assert approval.decided_at is None
    assert [e.action for e in AuditEvent.objects.order_by("-sequence")[:2]] == [
        "approvals.request.changes_requested",
        "approvals.review.request_changes",
    ]
    with pytest.raises(ApprovalError, match="requester must re-submit first"):
        approve(approval, world.lead)


def test_only_the_requester_resubmits(world, policy):
    approval = request_changes(world.open_request(), world.risk)

    with pytest.raises(NotEligible):
        resubmit_request(actor=world.lead, approval=approval, justification="")


def test_only_a_request_sent_back_can_be_resubmitted(world, policy):
    approval = world.open_request()

    with pytest.raises(ApprovalError, match="Only requests sent back for changes"):
        resubmit_request(actor=world.engineer, approval=approval, justification="again")


def test_resubmitting_starts_a_new_round_where_earlier_approvals_no_longer_count(world, policy):
    approval = world.open_request()
    approve(approval, world.lead)
    request_changes(approval, world.risk)

    approval = resubmit_request(
        actor=world.engineer, approval=approval, justification="Slices added."
    )

    assert approval.status == ApprovalRequest.Status.OPEN
    assert approval.round == 2
    assert approval.justification == "Slices added."
    event = last_event()
    assert event.action == "approvals.request.resubmitted"
    assert event.after["round"] == 2
    state = quorum_state(approval)
    assert state.approvals == 0
    assert state.missing_roles == ["Risk & compliance"]
    # The same reviewer approves again in the new round; both reviews stay on record.
    approve(approval, world.lead)
    approval = approve(approval, world.risk)
    assert approval.status == ApprovalRequest.Status.APPROVED
    assert list(approval.reviews.values_list("round", "decision")) == [
        (1, "approve"),
        (1, "request_changes"),
        (2, "approve"),
        (2, "approve"),
    ]
    assert_chain_intact()


def test_an_empty_justification_on_resubmission_keeps_the_old_one(world, policy):
    approval = request_changes(world.open_request(justification="First try."), world.risk)

    approval = resubmit_request(actor=world.engineer, approval=approval, justification=" ")

    assert approval.justification == "First try."


# --- superseding -----------------------------------------------------------------------------


def test_a_newer_approved_request_supersedes_older_open_ones_of_the_model(world):
    make_policy(world.production)
    make_policy(world.staging)
    older = world.open_request()
    sent_back = request_changes(world.open_request(world.version_of(auc=0.9)), world.lead)
    elsewhere = world.open_request(environment=world.staging)
    other_model = world.open_request(make_version(make_model(team=world.team)))
    newest = world.open_request(world.version_of(auc=0.97))

    approve(newest, world.lead)

    for approval in (older, sent_back, elsewhere, other_model):
        approval.refresh_from_db()
    assert older.status == ApprovalRequest.Status.SUPERSEDED
    assert sent_back.status == ApprovalRequest.Status.SUPERSEDED
    assert older.decided_at is not None
    assert elsewhere.status == ApprovalRequest.Status.OPEN
    assert other_model.status == ApprovalRequest.Status.OPEN
    events = {
        e.object_id: e for e in AuditEvent.objects.filter(action="approvals.request.superseded")
    }
    assert set(events) == {str(older.pk), str(sent_back.pk)}
    assert events[str(older.pk)].after == {"status": "superseded", "superseded_by": newest.pk}
    assert events[str(older.pk)].before == {"status": "open"}
    assert events[str(sent_back.pk)].before == {"status": "changes_requested"}
    assert_chain_intact()


def test_approving_an_older_request_leaves_newer_open_ones_alone(world):
    make_policy(world.production)
    older = world.open_request()
    newer = world.open_request(world.version_of(auc=0.97))

    approve(older, world.lead)

    newer.refresh_from_db()
    assert newer.status == ApprovalRequest.Status.OPEN


def test_a_superseded_request_can_no_longer_be_reviewed(world):
    make_policy(world.production)
    older = world.open_request()
    approve(world.open_request(world.version_of(auc=0.97)), world.lead)

    with pytest.raises(ApprovalError, match="superseded"):
        approve(older, world.peer)


# --- expiry ----------------------------------------------------------------------------------


def test_an_approval_is_valid_until_it_expires(world):
    make_policy(world.production, validity_days=90)
    approval = approve(world.open_request(), world.lead)

    assert valid_approval_for(world.version, world.production) == approval
    assert approval.is_valid_approval
    assert approval.display_status == "Approved"

    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    approval.refresh_from_db()

    assert valid_approval_for(world.version, world.production) is None
    assert approval.is_expired
    assert not approval.is_valid_approval
    assert approval.display_status == "Expired"


def test_an_approval_for_one_environment_is_not_valid_for_another(world):
    make_policy(world.production)
    approve(world.open_request(), world.lead)

    assert valid_approval_for(world.version, world.staging) is None


def test_the_newest_valid_approval_is_returned(world):
    make_policy(world.production)
    first = approve(world.open_request(), world.lead)
    ApprovalRequest.objects.filter(pk=first.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    second = approve(world.open_request(), world.lead)

    assert valid_approval_for(world.version, world.production) == second


@pytest.mark.parametrize("status", ["open", "rejected", "withdrawn"])
def test_only_approved_requests_are_valid_approvals(world, status):
    make_policy(world.production)
    approval = world.open_request()
    if status == "rejected":
        submit_review(actor=world.lead, approval=approval, decision="reject", comment="No.")
    elif status == "withdrawn":
        withdraw_request(actor=world.engineer, approval=approval)

    assert valid_approval_for(world.version, world.production) is None


# --- audit: one transaction per step ---------------------------------------------------------


def test_a_full_workflow_leaves_an_ordered_intact_ledger(world, policy):
    start = last_event().sequence if last_event() else 0

    approval = world.open_request()
    request_changes(approval, world.lead)
    resubmit_request(actor=world.engineer, approval=approval, justification="Done.")
    approve(approval, world.lead)
    approve(approval, world.risk)

    actions = list(
        AuditEvent.objects.filter(sequence__gt=start)
        .order_by("sequence")
        .values_list("action", "actor_username")
    )
    assert actions == [
        ("approvals.request.opened", "engineer"),
        ("approvals.review.request_changes", "lead"),
        ("approvals.request.changes_requested", "lead"),
        ("approvals.request.resubmitted", "engineer"),
        ("approvals.review.approve", "lead"),
        ("approvals.review.approve", "risk"),
        ("models_app.version.evidence_locked", "risk"),
        ("approvals.request.approved", "risk"),
    ]
    assert_chain_intact()


def _failing_audit(**kwargs):
    raise RuntimeError("ledger unavailable")


def test_opening_is_undone_when_its_audit_event_cannot_be_written(world, policy, monkeypatch):
    monkeypatch.setattr(services, "record_event", _failing_audit)

    with pytest.raises(RuntimeError):
        world.open_request()

    assert not ApprovalRequest.objects.exists()


def test_a_review_is_undone_when_its_audit_event_cannot_be_written(world, monkeypatch):
    make_policy(world.production)
    approval = world.open_request()
    monkeypatch.setattr(services, "record_event", _failing_audit)

    with pytest.raises(RuntimeError):
        approve(approval, world.lead)

    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN
    assert not Review.objects.exists()
    world.version.refresh_from_db()
    assert world.version.evidence_locked_at is None


def test_a_withdrawal_is_undone_when_its_audit_event_cannot_be_written(world, policy, monkeypatch):
    approval = world.open_request()
    monkeypatch.setattr(services, "record_event", _failing_audit)

    with pytest.raises(RuntimeError):
        withdraw_request(actor=world.engineer, approval=approval)

    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN


# --- notifications ---------------------------------------------------------------------------


def test_eligible_reviewers_are_team_reviewers_and_reviewer_role_members(world):
    outsider_reviewer = make_user("other-team-reviewer")
    add_member(outsider_reviewer, make_model().team, "reviewer")

    names = sorted(u.username for u in eligible_reviewers(world.version))

    assert names == ["lead", "peer", "risk"]


def test_opening_emails_every_eligible_reviewer_but_the_requester(
    world, policy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approval = world.open_request(requester=world.lead)

    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["peer@example.com", "risk@example.com"]
    message = mail.outbox[0]
    assert message.subject == "[Model registry] Review requested: fraud-classifier v1 → production"
    assert f"/approvals/{approval.pk}/" in message.body
    assert "Better AUC at lower latency." in message.body


def test_no_email_is_sent_when_the_opening_is_refused(
    world, policy, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ApprovalError),
    ):
        world.open_request(justification="")

    assert callbacks == []
    assert mail.outbox == []


def test_the_requester_is_emailed_on_every_decision(
    world, policy, django_capture_on_commit_callbacks
):
    approval = world.open_request()

    with django_capture_on_commit_callbacks(execute=True):
        request_changes(approval, world.lead, comment="Add the slices.")
    with django_capture_on_commit_callbacks(execute=True):
        resubmit_request(actor=world.engineer, approval=approval, justification="Added.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approve(approval, world.lead)
    with django_capture_on_commit_callbacks(execute=True):
        approve(approval, world.risk)

    assert [m.to for m in mail.outbox] == [["engineer@example.com"]] * 2
    first, second = mail.outbox
    assert "lead chose 'approve'" in first.body
    assert "The request is now: Open." in first.body
    assert second.subject.endswith(": Approved")
    assert "risk chose 'approve'" in second.body


def test_the_requester_is_told_about_a_request_for_changes_with_the_comment(
    world, policy, django_capture_on_commit_callbacks
):
    approval = world.open_request()

    with django_capture_on_commit_callbacks(execute=True):
        request_changes(approval, world.lead, comment="Add the slices.")

    [message] = mail.outbox
    assert message.to == ["engineer@example.com"]
    assert message.subject.endswith(": Changes requested")
    assert "Add the slices." in message.body
    assert "'request changes'" in message.body


def test_a_rejection_is_emailed_to_the_requester(world, policy, django_capture_on_commit_callbacks):
    approval = world.open_request()

    with django_capture_on_commit_callbacks(execute=True):
        submit_review(actor=world.risk, approval=approval, decision="reject", comment="No.")

    [message] = mail.outbox
    assert message.to == ["engineer@example.com"]
    assert message.subject.endswith(": Rejected")


def test_a_refused_review_sends_nothing(world, django_capture_on_commit_callbacks):
    make_policy(world.production, gates=[auc_gate(0.99)])
    approval = world.open_request()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ApprovalError),
    ):
        approve(approval, world.lead)

    assert callbacks == []
    assert mail.outbox == []


def test_a_broken_mail_server_does_not_undo_the_decision(
    world, policy, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 1  # nothing listens there
    approval = world.open_request()

    with django_capture_on_commit_callbacks(execute=True):
        approval = request_changes(approval, world.lead)

    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.CHANGES_REQUESTED


def test_the_requester_is_emailed_when_the_last_tick_approves(
    world, django_capture_on_commit_callbacks
):
    policy = make_policy(world.production, checklist=[("Rollback plan documented", False)])
    approval = world.open_request()
    approve(approval, world.lead)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        tick_checklist_item(actor=world.lead, approval=approval, item=policy.checklist_items.get())

    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED
    [message] = mail.outbox
    assert message.to == ["engineer@example.com"]
    assert message.subject.endswith(": Approved")
