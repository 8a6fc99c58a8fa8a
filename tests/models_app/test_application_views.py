"""Applications at /applications/: the list, one application's page with what it gets now
through each dependency, and the forms that register, edit and wire them up."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from models_app.models import Application, AuditEvent, Dependency
from tests.factories import (
    add_member,
    make_alias,
    make_deployment,
    make_environment,
    make_model,
    make_team,
    make_user,
    make_version,
)
from tests.models_app.ledger import last_event

LIST = reverse("models_app:application_list")
CREATE = reverse("models_app:application_create")
HTMX = {"HX-Request": "true", "HX-Target": "results"}


def detail(slug="checkout") -> str:
    return reverse("models_app:application_detail", args=[slug])


def edit(slug="checkout") -> str:
    return reverse("models_app:application_edit", args=[slug])


def add_dependency_url(slug="checkout") -> str:
    return reverse("models_app:dependency_add", args=[slug])


def remove_dependency_url(dependency) -> str:
    return reverse(
        "models_app:dependency_remove", args=[dependency.application.slug, dependency.pk]
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def make_application(slug="checkout", team=None, **fields):
    fields.setdefault("name", slug.replace("-", " ").title())
    return Application.objects.create(slug=slug, owner_team=team or make_team(), **fields)


def count_queries(client, url, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def production(db):
    return make_environment("production", order=30)


@pytest.fixture
def application(team):
    return make_application("checkout", team=team, name="Checkout", contact="payments@example.com")


@pytest.fixture
def signed_in(client, contributor):
    client.force_login(contributor)
    return client


# --- the list -------------------------------------------------------------------------------


def test_the_list_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_list_shows_owner_contact_and_number_of_dependencies(
    signed_in, application, registered_model, production
):
    Dependency.objects.create(
        application=application, model=registered_model, environment=production
    )
    Dependency.objects.create(application=application, model=registered_model, alias_name="x")

    html = signed_in.get(LIST).content.decode()

    assert "Checkout" in html
    assert "Fraud" in html
    assert "payments@example.com" in html
    assert '<td class="num">2</td>' in html
    assert CREATE in html  # the contributor may register one


def test_dependencies_on_restricted_models_are_not_counted_for_outsiders(
    client, outsider, application, restricted_model, registered_model, production
):
    Dependency.objects.create(
        application=application, model=restricted_model, environment=production
    )
    Dependency.objects.create(
        application=application, model=registered_model, environment=production
    )
    client.force_login(outsider)

    assert '<td class="num">1</td>' in client.get(LIST).content.decode()


def test_the_list_filters_by_team_and_text(signed_in, application, other_team):
    make_application("storefront", team=other_team, description="Ranks products.")

    by_team = signed_in.get(LIST, {"team": "vision-team"}).content.decode()
    by_text = signed_in.get(LIST, {"q": "products"}).content.decode()

    assert "Storefront" in by_team and "Checkout" not in by_team
    assert "Storefront" in by_text and "Checkout" not in by_text


def test_htmx_gets_only_the_results(signed_in, application):
    html = signed_in.get(LIST, {"q": "check"}, headers=HTMX).content.decode()

    assert "<html" not in html
    assert html.lstrip().startswith('<div id="results"')
    assert "Checkout" in html


def test_a_viewer_is_not_offered_to_register(client, viewer, application):
    client.force_login(viewer)

    assert CREATE not in client.get(LIST).content.decode()


def _populate_list(count, team, model, start=0):
    for index in range(start, start + count):
        app = make_application(f"app-{index:03d}", team=team)
        Dependency.objects.create(application=app, model=model, alias_name="champion")


def test_the_list_costs_the_same_number_of_queries_however_many_rows(
    signed_in, team, registered_model, django_assert_max_num_queries
):
    _populate_list(3, team, registered_model)
    # session, user, count, page, can-register check, the navigation's review count, teams
    with django_assert_max_num_queries(7):
        signed_in.get(LIST)
    before = count_queries(signed_in, LIST)
    fragment = count_queries(signed_in, LIST, headers=HTMX)

    _populate_list(20, team, registered_model, start=10)

    assert count_queries(signed_in, LIST) == before
    assert count_queries(signed_in, LIST, headers=HTMX) == fragment


# --- one application ------------------------------------------------------------------------


def test_the_page_shows_what_each_dependency_gets_now(
    signed_in, application, registered_model, production
):
    v1, v2, v3 = (make_version(registered_model) for _ in range(3))
    make_deployment(v2, production)
    make_deployment(v3, production, traffic_percent=10)
    make_alias(registered_model, "champion", v1)
    Dependency.objects.create(
        application=application, model=registered_model, environment=production
    )
    Dependency.objects.create(
        application=application, model=registered_model, alias_name="champion"
    )
    Dependency.objects.create(application=application, model=registered_model, pinned_version=v3)
    Dependency.objects.create(
        application=application, model=registered_model, alias_name="challenger"
    )

    html = detail_html(signed_in)

    rows = html[html.index("table dependencies") :].split("<tr>")[2:]
    through_environment = next(r for r in rows if "production" in r.split("</td>")[1])
    assert ">v2<" in through_environment
    assert ">v3<" in through_environment and "10%" in through_environment  # the canary
    assert ">v1<" in next(r for r in rows if "@champion" in r)
    assert ">v3<" in next(r for r in rows if "pinned" in r)
    assert "the alias does not exist" in next(r for r in rows if "@challenger" in r)


def detail_html(client, slug="checkout") -> str:
    response = client.get(detail(slug))
    assert response.status_code == 200
    return response.content.decode()


def test_dependencies_on_restricted_models_are_hidden_from_outsiders(
    client, outsider, application, restricted_model, production
):
    Dependency.objects.create(
        application=application, model=restricted_model, environment=production
    )
    client.force_login(outsider)

    html = detail_html(client)

    assert "secret-scorer" not in html
    assert "1 more dependency on restricted models you cannot see." in html


def test_an_unknown_application_is_404(signed_in, db):
    assert signed_in.get(detail("nope")).status_code == 404


def test_the_owner_team_gets_the_change_buttons_and_others_do_not(
    client, contributor, outsider, application
):
    client.force_login(contributor)
    owner_view = detail_html(client)
    client.force_login(outsider)
    other_view = detail_html(client)

    assert add_dependency_url() in owner_view and edit() in owner_view
    assert add_dependency_url() not in other_view and edit() not in other_view


def _populate_dependencies(count, application, team, environment, start=0):
    for index in range(start, start + count):
        model = make_model(f"dep-{index:03d}", team=team)
        version = make_version(model)
        make_deployment(version, environment)
        make_alias(model, "champion", version)
        Dependency.objects.create(application=application, model=model, environment=environment)
        Dependency.objects.create(application=application, model=model, alias_name="champion")
        Dependency.objects.create(application=application, model=model, pinned_version=version)


def test_the_page_costs_the_same_number_of_queries_however_many_dependencies(
    signed_in, application, team, production, django_assert_max_num_queries
):
    _populate_dependencies(2, application, team, production)
    # session, user, application, dependencies, their environments, pinned versions, aliases,
    # deployments, hidden count, owner check, the navigation's review count
    with django_assert_max_num_queries(11):
        signed_in.get(detail())
    before = count_queries(signed_in, detail())

    _populate_dependencies(10, application, team, production, start=10)

    assert count_queries(signed_in, detail()) == before


# --- registering and editing ----------------------------------------------------------------


def test_registering_needs_a_signed_in_user(client, db):
    assert client.get(CREATE).status_code == 302
    assert client.post(CREATE, {}).status_code == 302
    assert not Application.objects.exists()


def test_a_viewer_may_not_register(client, viewer):
    client.force_login(viewer)

    assert client.get(CREATE).status_code == 403
    assert (
        client.post(CREATE, {"name": "X", "slug": "x", "owner_team": "fraud-team"}).status_code
        == 403
    )
    assert not Application.objects.exists()


def test_a_contributor_registers_an_application(signed_in, team):
    response = signed_in.post(
        CREATE,
        {
            "name": "Checkout",
            "slug": "Checkout",
            "owner_team": team.slug,
            "contact": "payments@example.com",
            "description": "Scores payments.",
        },
    )

    assert response.status_code == 302
    assert response.url == detail("checkout")
    application = Application.objects.get()
    assert (application.name, application.owner_team, application.contact) == (
        "Checkout",
        team,
        "payments@example.com",
    )
    assert last_event().action == "models_app.application.registered"
    assert messages_of(response) == ["Registered Checkout. Add the models it depends on."]


def test_a_duplicate_slug_is_a_form_error(signed_in, application, team):
    response = signed_in.post(
        CREATE, {"name": "Again", "slug": "checkout", "owner_team": team.slug}
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Application.objects.count() == 1


def test_only_teams_the_user_contributes_to_are_offered(signed_in, application, other_team):
    response = signed_in.post(CREATE, {"name": "X", "slug": "x", "owner_team": other_team.slug})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "vision-team" not in signed_in.get(CREATE).content.decode()


def test_editing_needs_the_contributor_role_in_the_owner_team(
    client, viewer, outsider, application
):
    for user in (viewer, outsider):
        client.force_login(user)
        assert client.get(edit()).status_code == 403
        assert (
            client.post(edit(), {"name": "Hacked", "owner_team": "fraud-team"}).status_code == 403
        )
    application.refresh_from_db()
    assert application.name == "Checkout"


def test_editing_anonymously_goes_to_sign_in(client, application):
    assert client.post(edit(), {"name": "Hacked"}).status_code == 302


def test_a_contributor_edits_the_application(signed_in, application, team):
    form = signed_in.get(edit()).content.decode()
    response = signed_in.post(
        edit(), {"name": "Checkout v2", "owner_team": team.slug, "contact": "", "description": ""}
    )

    assert 'name="slug"' not in form
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.name == "Checkout v2"
    assert last_event().action == "models_app.application.updated"


# --- dependencies ---------------------------------------------------------------------------


def test_adding_a_dependency_needs_the_owner_teams_contributor_role(
    client, viewer, outsider, application, registered_model, production
):
    for user in (viewer, outsider):
        client.force_login(user)
        assert client.get(add_dependency_url()).status_code == 403
        response = client.post(
            add_dependency_url(), {"model": registered_model.name, "environment": "production"}
        )
        assert response.status_code == 403
    assert not Dependency.objects.exists()


def test_a_contributor_adds_dependencies_of_each_kind(
    signed_in, application, registered_model, production
):
    make_version(registered_model)
    version = make_version(registered_model)
    make_alias(registered_model, "champion", version)

    for data in (
        {"model": registered_model.name, "environment": "production"},
        {"model": registered_model.name, "alias_name": "Champion"},
        {"model": registered_model.name, "pinned_version": 1},
    ):
        response = signed_in.post(add_dependency_url(), data)
        assert response.status_code == 302, response.content.decode()

    rows = Dependency.objects.order_by("pk")
    assert [d.environment_id for d in rows] == [production.pk, None, None]
    assert [d.alias_name for d in rows] == ["", "champion", ""]
    assert rows[2].pinned_version.version == 1
    assert last_event().action == "models_app.dependency.added"


def test_a_dependency_naming_nothing_is_refused(signed_in, application, registered_model):
    response = signed_in.post(add_dependency_url(), {"model": registered_model.name})

    assert response.status_code == 200
    assert "Name an environment, an alias or a pinned version." in response.content.decode()


def test_a_pinned_version_that_does_not_exist_is_a_form_error(
    signed_in, application, registered_model
):
    response = signed_in.post(
        add_dependency_url(), {"model": registered_model.name, "pinned_version": 9}
    )

    assert "fraud-detector has no version 9." in response.content.decode()
    assert not Dependency.objects.exists()


def test_an_alias_that_does_not_exist_is_refused_by_the_service(
    signed_in, application, registered_model
):
    response = signed_in.post(
        add_dependency_url(), {"model": registered_model.name, "alias_name": "ghost"}
    )

    assert "fraud-detector has no alias &#x27;ghost&#x27;." in response.content.decode()


def test_a_restricted_model_of_another_team_cannot_be_chosen(client, restricted_model, production):
    user = make_user("olga")
    apps_team = make_team("apps")
    add_member(user, apps_team, "contributor")
    make_application("portal", team=apps_team)
    client.force_login(user)

    form = client.get(add_dependency_url("portal")).content.decode()
    response = client.post(
        add_dependency_url("portal"), {"model": "secret-scorer", "environment": "production"}
    )

    assert "secret-scorer" not in form
    assert "Select a valid choice" in response.content.decode()
    assert not Dependency.objects.exists()


def test_removing_a_dependency_takes_a_post_from_the_owner_team(
    client, contributor, viewer, application, registered_model, production
):
    dependency = Dependency.objects.create(
        application=application, model=registered_model, environment=production
    )
    client.force_login(viewer)
    assert client.post(remove_dependency_url(dependency)).status_code == 403
    client.force_login(contributor)
    assert client.get(remove_dependency_url(dependency)).status_code == 405

    response = client.post(remove_dependency_url(dependency))

    assert response.status_code == 302
    assert not Dependency.objects.exists()
    assert last_event().action == "models_app.dependency.removed"
    assert AuditEvent.objects.filter(action="models_app.dependency.removed").count() == 1


def test_a_dependency_of_another_application_is_404(signed_in, application, registered_model, team):
    other = make_application("other", team=team)
    dependency = Dependency.objects.create(
        application=other, model=registered_model, alias_name="x"
    )

    url = reverse("models_app:dependency_remove", args=["checkout", dependency.pk])

    assert signed_in.post(url).status_code == 404
    assert Dependency.objects.exists()


def test_the_model_page_links_its_dependents_to_their_pages(
    signed_in, application, registered_model, production
):
    Dependency.objects.create(
        application=application, model=registered_model, environment=production
    )

    html = signed_in.get(registered_model.get_absolute_url()).content.decode()

    assert detail("checkout") in html


def test_the_model_page_shows_the_last_ten_deployments_that_ended(
    signed_in, registered_model, production
):
    now = timezone.now()
    for _ in range(12):
        make_deployment(
            make_version(registered_model),
            production,
            status="superseded",
            deployed_at=now,
            ended_at=now,
        )

    html = signed_in.get(registered_model.get_absolute_url()).content.decode()

    ran_before = html[html.index("Ran before") : html.index("dependents-heading")]
    assert ran_before.count("<li") == 10
