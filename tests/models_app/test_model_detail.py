"""One model's page at /models/<name>/: what it shows, to whom, and at what query cost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from models_app.models import Application, Dependency, Deployment, ModelVersion, Tag
from tests.factories import (
    make_alias,
    make_environment,
    make_model,
    make_team,
    make_user,
    make_version,
)


def url(name: str) -> str:
    return reverse("models_app:model_detail", args=[name])


def tag(obj, *names):
    for name in names:
        obj.tags.add(Tag.objects.get_or_create(name=name)[0])


def deploy(version, environment, traffic=100, status=Deployment.Status.ACTIVE, **extra):
    return Deployment.objects.create(
        model=version.model,
        version=version,
        environment=environment,
        traffic_percent=traffic,
        status=status,
        deployed_at=timezone.now(),
        **extra,
    )


def depend(model, slug, **via):
    app, _ = Application.objects.get_or_create(
        slug=slug, defaults={"name": slug.replace("-", " ").title(), "owner_team": model.team}
    )
    return Dependency.objects.create(application=app, model=model, **via)


@pytest.fixture
def signed_in(client, contributor):
    client.force_login(contributor)
    return client


def test_it_shows_the_header_details_and_description(signed_in, registered_model, contributor):
    registered_model.description = "Scores **card payments**.\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    registered_model.responsible = contributor
    registered_model.risk_tier = "high"
    registered_model.save()
    tag(registered_model, "payments")

    response = signed_in.get(url("fraud-detector"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Fraud detector" in html
    assert "fraud-detector" in html
    assert "badge-risk-high" in html
    assert "<strong>card payments</strong>" in html
    assert "<table>" in html
    assert "Fraud" in html  # team
    assert "carol" in html  # responsible
    assert f"{reverse('models_app:model_list')}?tag=payments" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert('pwned')</script>",
        '<img src="x.png" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
    ],
)
def test_the_description_is_sanitised(signed_in, registered_model, payload):
    registered_model.description = f"Safe text.\n\n{payload}"
    registered_model.save()

    html = signed_in.get(url("fraud-detector")).content.decode()

    about = html[html.index('id="about-heading"') : html.index('id="versions-heading"')]
    assert "Safe text." in about
    assert "<script>alert" not in about
    assert "onerror" not in about
    assert "onclick" not in about
    assert "javascript:" not in about


def test_it_shows_badges_for_restricted_and_archived_models(client, team, viewer):
    make_model("hidden-one", team=team, restricted=True, archived_at=timezone.now())
    client.force_login(viewer)

    html = client.get(url("hidden-one")).content.decode()

    assert "Restricted" in html
    assert "Archived" in html


def test_it_lists_versions_newest_first_with_their_details(
    signed_in, registered_model, contributor
):
    first = make_version(registered_model, framework="pytorch", framework_version="2.3.1")
    second = make_version(
        registered_model, architecture="ResNet-50", created_by=contributor, framework="onnx"
    )
    tag(second, "gpu")
    make_alias(registered_model, "champion", second)
    make_alias(registered_model, "baseline", first)

    response = signed_in.get(url("fraud-detector"))

    versions = list(response.context["page"].object_list)
    assert [v.version for v in versions] == [2, 1]
    html = response.content.decode()
    assert reverse("models_app:version_detail", args=["fraud-detector", 2]) in html
    assert "PyTorch" in html and "2.3.1" in html
    assert "ResNet-50" in html
    assert "@champion" in html and "@baseline" in html
    assert ">gpu<" in html


def test_the_versions_table_paginates_and_htmx_swaps_only_the_table(signed_in, registered_model):
    for _ in range(25):
        make_version(registered_model)

    full = signed_in.get(url("fraud-detector"))
    fragment = signed_in.get(
        url("fraud-detector"), {"page": 2}, headers={"HX-Request": "true", "HX-Target": "versions"}
    )

    assert [v.version for v in full.context["page"].object_list][:2] == [25, 24]
    full_html = full.content.decode()
    assert 'href="?page=2"' in full_html and 'hx-get="?page=2"' in full_html
    assert 'hx-target="#versions"' in full_html
    html = fragment.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="versions" ')
    assert [v.version for v in fragment.context["page"].object_list] == [5, 4, 3, 2, 1]
    assert "About" not in html


def test_page_two_also_works_as_a_plain_link(signed_in, registered_model):
    for _ in range(25):
        make_version(registered_model)

    response = signed_in.get(url("fraud-detector"), {"page": 2})

    assert "<html" in response.content.decode()
    assert [v.version for v in response.context["page"].object_list] == [5, 4, 3, 2, 1]


def test_it_shows_where_it_runs_and_who_depends_on_it(signed_in, registered_model):
    v1 = make_version(registered_model)
    v2 = make_version(registered_model)
    production = make_environment("production", display_name="Production", order=2)
    staging = make_environment("staging", display_name="Staging", order=1)
    deploy(v1, production, traffic=90, target="fraud.prod.example")
    deploy(v2, production, traffic=10)
    deploy(v2, staging)
    deploy(v1, staging, status=Deployment.Status.SUPERSEDED, ended_at=timezone.now())
    depend(registered_model, "checkout-api", alias_name="champion", environment=production)
    depend(registered_model, "chargeback-console", pinned_version=v1)

    response = signed_in.get(url("fraud-detector"))

    deployments = response.context["deployments"]
    assert [(d.environment.name, d.version.version) for d in deployments] == [
        ("staging", 2),
        ("production", 1),
        ("production", 2),
    ]
    html = response.content.decode()
    assert "fraud.prod.example" in html
    assert "90%" in html
    assert "Checkout Api" in html and "@champion" in html
    assert "Chargeback Console" in html and "pinned" in html


def test_empty_states_tell_contributors_what_to_do(signed_in, registered_model):
    html = signed_in.get(url("fraud-detector")).content.decode()

    assert "No versions yet" in html
    assert reverse("models_app:version_create", args=["fraud-detector"]) in html
    assert "Not deployed anywhere" in html
    assert "No application has declared a dependency" in html


def test_contributors_see_the_write_actions(signed_in, registered_model):
    make_version(registered_model)

    html = signed_in.get(url("fraud-detector")).content.decode()

    assert reverse("models_app:version_create", args=["fraud-detector"]) in html
    assert reverse("models_app:model_edit", args=["fraud-detector"]) in html
    assert reverse("models_app:model_archive", args=["fraud-detector"]) in html
    assert reverse("models_app:alias_set", args=["fraud-detector"]) in html


def test_an_archived_model_offers_restore_instead(signed_in, team):
    make_model("old-model", team=team, archived_at=timezone.now())

    html = signed_in.get(url("old-model")).content.decode()

    assert reverse("models_app:model_restore", args=["old-model"]) in html
    assert reverse("models_app:model_archive", args=["old-model"]) not in html
    assert reverse("models_app:model_edit", args=["old-model"]) not in html


def test_viewers_see_no_write_actions(client, viewer, registered_model):
    version = make_version(registered_model)
    make_alias(registered_model, "champion", version)
    client.force_login(viewer)

    html = client.get(url("fraud-detector")).content.decode()

    assert reverse("models_app:version_create", args=["fraud-detector"]) not in html
    assert reverse("models_app:model_edit", args=["fraud-detector"]) not in html
    assert reverse("models_app:model_archive", args=["fraud-detector"]) not in html
    assert reverse("models_app:alias_set", args=["fraud-detector"]) not in html
    assert reverse("models_app:alias_delete", args=["fraud-detector", "champion"]) not in html


def test_a_restricted_model_is_404_for_outsiders(client, outsider, restricted_model):
    client.force_login(outsider)

    assert client.get(url("secret-scorer")).status_code == 404


def test_a_restricted_model_is_visible_to_its_team_and_superusers(
    client, viewer, superuser, restricted_model
):
    for user in (viewer, superuser):
        client.force_login(user)
        assert client.get(url("secret-scorer")).status_code == 200


def test_an_unknown_model_is_404(signed_in):
    assert signed_in.get(url("no-such-model")).status_code == 404


def test_it_requires_sign_in(client, registered_model):
    response = client.get(url("fraud-detector"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- query budget --------------------------------------------------------------------------


def _grow(model, count: int):
    """Versions with tags and aliases, deployments and dependents: everything the page shows."""
    production = make_environment(f"env-{model.latest_version}")
    for _ in range(count):
        version = make_version(model, created_by=make_user(), framework=ModelVersion.Framework.JAX)
        tag(version, f"t{version.version % 4}", "common")
        make_alias(model, f"alias-{version.version}", version)
        deploy(version, production, traffic=1)
        depend(model, f"app-{version.version}", pinned_version=version)
    tag(model, f"model-tag-{model.latest_version}")


def _count_queries(client, name, **kwargs) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(name), **kwargs)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_model_page_stays_within_its_query_budget(
    signed_in, registered_model, django_assert_max_num_queries
):
    _grow(registered_model, 3)

    # session, user, the model (with team and responsible), versions count and page, their
    # tags and aliases, the model's tags, aliases, deployments, dependents, the role check,
    # the review-queue badge of the navigation
    with django_assert_max_num_queries(14):
        signed_in.get(url("fraud-detector"))


def test_the_query_count_does_not_grow_with_versions_tags_and_deployments(signed_in, team):
    model = make_model("growing", team=team)
    _grow(model, 2)
    before = _count_queries(signed_in, "growing")
    fragment_before = _count_queries(signed_in, "growing", headers={"HX-Request": "true"})

    _grow(model, 30)
    make_team()

    assert _count_queries(signed_in, "growing") == before
    assert _count_queries(signed_in, "growing", headers={"HX-Request": "true"}) == fragment_before
