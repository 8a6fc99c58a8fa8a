"""Decisions made in the review queue: the row's one-click Approve and the Reject… / Request
changes… forms post to the review view with ``from=queue``, which answers with that row (htmx)
or a redirect back to the queue with a message (no JavaScript)."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals_app.models import ApprovalRequest, Review
from approvals_app.services import submit_review, withdraw_request
from tests.approvals_app.builders import CARD, auc_gate, build_world, make_policy
from tests.factories import add_member, make_metric, make_model, make_user, make_version

pytestmark = pytest.mark.django_db

QUEUE = reverse("approvals_app:queue")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def approval(world):
    make_policy(world.production, required_approvals=2, required_roles=[world.risk_group])
    return world.open_request()


def row_id(approval) -> str:
    return f"queue-request-{approval.pk}"


def decide(client, approval, htmx=True, decision="approve", next=QUEUE, **data):
    """Post a decision the way the queue's forms do."""
    target = {"HX-Target": row_id(approval)} if htmx else {}
    return client.post(
        reverse("approvals_app:review", args=[approval.pk]),
        {"decision": decision, "from": "queue", "next": next, **data},
        headers={**HTMX, **target} if htmx else {},
    )


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def the_row(body: str) -> str:
    """The <article> of the row, without the out-of-band extras after it."""
    return body[: body.index("</article>")]


# --- the queue page offers the decisions -----------------------------------------------------


def test_each_waiting_row_offers_approve_and_the_reason_forms(client, world, approval):
    client.force_login(world.lead)

    body = client.get(QUEUE).content.decode()

    review_url = reverse("approvals_app:review", args=[approval.pk])
    assert f'<article id="{row_id(approval)}"' in body
    assert f'hx-post="{review_url}" hx-target="#{row_id(approval)}" hx-swap="outerHTML"' in body
    assert f'action="{review_url}"' in body  # works as a plain form post too
    assert '<input type="hidden" name="from" value="queue">' in body
    assert f'<input type="hidden" name="next" value="{QUEUE}">' in body
    assert "✓ Approve</button>" in body
    assert 'value="request_changes"' in body and 'value="reject"' in body
    assert "Reject…</summary>" in body and "Request changes…</summary>" in body
    assert "confirm(" not in body  # no JavaScript dialogs


def test_the_rows_return_to_the_filtered_queue_page(client, world, approval):
    client.force_login(world.lead)

    body = client.get(QUEUE + "?risk=limited&confirm=999").content.decode()

    # The queue page as it is filtered, without the confirmation marker.
    assert '<input type="hidden" name="next" value="/approvals/?risk=limited">' in body


def test_a_request_back_with_the_requester_offers_no_decision(client, world, approval):
    submit_review(actor=world.risk, approval=approval, decision="request_changes", comment="x")
    client.force_login(world.lead)

    body = client.get(QUEUE).content.decode()

    assert f'id="{row_id(approval)}"' in body
    assert "✓ Approve</button>" not in body
    assert "Back with engineer for changes" in body


# --- one click, answered with the row --------------------------------------------------------


def test_approve_in_the_queue_answers_with_only_the_updated_row(client, world, approval):
    client.force_login(world.lead)

    response = decide(client, approval)

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith(f'<article id="{row_id(approval)}"')
    row = the_row(body)
    assert "✓ You approved this request." in row
    assert "<li>needs an approval from Risk &amp; compliance</li>" in row
    assert "1 review<" in row
    assert "✓ Approve</button>" not in row
    # The messages and the navigation count come along out of band.
    assert 'id="messages" class="messages" aria-live="polite" hx-swap-oob="true"' in body
    assert f"You approved request #{approval.pk}." in body
    assert re.search(r'<span id="review-queue-count"[^>]*hidden[^>]* hx-swap-oob="true">', body)
    review = Review.objects.get()
    assert (review.reviewer, review.decision) == (world.lead, "approve")


def test_the_last_approval_shows_the_row_approved(client, world, approval):
    submit_review(actor=world.lead, approval=approval, decision="approve")
    client.force_login(world.risk)

    row = the_row(decide(client, approval).content.decode())

    assert '<span class="badge badge-good">Approved</span>' in row
    assert "the quorum is complete and the evidence is frozen" in row
    assert "2 reviews<" in row
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.evidence


