"""The deployment pages: the board at /deployments/, an environment's timeline with its "as
of" answer and rollbacks, the promotion form, and the lifecycle card of a version page."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals_app.models import ApprovalPolicy, ApprovalRequest
from approvals_app.promotion import promote
from models_app.models import Application, AuditEvent, Dependency, Deployment
from tests.factories import (
    add_member,
    make_deployment,
    make_environment,
    make_model,
    make_team,
    make_user,
    make_version,
)
from tests.models_app.ledger import last_event

HTMX = {"HX-Request": "true", "HX-Target": "results"}
CARD = {
    "intended_use": "Scoring card payments.",
    "limitations": "EU traffic only.",
    "ethical_considerations": "False declines are reviewed by a person.",
}
BOARD = reverse("approvals_app:deployment_board")


def timeline_url(environment="production", **params) -> str:
    url = reverse("approvals_app:environment_timeline", args=[environment])
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def rollback_url(model_name, environment="production") -> str:
    return reverse("approvals_app:rollback", args=[environment, model_name])


def promote_url(model_name, number) -> str:
    return reverse("approvals_app:promote", args=[model_name, number])


def lifecycle_url(model_name, number) -> str:
    return reverse("approvals_app:version_lifecycle", args=[model_name, number])


def moment(day, hour=0, minute=0):
    return timezone.make_aware(datetime(2026, 3, day, hour, minute))


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def approve_directly(version, environment, requester):
    """An approved request as the review workflow leaves it (the workflow has its own tests)."""
    now = timezone.now()
    return ApprovalRequest.objects.create(
        version=version,
        environment=environment,
        policy=ApprovalPolicy.objects.get(environment=environment),
        requester=requester,
        justification="Better recall.",
        status=ApprovalRequest.Status.APPROVED,
        decided_at=now,
        expires_at=now + timedelta(days=30),
    )


@pytest.fixture
def development(db):
    return make_environment("development", order=10)


@pytest.fixture
def staging(db):
    return make_environment("staging", order=20)


@pytest.fixture
def production(staging):
    production = make_environment("production", order=30, requires_approval=True)
    production.promotion_sources.set([staging])
    ApprovalPolicy.objects.create(name="Production release", environment=production)
    return production


@pytest.fixture
def versions(registered_model, contributor):
    return [make_version(registered_model, created_by=contributor, **CARD) for _ in range(3)]


@pytest.fixture
def signed_in(client, contributor):
    client.force_login(contributor)
    return client


@pytest.fixture
def in_production(versions, contributor, staging, production):
    """v1 then v2 promoted through staging into production (v2 live there now)."""
    for version in versions[:2]:
        promote(actor=contributor, version=version, environment=staging)
        approve_directly(version, production, contributor)
        promote(actor=contributor, version=version, environment=production, target="k8s://prod")
    return versions


def timeline_rows(html) -> list[str]:
    """The version numbers of the timeline's rows, top to bottom."""
    timeline = html[html.index("table timeline") :]
    return re.findall(r'class="mono strong"[^>]*>v(\d+)<', timeline)


