"""One request's page (/approvals/<id>/), the actions on its card (withdraw, re-submit, tick
the checklist), asking for approval, and the approvals panel of a version page."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone

from approvals_app.models import ApprovalRequest, ChecklistTick
from approvals_app.services import submit_review
from models_app.services import update_version_card
from tests.approvals_app.builders import (
    auc_gate,
    build_world,
    latency_gate,
    make_policy,
    relative_auc_gate,
)
from tests.factories import (
    make_metric,
    make_metric_definition,
    make_model,
    make_version,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "request-card"}


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def policy(world):
    return make_policy(
        world.production,
        required_approvals=2,
        required_roles=[world.risk_group],
        gates=[auc_gate(0.9), relative_auc_gate(1.0), latency_gate(200)],
        checklist=[("Fairness review done", True), ("Rollback plan agreed", False)],
    )


@pytest.fixture
def running(world):
    """v1 runs in production now; the world's version (v1 as well) becomes the candidate v2."""
    current = world.version
    world.deploy(current)
    candidate = world.version_of(auc=0.96, latency_p95_ms=150.0, recall=0.8)
    return current, candidate


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def page(client, approval, **headers):
    response = client.get(approval.get_absolute_url(), headers=headers)
    assert response.status_code == 200
    return response.content.decode()


# --- the page --------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, world, policy):
    approval = world.open_request()

    response = client.get(approval.get_absolute_url())

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_the_candidate_next_to_what_runs_now(client, world, policy, running):
    current, candidate = running
    approval = world.open_request(candidate)
    client.force_login(world.lead)

    body = page(client, approval)

    assert f'Candidate · <a href="{candidate.get_absolute_url()}">v2</a>' in body
    assert f'Now · <a href="{current.get_absolute_url()}">v1</a>' in body
    # auc went up (higher is better): good; latency went up (lower is better): bad.
    assert '<span class="delta-good">+0.01</span> <span class="muted small">(+1.1%)</span>' in body
    assert '<span class="delta-bad">+30 ms</span>' in body
    # recall exists only on the candidate: the other side shows "—", never 0.
    recall_row = body[body.index('<span class="mono">recall</span>') :][:600]
    assert '<td class="num">0.8</td>' in recall_row
    assert '<td class="num">—</td>' in recall_row


def test_a_metric_without_a_definition_gets_no_colour(client, world, policy, running):
    _, candidate = running
    make_metric(candidate, "coverage", 0.5)
    make_metric(world.version, "coverage", 0.4)
    approval = world.open_request(candidate)
    client.force_login(world.lead)

    body = page(client, approval)

    assert 'title="No metric definition says which direction is better">+0.1</span>' in body


def test_units_come_from_the_metric_definition(client, world, policy, running):
    _, candidate = running
    make_metric_definition("error_rate", unit="%", higher_is_better=False)
    make_metric(candidate, "error_rate", 1.5)
    make_metric(world.version, "error_rate", 2.0)
    approval = world.open_request(candidate)
    client.force_login(world.lead)

    body = page(client, approval)

    assert '<td class="num">1.5%</td>' in body
    assert '<span class="delta-good">−0.5%</span>' in body


def test_it_shows_gate_results_and_what_is_missing(client, world, policy, running):
    _, candidate = running
    approval = world.open_request(candidate)
    client.force_login(world.lead)

    body = page(client, approval)

    assert body.count('<span class="badge badge-good">PASS</span>') == 3
    assert "auc no more than 1% worse than now" in body
    assert "Needs an approval from Risk &amp; compliance" in body
    assert "Needs 1 more approval" in body
    assert "Checklist: “Fairness review done” is not ticked" in body
    assert "Better AUC at lower latency." in body  # the justification


def test_missing_data_and_failures_are_named(client, world):
    make_policy(
        world.production,
        gates=[
            auc_gate(0.99),
            {"metric_key": "f1", "kind": "absolute", "operator": ">=", "threshold": 0.5},
        ],
    )
    approval = world.open_request()
    client.force_login(world.lead)

    body = page(client, approval)

    assert '<span class="badge badge-bad">FAIL</span>' in body
    assert '<span class="badge badge-warn">MISSING DATA</span>' in body
    assert "The candidate has no f1 metric." in body
    assert "Blocked by the gates" in body


def test_reviews_so_far_are_listed_with_roles_and_round(client, world, policy):
    approval = world.open_request()
    submit_review(actor=world.risk, approval=approval, decision="approve", comment="Fine.")
    client.force_login(world.viewer)

    body = page(client, approval)

    assert "<strong>risk</strong>" in body
    assert '<span class="role-chip">Risk &amp; compliance</span>' in body
    assert "round 1" in body
    assert "Fine." in body


