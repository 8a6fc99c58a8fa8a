"""Reviewing a request: who may, what counts toward the quorum, gates, overrides, evidence."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from approvals_app.models import ApprovalRequest, ChecklistTick, Review
from approvals_app.services import (
    ApprovalError,
    NotEligible,
    evaluate_policy,
    evidence_changes,
    is_eligible_reviewer,
    quorum_state,
    submit_review,
    tick_checklist_item,
    valid_approval_for,
)
from models_app.models import AuditEvent, Membership
from models_app.services import (
    RegistryError,
    attach_artifact,
    log_metrics,
    update_version_card,
)
from tests.approvals_app.builders import (
    auc_gate,
    build_world,
    latency_gate,
    make_policy,
    relative_auc_gate,
)
from tests.factories import add_member, make_metric, make_model, make_user, make_version
from tests.models_app.ledger import assert_chain_intact, last_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def two_with_risk(world, **overrides):
    """Production: two approvals, one of them from Risk & compliance."""
    return make_policy(
        world.production,
        required_approvals=2,
        required_roles=[world.risk_group],
        gates=[auc_gate(0.9), latency_gate(200)],
        **overrides,
    )


def approve(world, approval, who, **kwargs):
    return submit_review(actor=who, approval=approval, decision="approve", **kwargs)


def actions_after(sequence: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(sequence__gt=sequence)
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def refused_without_trace(call, error=ApprovalError):
    """Run a call that must be refused; it must leave no review and no audit event."""
    reviews, events = Review.objects.count(), AuditEvent.objects.count()
    with pytest.raises(error) as caught:
        call()
    assert Review.objects.count() == reviews
    assert AuditEvent.objects.count() == events
    return caught.value


# --- separation of duties ------------------------------------------------------------------


def test_it_refuses_the_versions_creator_even_when_they_are_a_reviewer(world):
    make_policy(world.production)
    version = make_version(world.model, created_by=world.lead, intended_use="x")
    make_metric(version, "auc", 0.95)
    approval = world.open_request(version)

    refusal = refused_without_trace(lambda: approve(world, approval, world.lead), NotEligible)

    assert "Separation of duties" in refusal.message
    assert refusal.code == "permission_denied"
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN


def test_it_refuses_the_requester_even_when_they_are_a_reviewer(world):
    make_policy(world.production)
    approval = world.open_request(requester=world.lead)

    refusal = refused_without_trace(lambda: approve(world, approval, world.lead), NotEligible)

    assert "requester" in refusal.message


def test_the_creator_cannot_reject_their_own_request_either(world):
    make_policy(world.production)
    approval = world.open_request()
    Membership.objects.filter(user=world.engineer).update(role="reviewer")

    refusal = refused_without_trace(
        lambda: submit_review(
            actor=world.engineer, approval=approval, decision="reject", comment="no"
        ),
        NotEligible,
    )

    assert "Separation of duties" in refusal.message


def test_a_policy_that_lets_the_author_approve_allows_it(world):
    make_policy(world.production, author_may_approve=True)
    approval = world.open_request(requester=world.lead)

    approval = approve(world, approval, world.lead)

    assert approval.status == ApprovalRequest.Status.APPROVED


# --- who may review -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "contributor", "group_only", "stranger", "inactive"])
def test_it_refuses_people_without_a_reviewer_role(world, who):
    make_policy(world.production)
    approval = world.open_request()
    person = make_user(f"person-{who}")
    if who == "viewer":
        person = world.viewer
    elif who == "contributor":
        add_member(person, world.team, "contributor")
    elif who == "group_only":
        # A group that is not registered as a reviewer role gives no right to review.
        Group.objects.create(name="Book club").user_set.add(person)
    elif who == "inactive":
        add_member(person, world.team, "reviewer")
        person.is_active = False
        person.save()

    refusal = refused_without_trace(lambda: approve(world, approval, person), NotEligible)

    assert "not a reviewer for team 'Fraud & Risk'" in refusal.message


@pytest.mark.parametrize("who", ["peer", "risk", "team_admin", "admin"])
def test_team_reviewers_admins_and_reviewer_role_members_may_review(world, who):
    make_policy(world.production)
    approval = world.open_request()
    person = getattr(world, who, None)
    if who == "team_admin":
        person = make_user("team-admin")
        add_member(person, world.team, "admin")

    approval = approve(world, approval, person)

    assert approval.status == ApprovalRequest.Status.APPROVED


def test_a_reviewer_role_does_not_reach_a_restricted_model_of_another_team(world):
    restricted = make_model("secret", team=world.team, restricted=True)
    version = make_version(restricted, created_by=world.engineer)

    assert not is_eligible_reviewer(world.risk, version)
    assert is_eligible_reviewer(world.lead, version)


def test_a_team_reviewer_of_another_team_is_not_eligible(world):
    other_reviewer = make_user("elsewhere")
    add_member(other_reviewer, make_model().team, "reviewer")

    assert not is_eligible_reviewer(other_reviewer, world.version)


# --- decisions and reasons -------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["reject", "request_changes"])
@pytest.mark.parametrize("comment", ["", "   "])
def test_rejecting_or_requesting_changes_needs_a_reason(world, decision, comment):
    make_policy(world.production)
    approval = world.open_request()

    refusal = refused_without_trace(
        lambda: submit_review(
            actor=world.lead, approval=approval, decision=decision, comment=comment
        )
    )

    assert refusal.field == "comment"


def test_an_unknown_decision_is_refused(world):
    make_policy(world.production)
    approval = world.open_request()

    refusal = refused_without_trace(
        lambda: submit_review(actor=world.lead, approval=approval, decision="maybe")
    )

    assert refusal.field == "decision"


def test_reject_closes_the_request(world):
    make_policy(world.production)
    approval = world.open_request()
    before = last_event().sequence

    approval = submit_review(
        actor=world.lead, approval=approval, decision="reject", comment="Overfits on Q4."
    )

    assert approval.status == ApprovalRequest.Status.REJECTED
    assert approval.decided_at is not None
    assert approval.evidence == {}
    assert actions_after(before) == ["approvals.review.reject", "approvals.request.rejected"]
    assert last_event().after == {"status": "rejected"}
    review = approval.reviews.get()
    assert (review.reviewer, review.decision, review.comment) == (
        world.lead,
        "reject",
        "Overfits on Q4.",
    )
    with pytest.raises(ApprovalError, match="rejected; it can no longer be reviewed"):
        approve(world, approval, world.peer)
    assert_chain_intact()


# --- one reviewer counts once; roles --------------------------------------------------------


def test_a_second_approval_by_the_same_reviewer_is_refused_and_recorded_once(world):
    two_with_risk(world)
    approval = world.open_request()
    approve(world, approval, world.lead)

    refusal = refused_without_trace(lambda: approve(world, approval, world.lead))

    assert refusal.code == "duplicate"
    assert refusal.message == "You have already approved this request."
    assert Review.objects.filter(request=approval, reviewer=world.lead).count() == 1
    assert quorum_state(approval).approvals == 1


def test_approvals_without_the_required_role_do_not_complete_the_quorum(world):
    two_with_risk(world)
    approval = world.open_request()

    approve(world, approval, world.lead)
    approval = approve(world, approval, world.peer)

    assert approval.status == ApprovalRequest.Status.OPEN
    state = quorum_state(approval)
    assert state.approvals == 2
    assert state.missing_roles == ["Risk & compliance"]
    assert not state.met
    assert state.describe_missing() == ["needs an approval from Risk & compliance"]

    approval = approve(world, approval, world.risk)

    assert approval.status == ApprovalRequest.Status.APPROVED


def test_a_reviewer_counts_toward_a_role_only_if_they_hold_it_when_deciding(world):
    two_with_risk(world)
    approval = world.open_request()

    approve(world, approval, world.lead)
    # Joining the group afterwards does not rewrite the recorded review.
    world.risk_group.user_set.add(world.lead)

    assert quorum_state(approval).missing_roles == ["Risk & compliance"]
    assert approval.reviews.get().roles == ["ML leads"]


def test_a_role_holder_alone_does_not_make_two_approvals(world):
    two_with_risk(world)
    approval = world.open_request()

    approval = approve(world, approval, world.risk)

    assert approval.status == ApprovalRequest.Status.OPEN
    assert quorum_state(approval).describe_missing() == ["needs 1 more approval"]


def test_describe_missing_counts_the_approvals_beyond_the_roles(world):
    make_policy(world.production, required_approvals=3, required_roles=[world.risk_group])
    approval = world.open_request()

    assert quorum_state(approval).describe_missing() == [
        "needs an approval from Risk & compliance",
        "needs 2 more approvals",
    ]


# --- gates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metrics", "reason"),
    [
        ({"auc": 0.85, "latency_p95_ms": 100.0}, "auc = 0.85 does not meet >= 0.9."),
        ({"latency_p95_ms": 100.0}, "The candidate has no auc metric."),
    ],
)
def test_a_blocking_gate_that_fails_or_lacks_data_prevents_approval(world, metrics, reason):
    make_policy(world.production, gates=[auc_gate(0.9), latency_gate(200)])
    approval = world.open_request(world.version_of(**metrics))

    refusal = refused_without_trace(lambda: approve(world, approval, world.lead))

    assert refusal.code == "gate_failed"
    assert refusal.message == f"Approval is blocked: {reason}"
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN


def test_a_relative_gate_compares_with_what_runs_in_the_environment_now(world):
    make_policy(world.production, gates=[relative_auc_gate(1.0)])
    running = world.version_of(auc=0.96)
    world.deploy(running)
    approval = world.open_request()  # auc 0.95: 1.04% worse than 0.96

    report = evaluate_policy(world.version, world.production)

    assert report.current.version == running
    assert [r.outcome for r in report.results] == ["fail"]
    refusal = refused_without_trace(lambda: approve(world, approval, world.lead))
    assert "0.95 vs 0.96 now" in refusal.message


def test_a_failing_non_blocking_gate_does_not_prevent_approval(world):
    make_policy(world.production, gates=[auc_gate(0.99, blocking=False)])
    approval = world.open_request()

    approval = approve(world, approval, world.lead)

    assert approval.status == ApprovalRequest.Status.APPROVED
    [gate] = approval.evidence["gates"]["gates"]
    assert (gate["outcome"], gate["blocks"]) == ("fail", False)


def test_an_incomplete_model_card_blocks_when_the_policy_requires_one(world):
    make_policy(world.production, require_model_card=True)
    version = make_version(world.model, created_by=world.engineer, intended_use="Only this.")
    approval = world.open_request(version)

    refusal = refused_without_trace(lambda: approve(world, approval, world.lead))

    assert "The model card is incomplete." in refusal.message


def test_an_incomplete_model_card_is_fine_when_the_policy_does_not_require_one(world):
    make_policy(world.production, require_model_card=False)
    version = make_version(world.model, created_by=world.engineer)
    approval = world.open_request(version)

    assert approve(world, approval, world.lead).status == ApprovalRequest.Status.APPROVED


def test_metrics_are_read_at_decision_time_using_the_latest_step(world):
    make_policy(world.production, gates=[auc_gate(0.9)])
    approval = world.open_request()
    make_metric(world.version, "auc", 0.5, step=10)

    refusal = refused_without_trace(lambda: approve(world, approval, world.lead))

    assert "auc = 0.5 does not meet" in refusal.message


# --- admin override --------------------------------------------------------------------------


def failing_request(world, **policy):
    make_policy(world.production, gates=[auc_gate(0.99)], **policy)
    return world.open_request()


def test_a_superuser_may_override_a_failing_gate_when_the_policy_allows_it(world):
    approval = failing_request(world, allow_admin_override=True)
    before = last_event().sequence

    approval = approve(
        world, approval, world.admin, comment="Ship it.", override_reason="Fixes an outage."
    )

    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.override_reason == "Fixes an outage."
    review = approval.reviews.get()
    assert review.is_override
    assert review.comment == "Ship it.\nOverride: Fixes an outage."
    actions = actions_after(before)
    assert actions[0] == "approvals.review.override"
    assert "approvals.request.approved" in actions
    event = AuditEvent.objects.get(action="approvals.review.override")
    assert event.after["override_reason"] == "Fixes an outage."
    assert event.actor == world.admin
    assert approval.evidence["gates"]["gates"][0]["outcome"] == "fail"
    assert_chain_intact()


def test_an_override_needs_a_policy_that_allows_it(world):
    approval = failing_request(world, allow_admin_override=False)

    refusal = refused_without_trace(
        lambda: approve(world, approval, world.admin, override_reason="Urgent."), NotEligible
    )

    assert "does not allow overriding" in refusal.message
    assert "auc = 0.95 does not meet >= 0.99." in refusal.message


def test_an_override_needs_a_superuser(world):
    approval = failing_request(world, allow_admin_override=True)

    refused_without_trace(
        lambda: approve(world, approval, world.lead, override_reason="Urgent."), NotEligible
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_override_needs_a_written_reason(world, reason):
    approval = failing_request(world, allow_admin_override=True)

    refusal = refused_without_trace(
        lambda: approve(world, approval, world.admin, override_reason=reason)
    )

    assert refusal.code == "gate_failed"


def test_an_override_reason_on_a_passing_request_is_not_an_override(world):
    make_policy(world.production, allow_admin_override=True)
    approval = world.open_request()

    approval = approve(world, approval, world.admin, override_reason="Just in case.")

    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.override_reason == ""
    assert not approval.reviews.get().is_override
    assert AuditEvent.objects.filter(action="approvals.review.approve").exists()


# --- high risk ---------------------------------------------------------------------------------


def test_approving_a_high_risk_model_needs_a_confirmation(world):
    world.model.risk_tier = "high"
    world.model.save()
    make_policy(world.production)
    approval = world.open_request()

    refusal = refused_without_trace(lambda: approve(world, approval, world.lead))

    assert refusal.code == "confirmation_required"
    assert "high-risk" in refusal.message
    assert approve(world, approval, world.lead, confirmed=True).status == "approved"


def test_a_failing_gate_refuses_a_high_risk_approval_before_asking_to_confirm(world):
    world.model.risk_tier = "high"
    world.model.save()
    make_policy(world.production, gates=[auc_gate(0.99)])
    approval = world.open_request()

    refusal = refused_without_trace(lambda: approve(world, approval, world.lead))

    assert refusal.code == "gate_failed"


def test_rejecting_a_high_risk_model_needs_no_confirmation(world):
    world.model.risk_tier = "high"
    world.model.save()
    make_policy(world.production)
    approval = world.open_request()

    approval = submit_review(
        actor=world.lead, approval=approval, decision="reject", comment="Not yet."
    )

    assert approval.status == ApprovalRequest.Status.REJECTED


# --- the quorum completes: evidence is frozen -----------------------------------------------


def test_a_complete_quorum_approves_and_freezes_the_evidence(world):
    policy = two_with_risk(world, validity_days=30)
    approval = world.open_request()
    approve(world, approval, world.lead, comment="Looks good.")
    before = last_event().sequence

    approval = approve(world, approval, world.risk)

    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.expires_at == approval.decided_at + timedelta(days=30)
    assert actions_after(before) == [
        "approvals.review.approve",
        "models_app.version.evidence_locked",
        "approvals.request.approved",
    ]
    evidence = approval.evidence
    assert evidence["metrics"] == [
        {"key": "auc", "slice": "", "value": 0.95},
        {"key": "latency_p95_ms", "slice": "", "value": 120.0},
    ]
    assert evidence["artifacts"] == [{"path": "model.ubj", "sha256": "a" * 64, "size": 2048}]
    assert evidence["model_card"]["limitations"] == "EU traffic only."
    assert evidence["gates"]["policy"] == policy.name
    assert [g["outcome"] for g in evidence["gates"]["gates"]] == ["pass", "pass"]
    assert evidence["checklist"] == []
    assert evidence["frozen_at"]
    world.version.refresh_from_db()
    assert world.version.evidence_locked_at is not None
    assert valid_approval_for(world.version, world.production) == approval
    stored = ApprovalRequest.objects.get(pk=approval.pk)
    assert stored.evidence == evidence
    assert [r.reviewer for r in stored.reviews.all()] == [world.lead, world.risk]
    assert_chain_intact()


def test_the_frozen_evidence_names_the_version_it_was_compared_with(world):
    make_policy(world.production, gates=[relative_auc_gate(1.0)])
    running = world.version_of(auc=0.9)
    world.deploy(running)
    approval = world.open_request()

    approval = approve(world, approval, world.lead)

    gates = approval.evidence["gates"]
    assert gates["compared_with"] == "fraud-classifier v2"
    assert gates["gates"][0]["reference_value"] == 0.9


def test_after_approval_metrics_and_artefacts_of_the_version_are_refused(world):
    make_policy(world.production)
    approve(world, world.open_request(), world.lead)
    before = AuditEvent.objects.count()

    with pytest.raises(RegistryError) as metrics_refusal:
        log_metrics(
            actor=world.engineer, version=world.version, metrics=[{"key": "auc", "value": 0.99}]
        )
    with pytest.raises(RegistryError) as upload_refusal:
        attach_artifact(
            actor=world.engineer,
            version=world.version,
            path="extra.bin",
            content=io.BytesIO(b"more"),
        )

    assert metrics_refusal.value.code == "evidence_locked"
    assert upload_refusal.value.code == "evidence_locked"
    assert world.version.metrics.count() == 2
    assert world.version.artifacts.count() == 1
    assert AuditEvent.objects.count() == before


def test_editing_the_model_card_after_approval_is_allowed_audited_and_reported(world):
    make_policy(world.production)
    approval = approve(world, world.open_request(), world.lead)
    assert evidence_changes(approval) == []

    update_version_card(actor=world.engineer, version=world.version, limitations="EU and UK.")

    event = last_event()
    assert event.action == "models_app.version.card_updated"
    assert event.before == {"limitations": "EU traffic only."}
    assert event.after == {"limitations": "EU and UK."}
    approval.refresh_from_db()
    assert evidence_changes(approval) == ["limitations"]
    assert approval.evidence["model_card"]["limitations"] == "EU traffic only."
    assert_chain_intact()


def test_evidence_changes_is_empty_for_a_request_that_was_never_approved(world):
    make_policy(world.production)

    assert evidence_changes(world.open_request()) == []


# --- checklist -------------------------------------------------------------------------------


def checklist_policy(world, **overrides):
    return make_policy(
        world.production,
        checklist=[("Bias evaluation reviewed", True), ("Rollback plan documented", False)],
        **overrides,
    )


def test_an_item_that_requires_evidence_needs_a_note_or_a_link(world):
    policy = checklist_policy(world)
    approval = world.open_request()
    bias = policy.checklist_items.get(requires_evidence=True)

    with pytest.raises(ApprovalError) as refusal:
        tick_checklist_item(actor=world.engineer, approval=approval, item=bias, note="  ")

    assert refusal.value.field == "note"
    assert not ChecklistTick.objects.exists()
    tick = tick_checklist_item(
        actor=world.engineer,
        approval=approval,
        item=bias,
        evidence_url="https://wiki.example/bias-review",
    )
    assert tick.evidence_url == "https://wiki.example/bias-review"
    event = last_event()
    assert event.action == "approvals.checklist.ticked"
    assert event.after["item"] == "Bias evaluation reviewed"


def test_an_item_without_an_evidence_requirement_can_be_ticked_bare(world):
    policy = checklist_policy(world)
    approval = world.open_request()
    rollback = policy.checklist_items.get(requires_evidence=False)

    tick = tick_checklist_item(actor=world.lead, approval=approval, item=rollback)

    assert tick.ticked_by == world.lead


def test_an_item_cannot_be_ticked_twice(world):
    policy = checklist_policy(world)
    approval = world.open_request()
    rollback = policy.checklist_items.get(requires_evidence=False)
    tick_checklist_item(actor=world.engineer, approval=approval, item=rollback)

    with pytest.raises(ApprovalError, match="already ticked"):
        tick_checklist_item(actor=world.lead, approval=approval, item=rollback)

    assert ChecklistTick.objects.count() == 1


def test_only_the_requester_or_an_eligible_reviewer_ticks(world):
    policy = checklist_policy(world)
    approval = world.open_request()
    rollback = policy.checklist_items.get(requires_evidence=False)

    with pytest.raises(NotEligible):
        tick_checklist_item(actor=world.viewer, approval=approval, item=rollback)

    assert not ChecklistTick.objects.exists()


def test_an_item_of_another_policy_is_refused(world):
    checklist_policy(world)
    other = make_policy(world.staging, checklist=[("Staging soak test", False)])
    approval = world.open_request()

    with pytest.raises(ApprovalError, match="not on this request's checklist"):
        tick_checklist_item(
            actor=world.engineer, approval=approval, item=other.checklist_items.get()
        )


def test_a_complete_quorum_waits_for_the_checklist(world):
    checklist_policy(world)
    approval = world.open_request()

    approval = approve(world, approval, world.lead)

    assert approval.status == ApprovalRequest.Status.OPEN
    state = quorum_state(approval)
    assert state.met
    assert state.describe_missing() == [
        "checklist: “Bias evaluation reviewed” is not ticked",
        "checklist: “Rollback plan documented” is not ticked",
    ]


def test_the_last_tick_completes_an_already_met_quorum(world):
    policy = checklist_policy(world)
    approval = world.open_request()
    bias, rollback = policy.checklist_items.order_by("order")
    tick_checklist_item(actor=world.engineer, approval=approval, item=bias, note="See report.")
    approve(world, approval, world.lead)
    before = last_event().sequence

    tick_checklist_item(actor=world.engineer, approval=approval, item=rollback)

    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.expires_at == approval.decided_at + timedelta(days=policy.validity_days)
    assert actions_after(before) == [
        "approvals.checklist.ticked",
        "models_app.version.evidence_locked",
        "approvals.request.approved",
    ]
    assert [item["item"] for item in approval.evidence["checklist"]] == [
        "Bias evaluation reviewed",
        "Rollback plan documented",
    ]
    assert approval.evidence["checklist"][0]["note"] == "See report."
    assert_chain_intact()


def test_the_last_tick_does_not_approve_past_a_gate_that_now_fails(world):
    policy = checklist_policy(world, gates=[auc_gate(0.9)])
    approval = world.open_request()
    bias, rollback = policy.checklist_items.order_by("order")
    tick_checklist_item(actor=world.engineer, approval=approval, item=bias, note="ok")
    approve(world, approval, world.lead)
    make_metric(world.version, "auc", 0.5, step=99)

    tick_checklist_item(actor=world.engineer, approval=approval, item=rollback)

    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN


def test_the_last_tick_approves_past_a_failing_gate_under_this_rounds_override(world):
    # Everyone who may approve has approved (one of them with an override); the request must
    # not stay open for want of a reviewer who has not approved yet.
    policy = checklist_policy(world, gates=[auc_gate(0.99)], allow_admin_override=True)
    approval = world.open_request()
    bias, rollback = policy.checklist_items.order_by("order")
    tick_checklist_item(actor=world.engineer, approval=approval, item=bias, note="ok")
    approval = approve(world, approval, world.admin, override_reason="Fixes an outage.")
    assert approval.status == ApprovalRequest.Status.OPEN

    tick_checklist_item(actor=world.engineer, approval=approval, item=rollback)

    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.override_reason == "Fixes an outage."
    assert approval.evidence["gates"]["gates"][0]["outcome"] == "fail"
    assert_chain_intact()


def test_the_checklist_of_a_closed_request_cannot_change(world):
    policy = checklist_policy(world)
    approval = world.open_request()
    submit_review(actor=world.lead, approval=approval, decision="reject", comment="No.")

    with pytest.raises(ApprovalError, match="closed request"):
        tick_checklist_item(
            actor=world.engineer,
            approval=approval,
            item=policy.checklist_items.get(requires_evidence=False),
        )


def test_an_override_lets_the_rest_of_a_larger_quorum_approve(world):
    approval = failing_request(world, allow_admin_override=True, required_approvals=2)

    approval = approve(world, approval, world.admin, override_reason="Fixes an outage.")
    assert approval.status == ApprovalRequest.Status.OPEN

    approval = approve(world, approval, world.lead)

    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.reviews.filter(is_override=True).count() == 1
    assert approval.override_reason == "Fixes an outage."
    assert_chain_intact()


def test_without_an_override_a_failing_gate_still_blocks_every_reviewer(world):
    approval = failing_request(world, allow_admin_override=True, required_approvals=2)

    with pytest.raises(ApprovalError, match="Approval is blocked"):
        approve(world, approval, world.lead)
    assert not approval.reviews.exists()


def test_a_relative_gate_compares_a_live_candidate_with_itself(world):
    make_policy(world.production, gates=[relative_auc_gate(1.0)])
    world.deploy(world.version)

    report = evaluate_policy(world.version, world.production)

    assert report.current.version == world.version
    assert report.results[0].outcome == "pass"
    assert "Nothing runs" not in report.results[0].summary