def count_queries(client, url, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(queries)


# --- the board ------------------------------------------------------------------------------


def test_the_board_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(BOARD)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_board_shows_each_cell_with_canaries_beside_the_full_version(
    signed_in, versions, contributor, development, staging
):
    promote(actor=contributor, version=versions[0], environment=staging, target="k8s://stg")
    promote(actor=contributor, version=versions[1], environment=staging, traffic_percent=10)

    response = signed_in.get(BOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert "fraud-detector" in html
    cell = html[html.index('class="board-cell"', html.index("fraud-detector")) :]
    staging_cell = cell.split('class="board-cell"')[2]
    assert staging_cell.index(">v1<") < staging_cell.index(">v2<")
    assert "canary 10%" in staging_cell
    assert "carol" in staging_cell
    assert "k8s://stg" in staging_cell
    # Columns follow the environments' order, each linking to its timeline.
    assert html.index(timeline_url("development")) < html.index(timeline_url("staging"))


def test_the_board_shows_when_as_naturaltime_with_the_exact_time_in_the_title(
    signed_in, versions, staging
):
    make_deployment(versions[0], staging, deployed_at=timezone.now() - timedelta(days=3))

    html = signed_in.get(BOARD).content.decode()

    assert "3\xa0days ago" in html
    assert re.search(r'<time datetime="[^"]+" title="\d+ \w+ 2\d{3}, \d\d:\d\d', html)


def test_the_board_leaves_out_what_is_not_running(signed_in, versions, staging):
    make_deployment(
        versions[0],
        staging,
        status=Deployment.Status.SUPERSEDED,
        ended_at=timezone.now(),
    )

    html = signed_in.get(BOARD).content.decode()

    assert "fraud-detector" not in html
    assert "Nothing is deployed yet" in html


def test_the_board_hides_restricted_models_from_outsiders(
    client, outsider, contributor, restricted_model, staging
):
    make_deployment(make_version(restricted_model), staging)

    client.force_login(outsider)
    assert "secret-scorer" not in client.get(BOARD).content.decode()
    client.force_login(contributor)
    assert "secret-scorer" in client.get(BOARD).content.decode()


def test_the_board_filters_by_team_and_name(signed_in, registered_model, staging):
    make_deployment(make_version(registered_model), staging)
    vision = make_team("vision", name="Vision")
    make_deployment(make_version(make_model("image-tagger", team=vision)), staging)

    by_team = signed_in.get(BOARD, {"team": "vision"}).content.decode()
    by_name = signed_in.get(BOARD, {"q": "FRAUD"}).content.decode()

    assert "image-tagger" in by_team and "fraud-detector" not in by_team
    assert "fraud-detector" in by_name and "image-tagger" not in by_name


def test_an_unknown_team_shows_nothing_and_says_why(signed_in, registered_model, staging):
    make_deployment(make_version(registered_model), staging)

    html = signed_in.get(BOARD, {"team": "nope"}).content.decode()

    assert "fraud-detector" not in html
    assert "not valid" in html


def test_htmx_gets_the_results_region_that_polls_itself(signed_in, registered_model, staging):
    make_deployment(make_version(registered_model), staging)

    response = signed_in.get(BOARD, {"q": "fraud"}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="results"')
    assert 'hx-trigger="every 30s"' in html
    assert f'hx-get="{BOARD}?q=fraud"' in html
    assert "fraud-detector" in html
    # The full page carries the filter form that refreshes the region.
    full = signed_in.get(BOARD).content.decode()
    assert 'hx-target="#results"' in full and 'hx-push-url="true"' in full


def _populate_board(count, environments, start=0):
    team = make_team(f"bulk-{start}")
    for index in range(start, start + count):
        model = make_model(f"bulk-{index:03d}", team=team)
        first, second = make_version(model), make_version(model)
        for environment in environments:
            make_deployment(first, environment)
            make_deployment(second, environment, traffic_percent=5)


def test_the_board_costs_the_same_number_of_queries_however_many_rows(
    signed_in, staging, production, django_assert_max_num_queries
):
    _populate_board(3, [staging, production])
    # session, user, environments, count, page of models, their deployments, the
    # navigation's review count, team choices
    with django_assert_max_num_queries(8):
        signed_in.get(BOARD)
    before = count_queries(signed_in, BOARD)
    fragment = count_queries(signed_in, BOARD, headers=HTMX)

    _populate_board(12, [staging, production], start=10)

    assert count_queries(signed_in, BOARD) == before
    assert count_queries(signed_in, BOARD, headers=HTMX) == fragment


# --- the environment timeline --------------------------------------------------------------


def test_the_timeline_shows_who_promoted_what_when_and_the_approval(
    signed_in, in_production, production
):
    approval = ApprovalRequest.objects.get(version=in_production[1], environment=production)

    response = signed_in.get(timeline_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("approvals_app:request_detail", args=[approval.pk]) in html
    assert "Production release" in html
    assert ">v2<" in html and ">v1<" in html
    assert "Superseded" in html and "Live" in html
    assert ">now<" in html
    assert "carol" in html
    # Newest first within the model.
    assert html.index(">v2<") < html.index(">v1<")


def test_the_timeline_shows_an_override_reason(client, superuser, versions, staging, production):
    approve_directly(versions[0], production, superuser)
    promote(
        actor=superuser,
        version=versions[0],
        environment=production,
        override_reason="Hotfix for the outage; staging is down.",
    )
    client.force_login(superuser)

    html = client.get(timeline_url()).content.decode()

    assert "Path overridden" in html
    assert "Hotfix for the outage; staging is down." in html


def test_as_of_answers_what_was_live_at_that_moment(signed_in, versions, production):
    make_deployment(
        versions[0],
        production,
        deployed_at=moment(1, 9),
        ended_at=moment(3, 12),
        status=Deployment.Status.SUPERSEDED,
    )
    make_deployment(versions[1], production, deployed_at=moment(3, 12))

    before = signed_in.get(timeline_url(at="2026-03-03T11:59")).content.decode()
    after = signed_in.get(timeline_url(at="2026-03-03T14:00")).content.decode()
    earlier = signed_in.get(timeline_url(at="2026-02-20T08:00")).content.decode()

    def live_then(html):
        section = html[html.index('class="card as-of"') : html.index("</section>")]
        return sorted(set(re.findall(r">v(\d+)<", section)))

    assert "Live in production at Tue 3 Mar 2026, 11:59" in before
    assert live_then(before) == ["1"]
    assert live_then(after) == ["2"]
    assert "Nothing served production at that moment." in earlier


def test_as_of_marks_the_rows_that_served_then(signed_in, versions, production):
    make_deployment(
        versions[0],
        production,
        deployed_at=moment(1),
        ended_at=moment(5),
        status=Deployment.Status.SUPERSEDED,
    )
    make_deployment(versions[1], production, deployed_at=moment(5))

    html = signed_in.get(timeline_url(at="2026-03-02T10:00")).content.decode()

    assert html.count("live-then") == 1
    row = html[html.index("live-then") :]
    assert row.index(">v1<") < row.index("</tr>")


def test_since_and_until_keep_to_what_served_in_the_range(signed_in, versions, production):
    make_deployment(
        versions[0],
        production,
        deployed_at=moment(1),
        ended_at=moment(5),
        status=Deployment.Status.SUPERSEDED,
    )
    make_deployment(
        versions[1],
        production,
        deployed_at=moment(5),
        ended_at=moment(10),
        status=Deployment.Status.SUPERSEDED,
    )
    make_deployment(versions[2], production, deployed_at=moment(10))

    html = signed_in.get(
        timeline_url(since="2026-03-06T00:00", until="2026-03-08T00:00")
    ).content.decode()

    assert timeline_rows(html) == ["2"]


def test_a_from_after_the_to_shows_nothing_and_says_why(signed_in, in_production):
    html = signed_in.get(
        timeline_url(since="2026-03-08T00:00", until="2026-03-01T00:00")
    ).content.decode()

    assert "The &#x27;from&#x27; time is after the &#x27;to&#x27; time." in html
    assert "table timeline" not in html


def test_the_model_filter_keeps_to_one_model(signed_in, in_production, production, team):
    other = make_version(make_model("churn-model", team=team))
    make_deployment(other, production)

    html = signed_in.get(timeline_url(model="churn-model")).content.decode()

    timeline = html[html.index("table timeline") :]
    assert "churn-model" in timeline and "fraud-detector" not in timeline


def test_the_timeline_hides_restricted_models_from_outsiders(
    client, outsider, restricted_model, production
):
    make_deployment(make_version(restricted_model), production)
    client.force_login(outsider)

    html = client.get(timeline_url()).content.decode()
    filtered = client.get(timeline_url(model="secret-scorer")).content.decode()

    assert "secret-scorer" not in html
    assert "secret-scorer" not in filtered.split("form-errors")[0].split("</form>")[-1]
    assert "Select a valid choice" in filtered


def test_an_unknown_environment_is_404(signed_in, db):
    assert signed_in.get(timeline_url("nowhere")).status_code == 404


def test_the_timeline_paginates_and_htmx_gets_the_results(signed_in, registered_model, production):
    start = timezone.now() - timedelta(days=200)
    for index in range(55):
        version = make_version(registered_model)
        make_deployment(
            version,
            production,
            deployed_at=start + timedelta(days=index),
            ended_at=start + timedelta(days=index + 1),
            status=Deployment.Status.SUPERSEDED,
        )

    first = signed_in.get(timeline_url()).content.decode()
    second = signed_in.get(timeline_url(page=2), headers=HTMX)

    assert "1–50 of 55" in first
    assert second.content.decode().lstrip().startswith('<div id="results"')
    assert "51–55 of 55" in second.content.decode()


def test_the_rollback_button_shows_for_contributors_where_there_is_something_to_go_back_to(
    client, in_production, contributor, viewer, team, production
):
    only_once = make_version(make_model("single", team=team))
    make_deployment(only_once, production)

    client.force_login(contributor)
    html = client.get(timeline_url()).content.decode()
    client.force_login(viewer)
    as_viewer = client.get(timeline_url()).content.decode()

    assert rollback_url("fraud-detector") in html
    assert "Roll back to v1" in html
    assert rollback_url("single") not in html
    assert rollback_url("fraud-detector") not in as_viewer


def test_a_rollback_the_approval_rule_would_refuse_is_shown_disabled_with_the_reason(
    signed_in, in_production
):
    ApprovalRequest.objects.filter(version=in_production[0]).update(
        expires_at=timezone.make_aware(datetime(2026, 3, 20, 12))
    )

    html = signed_in.get(timeline_url()).content.decode()

    assert "Roll back to v1" in html
    assert f'action="{rollback_url("fraud-detector")}"' not in html
    assert re.search(r"<button[^>]*disabled[^>]*>Roll back to v1…</button>", html)
    assert "v1&#x27;s approval for production expired on 20 Mar 2026" in html


def test_a_rollback_to_a_version_that_never_needed_approval_stays_offered(
    signed_in, versions, contributor, staging
):
    for version in versions[:2]:
        promote(actor=contributor, version=version, environment=staging)

    html = signed_in.get(timeline_url("staging")).content.decode()

    assert f'action="{rollback_url("fraud-detector", "staging")}"' in html
    assert "disabled" not in html[html.index("table timeline") :]


def _populate_timeline(count, team, environment, start=0):
    for index in range(start, start + count):
        model = make_model(f"tl-{index:03d}", team=team)
        old, new = make_version(model), make_version(model)
        make_deployment(
            old,
            environment,
            deployed_at=moment(1),
            ended_at=moment(2),
            status=Deployment.Status.SUPERSEDED,
        )
        make_deployment(new, environment, deployed_at=moment(2))
        make_deployment(old, environment, deployed_at=moment(3), traffic_percent=5)


def test_the_timeline_costs_the_same_number_of_queries_however_many_rows(
    signed_in, team, production, contributor, django_assert_max_num_queries
):
    _populate_timeline(3, team, production)
    # Rows with an approval to attach, so that attaching is counted too.
    approval = approve_directly(Deployment.objects.first().version, production, contributor)
    Deployment.objects.update(approval_reference=approval.pk)
    url = timeline_url(at="2026-03-02T12:00")
    # session, user, environment, its promotion sources, count, page of rows, their approvals,
    # live now, rollback candidates, memberships, the candidates' approvals (is a rollback
    # allowed), live at, its approvals, environments for the switcher, the navigation's review
    # count, model choices
    with django_assert_max_num_queries(16):
        signed_in.get(url)
    before = count_queries(signed_in, url)
    fragment = count_queries(signed_in, url, headers=HTMX)

    _populate_timeline(10, team, production, start=10)

    assert count_queries(signed_in, url) == before
    assert count_queries(signed_in, url, headers=HTMX) == fragment


# --- rolling back ---------------------------------------------------------------------------


def test_rolling_back_needs_a_signed_in_user(client, in_production):
    response = client.post(rollback_url("fraud-detector"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_outsider_gets_404_for_a_restricted_model(client, outsider, restricted_model, staging):
    client.force_login(outsider)

    assert client.get(rollback_url("secret-scorer", "staging")).status_code == 404
    assert client.post(rollback_url("secret-scorer", "staging")).status_code == 404


def test_a_viewer_may_not_roll_back(client, viewer, in_production):
    client.force_login(viewer)

    assert client.get(rollback_url("fraud-detector")).status_code == 403
    assert client.post(rollback_url("fraud-detector"), {"confirmed": "on"}).status_code == 403
    assert Deployment.objects.active().get(environment__name="production").version.version == 2


def test_the_timeline_button_only_shows_who_would_be_affected(
    signed_in, in_production, production, team
):
    app = Application.objects.create(slug="checkout", name="Checkout", owner_team=team)
    Dependency.objects.create(application=app, model=in_production[0].model, environment=production)
    events = AuditEvent.objects.count()

    response = signed_in.post(rollback_url("fraud-detector"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Who gets a different version" in html
    assert "Checkout" in html and "Fraud" in html
    assert 'name="confirmed"' in html
    assert "Roll back to v1" in html
    assert Deployment.objects.active().get(environment=production).version.version == 2
    assert AuditEvent.objects.count() == events


def test_the_confirmed_rollback_restores_the_previous_version(signed_in, in_production, production):
    response = signed_in.post(
        rollback_url("fraud-detector"), {"confirmed": "on", "reason": "Latency regression."}
    )

    assert response.status_code == 302
    assert response.url == timeline_url(model="fraud-detector")
    live = Deployment.objects.active().get(environment=production)
    assert live.version.version == 1
    assert live.notes == "Latency regression."
    assert live.rolled_back_from.version.version == 2
    assert last_event().action == "approvals.deployment.rolled_back"
    assert messages_of(response) == ["Rolled fraud-detector back to v1 in production."]


def test_a_repeated_confirmation_rolls_back_one_step_only(
    signed_in, in_production, contributor, staging, production
):
    third = in_production[2]
    promote(actor=contributor, version=third, environment=staging)
    approve_directly(third, production, contributor)
    live = promote(actor=contributor, version=third, environment=production)
    confirmation = {"confirmed": "on", "live": live.pk}
    assert (
        f'name="live" value="{live.pk}"'
        in signed_in.get(rollback_url("fraud-detector")).content.decode()
    )

    first = signed_in.post(rollback_url("fraud-detector"), confirmation)
    second = signed_in.post(rollback_url("fraud-detector"), confirmation)

    assert first.status_code == 302
    assert second.status_code == 200
    assert "changed in production since you looked" in second.content.decode()
    assert Deployment.objects.active().get(environment=production).version.version == 2
    assert AuditEvent.objects.filter(action="approvals.deployment.rolled_back").count() == 1


def test_a_refused_rollback_shows_the_reason(signed_in, in_production, production):
    # v1's approval for production is no longer valid.
    ApprovalRequest.objects.filter(version=in_production[0]).update(
        expires_at=timezone.now() - timedelta(days=1)
    )

    preview = signed_in.get(rollback_url("fraud-detector")).content.decode()
    response = signed_in.post(rollback_url("fraud-detector"), {"confirmed": "on"})

    assert "No valid approval" in preview
    assert re.search(r"<button[^>]*disabled[^>]*>Roll back to v1</button>", preview)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The rollback was refused." in html
    assert "needs an approved request" in html
    assert Deployment.objects.active().get(environment=production).version.version == 2


def test_with_nothing_earlier_there_is_nothing_to_roll_back(
    signed_in, versions, contributor, staging
):
    promote(actor=contributor, version=versions[0], environment=staging)

    html = signed_in.get(rollback_url("fraud-detector", "staging")).content.decode()

    assert "No earlier version to go back to" in html
    assert 'name="confirmed"' not in html


# --- promoting ------------------------------------------------------------------------------


def test_promoting_needs_a_signed_in_user(client, versions, staging):
    response = client.get(promote_url("fraud-detector", 1))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_outsider_cannot_find_a_restricted_version_to_promote(
    client, outsider, restricted_model, staging
):
    make_version(restricted_model)
    client.force_login(outsider)

    assert client.get(promote_url("secret-scorer", 1)).status_code == 404
    assert client.post(promote_url("secret-scorer", 1), {}).status_code == 404


def test_a_viewer_may_not_promote(client, viewer, versions, staging):
    client.force_login(viewer)

    assert client.get(promote_url("fraud-detector", 1)).status_code == 403
    response = client.post(
        promote_url("fraud-detector", 1), {"environment": "staging", "traffic_percent": 100}
    )
    assert response.status_code == 403
    assert not Deployment.objects.exists()


def test_a_contributor_promotes_and_lands_on_the_timeline(signed_in, versions, staging):
    response = signed_in.post(
        promote_url("fraud-detector", 1),
        {"environment": "staging", "traffic_percent": 25, "target": "k8s://stg", "notes": "Try"},
    )

    assert response.status_code == 302
    assert response.url == timeline_url("staging", model="fraud-detector")
    deployment = Deployment.objects.get()
    assert (deployment.traffic_percent, deployment.target, deployment.notes) == (
        25,
        "k8s://stg",
        "Try",
    )
    assert messages_of(response) == ["Promoted fraud-detector v1 to staging at 25%."]


def test_the_form_offers_the_next_environment_and_hides_the_override(
    signed_in, versions, contributor, staging, production
):
    promote(actor=contributor, version=versions[0], environment=staging)

    html = signed_in.get(promote_url("fraud-detector", 1)).content.decode()

    assert '<option value="production" selected>' in html
    assert 'value="100"' in html
    assert "override_reason" not in html


def target_value(html) -> str:
    return re.search(r'<input type="text" name="target"[^>]*value="([^"]*)"', html).group(1)


def test_the_form_prefills_the_target_of_what_runs_in_the_environment(signed_in, in_production):
    html = signed_in.get(promote_url("fraud-detector", 3) + "?environment=production")

    assert target_value(html.content.decode()) == "k8s://prod"


def test_the_form_prefills_the_target_of_the_last_deployment_when_nothing_runs(
    signed_in, versions, staging
):
    earlier = timezone.now() - timedelta(days=5)
    for target, days in (("k8s://old", 4), ("k8s://stg", 2)):
        make_deployment(
            versions[0],
            staging,
            target=target,
            deployed_at=earlier,
            status=Deployment.Status.RETIRED,
            ended_at=timezone.now() - timedelta(days=days),
        )
        earlier += timedelta(days=1)

    html = signed_in.get(promote_url("fraud-detector", 2) + "?environment=staging")

    assert target_value(html.content.decode()) == "k8s://stg"


def test_the_prefilled_target_stays_editable(signed_in, in_production):
    signed_in.post(
        promote_url("fraud-detector", 3),
        {"environment": "staging", "traffic_percent": 100, "target": "k8s://elsewhere"},
    )

    assert Deployment.objects.active().get(environment__name="staging").target == (
        "k8s://elsewhere"
    )


def test_a_missing_approval_is_refused_with_a_link_to_request_it(
    signed_in, versions, contributor, staging, production
):
    promote(actor=contributor, version=versions[0], environment=staging)

    response = signed_in.post(
        promote_url("fraud-detector", 1), {"environment": "production", "traffic_percent": 100}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "The promotion was refused." in html
    assert "needs an approved request" in html
    request_url = reverse("approvals_app:request_create", args=["fraud-detector", 1])
    assert f"{request_url}?environment=production" in html
    assert not Deployment.objects.filter(environment=production).exists()


def test_an_approved_version_goes_to_production(
    signed_in, versions, contributor, staging, production
):
    promote(actor=contributor, version=versions[0], environment=staging)
    approval = approve_directly(versions[0], production, contributor)

    response = signed_in.post(
        promote_url("fraud-detector", 1), {"environment": "production", "traffic_percent": 100}
    )

    assert response.status_code == 302
    assert Deployment.objects.active().get(environment=production).approval_reference == (
        approval.pk
    )


def test_other_refusals_show_their_reason_without_the_approval_link(
    signed_in, versions, contributor, staging
):
    promote(actor=contributor, version=versions[0], environment=staging)

    response = signed_in.post(
        promote_url("fraud-detector", 1), {"environment": "staging", "traffic_percent": 100}
    )

    html = response.content.decode()
    assert "is already live in staging" in html
    assert "Request approval for" not in html


def test_a_bad_traffic_share_is_a_form_error(signed_in, versions, staging):
    response = signed_in.post(
        promote_url("fraud-detector", 1), {"environment": "staging", "traffic_percent": 0}
    )

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert not Deployment.objects.exists()


def test_a_superuser_may_override_the_promotion_path_with_a_reason(
    client, superuser, versions, production
):
    approve_directly(versions[0], production, superuser)
    client.force_login(superuser)

    form = client.get(promote_url("fraud-detector", 1)).content.decode()
    response = client.post(
        promote_url("fraud-detector", 1),
        {"environment": "production", "traffic_percent": 100, "override_reason": "Hotfix."},
    )

    assert 'name="override_reason"' in form
    assert response.status_code == 302
    assert Deployment.objects.get().override_reason == "Hotfix."


# --- the lifecycle card of a version page ---------------------------------------------------


def test_the_version_page_loads_the_lifecycle_card_lazily(signed_in, versions):
    html = signed_in.get(versions[0].get_absolute_url()).content.decode()

    assert f'hx-get="{lifecycle_url("fraud-detector", 1)}" hx-trigger="load"' in html


def test_the_lifecycle_card_shows_the_stage_and_where_it_ran(signed_in, in_production, production):
    response = signed_in.get(lifecycle_url("fraud-detector", 2), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    current = html[html.index('aria-current="step"') :]
    assert current.index("Deployed") < current.index("</li>")
    assert "staging, production" in current[: current.index("</li>")]
    assert html.count('class="step step-done"') == 3
    rows = html[html.index("version-deployments") :]
    assert rows.count("<tr>") == 3  # head, production, staging
    approval = ApprovalRequest.objects.get(version=in_production[1], environment=production)
    assert approval.get_absolute_url() in rows
    assert promote_url("fraud-detector", 2) in html
    assert reverse("models_app:version_deprecate", args=["fraud-detector", 2]) in html
    assert reverse("models_app:version_retire", args=["fraud-detector", 2]) in html


def test_a_version_that_was_replaced_shows_where_it_ran_before(signed_in, in_production):
    html = signed_in.get(lifecycle_url("fraud-detector", 1)).content.decode()

    current = html[html.index('aria-current="step"') :]
    assert current.index("Approved") < current.index("</li>")
    rows = html[html.index("version-deployments") :]
    assert rows.count("Superseded") == 2
    assert ">now<" not in rows
    deployed = html[html.index('class="step step-was"') :]
    assert deployed.index("earlier: production, staging") < deployed.index("</li>")


def test_opened_directly_the_lifecycle_card_is_a_full_page(signed_in, versions):
    html = signed_in.get(lifecycle_url("fraud-detector", 1)).content.decode()

    assert "<html" in html
    assert "Never deployed." in html
    assert "Registered" in html


def test_viewers_see_the_lifecycle_without_the_actions(client, viewer, versions):
    client.force_login(viewer)

    html = client.get(lifecycle_url("fraud-detector", 1)).content.decode()

    assert "Lifecycle" in html
    assert promote_url("fraud-detector", 1) not in html
    assert "Retire…" not in html


def test_a_retired_version_offers_no_promotion(signed_in, versions):
    versions[0].retired_at = timezone.now()
    versions[0].save()

    html = signed_in.get(lifecycle_url("fraud-detector", 1)).content.decode()

    assert promote_url("fraud-detector", 1) not in html
    assert 'aria-current="step"' in html
    assert html[html.index('aria-current="step"') :].index("Retired") < 200


def test_an_outsider_gets_404_for_a_restricted_versions_lifecycle(
    client, outsider, restricted_model
):
    make_version(restricted_model)
    client.force_login(outsider)

    assert client.get(lifecycle_url("secret-scorer", 1)).status_code == 404


def test_a_member_of_another_team_sees_but_cannot_promote(client, versions, staging):
    stranger = make_user("sam")
    add_member(stranger, make_team("elsewhere"), "contributor")
    client.force_login(stranger)

    assert client.get(lifecycle_url("fraud-detector", 1)).status_code == 200
    assert client.get(promote_url("fraud-detector", 1)).status_code == 403
