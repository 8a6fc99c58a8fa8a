"""The home dashboard: counts, my teams' models, new versions and the activity feed."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from models_app import services
from models_app.audit import record_event
from models_app.models import ModelVersion
from registry_site.views import _describe_event
from tests.factories import add_member, make_model, make_team, make_user, make_version

URL = reverse("home")


def test_it_requires_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_counts_what_the_user_can_see(client, contributor, team, other_team):
    mine = make_model("fraud-detector", team=team)
    make_version(mine)
    old = make_version(mine)
    ModelVersion.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=45))
    make_model("archived-one", team=team, archived_at=timezone.now())
    hidden = make_model("hidden", team=other_team, restricted=True)
    make_version(hidden)
    client.force_login(contributor)

    response = client.get(URL)

    assert response.status_code == 200
    assert response.context["counts"] == {
        "models": 1,  # active and visible: not the archived one, not the other team's secret
        "versions": 2,
        "recent_versions": 1,
        "teams": 1,
    }


def test_it_lists_my_teams_models_with_latest_version(client, contributor, team, other_team):
    mine = make_model("fraud-detector", team=team, display_name="Fraud detector")
    make_version(mine)
    make_version(mine)
    make_model("image-moderation", team=other_team)
    client.force_login(contributor)

    response = client.get(URL)

    assert [m.name for m in response.context["my_models"]] == ["fraud-detector"]
    html = response.content.decode()
    assert reverse("models_app:version_detail", args=["fraud-detector", 2]) in html
    assert f"{reverse('models_app:model_list')}?team=fraud-team" in html


def test_recent_versions_are_the_ten_newest_i_can_see(client, contributor, team, other_team):
    model = make_model("fraud-detector", team=team)
    for _ in range(12):
        make_version(model)
    secret = make_model("hidden", team=other_team, restricted=True)
    make_version(secret)
    client.force_login(contributor)

    response = client.get(URL)

    versions = response.context["recent_versions"]
    assert [v.version for v in versions] == list(range(12, 2, -1))
    assert all(v.model.name == "fraud-detector" for v in versions)
    assert reverse("models_app:version_detail", args=["fraud-detector", 12]) in (
        response.content.decode()
    )


def test_activity_shows_events_of_visible_models_only(client, contributor, team, other_team):
    admin = make_user("ops", is_superuser=True)
    open_model = services.create_model(actor=admin, name="open-model", team=other_team)
    services.create_model(actor=admin, name="secret-model", team=other_team, restricted=True)
    services.register_version(actor=admin, model=open_model, framework="onnx")
    services.set_membership(actor=admin, team=team, user=make_user("newcomer"), role="viewer")
    client.force_login(contributor)

    response = client.get(URL)

    items = response.context["activity"]
    assert [(item["event"].action, item["label"]) for item in items] == [
        ("models_app.version.registered", "open-model v1"),
        ("models_app.model.created", "open-model"),
    ]
    html = response.content.decode()
    assert "secret-model" not in html
    assert "registered" in html
    assert reverse("models_app:version_detail", args=["open-model", 1]) in html


def test_activity_says_what_changed(client, contributor, registered_model):
    services.update_model(
        actor=contributor, model=registered_model, risk_tier="high", tags=["payments"]
    )
    services.archive_model(actor=contributor, model=registered_model, reason="Replaced")
    client.force_login(contributor)

    items = client.get(URL).context["activity"]

    assert [(item["phrase"], item["detail"]) for item in items] == [
        ("archived", "Replaced"),
        ("edited", "risk tier, tags"),
    ]


def test_superusers_also_see_organisation_events(client, team):
    admin = make_user("ops", is_superuser=True)
    services.set_membership(actor=admin, team=team, user=make_user("newcomer"), role="viewer")
    client.force_login(admin)

    response = client.get(URL)

    assert [item["event"].action for item in response.context["activity"]] == [
        "models_app.membership.set"
    ]


def test_activity_is_the_ten_newest_events(client, contributor, team):
    model = services.create_model(actor=contributor, name="busy-model", team=team)
    for _ in range(12):
        services.register_version(actor=contributor, model=model)
    client.force_login(contributor)

    items = client.get(URL).context["activity"]

    assert len(items) == 10
    assert items[0]["label"] == "busy-model v12"


def test_empty_states_say_what_to_do_next(client, db):
    loner = make_user("loner")
    client.force_login(loner)

    html = client.get(URL).content.decode()

    assert "not a member of any team" in html
    assert "No versions yet" in html
    assert "Nothing has happened yet" in html
    assert reverse("models_app:model_create") not in html


def test_a_contributor_with_no_models_is_invited_to_create_one(client, contributor):
    client.force_login(contributor)

    html = client.get(URL).content.decode()

    assert "Your teams have no active models yet" in html
    assert reverse("models_app:model_create") in html


# --- query budget --------------------------------------------------------------------------


def _grow(actor, team, count):
    for _ in range(count):
        model = services.create_model(
            actor=actor, name=f"m-{make_team().slug}", team=team, tags=["a", "b"]
        )
        services.register_version(actor=actor, model=model, framework="jax")
        services.set_alias(actor=actor, model=model, name="champion", version=model.versions.get())


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["contributor", "superuser"])
def test_the_query_count_is_small_and_does_not_grow(
    client, request, persona, team, django_assert_max_num_queries
):
    user = request.getfixturevalue(persona)
    add_member(user, make_team(), "viewer")
    client.force_login(user)
    _grow(user, team, 3)

    # session, user, model count, version counts, memberships, my teams' models, recent
    # versions, activity, requests waiting for me, my open requests, and the review-queue
    # badge of the navigation
    with django_assert_max_num_queries(12):
        client.get(URL)
    before = _count_queries(client)
    _grow(user, team, 15)
    assert _count_queries(client) == before


def test_it_lists_requests_waiting_for_my_review_and_my_own_open_requests(client, db):
    from tests.approvals_app.builders import build_world, make_policy

    world = build_world()
    make_policy(world.production)
    approval = world.open_request()

    client.force_login(world.lead)
    page = client.get(URL).content.decode()
    assert "Waiting for you" in page
    assert approval.get_absolute_url() in page

    client.force_login(world.engineer)
    page = client.get(URL).content.decode()
    assert "Your open requests" in page
    assert approval.get_absolute_url() in page

    client.force_login(world.viewer)
    assert approval.get_absolute_url() not in client.get(URL).content.decode()


def test_activity_words_review_and_request_events_as_sentences(contributor, registered_model):
    version = services.register_version(actor=contributor, model=registered_model)
    phrases = {}
    for action in ("approvals.review.approve", "approvals.request.withdrawn"):
        event = record_event(actor=contributor, action=action, obj=version, after={})
        phrases[action] = _describe_event(event)["phrase"]

    assert phrases == {
        "approvals.review.approve": "approved",
        "approvals.request.withdrawn": "withdrew the request for",
    }
