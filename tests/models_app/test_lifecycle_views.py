"""Deprecating and retiring a version, and moving an alias: each shows the applications it
reaches before it happens, and a refused retirement lists them."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from models_app.models import Alias, Application, Dependency, Deployment
from tests.factories import (
    make_alias,
    make_deployment,
    make_environment,
    make_version,
)
from tests.models_app.ledger import last_event


def deprecate_url(number=1, name="fraud-detector") -> str:
    return reverse("models_app:version_deprecate", args=[name, number])


def retire_url(number=1, name="fraud-detector") -> str:
    return reverse("models_app:version_retire", args=[name, number])


def alias_url(name="fraud-detector") -> str:
    return reverse("models_app:alias_set", args=[name])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def production(db):
    return make_environment("production", order=30)


@pytest.fixture
def versions(registered_model):
    return [make_version(registered_model) for _ in range(3)]


@pytest.fixture
def checkout(team):
    return Application.objects.create(
        slug="checkout", name="Checkout", owner_team=team, contact="payments@example.com"
    )


@pytest.fixture
def signed_in(client, contributor):
    client.force_login(contributor)
    return client


def depend(application, model, **via):
    return Dependency.objects.create(application=application, model=model, **via)


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [deprecate_url(), retire_url()])
def test_anonymous_visitors_are_sent_to_sign_in(client, versions, url):
    for response in (client.get(url), client.post(url, {"reason": "x"})):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    "url", [deprecate_url(name="secret-scorer"), retire_url(name="secret-scorer")]
)
def test_an_outsider_gets_404_for_a_restricted_model(client, outsider, restricted_model, url):
    make_version(restricted_model)
    client.force_login(outsider)

    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404


@pytest.mark.parametrize("url", [deprecate_url(), retire_url()])
def test_a_viewer_gets_403(client, viewer, versions, url):
    client.force_login(viewer)

    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "Old."}).status_code == 403
    versions[0].refresh_from_db()
    assert versions[0].deprecated_at is None and versions[0].retired_at is None


# --- deprecating ----------------------------------------------------------------------------


def test_deprecating_first_shows_who_uses_the_version_through_each_route(
    signed_in, versions, registered_model, checkout, production, team
):
    make_deployment(versions[0], production)
    make_alias(registered_model, "champion", versions[0])
    depend(checkout, registered_model, environment=production)
    portal = Application.objects.create(slug="portal", name="Loan portal", owner_team=team)
    depend(portal, registered_model, pinned_version=versions[0])
    bot = Application.objects.create(slug="bot", name="Support bot", owner_team=team)
    depend(bot, registered_model, alias_name="champion")

    html = signed_in.get(deprecate_url()).content.decode()

    impact = html[html.index("impact-table") : html.index("</table>")]
    assert "Checkout" in impact and "environment production" in impact
    assert "Loan portal" in impact and "pinned" in impact
    assert "Support bot" in impact and "alias champion" in impact
    assert "payments@example.com" in impact
    assert "Fraud" in impact  # the owner team
    assert reverse("models_app:application_detail", args=["checkout"]) in impact


def test_a_contributor_deprecates_with_a_reason(signed_in, versions):
    response = signed_in.post(deprecate_url(), {"reason": "Superseded by v2."})

    assert response.status_code == 302
    assert response.url == versions[0].get_absolute_url()
    versions[0].refresh_from_db()
    assert versions[0].deprecated_at is not None
    assert last_event().action == "models_app.version.deprecated"
    assert last_event().after["reason"] == "Superseded by v2."


def test_deprecating_without_a_reason_is_a_form_error(signed_in, versions):
    response = signed_in.post(deprecate_url(), {"reason": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    versions[0].refresh_from_db()
    assert versions[0].deprecated_at is None


def test_deprecating_twice_says_it_already_is(signed_in, versions):
    signed_in.post(deprecate_url(), {"reason": "Old."})

    response = signed_in.post(deprecate_url(), {"reason": "Again."})

    assert response.status_code == 200
    assert "has been deprecated since" in response.content.decode()


# --- retiring -------------------------------------------------------------------------------


def test_retiring_an_unused_version_needs_no_reason(signed_in, versions):
    page = signed_in.get(retire_url()).content.decode()
    response = signed_in.post(retire_url(), {"reason": ""})

    assert "affects nobody" in page
    assert response.status_code == 302
    versions[0].refresh_from_db()
    assert versions[0].retired_at is not None
    assert messages_of(response) == ["Retired fraud-detector v1. It can never be deployed again."]


def test_retiring_a_version_in_use_is_refused_with_its_dependents(
    signed_in, versions, registered_model, checkout, production
):
    make_deployment(versions[0], production)
    depend(checkout, registered_model, environment=production)

    preview = signed_in.get(retire_url()).content.decode()
    response = signed_in.post(retire_url(), {"reason": "Old."})

    assert "Checkout" in preview
    html = response.content.decode()
    assert response.status_code == 200
    assert "The retirement was refused." in html
    assert "is still in use" in html
    impact = html[html.index("impact-table") :]
    assert "Checkout" in impact and "environment production" in impact
    assert "Active deployments" in html
    versions[0].refresh_from_db()
    assert versions[0].retired_at is None
    assert 'name="force"' not in html  # a contributor cannot force it


def test_a_superuser_forces_a_retirement_with_a_written_reason(
    client, superuser, versions, registered_model, checkout, production
):
    deployment = make_deployment(versions[0], production)
    depend(checkout, registered_model, pinned_version=versions[0])
    client.force_login(superuser)

    form = client.get(retire_url()).content.decode()
    without_reason = client.post(retire_url(), {"force": "on", "reason": ""})
    forced = client.post(retire_url(), {"force": "on", "reason": "Licence withdrawn."})

    assert 'name="force"' in form
    assert "Forcing a retirement needs a written reason." in without_reason.content.decode()
    assert forced.status_code == 302
    versions[0].refresh_from_db()
    deployment.refresh_from_db()
    assert versions[0].retired_at is not None
    assert deployment.status == Deployment.Status.RETIRED
    event = last_event()
    assert event.action == "models_app.version.retired"
    assert event.after["forced"] is True
    assert event.after["dependents"][0]["application"] == "checkout"


def test_a_superuser_who_does_not_force_is_refused_too(
    client, superuser, versions, registered_model, checkout
):
    depend(checkout, registered_model, pinned_version=versions[0])
    client.force_login(superuser)

    response = client.post(retire_url(), {"reason": "Old."})

    assert "The retirement was refused." in response.content.decode()
    versions[0].refresh_from_db()
    assert versions[0].retired_at is None


def test_a_retired_version_offers_no_form(signed_in, versions):
    signed_in.post(retire_url(), {"reason": ""})

    html = signed_in.get(retire_url()).content.decode()

    assert "was retired on" in html
    assert 'name="reason"' not in html


# --- moving an alias ------------------------------------------------------------------------


def test_moving_an_alias_that_applications_follow_asks_first(
    signed_in, versions, registered_model, checkout
):
    make_alias(registered_model, "champion", versions[0])
    depend(checkout, registered_model, alias_name="champion")

    response = signed_in.post(alias_url(), {"name": "Champion", "version": 2})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Who gets a different version" in html
    impact = html[html.index("impact-table") :]
    assert "Checkout" in impact and "alias champion" in impact
    assert ">v1<" in impact and ">v2<" in impact
    assert 'name="confirmed"' in html
    assert Alias.objects.get().version == versions[0]


def test_the_confirmed_move_happens(signed_in, versions, registered_model, checkout):
    make_alias(registered_model, "champion", versions[0])
    depend(checkout, registered_model, alias_name="champion")

    response = signed_in.post(alias_url(), {"name": "champion", "version": 2, "confirmed": "1"})

    assert response.status_code == 302
    assert Alias.objects.get().version == versions[1]
    assert last_event().action == "models_app.alias.moved"


def test_a_move_that_reaches_nobody_happens_at_once(
    signed_in, versions, registered_model, checkout
):
    make_alias(registered_model, "champion", versions[0])
    depend(checkout, registered_model, alias_name="challenger", pinned_version=versions[0])

    response = signed_in.post(alias_url(), {"name": "champion", "version": 2})

    assert response.status_code == 302
    assert Alias.objects.get().version == versions[1]


def test_a_viewer_cannot_reach_the_alias_confirmation(client, viewer, versions):
    client.force_login(viewer)

    assert client.post(alias_url(), {"name": "champion", "version": 2}).status_code == 403
