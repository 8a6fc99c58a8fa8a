"""The catalogue at /models/: filters, sorting, htmx fragment, visibility and query budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from models_app.models import ModelVersion, RegisteredModel, Tag
from tests.factories import add_member, make_model, make_team, make_user, make_version

URL = reverse("models_app:model_list")


def tag(model, *names):
    for name in names:
        model.tags.add(Tag.objects.get_or_create(name=name)[0])


def listed(response) -> list[str]:
    return [model.name for model in response.context["page"].object_list]


@pytest.fixture
def catalogue(team, other_team):
    """A small organisation: two teams, a mix of tasks, risks, frameworks and tags."""
    fraud = make_model(
        "fraud-detector",
        team=team,
        display_name="Card fraud detector",
        task=RegisteredModel.Task.CLASSIFICATION,
        risk_tier=RegisteredModel.RiskTier.HIGH,
    )
    tag(fraud, "payments", "tabular")
    make_version(fraud, framework=ModelVersion.Framework.XGBOOST)
    make_version(fraud, framework=ModelVersion.Framework.XGBOOST)
    vision = make_model(
        "image-moderation",
        team=other_team,
        description="Flags unsafe **uploads** before anyone sees them.",
        task=RegisteredModel.Task.IMAGE_CLASSIFICATION,
        risk_tier=RegisteredModel.RiskTier.LIMITED,
    )
    tag(vision, "images")
    make_version(vision, framework=ModelVersion.Framework.PYTORCH)
    forecast = make_model(
        "demand-forecast",
        team=other_team,
        task=RegisteredModel.Task.FORECASTING,
        risk_tier=RegisteredModel.RiskTier.MINIMAL,
    )
    tag(forecast, "time-series")
    legacy = make_model("legacy-rules", team=team, archived_at=timezone.now())
    return {"fraud": fraud, "vision": vision, "forecast": forecast, "legacy": legacy}


@pytest.fixture
def signed_in(client, contributor):
    client.force_login(contributor)
    return client


# --- the page ------------------------------------------------------------------------------


def test_it_requires_sign_in(client, catalogue):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_lists_active_models_with_team_task_risk_latest_version_and_tags(signed_in, catalogue):
    response = signed_in.get(URL)

    assert response.status_code == 200
    assert "models_app/model_list.html" in [t.name for t in response.templates]
    assert listed(response) == ["demand-forecast", "fraud-detector", "image-moderation"]
    html = response.content.decode()
    assert "<html" in html
    assert "Card fraud detector" in html
    assert "badge-risk-high" in html
    assert reverse("models_app:version_detail", args=["fraud-detector", 2]) in html
    assert 'href="?tag=payments"' in html
    assert "Image classification" in html


def test_the_new_model_button_shows_only_for_people_who_contribute_somewhere(
    client, catalogue, contributor, viewer
):
    client.force_login(contributor)
    assert reverse("models_app:model_create") in client.get(URL).content.decode()

    client.force_login(viewer)
    assert reverse("models_app:model_create") not in client.get(URL).content.decode()


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("FRAUD", ["fraud-detector"]),  # name, any case
        ("card fraud", ["fraud-detector"]),  # display name
        ("unsafe", ["image-moderation"]),  # description
        ("series", ["demand-forecast"]),  # tag name
        ("nothing-like-this", []),
    ],
)
def test_free_text_searches_name_display_name_description_and_tags(
    signed_in, catalogue, query, expected
):
    assert listed(signed_in.get(URL, {"q": query})) == expected


def test_free_text_lists_a_model_once_even_when_several_tags_match(signed_in, catalogue):
    tag(catalogue["fraud"], "fraud-ring", "fraud-card")

    assert listed(signed_in.get(URL, {"q": "fraud"})) == ["fraud-detector"]


def test_it_filters_by_team_slug(signed_in, catalogue):
    assert listed(signed_in.get(URL, {"team": "vision-team"})) == [
        "demand-forecast",
        "image-moderation",
    ]


def test_it_filters_by_task(signed_in, catalogue):
    assert listed(signed_in.get(URL, {"task": "forecasting"})) == ["demand-forecast"]


def test_it_filters_by_framework_of_any_version_without_duplicates(signed_in, catalogue):
    assert listed(signed_in.get(URL, {"framework": "xgboost"})) == ["fraud-detector"]
    assert listed(signed_in.get(URL, {"framework": "pytorch"})) == ["image-moderation"]


def test_it_filters_by_risk_tier(signed_in, catalogue):
    assert listed(signed_in.get(URL, {"risk": "limited"})) == ["image-moderation"]


def test_it_filters_by_status_active_by_default(signed_in, catalogue):
    assert "legacy-rules" not in listed(signed_in.get(URL))
    assert "legacy-rules" not in listed(signed_in.get(URL, {"status": "active"}))
    assert listed(signed_in.get(URL, {"status": "archived"})) == ["legacy-rules"]
    assert len(listed(signed_in.get(URL, {"status": "all"}))) == 4


def test_it_filters_by_tag_name(signed_in, catalogue):
    assert listed(signed_in.get(URL, {"tag": "images"})) == ["image-moderation"]


def test_filters_combine(signed_in, catalogue):
    response = signed_in.get(URL, {"team": "vision-team", "risk": "minimal", "q": "demand"})

    assert listed(response) == ["demand-forecast"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["demand-forecast", "fraud-detector", "image-moderation"]),
        ("-name", ["image-moderation", "fraud-detector", "demand-forecast"]),
        # Fraud (fraud-team) before Vision; ties by name.
        ("team", ["fraud-detector", "demand-forecast", "image-moderation"]),
        # By severity, not alphabetically: minimal < limited < high.
        ("risk", ["demand-forecast", "image-moderation", "fraud-detector"]),
        ("-risk", ["fraud-detector", "image-moderation", "demand-forecast"]),
        ("-latest", ["fraud-detector", "image-moderation", "demand-forecast"]),
        ("task", ["fraud-detector", "demand-forecast", "image-moderation"]),
    ],
)
def test_it_sorts_by_the_chosen_column(signed_in, catalogue, sort, expected):
    assert listed(signed_in.get(URL, {"sort": sort})) == expected


def test_it_sorts_by_last_update(signed_in, catalogue):
    RegisteredModel.objects.filter(name="image-moderation").update(
        updated_at=timezone.now() + timezone.timedelta(hours=1)
    )

    assert listed(signed_in.get(URL, {"sort": "-updated"}))[0] == "image-moderation"
    assert listed(signed_in.get(URL, {"sort": "updated"}))[-1] == "image-moderation"


def test_sortable_headers_keep_the_other_filters_and_toggle_direction(signed_in, catalogue):
    html = signed_in.get(URL, {"risk": "high", "sort": "name"}).content.decode()

    assert 'href="?risk=high&amp;sort=-name"' in html
    assert 'href="?risk=high&amp;sort=team"' in html
    assert 'aria-sort="ascending"' in html


@pytest.mark.parametrize(
    "params",
    [
        {"team": "no-such-team"},
        {"risk": "catastrophic"},
        {"status": "deleted"},
        {"sort": "password"},
        {"framework": "cobol"},
        {"tag": "no-such-tag"},
    ],
)
def test_invalid_filter_values_show_an_empty_result_and_the_error(signed_in, catalogue, params):
    response = signed_in.get(URL, params)

    assert response.status_code == 200
    assert listed(response) == []
    assert response.context["filter"].errors
    assert "not valid" in response.content.decode()


def test_a_bad_sort_value_is_not_carried_into_the_next_request(signed_in, catalogue):
    response = signed_in.get(URL, {"sort": "password", "risk": "high"})

    assert response.context["current_sort"] == ""
    assert 'name="sort" id="sort-input" value=""' in response.content.decode()


# --- htmx ----------------------------------------------------------------------------------


def test_an_htmx_request_gets_only_the_results_fragment(signed_in, catalogue):
    response = signed_in.get(
        URL, {"q": "fraud"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="model-filters"' not in html
    assert html.lstrip().startswith('<div id="results" ')
    assert "<table" in html
    assert "fraud-detector" in html
    assert "image-moderation" not in html
    # The current sort travels back to the filter form out of band.
    assert 'id="sort-input"' in html and 'hx-swap-oob="true"' in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_a_full_page_request_has_the_form_wired_for_live_filtering(signed_in, catalogue):
    html = signed_in.get(URL).content.decode()

    assert 'id="model-filters"' in html
    assert 'hx-get="/models/"' in html
    assert 'hx-target="#results"' in html
    assert 'hx-push-url="true"' in html
    assert "delay:300ms" in html
    assert '<button type="submit"' in html
    assert 'id="results"' in html


def test_an_htmx_history_restore_gets_the_whole_page(signed_in, catalogue):
    response = signed_in.get(
        URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert "<html" in response.content.decode()


# --- visibility ----------------------------------------------------------------------------


def test_restricted_models_are_hidden_from_outsiders(client, catalogue, restricted_model, outsider):
    client.force_login(outsider)

    assert "secret-scorer" not in listed(client.get(URL, {"status": "all"}))
    assert "secret-scorer" not in client.get(URL, {"q": "secret"}).content.decode()


def test_restricted_models_are_listed_for_their_team_and_superusers(
    client, catalogue, restricted_model, viewer, superuser
):
    for user in (viewer, superuser):
        client.force_login(user)
        assert "secret-scorer" in listed(client.get(URL))


def test_tags_of_restricted_models_are_not_offered_to_outsiders(
    client, catalogue, restricted_model, outsider
):
    tag(restricted_model, "secret-project")
    client.force_login(outsider)

    html = client.get(URL).content.decode()

    assert "secret-project" not in html
    assert listed(client.get(URL, {"tag": "secret-project"})) == []


# --- pagination and query budget -----------------------------------------------------------


def _populate(count: int, *, start: int = 0, team=None):
    team = team or make_team()
    for index in range(start, start + count):
        model = make_model(f"bulk-{index:03d}", team=team, restricted=index % 2 == 0)
        tag(model, f"tag-{index % 7}", f"extra-{index % 3}")
        make_version(model, framework=ModelVersion.Framework.SKLEARN)


def test_it_paginates_by_25(signed_in, contributor):
    bulk = make_team("bulk")
    _populate(30, team=bulk)
    add_member(contributor, bulk, "viewer")

    first = signed_in.get(URL, {"status": "all"})
    second = signed_in.get(URL, {"status": "all", "page": 2})

    assert len(listed(first)) == 25
    assert first.context["page"].paginator.count == 30
    assert len(listed(second)) == 5
    assert 'href="?status=all&amp;page=2"' in first.content.decode()


def _count_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "bulk", "team": "bulk", "tag": "tag-1", "framework": "sklearn", "sort": "-risk"}],
)
def test_the_query_count_does_not_grow_with_the_catalogue(
    db, client, params, django_assert_max_num_queries
):
    user = make_user("reader")
    bulk = make_team("bulk")
    add_member(user, bulk, "contributor")
    client.force_login(user)
    _populate(5, team=bulk)

    # session, user, count, page of models, their tags, the team and tag options, the
    # team/tag values validated, "may create models?", the review-queue badge of the navigation
    with django_assert_max_num_queries(12):
        client.get(URL, params)
    before = _count_queries(client, params)
    _populate(40, start=5, team=bulk)
    after = _count_queries(client, params)

    assert before == after


def test_the_htmx_fragment_stays_within_its_query_budget(
    signed_in, catalogue, django_assert_max_num_queries
):
    _populate(10)

    # session, user, count, page of models, their tags, "may create models?"
    with django_assert_max_num_queries(7):
        signed_in.get(URL, headers={"HX-Request": "true"})
