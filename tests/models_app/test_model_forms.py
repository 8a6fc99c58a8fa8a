"""The writes on a model from the UI: create, edit, archive/restore, set/move/delete an alias."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from models_app.models import Alias, AuditEvent, RegisteredModel
from tests.factories import add_member, make_alias, make_model, make_team, make_user, make_version

CREATE_URL = reverse("models_app:model_create")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def snapshot(model) -> tuple:
    """Everything a write view could change, to prove that a refused request changed nothing."""
    model = RegisteredModel.objects.get(pk=model.pk)
    return (
        model.display_name,
        model.description,
        model.risk_tier,
        model.archived_at,
        sorted(model.tags.values_list("name", flat=True)),
        sorted(Alias.objects.filter(model=model).values_list("name", "version__version")),
        AuditEvent.objects.count(),
    )


# --- the permission matrix of every write view on a model ---------------------------------


def _archive(model):
    RegisteredModel.objects.filter(pk=model.pk).update(archived_at=timezone.now())


WRITE_VIEWS = {
    "edit": ("models_app:model_edit", [], {"display_name": "Changed", "task": "other",
                                          "risk_tier": "high", "tags": "new"}, None),
    "archive": ("models_app:model_archive", [], {"reason": "replaced"}, None),
    "restore": ("models_app:model_restore", [], {}, _archive),
    "alias_set": ("models_app:alias_set", [], {"name": "challenger", "version": "2"}, None),
    "alias_delete": ("models_app:alias_delete", ["champion"], {}, None),
}  # fmt: skip


@pytest.fixture
def guarded_model(restricted_model):
    """Restricted, so an outsider must not learn that it exists; with versions and an alias."""
    first = make_version(restricted_model)
    make_version(restricted_model)
    make_alias(restricted_model, "champion", first)
    return restricted_model


def _request(client, view, model):
    url_name, extra_args, data, prepare = WRITE_VIEWS[view]
    if prepare:
        prepare(model)
    before = snapshot(model)
    response = client.post(reverse(url_name, args=[model.name, *extra_args]), data)
    return response, before


@pytest.mark.parametrize("view", WRITE_VIEWS)
def test_anonymous_writes_go_to_sign_in_and_change_nothing(client, guarded_model, view):
    response, before = _request(client, view, guarded_model)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert snapshot(guarded_model) == before


@pytest.mark.parametrize("view", WRITE_VIEWS)
def test_outsiders_get_404_on_a_restricted_model_and_change_nothing(
    client, outsider, guarded_model, view
):
    client.force_login(outsider)

    response, before = _request(client, view, guarded_model)

    assert response.status_code == 404
    assert snapshot(guarded_model) == before


@pytest.mark.parametrize("view", WRITE_VIEWS)
def test_viewers_get_403_and_change_nothing(client, viewer, guarded_model, view):
    client.force_login(viewer)

    response, before = _request(client, view, guarded_model)

    assert response.status_code == 403
    assert snapshot(guarded_model) == before


@pytest.mark.parametrize("view", WRITE_VIEWS)
def test_contributors_write_and_are_sent_back_to_the_model(
    client, contributor, guarded_model, view
):
    client.force_login(contributor)

    response, before = _request(client, view, guarded_model)

    assert response.status_code == 302
    assert response.url.startswith(guarded_model.get_absolute_url())
    assert snapshot(guarded_model) != before
    assert AuditEvent.objects.count() == before[-1] + 1


@pytest.mark.parametrize("view", ["archive", "restore", "alias_set", "alias_delete"])
def test_post_only_views_refuse_get(client, contributor, guarded_model, view):
    url_name, extra_args, _, _ = WRITE_VIEWS[view]
    client.force_login(contributor)

    response = client.get(reverse(url_name, args=[guarded_model.name, *extra_args]))

    assert response.status_code == 405


def test_the_edit_form_itself_follows_the_matrix(
    client, guarded_model, viewer, outsider, contributor
):
    edit_url = reverse("models_app:model_edit", args=[guarded_model.name])

    assert client.get(edit_url).status_code == 302
    client.force_login(outsider)
    assert client.get(edit_url).status_code == 404
    client.force_login(viewer)
    assert client.get(edit_url).status_code == 403
    client.force_login(contributor)
    assert client.get(edit_url).status_code == 200


# --- create --------------------------------------------------------------------------------


def _create_data(**overrides):
    data = {
        "name": "churn-predictor",
        "display_name": "Churn predictor",
        "team": "",
        "description": "Predicts *churn*.",
        "responsible": "",
        "task": "classification",
        "risk_tier": "limited",
        "tags": "Tabular, churn, tabular",
    }
    data.update(overrides)
    return data


def test_a_contributor_creates_a_model(client, contributor, team):
    client.force_login(contributor)

    response = client.post(
        CREATE_URL, _create_data(team=team.pk, responsible=contributor.pk, restricted="on")
    )

    model = RegisteredModel.objects.get(name="churn-predictor")
    assert response.status_code == 302
    assert response.url == model.get_absolute_url()
    assert model.team == team
    assert model.display_name == "Churn predictor"
    assert model.responsible == contributor
    assert model.restricted is True
    assert model.risk_tier == "limited"
    assert model.created_by == contributor
    assert sorted(model.tags.values_list("name", flat=True)) == ["churn", "tabular"]
    assert AuditEvent.objects.filter(action="models_app.model.created").count() == 1
    assert any("created" in message for message in messages_of(response))


def test_the_form_offers_only_teams_where_the_user_contributes(client, contributor, team):
    make_team("other-team", name="Elsewhere")
    viewing_team = make_team("viewing-team", name="Only viewing")
    add_member(contributor, viewing_team, "viewer")
    client.force_login(contributor)

    response = client.get(CREATE_URL)

    assert response.status_code == 200
    teams = list(response.context["form"].fields["team"].queryset)
    assert teams == [team]
    # With one team to choose from, it is chosen already.
    assert response.context["form"].initial["team"] == team


def test_superusers_may_create_in_any_team(client, superuser, team, other_team):
    client.force_login(superuser)

    response = client.get(CREATE_URL)

    assert set(response.context["form"].fields["team"].queryset) == {team, other_team}


def test_a_duplicate_name_is_a_form_error(client, contributor, team, registered_model):
    client.force_login(contributor)

    response = client.post(CREATE_URL, _create_data(name="fraud-detector", team=team.pk))

    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["name"])
    assert RegisteredModel.objects.filter(name="fraud-detector").count() == 1
    assert "already exists" in response.content.decode()


@pytest.mark.parametrize(
    # "new" would clash with /models/new/, the page that creates models.
    "bad_name",
    ["Upper-Case", "has space", "-leading", "x" * 101, "../etc", "new"],
)
def test_a_bad_name_is_a_form_error(client, contributor, team, bad_name):
    client.force_login(contributor)

    response = client.post(CREATE_URL, _create_data(name=bad_name, team=team.pk))

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not RegisteredModel.objects.exists()


def test_a_bad_tag_is_a_form_error(client, contributor, team):
    client.force_login(contributor)

    response = client.post(CREATE_URL, _create_data(team=team.pk, tags="ok, Not OK!"))

    assert response.status_code == 200
    assert "Not OK!" in str(response.context["form"].errors["tags"])
    assert not RegisteredModel.objects.exists()


def test_creating_in_a_team_where_one_does_not_contribute_is_refused(client, outsider, team):
    client.force_login(outsider)

    response = client.post(CREATE_URL, _create_data(team=team.pk))

    assert response.status_code == 200
    assert response.context["form"].errors["team"]
    assert not RegisteredModel.objects.exists()


def test_people_who_contribute_nowhere_get_403(client, viewer, team):
    client.force_login(viewer)

    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, _create_data(team=team.pk)).status_code == 403
    assert not RegisteredModel.objects.exists()


def test_anonymous_create_goes_to_sign_in(client, team):
    response = client.post(CREATE_URL, _create_data(team=team.pk))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not RegisteredModel.objects.exists()


# --- edit ----------------------------------------------------------------------------------


def test_the_edit_form_starts_from_the_current_values(client, contributor, registered_model):
    registered_model.tags.create(name="payments")
    client.force_login(contributor)

    response = client.get(reverse("models_app:model_edit", args=["fraud-detector"]))

    form = response.context["form"]
    assert form.initial["display_name"] == "Fraud detector"
    assert form.initial["tags"] == "payments"
    assert "name" not in form.fields and "team" not in form.fields


def test_editing_changes_the_details_but_never_the_name_or_team(
    client, contributor, registered_model, other_team
):
    client.force_login(contributor)

    response = client.post(
        reverse("models_app:model_edit", args=["fraud-detector"]),
        {
            "name": "renamed",
            "team": other_team.pk,
            "display_name": "Card fraud detector",
            "description": "Now with **reasons**.",
            "task": "classification",
            "risk_tier": "high",
            "tags": "fraud, payments",
        },
    )

    registered_model.refresh_from_db()
    assert response.status_code == 302
    assert registered_model.name == "fraud-detector"
    assert registered_model.team.slug == "fraud-team"
    assert registered_model.display_name == "Card fraud detector"
    assert registered_model.risk_tier == "high"
    assert sorted(registered_model.tags.values_list("name", flat=True)) == ["fraud", "payments"]
    event = AuditEvent.objects.get(action="models_app.model.updated")
    assert event.after["risk_tier"] == "high"


def test_editing_an_archived_model_is_refused_with_a_form_error(client, contributor, team):
    model = make_model("old-model", team=team, archived_at=timezone.now())
    client.force_login(contributor)

    response = client.post(
        reverse("models_app:model_edit", args=["old-model"]),
        {"display_name": "Changed", "task": "other", "risk_tier": "minimal"},
    )

    model.refresh_from_db()
    assert response.status_code == 200
    assert "archived" in " ".join(response.context["form"].non_field_errors())
    assert model.display_name == ""


# --- archive and restore -------------------------------------------------------------------


def test_archiving_records_the_reason_and_says_so(client, contributor, registered_model):
    client.force_login(contributor)

    response = client.post(
        reverse("models_app:model_archive", args=["fraud-detector"]), {"reason": "Replaced by v2"}
    )

    registered_model.refresh_from_db()
    assert registered_model.is_archived
    assert AuditEvent.objects.get(action="models_app.model.archived").after["reason"] == (
        "Replaced by v2"
    )
    assert any("Archived fraud-detector" in message for message in messages_of(response))


def test_archiving_twice_is_refused_with_a_message(client, contributor, team):
    make_model("old-model", team=team, archived_at=timezone.now())
    client.force_login(contributor)

    response = client.post(reverse("models_app:model_archive", args=["old-model"]))

    assert response.status_code == 302
    assert any("already archived" in message for message in messages_of(response))


def test_restoring_brings_the_model_back(client, contributor, team):
    model = make_model("old-model", team=team, archived_at=timezone.now())
    client.force_login(contributor)

    response = client.post(reverse("models_app:model_restore", args=["old-model"]))

    model.refresh_from_db()
    assert not model.is_archived
    assert any("Restored" in message for message in messages_of(response))


# --- aliases -------------------------------------------------------------------------------


@pytest.fixture
def versioned_model(registered_model):
    make_version(registered_model)
    make_version(registered_model)
    make_version(registered_model)
    return registered_model


def _set_alias(client, name, version):
    return client.post(
        reverse("models_app:alias_set", args=["fraud-detector"]),
        {"name": name, "version": version},
    )


def test_setting_an_alias_points_it_at_the_version(client, contributor, versioned_model):
    client.force_login(contributor)

    response = _set_alias(client, "Champion", 2)

    alias = Alias.objects.get(model=versioned_model)
    assert (alias.name, alias.version.version) == ("champion", 2)
    assert response.url == f"{versioned_model.get_absolute_url()}#aliases"
    assert any("points at version 2" in message for message in messages_of(response))


def test_setting_an_existing_alias_moves_it(client, contributor, versioned_model):
    make_alias(versioned_model, "champion", versioned_model.versions.get(version=1))
    client.force_login(contributor)

    _set_alias(client, "champion", 3)

    assert Alias.objects.get(model=versioned_model, name="champion").version.version == 3
    assert AuditEvent.objects.filter(action="models_app.alias.moved").count() == 1


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("v2", 2, "reserved"),
        ("latest", 2, "reserved"),
        ("champion", 9, "has no version 9"),
        ("bad name!", 2, "lower-case"),
        ("", 2, "not set"),
        ("champion", "two", "not set"),
    ],
)
def test_a_refused_alias_is_a_message_and_changes_nothing(
    client, contributor, versioned_model, name, version, message
):
    client.force_login(contributor)

    response = _set_alias(client, name, version)

    assert response.status_code == 302
    assert not Alias.objects.exists()
    assert any(message in text for text in messages_of(response))


def test_deleting_an_alias_removes_it(client, contributor, versioned_model):
    make_alias(versioned_model, "champion", versioned_model.versions.get(version=1))
    client.force_login(contributor)

    response = client.post(reverse("models_app:alias_delete", args=["fraud-detector", "champion"]))

    assert not Alias.objects.exists()
    assert AuditEvent.objects.filter(action="models_app.alias.deleted").count() == 1
    assert any("Deleted the alias champion" in message for message in messages_of(response))


def test_deleting_an_unknown_alias_is_a_message(client, contributor, versioned_model):
    client.force_login(contributor)

    response = client.post(reverse("models_app:alias_delete", args=["fraud-detector", "nope"]))

    assert response.status_code == 302
    assert any("has no alias" in message for message in messages_of(response))


def test_alias_changes_are_refused_on_an_archived_model(client, contributor, versioned_model):
    RegisteredModel.objects.filter(pk=versioned_model.pk).update(archived_at=timezone.now())
    client.force_login(contributor)

    response = _set_alias(client, "champion", 1)

    assert not Alias.objects.exists()
    assert any("archived" in message for message in messages_of(response))


def test_a_contributor_of_another_team_gets_403_on_an_open_model(client, registered_model):
    stranger = make_user("stranger")
    add_member(stranger, make_team("elsewhere"), "contributor")
    make_version(registered_model)
    client.force_login(stranger)

    response = _set_alias(client, "champion", 1)

    assert response.status_code == 403
    assert not Alias.objects.exists()
