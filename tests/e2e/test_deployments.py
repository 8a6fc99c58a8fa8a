"""A release in the browser: promote an approved version to production, see the board change,
roll it back from the environment timeline, and be refused retiring a version in use."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from approvals_app.services import request_approval, submit_review, tick_checklist_item
from models_app.models import Deployment, Environment, ModelVersion

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _approve_for_production(version_number: int) -> None:
    """An approved request for churn-predictor v<n> in production, through the workflow: the
    engineer asks and ticks the checklist, the ML lead and the risk reviewer approve."""
    users = {u.username: u for u in get_user_model().objects.all()}
    version = ModelVersion.objects.get(model__name="churn-predictor", version=version_number)
    approval = request_approval(
        actor=users["engineer"],
        version=version,
        environment=Environment.objects.get(name="production"),
        justification="Better recall on new sellers; shadow-scored in staging for a week.",
    )
    for item in approval.policy.checklist_items.all():
        tick_checklist_item(
            actor=users["engineer"], approval=approval, item=item, note="Runbook RB-12."
        )
    for reviewer in ("lead", "risk"):
        approval = submit_review(
            actor=users[reviewer], approval=approval, decision="approve", comment="Looks good."
        )
    assert approval.status == "approved"


@pytest.fixture
def release(db):
    call_command("seed_demo", verbosity=0)
    # v5 serves production now; both it and the candidate v6 hold a production approval, so
    # that v6 may be promoted and v5 rolled back to.
    _approve_for_production(5)
    _approve_for_production(6)


def _production_cell(page, model_name):
    row = page.locator("table.board tbody tr", has=page.get_by_role("link", name=model_name))
    return row.locator("td.board-cell").nth(2)


def test_promote_see_the_board_roll_back_and_be_refused_retiring(release, page, sign_in):
    sign_in("engineer")
    page.goto("/deployments/")
    assert "v5" in _production_cell(page, "churn-predictor").inner_text()

    # Promote from the version page's lifecycle card.
    page.goto("/models/churn-predictor/versions/6/")
    page.locator("#version-lifecycle").get_by_role("link", name="Promote…").click()
    page.wait_for_url("**/versions/6/promote/")
    assert page.locator("select[name=environment]").input_value() == "production"
    page.fill("textarea[name=notes]", "CHG-2041")
    page.get_by_role("button", name="Promote v6").click()
    page.wait_for_url(re.compile(r"/environments/production/\?model=churn-predictor$"))
    assert "Promoted churn-predictor v6 to Production." in page.locator("#messages").inner_text()

    page.get_by_role("link", name="Deployments", exact=True).click()
    page.wait_for_url("**/deployments/")
    cell = _production_cell(page, "churn-predictor")
    assert "v6" in cell.inner_text() and "engineer" in cell.inner_text()

    # Roll back from the timeline: the button first shows what would happen.
    page.get_by_role("link", name="Production", exact=True).first.click()
    page.wait_for_url("**/environments/production/")
    group = page.locator(
        "tbody.timeline-group", has=page.get_by_role("link", name="churn-predictor")
    )
    group.get_by_role("button", name="Roll back to v5…").click()
    page.wait_for_url("**/environments/production/rollback/churn-predictor/")
    assert "Who gets a different version" in page.content()
    assert "Allowed by approval" in page.locator("main").inner_text()
    page.fill("textarea[name=reason]", "Offer rate doubled overnight.")
    page.get_by_role("button", name="Roll back to v5").click()
    page.wait_for_url(re.compile(r"/environments/production/\?model=churn-predictor$"))
    assert "Rolled churn-predictor back to v5" in page.locator("#messages").inner_text()
    live = Deployment.objects.active().get(
        model__name="churn-predictor", environment__name="production"
    )
    assert live.version.version == 5

    # v5 serves production again and the retention campaigns follow its alias: refused.
    page.goto("/models/churn-predictor/versions/5/")
    page.locator("#version-lifecycle").get_by_role("link", name="Retire…").click()
    page.wait_for_url("**/versions/5/retire/")
    page.get_by_role("button", name="Retire v5").click()
    refusal = page.locator(".refusal")
    assert "The retirement was refused." in refusal.inner_text()
    dependents = page.locator("table.impact-table").inner_text()
    assert "Seller retention campaigns" in dependents
    assert "Customer Intelligence" in dependents
    assert ModelVersion.objects.get(model__name="churn-predictor", version=5).retired_at is None