def test_a_double_post_records_one_review(client, world, approval):
    client.force_login(world.lead)

    decide(client, approval)
    second = decide(client, approval)

    assert second.status_code == 200
    assert "You have already approved this request." in the_row(second.content.decode())
    assert Review.objects.count() == 1


@pytest.mark.parametrize("decision", ["reject", "request_changes"])
def test_a_decision_without_a_reason_is_refused_in_the_row(client, world, approval, decision):
    client.force_login(world.lead)

    response = decide(client, approval, decision=decision, comment="  ")

    assert response.status_code == 200
    row = the_row(response.content.decode())
    # The reason form is open again, with the error at its field.
    assert re.search(r'<details class="queue-reason" open>\s*<summary[^>]*>' + r"[^<]*…", row)
    assert f'id="{row_id(approval)}-{decision}"' in row
    assert 'class="field has-error"' in row
    assert "Give a reason when rejecting or requesting changes." in row
    assert not Review.objects.exists()
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN


def test_reject_with_a_reason_closes_the_request_in_the_row(client, world, approval):
    client.force_login(world.lead)

    row = the_row(
        decide(client, approval, decision="reject", comment="Leaks the label.").content.decode()
    )

    assert '<span class="badge badge-bad">Rejected</span>' in row
    assert "Rejected: the request is closed." in row
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.REJECTED
    assert approval.reviews.get().comment == "Leaks the label."


def test_request_changes_with_a_reason_sends_it_back(client, world, approval):
    client.force_login(world.lead)

    row = the_row(
        decide(client, approval, decision="request_changes", comment="Add slices.").content.decode()
    )

    assert "Back with engineer for changes" in row
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.CHANGES_REQUESTED


def test_a_failing_gate_is_refused_with_the_reason_in_the_row(client, world):
    make_policy(world.production, gates=[auc_gate(0.99)])
    approval = world.open_request()
    client.force_login(world.lead)

    response = decide(client, approval)

    assert response.status_code == 200
    row = the_row(response.content.decode())
    assert '<div class="form-errors queue-error" role="alert">' in row
    assert "Approval is blocked: auc = 0.95 does not meet &gt;= 0.99." in row
    assert not Review.objects.exists()


def test_approving_a_withdrawn_request_is_refused_in_the_row(client, world, approval):
    withdraw_request(actor=world.engineer, approval=approval)
    client.force_login(world.lead)

    row = the_row(decide(client, approval).content.decode())

    assert "This request is withdrawn; it can no longer be reviewed." in row
    assert '<span class="badge">Withdrawn</span>' in row
    assert "✓ Approve</button>" not in row
    assert not Review.objects.exists()


def test_the_request_page_still_answers_with_its_card(client, world, approval):
    client.force_login(world.lead)

    response = client.post(
        reverse("approvals_app:review", args=[approval.pk]),
        {"decision": "approve"},
        headers={**HTMX, "HX-Target": "request-card"},
    )

    body = response.content.decode()
    assert 'id="request-card"' in body
    assert "queue-request-" not in body


# --- high-risk models: a confirmation step in the row ----------------------------------------


@pytest.fixture
def high_risk(world):
    world.model.risk_tier = "high"
    world.model.save(update_fields=["risk_tier"])
    make_policy(world.production)
    return world.open_request()


def test_a_high_risk_approval_asks_for_confirmation_in_the_row(client, world, high_risk):
    client.force_login(world.lead)

    response = decide(client, high_risk)

    assert response.status_code == 200
    row = the_row(response.content.decode())
    assert "Confirm approval of a high-risk model</button>" in row
    assert '<input type="hidden" name="confirmed" value="1">' in row
    assert '<input type="hidden" name="from" value="queue">' in row
    assert "Not done." not in row  # a step, not an error
    assert not Review.objects.exists()


def test_confirming_in_the_row_records_the_approval(client, world, high_risk):
    client.force_login(world.lead)

    row = the_row(decide(client, high_risk, confirmed="1").content.decode())

    assert "Confirm approval" not in row
    assert '<span class="badge badge-good">Approved</span>' in row
    assert Review.objects.filter(reviewer=world.lead, decision="approve").count() == 1


