"""The review queue at /approvals/: who sees which request, filters, htmx, the navigation
count and the query budget."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals_app.context_processors import review_queue_count
from approvals_app.models import ApprovalRequest
from approvals_app.services import submit_review, tick_checklist_item, withdraw_request
from tests.approvals_app.builders import (
    CARD,
    auc_gate,
    build_world,
    latency_gate,
    make_policy,
    relative_auc_gate,
)
from tests.factories import (
    make_metric,
    make_model,
    make_team,
    make_user,
    make_version,
)

pytestmark = pytest.mark.django_db

QUEUE = reverse("approvals_app:queue")


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
        checklist=[("Rollback plan agreed", False)],
    )


def queue_html(client, query="", **headers):
    response = client.get(QUEUE + query, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def waiting_ids(response) -> list[int]:
    return [row.approval.pk for row in response.context["rows"]]


def mine_ids(response) -> list[int]:
    return [row.approval.pk for row in response.context["my_rows"]]


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_team_reviewer_sees_what_waits_with_gates_and_what_is_missing(client, world, policy):
    approval = world.open_request(world.version_of(auc=0.95, latency_p95_ms=250.0))
    client.force_login(world.lead)

    body = queue_html(client)

    assert f'href="{approval.get_absolute_url()}"' in body
    assert "fraud-classifier" in body
    assert "engineer" in body
    assert '<span class="badge badge-risk-limited">Limited risk</span>' in body
    # auc >= 0.9 and "no worse than now" pass (nothing runs yet); latency 250 > 200 fails.
    assert '<span class="badge badge-good" title="Gates that pass">2 pass</span>' in body
    assert '<span class="badge badge-bad" title="Gates that fail">1 fail</span>' in body
    assert "<li>needs an approval from Risk &amp; compliance</li>" in body
    assert "<li>needs 1 more approval</li>" in body
    assert "checklist: “Rollback plan agreed” is not ticked" in body


@pytest.mark.parametrize("who", ["lead", "peer", "risk", "admin"])
def test_eligible_reviewers_see_the_request(client, world, policy, who):
    approval = world.open_request()
    client.force_login(getattr(world, who))

    assert waiting_ids(client.get(QUEUE)) == [approval.pk]


@pytest.mark.parametrize("who", ["viewer", "engineer"])
def test_others_see_nothing_waiting(client, world, policy, who):
    world.open_request()
    client.force_login(getattr(world, who))

    assert waiting_ids(client.get(QUEUE)) == []


def test_the_requester_finds_their_request_under_my_requests(client, world, policy):
    approval = world.open_request()
    client.force_login(world.engineer)

    response = client.get(QUEUE)

    assert mine_ids(response) == [approval.pk]
    assert "Nothing waits for your review" in response.content.decode()


def test_a_reviewers_own_version_is_not_in_their_queue(client, world, policy):
    version = make_version(world.model, created_by=world.lead, intended_use="x")
    make_metric(version, "auc", 0.95)
    world.open_request(version)
    client.force_login(world.lead)

    assert waiting_ids(client.get(QUEUE)) == []


def test_a_request_the_reviewer_approved_leaves_their_queue(client, world, policy):
    approval = world.open_request()
    submit_review(actor=world.risk, approval=approval, decision="approve")
    client.force_login(world.risk)

    assert waiting_ids(client.get(QUEUE)) == []
    client.force_login(world.lead)
    assert waiting_ids(client.get(QUEUE)) == [approval.pk]


def test_team_reviewers_of_another_team_do_not_see_it(client, world, policy):
    world.open_request()
    other = make_user("otto")
    other_team = make_team("vision")
    other_team.memberships.create(user=other, role="reviewer")
    client.force_login(other)

    assert waiting_ids(client.get(QUEUE)) == []


def test_a_restricted_models_request_stays_hidden_from_org_reviewers_outside_the_team(
    client, world, policy
):
    secret = make_model("secret-scorer", team=world.team, restricted=True)
    version = make_version(secret, created_by=world.engineer, intended_use="x")
    restricted = world.open_request(version)
    client.force_login(world.risk)  # in "Risk & compliance", not a member of the team

    assert restricted.pk not in waiting_ids(client.get(QUEUE))
    client.force_login(world.lead)
    assert restricted.pk in waiting_ids(client.get(QUEUE))


def test_closed_requests_are_not_waiting(client, world, policy):
    approval = world.open_request()
    withdraw_request(actor=world.engineer, approval=approval)
    client.force_login(world.lead)

    assert waiting_ids(client.get(QUEUE)) == []


def test_changes_requested_requests_stay_listed_with_what_they_wait_for(client, world, policy):
    approval = world.open_request()
    submit_review(actor=world.risk, approval=approval, decision="request_changes", comment="x")
    client.force_login(world.lead)

    body = queue_html(client)

    assert waiting_ids(client.get(QUEUE)) == [approval.pk]
    assert "waiting for the requester to re-submit" in body


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
def spread(world, policy):
    """Three open requests: production/limited (old), staging/limited, production/high."""
    make_policy(world.staging)
    old = world.open_request()
    ApprovalRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=9))
    staged = world.open_request(environment=world.staging)
    high_model = make_model("credit-scoring", team=world.team, risk_tier="high")
    high_version = make_version(high_model, created_by=world.engineer, intended_use="x")
    high = world.open_request(high_version)
    return old, staged, high


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["old", "staged", "high"]),
        ("?environment=staging", ["staged"]),
        ("?risk=high", ["high"]),
        ("?q=credit", ["high"]),
        ("?team=fraud-risk", ["old", "staged", "high"]),
        ("?older_than=7", ["old"]),
        ("?status=open", ["old", "staged", "high"]),
        ("?status=changes_requested", []),
    ],
)
def test_filters_narrow_the_queue(client, world, spread, query, expected):
    names = dict(zip(["old", "staged", "high"], spread, strict=True))
    client.force_login(world.lead)

    assert waiting_ids(client.get(QUEUE + query)) == [names[n].pk for n in expected]


def test_a_created_range_filters_by_calendar_day(client, world, spread):
    old, staged, high = spread
    today = timezone.localdate()
    client.force_login(world.lead)

    recent = client.get(QUEUE + f"?created_from={today:%Y-%m-%d}")
    early = client.get(QUEUE + f"?created_to={today - timedelta(days=5):%Y-%m-%d}")

    assert waiting_ids(recent) == [staged.pk, high.pk]
    assert waiting_ids(early) == [old.pk]


def test_the_filters_apply_to_my_requests_too(client, world, spread):
    old, staged, high = spread
    client.force_login(world.engineer)

    assert mine_ids(client.get(QUEUE + "?environment=staging")) == [staged.pk]


def test_an_expired_approval_is_found_by_the_expired_status(client, world, policy):
    approval = world.open_request()
    submit_review(actor=world.risk, approval=approval, decision="approve")
    submit_review(actor=world.lead, approval=approval, decision="approve")
    client.force_login(world.engineer)
    tick = approval.policy.checklist_items.get()
    tick_checklist_item(actor=world.engineer, approval=approval, item=tick)
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )

    expired = client.get(QUEUE + "?status=expired")
    approved = client.get(QUEUE + "?status=approved")

    assert mine_ids(expired) == [approval.pk]
    assert mine_ids(approved) == []
    assert ">Expired</span>" in expired.content.decode()


def test_invalid_filters_show_the_error_and_nothing_else(client, world, spread):
    client.force_login(world.lead)

    response = client.get(QUEUE + "?older_than=soon&created_from=2026-05-02&created_to=2026-05-01")

    assert waiting_ids(response) == []
    assert "These filters are not valid" in response.content.decode()


def test_htmx_gets_only_the_results(client, world, spread):
    client.force_login(world.lead)

    body = queue_html(client, "?risk=high", **{"HX-Request": "true", "HX-Target": "results"})

    assert "<html" not in body
    assert body.lstrip().startswith('<div id="results"')
    assert 'id="queue-filters"' not in body


def test_the_filter_form_refreshes_the_results_with_htmx(client, world, policy):
    client.force_login(world.lead)

    body = queue_html(client)

    assert f'hx-get="{QUEUE}" hx-target="#results"' in body
    assert 'hx-push-url="true"' in body
    assert "delay:400ms" in body


# --- the navigation count --------------------------------------------------------------------


def test_the_navigation_shows_how_many_requests_wait(client, world, spread):
    client.force_login(world.lead)

    body = client.get(reverse("home")).content.decode()

    assert (
        '<span id="review-queue-count" class="nav-count" '
        'title="Requests waiting for your review">3</span>' in body
    )


def test_the_navigation_count_is_hidden_when_nothing_waits(client, world, spread):
    client.force_login(world.viewer)

    body = client.get(reverse("home")).content.decode()

    assert 'title="Requests waiting for your review" hidden></span>' in body


def test_the_count_is_one_query_and_none_for_anonymous(world, spread, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = world.lead
    with django_assert_num_queries(1):
        assert int(str(review_queue_count(request)["review_queue_count"])) == 3

    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert review_queue_count(request) == {}


def test_the_count_skips_requests_waiting_for_the_requester(world, spread):
    old, _, _ = spread
    submit_review(actor=world.risk, approval=old, decision="request_changes", comment="x")
    request = RequestFactory().get("/")
    request.user = world.lead

    assert str(review_queue_count(request)["review_queue_count"]) == "2"


# --- query budget ----------------------------------------------------------------------------


def add_requests(world, count, start):
    """``count`` more open requests on new models, each with reviews, ticks and metrics, and
    some with a version running in production to compare with."""
    for n in range(start, start + count):
        model = make_model(f"model-{n}", team=world.team)
        current = make_version(model, created_by=world.engineer)
        make_metric(current, "auc", 0.93)
        world.model, saved = model, world.model
        world.deploy(current)
        world.model = saved
        version = make_version(model, created_by=world.engineer, **CARD)
        for key, value in {"auc": 0.95, "latency_p95_ms": 90.0, "f1": 0.7}.items():
            make_metric(version, key, value)
        approval = world.open_request(version)
        submit_review(actor=world.risk, approval=approval, decision="approve", comment="ok")
        tick_checklist_item(
            actor=world.engineer, approval=approval, item=approval.policy.checklist_items.get()
        )


def test_the_queue_keeps_a_fixed_query_budget(client, world, policy, django_assert_max_num_queries):
    add_requests(world, 2, start=1)
    client.force_login(world.lead)
    client.get(QUEUE)  # warm the session

    with CaptureQueriesContext(connection) as before:
        client.get(QUEUE)
    add_requests(world, 5, start=3)
    with django_assert_max_num_queries(17), CaptureQueriesContext(connection) as after:
        response = client.get(QUEUE)

    assert len(waiting_ids(response)) == 7
    assert len(after) == len(before)


def test_the_htmx_refresh_keeps_the_same_budget(client, world, policy):
    add_requests(world, 2, start=1)
    client.force_login(world.engineer)
    headers = {"HX-Request": "true"}
    client.get(QUEUE, headers=headers)

    with CaptureQueriesContext(connection) as before:
        client.get(QUEUE, headers=headers)
    add_requests(world, 4, start=3)
    with CaptureQueriesContext(connection) as after:
        response = client.get(QUEUE, headers=headers)

    assert len(mine_ids(response)) == 6
    assert len(after) == len(before)
