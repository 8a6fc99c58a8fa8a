"""The approval flow in Chromium: the engineer asks for production approval, cannot approve it
themselves, the ML lead approves with one click in the queue (the row updates in place), risk
approves, and the request shows approved with its frozen evidence."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from approvals_app.models import ApprovalRequest, Review

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Limited risk, runs v5 in production; its production policy needs two approvals (one from
# the ML leads), a complete card, p95 latency within 2000 ms and "Rollback plan documented".
VERSION_URL = "/models/churn-predictor/versions/6/"


@pytest.fixture
def demo_organisation(db):
    call_command("seed_demo", verbosity=0)


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def queue_row(page, approval):
    return page.locator(f"#queue-request-{approval.pk}")


def test_production_approval_from_request_to_frozen_evidence(demo_organisation, page, sign_in):
    # The engineer asks from the version page, through the approvals panel it loads.
    sign_in("engineer")
    page.goto(VERSION_URL)
    request_link = page.locator(
        "#version-approvals a[href$='/approvals/new/?environment=production']"
    )
    request_link.click()
    page.wait_for_url(re.compile(r"/approvals/new/\?environment=production"))
    assert page.locator("select[name=environment]").input_value() == "production"
    page.fill(
        "textarea[name=justification]",
        "Fee-change features lift AUC on sellers who churned after the March price change.",
    )
    page.get_by_role("button", name="Request approval").click()
    page.wait_for_url(re.compile(r"/approvals/\d+/$"))
    approval = ApprovalRequest.objects.get(
        version__model__name="churn-predictor", version__version=6, environment__name="production"
    )
    card = page.locator("#request-card")
    assert "Needs 1 more approval" in card.locator(".missing-list").inner_text()

    # The policy's checklist, ticked on the request page.
    item = card.locator(".checklist-items li", has_text="Rollback plan documented")
    item.locator("input[name$=note]").fill("Alias champion moves back to v5.")
    item.get_by_role("button", name="Tick").click()
    page.wait_for_selector(
        "#request-card .checklist-items li.ticked:has-text('Rollback plan documented')"
    )

    # Separation of duties: no decision buttons for the requester, and a direct POST is refused.
    assert card.get_by_role("button", name="Approve").count() == 0
    assert "Separation of duties" in card.locator(".review-refusal").inner_text()
    page.goto("/approvals/")
    # In the queue it is under "My requests", with no decision buttons anywhere.
    mine = page.locator("section[aria-labelledby=mine-heading]")
    assert mine.get_by_role("link", name=f"#{approval.pk}").count() == 1
    assert page.locator(f"#queue-request-{approval.pk}").count() == 0
    assert page.get_by_role("button", name="Approve").count() == 0
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        reverse("approvals_app:review", args=[approval.pk]),
        form={"decision": "approve", "from": "queue", "next": "/approvals/"},
        headers={"HX-Request": "true", "X-CSRFToken": csrf},
    )
    assert refused.status == 200
    assert "Separation of duties" in refused.text()
    assert not Review.objects.filter(request=approval).exists()
    sign_out(page)

    # The ML lead approves with one click in the queue; the row updates without a reload.
    sign_in("lead")
    page.goto("/approvals/")
    row = queue_row(page, approval)
    assert "churn-predictor" in row.inner_text()
    page.evaluate("window.__noReload = true")
    row.get_by_role("button", name="Approve").click()
    page.wait_for_selector(f"#queue-request-{approval.pk} .queue-outcome")
    assert page.evaluate("window.__noReload") is True
    text = row.inner_text()
    assert "You approved this request." in text
    assert "needs 1 more approval" in text  # what is still missing
    assert "1 review" in text
    assert row.get_by_role("button", name="Approve").count() == 0
    assert f"You approved request #{approval.pk}." in page.locator("#messages").inner_text()
    sign_out(page)

    # Risk completes the quorum from the queue too.
    sign_in("risk")
    page.goto("/approvals/")
    row = queue_row(page, approval)
    page.evaluate("window.__noReload = true")
    # Limited risk: no confirmation step (the high-risk step is in test_views_queue_decisions).
    row.get_by_role("button", name="Approve").click()
    page.wait_for_selector(f"#queue-request-{approval.pk} .badge-good:has-text('Approved')")
    assert page.evaluate("window.__noReload") is True
    assert "the evidence is frozen" in row.inner_text()

    # The request page shows the approval and the evidence frozen at that moment.
    row.get_by_role("link", name="Open the request →").click()
    page.wait_for_url(f"**{approval.get_absolute_url()}")
    card = page.locator("#request-card")
    assert card.locator(".request-badges .badge-good").inner_text() == "Approved"
    evidence = page.locator("#request-evidence")
    assert "Evidence frozen at approval" in evidence.inner_text()
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED
    assert [tick["item"] for tick in approval.evidence["checklist"]] == ["Rollback plan documented"]
    assert sorted(r.reviewer.username for r in approval.reviews.all()) == ["lead", "risk"]
