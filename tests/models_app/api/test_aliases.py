"""/api/v1/models/<name>/aliases/: pointing names such as champion at versions."""

import pytest

from models_app.models import Alias, Application, Dependency
from tests.factories import make_alias, make_version
from tests.models_app.api.test_authentication import assert_error

ALIASES = "/api/v1/models/fraud-detector/aliases/"


@pytest.fixture
def versions(registered_model):
    return [make_version(registered_model), make_version(registered_model)]


def put(client, alias, payload, headers):
    return client.put(
        f"{ALIASES}{alias}/", payload, content_type="application/json", headers=headers
    )


def test_a_contributor_sets_moves_reads_and_deletes_an_alias(client, versions, as_contributor):
    created = put(client, "champion", {"version": 1}, as_contributor)
    moved = put(client, "champion", {"version": 2}, as_contributor)
    listed = client.get(ALIASES, headers=as_contributor)
    one = client.get(f"{ALIASES}champion/", headers=as_contributor)
    deleted = client.delete(f"{ALIASES}champion/", headers=as_contributor)

    assert created.status_code == 200
    assert created.json()["version"] == 1
    assert moved.json() | {"updated_at": None} == {
        "model": "fraud-detector",
        "name": "champion",
        "version": 2,
        "updated_by": "carol",
        "updated_at": None,
    }
    assert [(a["name"], a["version"]) for a in listed.json()] == [("champion", 2)]
    assert one.json()["version"] == 2
    assert deleted.status_code == 204
    assert not Alias.objects.exists()


@pytest.mark.parametrize(
    ("alias", "payload", "field"),
    [
        ("latest", {"version": 1}, "name"),
        ("v2", {"version": 1}, "name"),
        ("Bad Name", {"version": 1}, "name"),
        ("champion", {"version": 9}, "version"),
        ("champion", {"version": "one"}, "version"),
        ("champion", {}, "version"),
    ],
)
def test_bad_aliases_are_a_400(client, versions, as_contributor, alias, payload, field):
    response = put(client, alias, payload, as_contributor)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not Alias.objects.exists()


def test_a_missing_alias_is_a_404(client, versions, as_contributor):
    assert_error(client.delete(f"{ALIASES}nope/", headers=as_contributor), 404, "not_found")
    assert_error(client.get(f"{ALIASES}nope/", headers=as_contributor), 404, "not_found")


def test_moving_an_alias_that_applications_follow_needs_confirmation(
    client, versions, registered_model, team, as_contributor
):
    make_alias(registered_model, "champion", versions[0])
    checkout = Application.objects.create(slug="checkout", name="Checkout", owner_team=team)
    Dependency.objects.create(application=checkout, model=registered_model, alias_name="champion")

    refused = put(client, "champion", {"version": 2}, as_contributor)
    confirmed = put(client, "champion", {"version": 2, "confirm": True}, as_contributor)

    error = assert_error(refused, 409, "confirmation_required")
    assert "Checkout" in error["message"]
    assert confirmed.status_code == 200
    assert Alias.objects.get().version == versions[1]


def test_alias_permissions_follow_the_web(
    client, versions, restricted_model, as_viewer, as_outsider
):
    make_version(restricted_model)

    assert_error(put(client, "champion", {"version": 1}, as_viewer), 403, "permission_denied")
    assert_error(client.delete(f"{ALIASES}champion/", headers=as_viewer), 403, "permission_denied")
    hidden = "/api/v1/models/secret-scorer/aliases/"
    assert_error(client.get(hidden, headers=as_outsider), 404, "not_found")
    assert_error(
        client.put(
            f"{hidden}x/", {"version": 1}, content_type="application/json", headers=as_outsider
        ),
        404,
        "not_found",
    )
    assert client.get(ALIASES, headers=as_viewer).status_code == 200
