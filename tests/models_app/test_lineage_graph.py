"""The lineage graph layout: a pure function from versions and dataset links to boxes and
edges, and the graph as the version page's lineage tab draws it."""

import pytest
from django.urls import reverse

from models_app.lineage import (
    MAX_ANCESTORS_SHOWN,
    MAX_CHILDREN_SHOWN,
    build_lineage_graph,
    fit,
    fit_keeping,
)
from models_app.models import VersionDataset
from tests.factories import make_dataset, make_model, make_version


def version(pk, number, model="fraud", **extra):
    return {"id": pk, "model": model, "version": number, "href": f"/v/{pk}/", **extra}


def ids(graph, kind):
    return [node.id for node in graph.nodes if node.kind == kind]


def test_ancestors_sit_above_the_version_and_children_below_it():
    graph = build_lineage_graph(
        ancestors=[version(1, 1), version(2, 2)],
        current=version(3, 3),
        children=[version(4, 4), version(5, 1, model="fraud-distilled")],
        external_base="hf.co/public/tabular-base",
    )

    order = [node.id for node in sorted(graph.nodes, key=lambda node: node.y)]
    assert order == ["external", "v1", "v2", "v3", "v4", "v5"]
    assert graph.node("v3").kind == "current"
    assert ids(graph, "child") == ["v4", "v5"]
    # Children are indented under the version, like a tree.
    assert graph.node("v4").x > graph.node("v3").x
    derived = [(edge.source, edge.target) for edge in graph.edges if edge.kind == "derived"]
    assert derived == [
        ("external", "v1"),
        ("v1", "v2"),
        ("v2", "v3"),
        ("v3", "v4"),
        ("v3", "v5"),
    ]
    assert graph.node("v5").label == "fraud-distilled v1"
    assert graph.node("v4").href == "/v/4/"
    assert graph.node("external").sublabel == "external base model"
    assert graph.width > 0 and graph.height > graph.node("v5").y


def test_a_dataset_that_fed_several_versions_is_one_box_with_an_edge_to_each():
    links = [
        {
            "version_id": 1,
            "dataset_id": 7,
            "name": "holdout",
            "version": "v1",
            "role": "evaluation",
        },
        {
            "version_id": 2,
            "dataset_id": 7,
            "name": "holdout",
            "version": "v1",
            "role": "evaluation",
        },
        {
            "version_id": 2,
            "dataset_id": 8,
            "name": "cards",
            "version": "2024-06",
            "role": "training",
            "digest": "sha256:abc",
        },
        # A link of a version outside the graph draws nothing.
        {"version_id": 99, "dataset_id": 9, "name": "other", "role": "training"},
    ]

    graph = build_lineage_graph(ancestors=[version(1, 1)], current=version(2, 2), datasets=links)

    datasets = [node for node in graph.nodes if node.kind == "dataset"]
    assert [node.label for node in datasets] == ["holdout@v1", "cards@2024-06"]
    assert datasets[1].sublabel == "training · sha256:abc"
    assert datasets[1].role == "training"
    edges = sorted((e.source, e.target) for e in graph.edges if e.kind == "dataset")
    assert edges == [("v1", "d7-evaluation"), ("v2", "d7-evaluation"), ("v2", "d8-training")]
    # Datasets form a column to the right of every version box, without overlapping.
    versions_right = max(n.x + n.width for n in graph.nodes if n.kind != "dataset")
    assert all(node.x > versions_right for node in datasets)
    assert datasets[1].y >= datasets[0].y + datasets[0].height
    assert graph.roles == ["training", "evaluation"]


def test_a_hidden_ancestor_is_a_note_that_names_nothing():
    graph = build_lineage_graph(
        ancestors=[version(2, 2)],
        current=version(3, 3),
        external_base="secret-base",
        hidden_ancestor=True,
    )

    assert ids(graph, "note") == ["hidden"]
    assert not ids(graph, "external")
    assert "secret" not in " ".join(node.label + node.title for node in graph.nodes)


def test_a_long_chain_shows_the_nearest_generations_under_a_note():
    ancestors = [version(n, n) for n in range(1, MAX_ANCESTORS_SHOWN + 4)]

    graph = build_lineage_graph(
        ancestors=ancestors, current=version(100, 100), external_base="hf.co/base"
    )

    assert len(ids(graph, "ancestor")) == MAX_ANCESTORS_SHOWN
    assert ids(graph, "ancestor")[-1] == f"v{MAX_ANCESTORS_SHOWN + 3}"
    assert ids(graph, "note") == ["older"]


def test_many_children_end_with_a_note():
    children = [version(n, n) for n in range(10, 10 + MAX_CHILDREN_SHOWN + 2)]

    graph = build_lineage_graph(ancestors=[], current=version(1, 1), children=children)

    assert len(ids(graph, "child")) == MAX_CHILDREN_SHOWN
    assert ids(graph, "note") == ["more"]


def test_long_labels_are_cut_to_fit_and_kept_whole_in_the_tooltip():
    long_name = "a-really-long-model-name-for-the-support-assistant"

    graph = build_lineage_graph(ancestors=[], current=version(1, 12, model=long_name))

    node = graph.node("v1")
    # The name is cut, never the version number: the reader must see which version it is.
    assert node.label.endswith("… v12") and len(node.label) < len(long_name)
    assert node.title.startswith(f"{long_name} v12")
    assert fit("short", 200) == "short"


def test_a_long_dataset_name_is_cut_before_its_version():
    dataset = {
        "version_id": 1,
        "dataset_id": 7,
        "name": "support-conversations-validation-holdout",
        "version": "2026-07-15",
        "role": "validation",
        "digest": "sha256:abc",
    }

    graph = build_lineage_graph(ancestors=[], current=version(1, 3), datasets=[dataset])

    label = graph.node("d7-validation").label
    assert label.endswith("…@2026-07-15")
    assert graph.node("d7-validation").title.startswith(
        "support-conversations-validation-holdout@2026-07-15"
    )
    assert fit_keeping("name", "@" + "9" * 80, 300).endswith("…")


# --- on the version page -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_lineage_tab_draws_the_graph_with_links_and_datasets(client, contributor, team):
    model = make_model("fraud-detector", team=team)
    root = make_version(model, external_base_model="hf.co/public/tabular-base")
    current = make_version(model, parent=root)
    child = make_version(make_model("fraud-distilled", team=team), parent=current)
    VersionDataset.objects.create(
        version=root, dataset=make_dataset("cards", version="2024-05"), role="training"
    )
    client.force_login(contributor)

    url = reverse("models_app:version_detail", args=["fraud-detector", current.version])
    response = client.get(f"{url}?tab=lineage")

    content = response.content.decode()
    graph = content.split('<svg class="lineage-graph"')[1].split("</svg>")[0]
    for linked in (root, child):
        assert f'<a href="{linked.get_absolute_url()}" class="lg-link">' in graph
    assert "hf.co/public/tabular-base" in graph
    assert "cards@2024-05" in graph
    assert "this version" in graph
    assert response.context["lineage_graph"].roles == ["training"]