def test_an_approved_request_shows_the_frozen_evidence(client, world):
    make_policy(world.production, gates=[auc_gate(0.9)], checklist=[("Rollback plan", False)])
    approval = world.open_request()
    client.force_login(world.engineer)
    client.post(
        reverse(
            "approvals_app:tick_checklist",
            args=[approval.pk, approval.policy.checklist_items.get().pk],
        ),
        {f"item{approval.policy.checklist_items.get().pk}-note": "Runbook 12"},
    )
    submit_review(actor=world.lead, approval=approval, decision="approve")

    body = page(client, approval)

    assert "Evidence frozen at approval" in body
    assert "aaaaaaaaaaaaaaaa…" in body  # the artefact digest
    assert "Runbook 12" in body
    assert "Evidence changed since approval" not in body
    assert "Expired" not in body


def test_a_later_card_edit_shows_evidence_changed(client, world):
    make_policy(world.production)
    approval = world.open_request()
    submit_review(actor=world.lead, approval=approval, decision="approve")
    update_version_card(actor=world.engineer, version=world.version, limitations="US only now.")
    client.force_login(world.lead)

    body = page(client, approval)

    assert "Evidence changed since approval:" in body
    assert "Limitations of the model card was edited afterwards" in body
    assert "EU traffic only." in body  # what was approved


def test_an_approval_past_its_validity_shows_expired(client, world):
    make_policy(world.production)
    approval = world.open_request()
    submit_review(actor=world.lead, approval=approval, decision="approve")
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    client.force_login(world.lead)

    body = page(client, approval)

    assert '<span class="badge badge-warn" title="Approved' in body
    assert "<strong>Expired.</strong>" in body


def test_htmx_asking_for_the_card_gets_only_the_card(client, world, policy):
    approval = world.open_request()
    client.force_login(world.lead)

    body = page(client, approval, **HTMX)

    assert "<html" not in body
    assert body.lstrip().startswith('<section id="request-card"')


def test_an_outsider_gets_404_for_a_restricted_models_request(client, world, outsider):
    secret = make_model("secret-scorer", team=world.team, restricted=True)
    version = make_version(secret, created_by=world.engineer)
    make_policy(world.production)
    approval = world.open_request(version)
    client.force_login(outsider)

    assert client.get(approval.get_absolute_url()).status_code == 404


def test_the_request_page_keeps_a_fixed_query_budget(
    client, world, policy, running, django_assert_max_num_queries
):
    _, candidate = running
    approval = world.open_request(candidate)
    client.force_login(world.lead)
    client.get(approval.get_absolute_url())  # warm the session

    with CaptureQueriesContext(connection) as before:
        client.get(approval.get_absolute_url())
    for n in range(10):
        make_metric(candidate, f"extra_{n}", n)
        make_metric(world.version, f"extra_{n}", n + 1)
    submit_review(actor=world.risk, approval=approval, decision="approve")
    submit_review(actor=world.peer, approval=approval, decision="approve")
    with django_assert_max_num_queries(17), CaptureQueriesContext(connection) as after:
        client.get(approval.get_absolute_url())

    assert len(after) == len(before)


# --- withdraw, re-submit, checklist ----------------------------------------------------------


