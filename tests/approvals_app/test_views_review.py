"""The decision form on /approvals/<id>/: one-click htmx decisions, the confirmation step for
high-risk models, refusals shown with their reason, and the permission matrix."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from approvals_app.models import ApprovalRequest, Review
from tests.approvals_app.builders import auc_gate, build_world, make_policy
from tests.factories import add_member, make_metric, make_model, make_user, make_version

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "request-card"}


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def approval(world):
    make_policy(world.production, required_approvals=2, required_roles=[world.risk_group])
    return world.open_request()


def review_url(approval):
    return reverse("approvals_app:review", args=[approval.pk])


def post_review(client, approval, htmx=True, **data):
    headers = HTMX if htmx else {}
    return client.post(review_url(approval), {"decision": "approve", **data}, headers=headers)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_one_click_approve_updates_the_card_in_place(client, world, approval):
    client.force_login(world.lead)

    response = post_review(client, approval, comment="Looks right.")

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body  # a fragment, not the page
    assert 'id="request-card"' in body
    assert "Looks right." in body
    assert "1 of 2" in body
    assert "Needs an approval from Risk &amp; compliance" in body
    assert 'value="approve"' not in body  # their part is done
    assert "You approved this request in this round" in body
    # The messages and the evidence section come along out of band.
    assert 'id="messages" class="messages" aria-live="polite" hx-swap-oob="true"' in body
    assert 'id="request-evidence" class="request-evidence" hx-swap-oob="true"' in body
    review = Review.objects.get()
    assert (review.reviewer, review.decision, review.comment) == (
        world.lead,
        "approve",
        "Looks right.",
    )


def test_the_last_approval_turns_the_card_approved_with_frozen_evidence(client, world, approval):
    client.force_login(world.lead)
    post_review(client, approval)
    client.force_login(world.risk)

    response = post_review(client, approval)

    body = response.content.decode()
    assert '<span class="badge badge-good">Approved</span>' in body
    assert "Evidence frozen at approval" in body
    assert "Your decision" not in body
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED


def test_without_javascript_a_decision_redirects_back_with_a_message(client, world, approval):
    client.force_login(world.lead)

    response = post_review(client, approval, htmx=False)

    assert response.status_code == 302
    assert response["Location"] == approval.get_absolute_url()
    assert messages_of(response) == [f"You approved request #{approval.pk}."]
    assert Review.objects.count() == 1


def test_a_double_clicked_approve_records_one_review(client, world, approval):
    client.force_login(world.lead)

    post_review(client, approval)
    second = post_review(client, approval)

    assert Review.objects.count() == 1
    assert second.status_code == 200
    assert "You have already approved this request." in second.content.decode()


def test_self_approval_is_refused_with_the_reason(client, world, approval):
    client.force_login(world.engineer)

    response = post_review(client, approval)

    assert response.status_code == 200  # htmx 2 swaps only 2xx
    assert "Separation of duties" in response.content.decode()
    assert not Review.objects.exists()


def test_self_approval_without_javascript_redirects_with_the_reason(client, world, approval):
    client.force_login(world.engineer)

    response = post_review(client, approval, htmx=False)

    assert response.status_code == 302
    assert any("Separation of duties" in m for m in messages_of(response))
    assert not Review.objects.exists()


def test_the_requester_sees_no_decision_buttons_and_why(client, world, approval):
    client.force_login(world.engineer)

    body = client.get(approval.get_absolute_url()).content.decode()

    assert 'value="approve"' not in body
    assert "Separation of duties" in body


def test_a_reason_is_required_to_reject(client, world, approval):
    client.force_login(world.lead)

    response = post_review(client, approval, decision="reject")

    body = response.content.decode()
    assert "Give a reason when rejecting or requesting changes." in body
    assert "has-error" in body  # shown at the comment field
    assert not Review.objects.exists()


def test_reject_with_a_reason_closes_the_request(client, world, approval):
    client.force_login(world.lead)

    response = post_review(client, approval, decision="reject", comment="Leaks the label.")

    assert '<span class="badge badge-bad">Rejected</span>' in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.REJECTED


def test_request_changes_sends_it_back(client, world, approval):
    client.force_login(world.lead)

    response = post_review(
        client, approval, decision="request_changes", comment="Add the slice metrics."
    )

    assert "Changes requested" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.CHANGES_REQUESTED


def test_an_unknown_decision_is_refused(client, world, approval):
    client.force_login(world.lead)

    response = post_review(client, approval, decision="shrug")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Review.objects.exists()


# --- high-risk models ------------------------------------------------------------------------


@pytest.fixture
def high_risk(world):
    world.model.risk_tier = "high"
    world.model.save(update_fields=["risk_tier"])
    make_policy(world.production)
    return world.open_request()


def test_a_high_risk_approval_asks_for_confirmation_first(client, world, high_risk):
    client.force_login(world.lead)

    response = post_review(client, high_risk, comment="Checked the slices.")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Confirm approval of a high-risk model" in body
    assert 'name="confirmed" value="1"' in body
    assert "Checked the slices." in body  # the comment survives the step
    assert not Review.objects.exists()


def test_confirming_records_the_approval(client, world, high_risk):
    client.force_login(world.lead)

    response = post_review(client, high_risk, confirmed="1")

    assert "Confirm approval" not in response.content.decode()
    assert Review.objects.filter(reviewer=world.lead, decision="approve").count() == 1
    high_risk.refresh_from_db()
    assert high_risk.status == ApprovalRequest.Status.APPROVED


def test_the_confirmation_step_works_without_javascript(client, world, high_risk):
    client.force_login(world.lead)

    response = post_review(client, high_risk, htmx=False)

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body  # the whole page, with the confirmation inside the card
    assert "Confirm approval of a high-risk model" in body


# --- gates -----------------------------------------------------------------------------------


@pytest.fixture
def failing(world):
    make_policy(world.production, gates=[auc_gate(0.99)], allow_admin_override=True)
    return world.open_request()


def test_a_failing_gate_refuses_the_approval_with_the_reason(client, world, failing):
    client.force_login(world.lead)

    response = post_review(client, failing)

    body = response.content.decode()
    assert "Approval is blocked" in body
    assert "auc = 0.95 does not meet &gt;= 0.99." in body
    assert 'name="override_reason"' not in body  # only admins may override
    assert not Review.objects.exists()


def test_an_admin_is_offered_an_override_and_it_is_recorded(client, world, failing):
    client.force_login(world.admin)

    offered = post_review(client, failing)
    assert 'name="override_reason"' in offered.content.decode()

    response = post_review(client, failing, override_reason="Known label noise in the holdout.")

    assert response.status_code == 200
    review = Review.objects.get()
    assert review.is_override
    failing.refresh_from_db()
    assert failing.status == ApprovalRequest.Status.APPROVED
    assert failing.override_reason == "Known label noise in the holdout."
    assert "Admin override" in response.content.decode()


def test_an_empty_override_reason_asks_for_the_reason_not_the_gates_again(client, world, failing):
    client.force_login(world.admin)

    response = post_review(client, failing, override_reason="  ")

    body = response.content.decode()
    start = body.index('class="form-errors"')
    alert = body[start : body.index("</div>", start)]
    assert "Give the reason for the override." in alert
    assert "does not meet" not in alert
    assert 'name="override_reason"' in body
    assert not Review.objects.exists()


def test_an_admin_override_of_a_high_risk_model_survives_the_confirmation_step(
    client, world, failing
):
    world.model.risk_tier = "high"
    world.model.save(update_fields=["risk_tier"])
    client.force_login(world.admin)
    reason = "Known label noise in the holdout."

    asked = post_review(client, failing, override_reason=reason).content.decode()

    assert "Confirm approval of a high-risk model" in asked
    assert f'name="override_reason" value="{reason}"' in asked
    response = post_review(client, failing, override_reason=reason, confirmed="1")
    assert "Approve with an admin override" not in response.content.decode()
    assert Review.objects.get().is_override
    failing.refresh_from_db()
    assert failing.status == ApprovalRequest.Status.APPROVED
    assert failing.override_reason == reason


def test_after_an_override_the_other_reviewers_see_the_gates_overridden_not_blocked(client, world):
    make_policy(
        world.production, gates=[auc_gate(0.99)], allow_admin_override=True, required_approvals=2
    )
    approval = world.open_request()
    client.force_login(world.admin)
    post_review(client, approval, override_reason="Known label noise in the holdout.")
    client.force_login(world.lead)

    card = client.get(approval.get_absolute_url()).content.decode()
    queue = client.get(reverse("approvals_app:queue")).content.decode()

    assert "Gates overridden:" in card
    assert "Blocked by the gates" not in card
    assert 'value="approve"' in card
    assert "Blocked by its gates" not in queue


def test_no_override_is_offered_when_the_policy_forbids_it(client, world):
    make_policy(world.production, gates=[auc_gate(0.99)])
    approval = world.open_request()
    client.force_login(world.admin)

    body = post_review(client, approval).content.decode()

    assert "Approval is blocked" in body
    assert 'name="override_reason"' not in body


def test_approving_a_withdrawn_request_is_refused(client, world, approval):
    client.force_login(world.engineer)
    client.post(reverse("approvals_app:withdraw", args=[approval.pk]), headers=HTMX)
    client.force_login(world.lead)

    response = post_review(client, approval)

    assert "This request is withdrawn; it can no longer be reviewed." in response.content.decode()
    assert not Review.objects.exists()


# --- permission matrix -----------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, approval):
    response = post_review(client, approval, htmx=False)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Review.objects.exists()


def test_an_outsider_gets_404_for_a_restricted_models_request(client, world, outsider):
    secret = make_model("secret-scorer", team=world.team, restricted=True)
    version = make_version(secret, created_by=world.engineer, intended_use="x")
    make_metric(version, "auc", 0.95)
    make_policy(world.production)
    approval = world.open_request(version)
    client.force_login(outsider)

    assert post_review(client, approval).status_code == 404
    assert client.get(approval.get_absolute_url()).status_code == 404
    assert not Review.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "contributor"])
def test_people_without_a_reviewer_role_see_no_buttons_and_are_refused(client, world, who):
    make_policy(world.production)
    approval = world.open_request()
    person = world.viewer
    if who == "contributor":
        person = make_user("carol")
        add_member(person, world.team, "contributor")
    client.force_login(person)

    page = client.get(approval.get_absolute_url()).content.decode()
    response = post_review(client, approval, htmx=False)

    assert 'value="approve"' not in page
    assert "You are not a reviewer for team" in page
    assert response.status_code == 302
    assert any("You are not a reviewer for team" in m for m in messages_of(response))
    assert not Review.objects.exists()


@pytest.mark.parametrize("who", ["lead", "peer", "risk", "admin"])
def test_reviewers_see_the_buttons_and_can_decide(client, world, who):
    make_policy(world.production)
    approval = world.open_request()
    client.force_login(getattr(world, who))

    page = client.get(approval.get_absolute_url()).content.decode()
    response = post_review(client, approval)

    assert 'value="approve"' in page
    assert response.status_code == 200
    assert Review.objects.filter(reviewer=getattr(world, who)).count() == 1


def test_get_is_not_allowed(client, world, approval):
    client.force_login(world.lead)

    assert client.get(review_url(approval)).status_code == 405
