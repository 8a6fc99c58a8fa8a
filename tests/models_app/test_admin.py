"""The Django admin: every page loads, changes go through the services and are audited,
recorded facts and the ledger stay read-only."""

import json
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.checks import Tags, run_checks
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from models_app import admin as registry_admin
from models_app.models import (
    Alias,
    Application,
    AuditEvent,
    Dependency,
    Deployment,
    Environment,
    Membership,
    MetricDefinition,
    ModelVersion,
    RegisteredModel,
    Tag,
    Team,
    VersionDataset,
)
from models_app.services import archive_model
from tests.factories import (
    make_alias,
    make_artifact_row,
    make_dataset,
    make_environment,
    make_metric,
    make_metric_definition,
    make_model,
    make_user,
    make_version,
)
from tests.models_app.ledger import assert_chain_intact, last_event, row_counts


def _url(model, view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _management(prefix: str, initial: int = 0, total: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


class _FormFields(HTMLParser):
    """What a browser would submit for the admin's change form, as the page rendered it."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value") or "")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _form_as_rendered(response) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(response.text)
    parser.data.pop("csrfmiddlewaretoken", None)
    # The textarea's first newline is markup, not content.
    return {name: [v.removeprefix("\n") for v in values] for name, values in parser.data.items()}


def _deploy(version, environment, **overrides):
    values = {
        "model": version.model,
        "version": version,
        "environment": environment,
        "deployed_at": timezone.now(),
        "target": "https://scoring.internal/v1",
    }
    values.update(overrides)
    return Deployment.objects.create(**values)


@pytest.fixture
def ops(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def world(team, contributor, registered_model, superuser):
    """One row of every catalogue table, so that every change page has something to show."""
    version = make_version(registered_model, framework="xgboost", hyperparameters={"depth": 6})
    make_metric(version, "auc", 0.91)
    make_artifact_row(version, "model.json")
    VersionDataset.objects.create(
        version=version, dataset=make_dataset("payments"), role="training"
    )
    make_metric_definition("auc", unit="", higher_is_better=True)
    make_alias(registered_model, "champion", version)
    production = make_environment("production", requires_approval=True)
    _deploy(version, production, deployed_by=contributor)
    application = Application.objects.create(slug="checkout", name="Checkout", owner_team=team)
    Dependency.objects.create(
        application=application, model=registered_model, environment=production
    )
    Tag.objects.create(name="payments")
    archive_model(actor=superuser, model=make_model("old-scorer", team=team))
    return version


# --- every page ------------------------------------------------------------------------------


def test_the_admin_configuration_passes_the_system_checks():
    errors = [message for message in run_checks(tags=[Tags.admin]) if message.is_serious()]

    assert errors == []


def test_every_admin_page_loads_for_a_superuser(ops, world, superuser):
    request = RequestFactory().get("/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        assert ops.get(_url(model, "changelist")).status_code == 200, label
        if model_admin.search_fields:
            assert ops.get(_url(model, "changelist"), {"q": "a"}).status_code == 200, label
        if model_admin.has_add_permission(request):
            assert ops.get(_url(model, "add")).status_code == 200, label
        obj = model._default_manager.first()
        if model._meta.app_label == "models_app":
            assert obj is not None, f"the world fixture has no {label}"
        if obj is not None:
            assert ops.get(_url(model, "change", obj.pk)).status_code == 200, label


@pytest.mark.parametrize(
    "model",
    [RegisteredModel, ModelVersion, Alias, Deployment, Dependency, AuditEvent],
)
def test_changelists_do_not_query_per_row(ops, world, team, superuser, model):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert ops.get(_url(model, "changelist")).status_code == 200
        return len(queries)

    before = count_queries()
    staging = make_environment("staging")
    application = Application.objects.get(slug="checkout")
    for index in range(4):
        extra = make_model(f"extra-{index}", team=team)
        version = make_version(extra, created_by=superuser)
        make_alias(extra, "champion", version)
        _deploy(version, staging, deployed_by=superuser)
        Dependency.objects.create(
            application=application, model=extra, pinned_version=version, alias_name="champion"
        )
        archive_model(actor=superuser, model=extra)

    assert count_queries() == before


# --- registered models -----------------------------------------------------------------------


def test_creating_a_model_goes_through_the_service_and_is_audited(ops, team, superuser):
    Tag.objects.create(name="payments")

    response = ops.post(
        _url(RegisteredModel, "add"),
        {
            "name": "churn-predictor",
            "display_name": "Churn predictor",
            "team": team.pk,
            "task": "classification",
            "risk_tier": "limited",
            "tags": [Tag.objects.get().pk],
            "description": "Who leaves next month.",
        },
    )

    assert response.status_code == 302
    model = RegisteredModel.objects.get(name="churn-predictor")
    assert model.created_by == superuser
    assert list(model.tags.values_list("name", flat=True)) == ["payments"]
    event = last_event()
    assert event.action == "models_app.model.created"
    assert event.actor == superuser
    assert event.after["tags"] == ["payments"]
    assert_chain_intact(expected_events=1)


def test_a_duplicate_model_name_is_a_form_error(ops, team, registered_model):
    counts = row_counts()

    response = ops.post(
        _url(RegisteredModel, "add"),
        {"name": registered_model.name, "team": team.pk, "task": "other", "risk_tier": "minimal"},
    )

    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert row_counts() == counts


def test_a_refusal_by_the_service_is_a_form_error_and_writes_nothing(client, team):
    # Django lets this user add models; the registry does not, outside their teams.
    staff = make_user("sam", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(
            codename__in=["add_registeredmodel", "view_registeredmodel", "view_team"]
        )
    )
    client.force_login(staff)
    counts = row_counts()

    response = client.post(
        _url(RegisteredModel, "add"),
        {"name": "sneaky", "team": team.pk, "task": "other", "risk_tier": "minimal"},
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.non_field_errors() == [
        "You need the contributor role in team 'Fraud' to create models there."
    ]
    assert form.data["name"] == "sneaky"
    assert row_counts() == counts


def test_editing_a_model_goes_through_the_service_and_records_the_change(
    ops, registered_model, superuser
):
    response = ops.post(
        _url(RegisteredModel, "change", registered_model.pk),
        {
            "display_name": "Fraud detector",
            "task": "classification",
            "risk_tier": "high",
            "description": "",
            **_management("versions"),
        },
    )

    assert response.status_code == 302
    registered_model.refresh_from_db()
    assert registered_model.risk_tier == "high"
    event = last_event()
    assert event.action == "models_app.model.updated"
    assert (event.before, event.after) == (
        {"risk_tier": "minimal", "task": "other"},
        {"risk_tier": "high", "task": "classification"},
    )


def test_editing_an_archived_model_is_refused_with_the_services_message(
    ops, registered_model, superuser
):
    archive_model(actor=superuser, model=registered_model)
    counts = row_counts()

    response = ops.post(
        _url(RegisteredModel, "change", registered_model.pk),
        {
            "display_name": "Renamed",
            "task": "other",
            "risk_tier": "minimal",
            **_management("versions"),
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "fraud-detector is archived; restore it before changing it."
    ]
    registered_model.refresh_from_db()
    assert registered_model.display_name == "Fraud detector"
    assert row_counts() == counts


def test_models_cannot_be_deleted_in_the_admin(ops, registered_model):
    response = ops.post(_url(RegisteredModel, "delete", registered_model.pk), {"post": "yes"})

    assert response.status_code == 403
    assert RegisteredModel.objects.filter(pk=registered_model.pk).exists()


def test_the_archive_action_archives_through_the_service(ops, registered_model, superuser):
    response = ops.post(
        _url(RegisteredModel, "changelist"),
        {"action": "archive_models", "_selected_action": [registered_model.pk], "index": 0},
        follow=True,
    )

    registered_model.refresh_from_db()
    assert registered_model.is_archived
    event = last_event()
    assert (event.action, event.actor) == ("models_app.model.archived", superuser)
    assert "Archived: fraud-detector." in [str(m) for m in response.context["messages"]]


def test_the_restore_action_reports_a_refusal(ops, registered_model, team, superuser):
    archived = make_model("old-scorer", team=team)
    archive_model(actor=superuser, model=archived)

    response = ops.post(
        _url(RegisteredModel, "changelist"),
        {
            "action": "restore_models",
            "_selected_action": [registered_model.pk, archived.pk],
            "index": 0,
        },
        follow=True,
    )

    archived.refresh_from_db()
    assert not archived.is_archived
    assert last_event().action == "models_app.model.restored"
    assert [str(m) for m in response.context["messages"]] == [
        "fraud-detector is not archived.",
        "Restored: old-scorer.",
    ]


def test_the_version_inline_shows_only_the_latest_versions(ops, registered_model, monkeypatch):
    monkeypatch.setattr(registry_admin._FirstRowsFormSet, "max_rows", 2)
    for _ in range(3):
        make_version(registered_model)

    response = ops.get(_url(RegisteredModel, "change", registered_model.pk))

    (versions,) = response.context["inline_admin_formsets"]
    assert [form.original.version for form in versions] == [3, 2]
    assert not versions.has_add_permission
    assert not versions.has_change_permission
    assert not versions.has_delete_permission


def test_a_model_with_more_versions_than_the_inline_shows_still_saves(
    ops, registered_model, monkeypatch
):
    monkeypatch.setattr(registry_admin._FirstRowsFormSet, "max_rows", 2)
    for _ in range(3):
        make_version(registered_model)
    url = _url(RegisteredModel, "change", registered_model.pk)
    data = _form_as_rendered(ops.get(url))
    data["display_name"] = ["Card fraud detector"]

    response = ops.post(url, data)

    assert response.status_code == 302
    registered_model.refresh_from_db()
    assert registered_model.display_name == "Card fraud detector"
    assert registered_model.versions.count() == 3
    assert last_event().after == {"display_name": "Card fraud detector"}


def test_staff_outside_the_team_do_not_see_restricted_models(client, restricted_model):
    staff = make_user("sam", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="view_registeredmodel"))
    client.force_login(staff)

    listing = client.get(_url(RegisteredModel, "changelist"))
    detail = client.get(_url(RegisteredModel, "change", restricted_model.pk))

    assert restricted_model.name not in listing.text
    assert detail.status_code == 302  # the admin's "does not exist" redirect


# --- versions --------------------------------------------------------------------------------


def test_versions_cannot_be_added_or_deleted(ops, world):
    assert ops.get(_url(ModelVersion, "add")).status_code == 403
    response = ops.post(_url(ModelVersion, "delete", world.pk), {"post": "yes"})

    assert response.status_code == 403
    assert ModelVersion.objects.filter(pk=world.pk).exists()


def test_editing_a_version_card_goes_through_the_service(ops, world, superuser):
    url = _url(ModelVersion, "change", world.pk)
    data = _form_as_rendered(ops.get(url))
    data["intended_use"] = ["Scoring card payments."]
    data["tags"] = [str(Tag.objects.get(name="payments").pk)]

    response = ops.post(url, data)

    assert response.status_code == 302
    world.refresh_from_db()
    assert world.intended_use == "Scoring card payments."
    assert list(world.tags.values_list("name", flat=True)) == ["payments"]
    event = last_event()
    assert (event.action, event.actor) == ("models_app.version.card_updated", superuser)
    assert (event.before, event.after) == (
        {"intended_use": "", "tags": []},
        {"intended_use": "Scoring card payments.", "tags": ["payments"]},
    )
    assert world.metrics.get().value == 0.91


def test_metrics_and_artefacts_are_shown_read_only(ops, world):
    response = ops.get(_url(ModelVersion, "change", world.pk))

    formsets = response.context["inline_admin_formsets"]
    assert [f.opts.model.__name__ for f in formsets] == ["Metric", "Artifact", "VersionDataset"]
    for formset in formsets:
        assert not formset.has_add_permission
        assert not formset.has_change_permission
        assert not formset.has_delete_permission
    assert 'name="metrics-0-value"' not in response.text
    assert "0.91" in response.text


def test_the_run_and_properties_of_a_version_are_shown_read_only(ops, world):
    ModelVersion.objects.filter(pk=world.pk).update(
        run_id="run-8812",
        run_link="https://mlflow.example.com/#/runs/8812",
        properties={"stage": "<b>candidate</b>"},
    )

    response = ops.get(_url(ModelVersion, "change", world.pk))

    assert "run-8812" in response.text
    assert "https://mlflow.example.com/#/runs/8812" in response.text
    assert "&quot;stage&quot;: &quot;&lt;b&gt;candidate&lt;/b&gt;&quot;" in response.text
    for field in ("run_id", "run_link", "properties"):
        assert f'name="{field}"' not in response.text


def test_the_properties_of_a_model_are_shown_read_only(ops, registered_model):
    RegisteredModel.objects.filter(pk=registered_model.pk).update(properties={"owner": "fraud"})

    response = ops.get(_url(RegisteredModel, "change", registered_model.pk))

    assert "&quot;owner&quot;: &quot;fraud&quot;" in response.text
    assert 'name="properties"' not in response.text


# --- aliases ---------------------------------------------------------------------------------


def test_setting_an_alias_goes_through_the_service(ops, world, registered_model, superuser):
    response = ops.post(
        _url(Alias, "add"),
        {"model": registered_model.pk, "name": "challenger", "version": world.pk},
    )

    assert response.status_code == 302
    assert Alias.objects.get(name="challenger").updated_by == superuser
    assert last_event().action == "models_app.alias.set"


def test_an_alias_to_another_models_version_is_a_form_error(ops, world, team):
    other_version = make_version(make_model("other-model", team=team))
    counts = row_counts()

    response = ops.post(
        _url(Alias, "add"),
        {"model": world.model.pk, "name": "challenger", "version": other_version.pk},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["version"] == [
        "Version other-model v1 is not a version of fraud-detector."
    ]
    assert row_counts() == counts


def test_a_reserved_alias_name_is_a_form_error(ops, world):
    response = ops.post(
        _url(Alias, "add"), {"model": world.model.pk, "name": "latest", "version": world.pk}
    )

    assert response.status_code == 200
    assert "reserved" in response.context["adminform"].form.errors["name"][0]
    assert not Alias.objects.filter(name="latest").exists()


def test_deleting_an_alias_goes_through_the_service(ops, world):
    alias = Alias.objects.get(name="champion")

    response = ops.post(_url(Alias, "delete", alias.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Alias.objects.filter(pk=alias.pk).exists()
    event = last_event()
    assert (event.action, event.before) == (
        "models_app.alias.deleted",
        {"alias": "champion", "version": 1},
    )


def test_a_refused_alias_deletion_is_reported_and_deletes_nothing(client, world, viewer):
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_alias", "change_alias", "delete_alias"])
    )
    client.force_login(viewer)
    alias = Alias.objects.get(name="champion")
    counts = row_counts()

    response = client.post(_url(Alias, "delete", alias.pk), {"post": "yes"}, follow=True)

    assert response.redirect_chain[0] == (_url(Alias, "change", alias.pk), 302)
    assert [str(m) for m in response.context["messages"]] == [
        "You need the contributor role in team 'Fraud' to change fraud-detector."
    ]
    assert row_counts() == counts


# --- reference data --------------------------------------------------------------------------


def test_editing_a_team_records_the_changed_fields(ops, team, superuser):
    response = ops.post(
        _url(Team, "change", team.pk),
        {
            "slug": team.slug,
            "name": "Fraud & risk",
            "description": "",
            **_management("memberships"),
        },
    )

    assert response.status_code == 302
    event = last_event()
    assert event.action == "models_app.team.updated"
    assert event.actor == superuser
    assert (event.before, event.after) == ({"name": "Fraud"}, {"name": "Fraud & risk"})
    assert_chain_intact(expected_events=1)


def test_adding_a_member_inline_is_audited(ops, team):
    newcomer = make_user("nina")

    response = ops.post(
        _url(Team, "change", team.pk),
        {
            "slug": team.slug,
            "name": team.name,
            "description": "",
            **_management("memberships", total=1),
            "memberships-0-user": newcomer.pk,
            "memberships-0-role": "reviewer",
        },
    )

    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer).role == "reviewer"
    event = last_event()
    assert event.action == "models_app.membership.created"
    assert event.after == {"role": "reviewer", "team": "Fraud", "user": "nina"}
    assert AuditEvent.objects.count() == 1  # the team itself did not change


def test_removing_a_member_inline_is_audited(ops, team, contributor):
    membership = Membership.objects.get(user=contributor)

    ops.post(
        _url(Team, "change", team.pk),
        {
            "slug": team.slug,
            "name": team.name,
            "description": "",
            **_management("memberships", initial=1, total=1),
            "memberships-0-id": membership.pk,
            "memberships-0-user": contributor.pk,
            "memberships-0-role": "contributor",
            "memberships-0-DELETE": "on",
        },
    )

    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = last_event()
    assert (event.action, event.object_id) == ("models_app.membership.deleted", str(membership.pk))
    assert event.before["user"] == "carol"


def test_adding_an_environment_is_audited(ops, superuser):
    response = ops.post(
        _url(Environment, "add"),
        {"name": "staging", "display_name": "Staging", "order": 2, "description": ""},
    )

    assert response.status_code == 302
    event = last_event()
    assert event.action == "models_app.environment.created"
    assert event.before == {}
    assert event.after == {
        "description": "",
        "display_name": "Staging",
        "name": "staging",
        "order": 2,
        "promotion_sources": [],
        "requires_approval": False,
    }


def test_deleting_an_environment_is_audited(ops):
    environment = make_environment("sandbox")

    response = ops.post(_url(Environment, "delete", environment.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Environment.objects.filter(pk=environment.pk).exists()
    event = last_event()
    assert event.action == "models_app.environment.deleted"
    assert event.before["name"] == "sandbox"


def test_bulk_deleting_tags_audits_each_one(ops):
    tags = [Tag.objects.create(name=name) for name in ("a", "b")]

    ops.post(
        _url(Tag, "changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in tags], "post": "yes"},
    )

    assert not Tag.objects.exists()
    assert sorted(AuditEvent.objects.values_list("action", "object_repr")) == [
        ("models_app.tag.deleted", "a"),
        ("models_app.tag.deleted", "b"),
    ]


def test_a_metric_definition_records_its_action_in_snake_case(ops):
    ops.post(
        _url(MetricDefinition, "add"),
        {"key": "latency p95", "unit": "ms", "display_name": "", "description": ""},
    )

    assert last_event().action == "models_app.metric_definition.created"


# --- deployments and the ledger --------------------------------------------------------------


def test_deployments_are_read_only(ops, world):
    deployment = Deployment.objects.get()

    assert ops.get(_url(Deployment, "add")).status_code == 403
    change = ops.post(_url(Deployment, "change", deployment.pk), {"status": "retired"})
    delete = ops.post(_url(Deployment, "delete", deployment.pk), {"post": "yes"})
    listing = ops.get(_url(Deployment, "changelist"))

    assert (change.status_code, delete.status_code) == (403, 403)
    deployment.refresh_from_db()
    assert deployment.status == "active"
    assert "Read-only: deployments are recorded by promotion and rollback" in listing.text


def test_audit_events_are_read_only_even_for_a_superuser(ops, registered_model, superuser):
    archive_model(actor=superuser, model=registered_model)
    event = last_event()

    page = ops.get(_url(AuditEvent, "change", event.pk))
    change = ops.post(_url(AuditEvent, "change", event.pk), {"action": "forged"})
    delete = ops.post(_url(AuditEvent, "delete", event.pk), {"post": "yes"})
    add = ops.get(_url(AuditEvent, "add"))
    listing = ops.get(_url(AuditEvent, "changelist"))

    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert (change.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    assert "delete_selected" not in listing.text
    assert listing.context["action_form"] is None
    assert AuditEvent.objects.get(pk=event.pk).action == "models_app.model.archived"
    assert_chain_intact(expected_events=1)


def test_staff_outside_the_team_do_not_see_the_history_of_restricted_models(
    client, restricted_model, registered_model, superuser
):
    archive_model(actor=superuser, model=restricted_model)
    archive_model(actor=superuser, model=registered_model)
    staff = make_user("sam", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="view_auditevent"))
    client.force_login(staff)

    listing = client.get(_url(AuditEvent, "changelist"))

    assert [event.model_name for event in listing.context["cl"].result_list] == [
        registered_model.name
    ]


def test_an_audit_events_changes_are_pretty_printed_and_escaped(ops, registered_model, superuser):
    archive_model(actor=superuser, model=registered_model, reason="<script>alert(1)</script>")
    event = last_event()

    page = ops.get(_url(AuditEvent, "change", event.pk))

    assert "<script>alert(1)</script>" not in page.text
    assert escape(json.dumps(event.changes_dict, indent=2, sort_keys=True)) in page.text
