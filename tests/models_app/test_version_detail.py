"""The version page: its five tabs as full pages and htmx fragments, who may see it, and
how many queries it costs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from models_app import services
from models_app.models import Tag, VersionDataset
from models_app.views.versions import LINEAGE_MAX_DEPTH, format_metric_value
from tests.factories import (
    make_alias,
    make_artifact_row,
    make_dataset,
    make_metric,
    make_metric_definition,
    make_model,
    make_user,
    make_version,
)

TABS = ["overview", "lineage", "metrics", "artifacts", "history"]
HTMX = {"HX-Request": "true", "HX-Target": "version-tabs"}


def page_url(version, tab=None):
    url = reverse("models_app:version_detail", args=[version.model.name, version.version])
    return f"{url}?tab={tab}" if tab else url


@pytest.fixture
def version(registered_model):
    return make_version(
        registered_model,
        framework="xgboost",
        framework_version="2.1.0",
        architecture="Gradient-boosted trees, 400 rounds",
        source_uri="https://ci.example.com/runs/8812",
        description="Retrained on **June** data.",
        intended_use="Scores card payments for fraud review.",
    )


# --- tabs: full page and fragment ----------------------------------------------------------


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_opens_as_a_full_page_with_that_tab_selected(client, contributor, version, tab):
    client.force_login(contributor)

    response = client.get(page_url(version, tab))

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" in content
    assert f"models_app/version_tab_{tab}.html" in [t.name for t in response.templates]
    assert f'id="tab-{tab}" href="{page_url(version, tab)}"' in content
    selected = content.split(f'id="tab-{tab}"')[1].split(">")[0]
    assert 'aria-selected="true"' in selected
    # The header is there around the tab.
    assert "Fraud detector" in content
    assert "Models</a> ›" in content


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_comes_back_as_a_fragment_for_htmx(client, contributor, version, tab):
    client.force_login(contributor)

    response = client.get(page_url(version, tab), headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "<body" not in content
    assert content.strip().startswith('<div id="version-tabs"')
    assert f'hx-get="{page_url(version, tab)}"' in content
    assert 'hx-target="#version-tabs"' in content
    assert 'hx-push-url="true"' in content
    assert response["Vary"].count("HX-Request") == 1


def test_a_history_restore_gets_the_whole_page(client, contributor, version):
    client.force_login(contributor)

    response = client.get(
        page_url(version, "metrics"), headers={**HTMX, "HX-History-Restore-Request": "true"}
    )

    assert "<html" in response.content.decode()


def test_an_unknown_tab_shows_the_overview(client, contributor, version):
    client.force_login(contributor)

    response = client.get(page_url(version, "nonsense"))

    assert response.status_code == 200
    assert response.context["tab"] == "overview"


def test_it_rejects_post(client, contributor, version):
    client.force_login(contributor)

    assert client.post(page_url(version)).status_code == 405


# --- who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize("tab", TABS)
def test_a_restricted_version_is_404_for_outsiders(client, outsider, restricted_model, tab):
    version = make_version(restricted_model)
    client.force_login(outsider)

    assert client.get(page_url(version, tab)).status_code == 404
    assert client.get(page_url(version, tab), headers=HTMX).status_code == 404


def test_a_restricted_version_is_shown_to_its_teams_viewers(client, viewer, restricted_model):
    version = make_version(restricted_model)
    client.force_login(viewer)

    assert client.get(page_url(version)).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, version):
    response = client.get(page_url(version))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_version_is_404(client, contributor, registered_model):
    client.force_login(contributor)
    url = reverse("models_app:version_detail", args=[registered_model.name, 99])

    assert client.get(url).status_code == 404


def test_contributors_see_the_action_buttons_and_viewers_do_not(
    client, contributor, viewer, version
):
    edit_url = reverse("models_app:version_edit", args=[version.model.name, version.version])
    client.force_login(contributor)
    assert edit_url in client.get(page_url(version)).content.decode()

    client.force_login(viewer)
    content = client.get(page_url(version)).content.decode()
    assert edit_url not in content
    assert "Upload artefact" not in content


# --- header and overview -------------------------------------------------------------------


def test_an_archived_models_version_offers_no_edit_buttons(
    client, contributor, registered_model, version
):
    services.archive_model(actor=contributor, model=registered_model, reason="Replaced")
    client.force_login(contributor)

    content = client.get(page_url(version)).content.decode()

    assert "Model archived" in content
    assert "Edit card" not in content
    assert "Log metrics" not in content
    assert "Upload artefact" not in content


def test_the_header_shows_aliases_tags_badges_and_card_state(client, contributor, version):
    make_alias(version.model, "champion", version)
    version.tags.add(Tag.objects.create(name="tabular"))
    version.deprecated_at = version.created_at
    version.save()
    client.force_login(contributor)

    content = client.get(page_url(version)).content.decode()

    assert "@champion" in content
    assert ">tabular</a>" in content
    assert "Deprecated" in content
    assert "Model card incomplete" in content
    assert 'Fraud detector <span class="version-chip">v1</span>' in content


def test_the_overview_shows_the_details_and_the_model_card(client, contributor, version):
    version.created_by = contributor
    version.save()
    client.force_login(contributor)

    content = client.get(page_url(version)).content.decode()

    assert "carol" in content
    assert "XGBoost" in content
    assert "2.1.0" in content
    assert "Gradient-boosted trees, 400 rounds" in content
    assert '<a href="https://ci.example.com/runs/8812"' in content
    assert "Retrained on <strong>June</strong> data." in content
    assert "Scores card payments for fraud review." in content
    # Limitations and ethical considerations are empty.
    assert content.count("Not written yet.") == 2


def test_a_source_that_is_not_a_web_address_is_not_a_link(client, contributor, registered_model):
    version = make_version(registered_model, source_uri="javascript:alert(1)")
    client.force_login(contributor)

    content = client.get(page_url(version)).content.decode()

    assert 'href="javascript:' not in content
    assert "javascript:alert(1)" in content


def test_markdown_is_sanitised(client, contributor, registered_model):
    version = make_version(
        registered_model,
        description="**safe** <script>alert('boom')</script>",
        limitations='<img src="x" onerror="alert(1)"> [link](javascript:alert(2))',
    )
    client.force_login(contributor)

    content = client.get(page_url(version)).content.decode()

    assert "<strong>safe</strong>" in content
    assert "<script>alert" not in content
    assert "onerror" not in content
    assert "javascript:alert(2)" not in content


# --- lineage -------------------------------------------------------------------------------


@pytest.fixture
def family(registered_model):
    """base model → root → parent → version → two children (one in another model)."""
    root = make_version(registered_model, external_base_model="hf.co/public/tabular-base")
    parent = make_version(registered_model, parent=root)
    version = make_version(
        registered_model,
        parent=parent,
        hyperparameters={"max_depth": 8, "eta": 0.05, "objective": "binary:logistic", "tags": [1]},
    )
    child = make_version(registered_model, parent=version)
    other = make_model("fraud-distilled", team=registered_model.team)
    cousin = make_version(other, parent=version)
    return {"root": root, "parent": parent, "version": version, "children": [child, cousin]}


def test_lineage_walks_to_the_root_and_shows_the_external_base(client, contributor, family):
    client.force_login(contributor)

    response = client.get(page_url(family["version"], "lineage"))

    assert response.context["ancestors"] == [family["root"], family["parent"]]
    assert response.context["external_base"] == "hf.co/public/tabular-base"
    content = response.content.decode()
    assert "hf.co/public/tabular-base" in content
    root_at = content.index(page_url(family["root"]))
    parent_at = content.index(page_url(family["parent"]))
    this_at = content.index("(this version)")
    assert root_at < parent_at < this_at


def test_lineage_lists_the_children(client, contributor, family):
    client.force_login(contributor)

    content = client.get(page_url(family["version"], "lineage")).content.decode()

    for child in family["children"]:
        assert page_url(child) in content
    assert "fraud-distilled <strong>v1</strong>" in content


def test_lineage_shows_datasets_and_sorted_hyperparameters(client, contributor, family):
    version = family["version"]
    VersionDataset.objects.create(
        version=version,
        dataset=make_dataset(
            "holdout", version="2024-q2", uri="s3://data/holdout", digest="sha256:abc"
        ),
        role="evaluation",
    )
    VersionDataset.objects.create(
        version=version, dataset=make_dataset("payments", version="2024-06"), role="training"
    )
    client.force_login(contributor)

    response = client.get(page_url(version, "lineage"))

    assert [link.role for link in response.context["dataset_links"]] == ["training", "evaluation"]
    content = response.content.decode()
    for text in ["payments", "2024-06", "holdout", "2024-q2", "s3://data/holdout", "sha256:abc"]:
        assert text in content
    assert [key for key, _ in response.context["hyperparameters"]] == [
        "eta",
        "max_depth",
        "objective",
        "tags",
    ]
    assert ("tags", "[1]") in response.context["hyperparameters"]


def test_lineage_does_not_name_an_ancestor_the_user_cannot_see(
    client, contributor, registered_model, other_team
):
    hidden_model = make_model("vision-secret", team=other_team, restricted=True)
    hidden = make_version(hidden_model, external_base_model="secret-base")
    version = make_version(registered_model, parent=hidden)
    client.force_login(contributor)

    response = client.get(page_url(version, "lineage"))
    overview = client.get(page_url(version)).content.decode()

    content = response.content.decode()
    assert response.context["hidden_ancestor"] is True
    assert "vision-secret" not in content
    assert "secret-base" not in content
    assert "a model you cannot see" in content
    assert "vision-secret" not in overview


def test_lineage_stops_at_the_depth_cap(client, contributor, registered_model):
    parent = None
    for _ in range(LINEAGE_MAX_DEPTH + 5):
        parent = make_version(registered_model, parent=parent)
    version = make_version(registered_model, parent=parent)
    client.force_login(contributor)

    response = client.get(page_url(version, "lineage"))

    assert len(response.context["ancestors"]) == LINEAGE_MAX_DEPTH
    assert response.context["lineage_truncated"] is True
    assert response.context["ancestors"][-1] == parent
    assert "Older generations not shown" in response.content.decode()


def test_lineage_costs_the_same_queries_at_any_depth(client, contributor, registered_model):
    def lineage_queries(depth):
        parent = None
        for _ in range(depth):
            parent = make_version(registered_model, parent=parent)
        version = make_version(registered_model, parent=parent)
        with CaptureQueriesContext(connection) as queries:
            client.get(page_url(version, "lineage"), headers=HTMX)
        return len(queries)

    client.force_login(contributor)

    assert lineage_queries(2) == lineage_queries(12)


# --- metrics -------------------------------------------------------------------------------


def test_metrics_show_the_latest_value_with_unit_and_direction(client, contributor, version):
    make_metric_definition("accuracy", higher_is_better=True, display_name="Accuracy")
    make_metric_definition("latency_p95", unit="ms", higher_is_better=False)
    make_metric(version, "accuracy", 0.91)
    make_metric(version, "accuracy", 0.934)
    make_metric(version, "latency_p95", 41.5, slice="eu")
    make_metric(version, "latency_p95", 57.25, slice="us")
    for step, loss in enumerate([0.9, 0.5, 0.31]):
        make_metric(version, "loss", loss, step=step)
    make_metric(version, "loss", 0.7, step=1)  # logged late, but not the highest step
    client.force_login(contributor)

    response = client.get(page_url(version, "metrics"))

    groups = {group["key"]: group for group in response.context["metric_groups"]}
    assert list(groups) == ["accuracy", "latency_p95", "loss"]
    assert groups["accuracy"]["rows"][0]["value"] == 0.934
    assert groups["accuracy"]["rows"][0]["entries"] == 2
    assert [row["slice"] for row in groups["latency_p95"]["rows"]] == ["eu", "us"]
    assert groups["loss"]["rows"][0]["value"] == 0.31
    assert groups["loss"]["rows"][0]["steps"] == 4
    assert groups["loss"]["definition"] is None
    content = response.content.decode()
    assert "0.934" in content
    assert '57.25</strong> <span class="unit">ms</span>' in content
    assert "↑ higher is better" in content
    assert "↓ lower is better" in content
    assert "4 steps, last 2" in content
    assert "not defined" in content


def test_metrics_tab_says_when_there_are_none(client, contributor, version):
    client.force_login(contributor)

    assert "No metrics were logged" in client.get(page_url(version, "metrics")).content.decode()


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.93456789, "0.9346"), (41.5, "41.5"), (15000.0, "15,000"), (0.0, "0"), (2.5e-7, "2.5e-07")],
)
def test_metric_values_are_shown_with_a_readable_number_of_digits(value, shown):
    assert format_metric_value(value) == shown


# --- artefacts -----------------------------------------------------------------------------


def test_artefacts_are_listed_with_size_digest_and_download_link(client, contributor, version):
    sha = "ab" * 32
    make_artifact_row(
        version, "weights/model.json", kind="weights", size=2048, sha256=sha, created_by=contributor
    )
    make_artifact_row(version, "config.yaml", kind="config", size=12, sha256="cd" * 32)
    client.force_login(contributor)

    content = client.get(page_url(version, "artifacts")).content.decode()

    download = reverse(
        "models_app:artifact_download", args=[version.model.name, 1, "weights/model.json"]
    )
    assert f'href="{download}"' in content
    assert "2.0 KB" in content
    assert f'title="{sha}">{sha[:12]}…</code>' in content
    assert f'data-copy="{sha}"' in content
    assert "Weights" in content
    assert "carol" in content
    assert content.index("config.yaml") < content.index("weights/model.json")
    assert "2 files" in content


# --- history -------------------------------------------------------------------------------


def test_history_lists_this_versions_events_newest_first(
    client, contributor, registered_model, version
):
    other_version = make_version(registered_model)
    services.log_metrics(
        actor=contributor, version=version, metrics=[{"key": "auc", "value": 0.97}]
    )
    services.update_version_card(
        actor=contributor, version=version, limitations="Not for cash withdrawals."
    )
    services.log_metrics(
        actor=contributor, version=other_version, metrics=[{"key": "auc", "value": 0.5}]
    )
    client.force_login(contributor)

    response = client.get(page_url(version, "history"))

    events = list(response.context["page"])
    assert [event.action for event in events] == [
        "models_app.version.card_updated",
        "models_app.version.metrics_logged",
    ]
    content = response.content.decode()
    assert "version card updated" in content
    assert "auc=0.97" in content
    assert "auc=0.5" not in content
    assert "Not for cash withdrawals." in content
    assert "carol" in content


def test_history_is_paginated(client, contributor, version):
    for index in range(30):
        services.log_metrics(
            actor=contributor, version=version, metrics=[{"key": "step", "value": index}]
        )
    client.force_login(contributor)

    first = client.get(page_url(version, "history"), headers=HTMX)
    second = client.get(page_url(version, "history") + "&page=2", headers=HTMX)

    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert "?tab=history&amp;page=2" in first.content.decode()


# --- query budget --------------------------------------------------------------------------


def _add_rows(version, actor, start, count):
    """Rows of every kind the page shows, so that an N+1 anywhere would show up."""
    model = version.model
    for index in range(start, start + count):
        key = f"metric_{index}"
        make_metric_definition(key, unit="ms")
        services.log_metrics(
            actor=actor,
            version=version,
            metrics=[
                {"key": key, "value": index},
                {"key": key, "value": index + 1, "slice": "eu"},
                {"key": key, "value": index + 2, "step": 3},
            ],
        )
        make_artifact_row(version, f"files/part-{index}.bin", sha256=f"{index:064x}")
        VersionDataset.objects.create(
            version=version, dataset=make_dataset(f"data-{index}"), role="training"
        )
        make_version(model, parent=version, created_by=make_user())
        make_alias(model, f"alias-{index}", version)
        version.tags.add(Tag.objects.create(name=f"tag-{index}"))


# overview: none; lineage: chain ids, chain rows, children, datasets; metrics: grouped rows,
# definitions; artifacts: one; history: count and page.
TAB_QUERIES = {"overview": 0, "lineage": 4, "metrics": 2, "artifacts": 1, "history": 2}


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_query_count_does_not_grow_with_rows(
    client, contributor, registered_model, django_assert_max_num_queries, tab, htmx
):
    grandparent = make_version(registered_model)
    parent = make_version(registered_model, parent=grandparent)
    version = make_version(registered_model, parent=parent, created_by=contributor)
    client.force_login(contributor)
    headers = HTMX if htmx else {}

    _add_rows(version, contributor, 0, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(page_url(version, tab), headers=headers).status_code == 200
    _add_rows(version, contributor, 3, 12)
    # Every request: session, user, version, tab counts, the user's role in the team; then
    # the tab's own queries; a full page adds aliases, tags and one for the site's header.
    budget = 5 + TAB_QUERIES[tab] + (0 if htmx else 3)
    with django_assert_max_num_queries(budget):
        assert client.get(page_url(version, tab), headers=headers).status_code == 200
    with CaptureQueriesContext(connection) as many:
        client.get(page_url(version, tab), headers=headers)

    assert len(many) == len(few)


def test_the_overview_shows_the_run_and_properties_and_never_links_a_script_uri(
    client, contributor, registered_model
):
    from models_app.services import register_version

    version = register_version(
        actor=contributor,
        model=registered_model,
        run_id="run-42",
        run_link="javascript:alert(1)",
        properties={"mlflow.model_id": "m-7"},
    )
    client.force_login(contributor)

    page = client.get(version.get_absolute_url()).content.decode()

    assert "run-42" in page
    assert "mlflow.model_id" in page and "m-7" in page
    assert 'href="javascript:' not in page