def test_without_javascript_the_confirmation_step_shows_in_the_queue(client, world, high_risk):
    client.force_login(world.lead)

    response = decide(client, high_risk, htmx=False, next=QUEUE + "?risk=high")

    assert response.status_code == 302
    anchor = f"#{row_id(high_risk)}"
    assert response["Location"] == f"{QUEUE}?risk=high&confirm={high_risk.pk}{anchor}"
    assert messages_of(response) == ["fraud-classifier is a high-risk model: confirm the approval."]
    page = client.get(response["Location"]).content.decode()
    assert "Confirm approval of a high-risk model</button>" in page
    assert '<input type="hidden" name="next" value="/approvals/?risk=high">' in page
    assert not Review.objects.exists()


# --- without JavaScript ----------------------------------------------------------------------


def test_without_javascript_a_decision_redirects_back_to_the_queue(client, world, approval):
    client.force_login(world.lead)

    response = decide(client, approval, htmx=False, next=QUEUE + "?environment=production&page=1")

    assert response.status_code == 302
    assert response["Location"] == QUEUE + "?environment=production&page=1"
    assert messages_of(response) == [f"You approved request #{approval.pk}."]
    assert Review.objects.count() == 1


@pytest.mark.parametrize("next", ["https://evil.example/approvals/", "//evil.example/", ""])
def test_an_unsafe_or_missing_next_goes_to_the_plain_queue(client, world, approval, next):
    client.force_login(world.lead)

    response = decide(client, approval, htmx=False, next=next)

    assert response["Location"] == QUEUE


def test_without_javascript_a_refusal_comes_back_as_a_message(client, world, approval):
    client.force_login(world.lead)

    response = decide(client, approval, htmx=False, decision="reject")

    assert response["Location"] == QUEUE
    assert messages_of(response) == ["Give a reason when rejecting or requesting changes."]
    assert not Review.objects.exists()


# --- permission matrix -----------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, approval):
    response = decide(client, approval, htmx=False)

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

    assert decide(client, approval).status_code == 404
    assert decide(client, approval, htmx=False).status_code == 404
    assert not Review.objects.exists()


def test_the_requester_is_refused_with_the_separation_of_duties_reason(client, world, approval):
    client.force_login(world.engineer)

    response = decide(client, approval)

    assert response.status_code == 200
    row = the_row(response.content.decode())
    assert "Separation of duties" in row
    assert "✓ Approve</button>" not in row
    assert not Review.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "contributor"])
def test_people_without_a_reviewer_role_are_refused_with_the_reason(client, world, approval, who):
    person = world.viewer
    if who == "contributor":
        person = make_user("carol")
        add_member(person, world.team, "contributor")
    client.force_login(person)

    htmx = decide(client, approval)
    plain = decide(client, approval, htmx=False)

    row = the_row(htmx.content.decode())
    assert htmx.status_code == 200
    assert "You are not a reviewer for team" in row
    assert "✓ Approve</button>" not in row
    assert plain.status_code == 302 and plain["Location"] == QUEUE
    assert any("You are not a reviewer for team" in m for m in messages_of(plain))
    assert not Review.objects.exists()


# --- query budget ----------------------------------------------------------------------------


def open_requests(world, count, start):
    """``count`` open requests on new models of the team, each with a reviewed metric."""
    requests = []
    for n in range(start, start + count):
        model = make_model(f"model-{n}", team=world.team)
        version = make_version(model, created_by=world.engineer, **CARD)
        make_metric(version, "auc", 0.95)
        requests.append(world.open_request(version))
    return requests


def test_a_queue_decision_costs_the_same_however_long_the_queue_is(client, world, approval):
    first, *_ = open_requests(world, 2, start=1)
    client.force_login(world.lead)
    client.get(QUEUE)  # warm the session

    with CaptureQueriesContext(connection) as before:
        decide(client, first)
    second, *_ = open_requests(world, 6, start=3)
    with CaptureQueriesContext(connection) as after:
        response = decide(client, second)

    assert "✓ You approved this request." in response.content.decode()
    assert len(after) == len(before)