def test_the_requester_withdraws_in_place(client, world, policy):
    approval = world.open_request()
    client.force_login(world.engineer)

    response = client.post(
        reverse("approvals_app:withdraw", args=[approval.pk]),
        {"reason": "Wrong data"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "This request is withdrawn" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.WITHDRAWN


def test_a_withdrawn_request_shows_the_reason_given(client, world, policy):
    approval = world.open_request()
    client.force_login(world.engineer)
    client.post(reverse("approvals_app:withdraw", args=[approval.pk]), {"reason": "Wrong data"})

    body = page(client, approval)

    assert "Reason given: Wrong data" in body


def test_a_superseded_request_links_to_the_request_that_superseded_it(client, world):
    make_policy(world.production)
    older = world.open_request()
    newer = world.open_request(version=world.version_of(auc=0.97, latency_p95_ms=100.0))
    submit_review(actor=world.lead, approval=newer, decision="approve")
    older.refresh_from_db()
    assert older.status == ApprovalRequest.Status.SUPERSEDED
    client.force_login(world.viewer)

    body = page(client, older)

    assert f'<a href="{newer.get_absolute_url()}">request #{newer.pk}</a>' in body
    assert "Reason given" not in body


def test_withdraw_without_javascript_redirects_with_a_message(client, world, policy):
    approval = world.open_request()
    client.force_login(world.engineer)

    response = client.post(reverse("approvals_app:withdraw", args=[approval.pk]))

    assert response.status_code == 302
    assert messages_of(response) == [f"Request #{approval.pk} was withdrawn."]


def test_a_reviewer_cannot_withdraw(client, world, policy):
    approval = world.open_request()
    client.force_login(world.lead)

    assert "Withdraw this request" not in page(client, approval)
    response = client.post(reverse("approvals_app:withdraw", args=[approval.pk]))

    assert any("Only the requester or a team admin" in m for m in messages_of(response))
    approval.refresh_from_db()
    assert approval.is_open


def test_the_requester_resubmits_after_changes_were_requested(client, world, policy):
    approval = world.open_request()
    submit_review(
        actor=world.lead, approval=approval, decision="request_changes", comment="Add slices."
    )
    client.force_login(world.engineer)
    assert "Re-submit for review" in page(client, approval)

    response = client.post(
        reverse("approvals_app:resubmit", args=[approval.pk]),
        {"justification": "Slices added."},
        headers=HTMX,
    )

    assert "round 2" in response.content.decode()
    approval.refresh_from_db()
    assert (approval.status, approval.round) == (ApprovalRequest.Status.OPEN, 2)


def test_someone_else_cannot_resubmit(client, world, policy):
    approval = world.open_request()
    submit_review(
        actor=world.lead, approval=approval, decision="request_changes", comment="Add slices."
    )
    client.force_login(world.lead)

    response = client.post(reverse("approvals_app:resubmit", args=[approval.pk]), headers=HTMX)

    assert "Only the requester can re-submit this request." in response.content.decode()
    approval.refresh_from_db()
    assert approval.round == 1


def test_ticking_an_item_that_needs_evidence_asks_for_it(client, world, policy):
    approval = world.open_request()
    item = policy.checklist_items.get(text="Fairness review done")
    client.force_login(world.engineer)
    url = reverse("approvals_app:tick_checklist", args=[approval.pk, item.pk])

    refused = client.post(url, headers=HTMX)
    ticked = client.post(
        url, {f"item{item.pk}-evidence_url": "https://wiki.example/fairness"}, headers=HTMX
    )

    assert "needs a note or a link to the evidence" in refused.content.decode()
    assert "https://wiki.example/fairness" in ticked.content.decode()
    assert ChecklistTick.objects.get().evidence_url == "https://wiki.example/fairness"


def test_a_viewer_cannot_tick(client, world, policy):
    approval = world.open_request()
    item = policy.checklist_items.first()
    client.force_login(world.viewer)

    assert "tick-form" not in page(client, approval)
    response = client.post(reverse("approvals_app:tick_checklist", args=[approval.pk, item.pk]))

    assert any("Only the requester or an eligible reviewer" in m for m in messages_of(response))
    assert not ChecklistTick.objects.exists()


def test_an_item_of_another_policy_is_404(client, world, policy):
    approval = world.open_request()
    other = make_policy(world.staging, checklist=[("Elsewhere", False)])
    client.force_login(world.engineer)

    url = reverse(
        "approvals_app:tick_checklist", args=[approval.pk, other.checklist_items.get().pk]
    )
    assert client.post(url).status_code == 404


# --- asking for approval ---------------------------------------------------------------------


def create_url(version):
    return reverse("approvals_app:request_create", args=[version.model.name, version.version])


def test_the_form_offers_only_environments_with_a_policy(client, world, policy):
    client.force_login(world.engineer)

    body = client.get(create_url(world.version)).content.decode()

    assert '<option value="production"' in body
    assert '<option value="staging"' not in body


def test_asking_for_approval_opens_a_request_and_shows_it(client, world, policy):
    client.force_login(world.engineer)

    response = client.post(
        create_url(world.version),
        {"environment": "production", "justification": "Ready for production."},
    )

    approval = ApprovalRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == approval.get_absolute_url()
    assert approval.justification == "Ready for production."
    assert messages_of(response)[0].startswith("Approval requested for fraud-classifier v1")


def test_a_second_request_for_the_same_target_is_a_form_error(client, world, policy):
    world.open_request()
    client.force_login(world.engineer)

    response = client.post(
        create_url(world.version), {"environment": "production", "justification": "Again."}
    )

    assert response.status_code == 200
    assert "already has an open request for production" in response.content.decode()
    assert ApprovalRequest.objects.count() == 1


def test_a_justification_is_required(client, world, policy):
    client.force_login(world.engineer)

    response = client.post(create_url(world.version), {"environment": "production"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ApprovalRequest.objects.exists()


def test_a_viewer_may_not_ask_for_approval(client, world, policy):
    client.force_login(world.viewer)

    assert client.get(create_url(world.version)).status_code == 403
    assert client.post(create_url(world.version), {"environment": "production"}).status_code == 403


def test_an_outsider_gets_404_for_a_restricted_version(client, world, policy, outsider):
    secret = make_model("secret-scorer", team=world.team, restricted=True)
    version = make_version(secret, created_by=world.engineer)
    client.force_login(outsider)

    assert client.get(create_url(version)).status_code == 404


# --- the version panel -----------------------------------------------------------------------


def panel_url(version):
    return reverse("approvals_app:version_panel", args=[version.model.name, version.version])


def test_the_panel_is_a_fragment_for_htmx_and_a_page_otherwise(client, world, policy):
    client.force_login(world.engineer)

    fragment = client.get(panel_url(world.version), headers={"HX-Request": "true"})
    full = client.get(panel_url(world.version))

    assert "<html" not in fragment.content.decode()
    assert 'class="card approvals-panel"' in fragment.content.decode()
    assert "<html" in full.content.decode()
    assert 'class="card approvals-panel"' in full.content.decode()


def test_the_panel_shows_the_dry_run_with_numbers(client, world, policy, running):
    _, candidate = running
    make_metric(candidate, "latency_p95_ms", 250.0)
    client.force_login(world.engineer)

    body = client.get(panel_url(candidate)).content.decode()

    assert '<h3 id="env-production">production</h3>' in body
    assert '<span class="badge badge-bad">FAIL</span>' in body
    assert "latency_p95_ms = 250 does not meet &lt;= 200." in body
    assert '<td class="num nowrap">250 ms</td>' in body
    assert "Request approval" in body


def test_the_panel_lists_requests_with_their_status(client, world, policy):
    approval = world.open_request()
    client.force_login(world.viewer)

    body = client.get(panel_url(world.version)).content.decode()

    assert f"#{approval.pk}" in body
    assert '<span class="badge badge-info">Open</span>' in body
    assert "Request approval" not in body  # viewers cannot ask


def test_the_panel_offers_promotion_instead_of_a_request_where_approved(client, world):
    make_policy(world.production)
    approval = world.open_request()
    submit_review(actor=world.lead, approval=approval, decision="approve")
    approval.refresh_from_db()
    client.force_login(world.engineer)

    body = client.get(panel_url(world.version)).content.decode()

    start = body.index('class="env-panel-head"')
    head = body[start : body.index("</div>", start)]
    until = dateformat.format(timezone.localtime(approval.expires_at), "j M Y")
    assert f"Approved until {until}" in head
    promote = reverse("approvals_app:promote", args=[world.model.name, world.version.version])
    assert f"{promote}?environment=production" in head
    assert "Request approval" not in head


def test_an_expired_approval_offers_a_new_request(client, world):
    make_policy(world.production)
    approval = world.open_request()
    submit_review(actor=world.lead, approval=approval, decision="approve")
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    client.force_login(world.engineer)

    body = client.get(panel_url(world.version)).content.decode()

    assert "Request approval" in body
    assert "Approved until" not in body


def test_the_panel_names_the_open_request_instead_of_offering_another(client, world, policy):
    approval = world.open_request()
    client.force_login(world.engineer)

    body = client.get(panel_url(world.version)).content.decode()

    assert f"Request #{approval.pk} open" in body
    assert "Request approval" not in body


def test_the_panel_says_when_no_policy_covers_the_model(client, world):
    client.force_login(world.engineer)

    body = client.get(panel_url(world.version)).content.decode()

    assert "No approval policy covers limited-risk models" in body


def test_the_panel_is_404_for_outsiders_of_a_restricted_model(client, world, outsider):
    secret = make_model("secret-scorer", team=world.team, restricted=True)
    version = make_version(secret)
    client.force_login(outsider)

    assert client.get(panel_url(version)).status_code == 404


def test_the_version_page_loads_the_panel_lazily(client, world, policy):
    client.force_login(world.engineer)

    body = client.get(world.version.get_absolute_url()).content.decode()

    assert f'hx-get="{panel_url(world.version)}" hx-trigger="load"' in body


def test_htmx_aimed_elsewhere_gets_the_whole_page(client, world, policy):
    approval = world.open_request()
    client.force_login(world.lead)

    body = page(client, approval, **{"HX-Request": "true", "HX-Target": "main"})

    assert "<html" in body


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("version_panel", "get"),
        ("request_create", "get"),
        ("request_create", "post"),
        ("withdraw", "post"),
        ("resubmit", "post"),
        ("tick_checklist", "post"),
    ],
)
def test_every_view_sends_anonymous_to_sign_in(client, world, policy, name, method):
    approval = world.open_request()
    args = {
        "version_panel": [world.model.name, world.version.version],
        "request_create": [world.model.name, world.version.version],
        "tick_checklist": [approval.pk, policy.checklist_items.first().pk],
    }.get(name, [approval.pk])

    response = getattr(client, method)(reverse(f"approvals_app:{name}", args=args))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN
    assert not ChecklistTick.objects.exists()
