"""/compare/: who may compare what, bad input, the table, the htmx refresh, the CSV export,
the lazily loaded charts, the model page's metric trends, and what each costs in queries."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from models_app import extensions
from models_app.models import VersionDataset
from tests.factories import (
    make_alias,
    make_dataset,
    make_deployment,
    make_environment,
    make_metric,
    make_metric_definition,
    make_version,
)

COMPARE = reverse("models_app:compare")
CHART = reverse("models_app:compare_chart")
TABLE_HTMX = {"HX-Request": "true", "HX-Target": "comparison"}
CHART_HTMX = {"HX-Request": "true", "HX-Target": "chart-bars"}


def compare_url(*refs, **params):
    query = "&".join([f"v={ref}" for ref in refs] + [f"{k}={v}" for k, v in params.items()])
    return f"{COMPARE}?{query}"


def chart_url(*refs, kind="bars", extra=""):
    return f"{CHART}?{'&'.join(f'v={ref}' for ref in refs)}&kind={kind}{extra}"


@pytest.fixture
def trio(registered_model):
    """Three versions of fraud-detector: v2 serves production, v3 is the newest."""
    make_metric_definition("auc", display_name="ROC AUC", unit="ratio", higher_is_better=True)
    make_metric_definition(
        "latency_p95_ms", display_name="Latency p95", unit="ms", higher_is_better=False
    )
    versions = [
        make_version(
            registered_model,
            framework="xgboost",
            framework_version="2.1.0",
            hyperparameters={"max_depth": 6, "eta": eta},
        )
        for eta in (0.1, 0.05, 0.05)
    ]
    for version, auc, latency in zip(versions, (0.90, 0.93, 0.95), (40.0, 35.0, 38.0), strict=True):
        make_metric(version, "auc", auc)
        make_metric(version, "latency_p95_ms", latency)
    make_metric(versions[2], "recall", 0.8, slice="gender=female")
    for step in range(1, 4):
        make_metric(versions[1], "train_loss", 1 / step, step=step)
    make_deployment(versions[1], make_environment("production", order=30))
    make_alias(registered_model, "champion", versions[1])
    return versions


def refs_of(versions):
    return [f"{v.model.name}:{v.version}" for v in versions]


# --- who may compare what ----------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(compare_url("fraud-detector:1", "fraud-detector:2"))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_restricted_version_is_reported_exactly_like_an_unknown_one(
    client, outsider, restricted_model, trio
):
    make_version(restricted_model)
    client.force_login(outsider)
    known = refs_of(trio[:1])[0]

    hidden = client.get(compare_url(known, "secret-scorer:1"))
    unknown = client.get(compare_url(known, "no-such-model:1"))

    assert hidden.status_code == unknown.status_code == 400
    assert hidden.context["problem"] == unknown.context["problem"].replace(
        "no-such-model", "secret-scorer"
    )
    assert "Not found: secret-scorer:1" in hidden.content.decode()
    # Nothing else on the page differs either: no suggestion, no link, no title.
    assert _comparable(hidden, "secret-scorer") == _comparable(unknown, "no-such-model")


def _comparable(response, name):
    """The page with the name the user typed and the per-request CSRF token blanked out."""
    content = response.content.decode().replace(name, "NAME")
    return re.sub(r'("x-csrftoken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", content)


def test_members_of_the_owning_team_compare_restricted_versions(
    client, viewer, restricted_model, trio
):
    secret = make_version(restricted_model)
    client.force_login(viewer)

    response = client.get(compare_url(*refs_of([trio[0], secret])))

    assert response.status_code == 200
    assert "secret-scorer" in response.content.decode()


def test_an_unknown_version_number_of_a_visible_model_is_named(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url("fraud-detector:1", "fraud-detector:99"))

    assert response.status_code == 400
    assert "Not found: fraud-detector:99" in response.content.decode()


# --- bad input ---------------------------------------------------------------------------------


def test_it_refuses_more_than_ten_versions_with_a_message(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url(*[f"fraud-detector:{n}" for n in range(1, 12)]))

    assert response.status_code == 400
    assert "At most 10 versions" in response.content.decode()


def test_a_malformed_version_gets_a_message_and_a_way_to_remove_it(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url("fraud-detector:1", "fraud-detector-2"))

    assert response.status_code == 400
    content = response.content.decode()
    assert "“fraud-detector-2” is not a version" in content
    assert f'href="{COMPARE}?v=fraud-detector%3A1"' in content


def test_fewer_than_two_versions_asks_for_another_one(client, contributor, trio):
    client.force_login(contributor)

    one = client.get(compare_url("fraud-detector:1"))
    none = client.get(COMPARE)

    assert one.status_code == none.status_code == 200
    assert "Add at least one more version" in one.content.decode()
    assert "comparison" not in one.context
    # The add field suggests the model's other versions.
    assert one.context["suggestions"] == ["fraud-detector:3", "fraud-detector:2"]
    assert "Name the versions to compare" in none.content.decode()


def test_the_same_version_twice_counts_once(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url("fraud-detector:1", "fraud-detector:1"))

    assert response.status_code == 200
    assert "Add at least one more version" in response.content.decode()


# --- the table ---------------------------------------------------------------------------------


def metric_row(response, key):
    rows = next(s for s in response.context["comparison"].sections if s.key == "metrics").rows
    return next(row for row in rows if row.key == key)


def test_the_baseline_defaults_to_the_version_in_production(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url(*refs_of(trio)))

    assert response.status_code == 200
    assert response.context["baseline_ref"] == "fraud-detector:2"
    assert response.context["baseline_reason"] == "production"
    auc = metric_row(response, "auc")
    assert [cell.tone for cell in auc.cells] == ["bad", "", "good"]
    latency = metric_row(response, "latency_p95_ms")
    assert [cell.delta_text for cell in latency.cells] == ["+5 ms", "", "+3 ms"]
    assert [cell.tone for cell in latency.cells] == ["bad", "", "bad"]
    content = response.content.decode()
    assert "In production" in content and "@champion" in content


def test_a_chosen_baseline_wins(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url(*refs_of(trio), baseline="fraud-detector:1"))

    assert response.context["baseline_ref"] == "fraud-detector:1"
    assert [cell.tone for cell in metric_row(response, "auc").cells] == ["", "good", "good"]


def test_a_missing_metric_shows_as_missing_not_zero(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url(*refs_of(trio)))

    recall = metric_row(response, "recall[gender=female]")
    assert [cell.text for cell in recall.cells] == ["—", "—", "0.8"]
    assert "0.0" not in [cell.text for cell in recall.cells]


def test_the_table_shows_datasets_artefacts_and_hyperparameters(client, contributor, trio):
    VersionDataset.objects.create(
        version=trio[0],
        dataset=make_dataset("cards", version="2024-05", digest="sha256:feedbeef"),
        role="training",
    )
    client.force_login(contributor)

    content = client.get(compare_url(*refs_of(trio))).content.decode()

    for text in ("Training · cards", "2024-05", "sha256:feedbeef", "max_depth", "XGBoost 2.1.0"):
        assert text in content


def test_differences_only_hides_rows_where_all_versions_agree(client, contributor, trio):
    client.force_login(contributor)

    everything = client.get(compare_url(*refs_of(trio)))
    differences = client.get(compare_url(*refs_of(trio), diff=1))

    def keys(response, section):
        rows = next(s for s in response.context["comparison"].sections if s.key == section).rows
        return [row.key for row in rows]

    assert keys(everything, "hyperparameters") == ["eta", "max_depth"]
    assert keys(differences, "hyperparameters") == ["eta"]
    assert "Framework" in keys(everything, "overview")
    assert "Framework" not in keys(differences, "overview")
    assert 'aria-checked="true"' in differences.content.decode()


def test_the_htmx_toggle_returns_the_table_without_the_layout(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url(*refs_of(trio), diff=1), headers=TABLE_HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert content.lstrip().startswith('<div id="comparison"')
    # The switch links back to the same comparison without diff=1, for the browser's URL.
    assert 'hx-push-url="true"' in content
    toggle = content.split('class="cmp-switch"')[1].split(">")[0]
    assert "diff=" not in toggle.split('href="')[1].split('"')[0]


def test_an_htmx_baseline_change_also_refreshes_the_heading_and_the_export_link(
    client, contributor, trio
):
    client.force_login(contributor)

    response = client.get(
        compare_url(*refs_of(trio), diff=1, baseline="fraud-detector:1"), headers=TABLE_HTMX
    )

    content = response.content.decode()
    header = content.split('id="cmp-header"')[1].split("</div>\n</div>")[0]
    assert 'hx-swap-oob="true"' in header
    assert "fraud-detector:1" in header and "chosen as the baseline" in header
    export = header.split("Export CSV")[0].rsplit('href="', 1)[1]
    assert "diff=1" in export and "baseline=fraud-detector%3A1" in export
    add_form = content.split('id="cmp-add"')[1].split("</form>")[0]
    assert 'hx-swap-oob="true"' in add_form
    assert 'name="baseline" value="fraud-detector:1"' in add_form
    assert 'name="diff" value="1"' in add_form


def test_the_full_page_has_no_out_of_band_swaps(client, contributor, trio):
    client.force_login(contributor)

    content = client.get(compare_url(*refs_of(trio))).content.decode()

    assert content.count('id="cmp-header"') == 1
    assert "hx-swap-oob" not in content


def test_the_full_page_loads_plotly_from_static_and_charts_lazily(client, contributor, trio):
    client.force_login(contributor)

    content = client.get(compare_url(*refs_of(trio))).content.decode()

    assert "/static/vendor/plotly/plotly.min.js" in content
    assert "cdn" not in content.lower()
    for kind in ("bars", "curves", "slices"):
        assert f"kind={kind}" in content
    assert 'hx-trigger="load"' in content


# --- CSV ---------------------------------------------------------------------------------------


def test_the_csv_export_has_a_column_per_version_and_guards_formulas(
    client, contributor, registered_model
):
    first = make_version(registered_model, hyperparameters={"note": "=HYPERLINK(1)"})
    second = make_version(registered_model, hyperparameters={"note": "@SUM(A1)"})
    make_metric(first, "auc", 0.9)
    make_metric(second, "auc", 0.95)
    client.force_login(contributor)

    response = client.get(compare_url(*refs_of([first, second]), format="csv"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0][4:] == [
        "fraud-detector:1",
        "fraud-detector:2",
        "delta fraud-detector:2 vs fraud-detector:1",
    ]
    note = next(line for line in lines if line[1] == "note")
    assert note[4:6] == ["'=HYPERLINK(1)", "'@SUM(A1)"]
    auc = next(line for line in lines if line[1] == "auc")
    assert float(auc[6]) == pytest.approx(0.05)


# --- charts ------------------------------------------------------------------------------------


def test_the_bar_chart_partial_is_a_plotly_fragment_of_the_chosen_metrics(
    client, contributor, trio
):
    client.force_login(contributor)

    fragment = client.get(chart_url(*refs_of(trio)), headers=CHART_HTMX)
    # The test client records the context of whole templates only, so the rest asks for pages.
    default = client.get(chart_url(*refs_of(trio)))
    chosen = client.get(chart_url(*refs_of(trio), extra="&m=latency_p95_ms"))

    content = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in content
    assert "plotly-graph-div" in content and "Plotly.newPlot" in content
    assert 'name="m" value="auc"' in content
    assert default.context["chosen"] == ["auc"]  # the most common unit's metrics
    assert [info["id"] for info in default.context["available"]] == ["latency_p95_ms", "auc"]
    assert chosen.context["chosen"] == ["latency_p95_ms"]


def test_the_curve_and_slice_partials_chart_steps_and_slices(client, contributor, trio):
    client.force_login(contributor)

    curves = client.get(chart_url(*refs_of(trio), kind="curves"))
    slices = client.get(chart_url(*refs_of(trio), kind="slices"))

    assert len(curves.context["charts"]) == 1
    assert "train_loss" in curves.content.decode()
    assert len(slices.context["charts"]) == 1
    assert "gender=female" in slices.content.decode()


def test_a_chart_opened_directly_is_a_full_page_with_plotly(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(chart_url(*refs_of(trio)))

    content = response.content.decode()
    assert "<html" in content
    assert '<script src="/static/vendor/plotly/plotly.min.js"></script>' in content


def test_a_chart_of_a_hidden_version_says_not_found(client, outsider, restricted_model, trio):
    make_version(restricted_model)
    client.force_login(outsider)

    response = client.get(chart_url(refs_of(trio)[0], "secret-scorer:1"), headers=CHART_HTMX)

    assert response.status_code == 200  # htmx swaps the message in
    assert "Not found: secret-scorer:1" in response.content.decode()
    assert "Plotly" not in response.content.decode()


# --- metric trends on the model page -----------------------------------------------------------


@pytest.fixture
def gate_lines():
    def provider(model):
        return {"auc": [("Production gate ≥ 0.92", 0.92)]} if model.name == "fraud-detector" else {}

    extensions.register_metric_threshold_provider(provider)
    yield provider
    extensions.unregister_metric_threshold_provider(provider)


def test_trends_chart_the_gated_metric_with_markers_and_threshold_lines(
    client, contributor, trio, gate_lines
):
    client.force_login(contributor)
    url = reverse("models_app:model_trends", args=["fraud-detector"])

    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "trends"})
    response = client.get(url)

    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'id="trends"' in fragment.content.decode()
    content = response.content.decode()
    assert response.context["chosen"]["id"] == "auc"
    assert response.context["thresholds"] == [("Production gate ≥ 0.92", 0.92)]
    assert "Production gate ≥ 0.92" in content
    assert "Ran in production" in content


def test_trends_follow_the_chosen_metric_and_show_gaps(client, contributor, trio):
    client.force_login(contributor)
    url = reverse("models_app:model_trends", args=["fraud-detector"])

    response = client.get(f"{url}?metric=recall[gender=female]")

    assert response.context["chosen"]["id"] == "recall[gender=female]"
    assert (response.context["measured"], response.context["version_count"]) == (1, 3)
    assert "<html" in response.content.decode()


def test_trends_of_a_restricted_model_are_not_found_for_outsiders(
    client, outsider, restricted_model
):
    make_version(restricted_model)
    client.force_login(outsider)

    response = client.get(reverse("models_app:model_trends", args=["secret-scorer"]))

    assert response.status_code == 404


# --- query budgets -----------------------------------------------------------------------------


@pytest.fixture
def ten_versions(registered_model):
    """Ten versions with thirty metrics each: evaluations, slices and a training curve."""
    environment = make_environment("production", order=30)
    for index in range(20):
        make_metric_definition(f"metric_{index}", unit="ms" if index % 3 else "ratio")
    versions = []
    for number in range(10):
        version = make_version(registered_model, hyperparameters={"seed": number})
        for index in range(20):
            make_metric(version, f"metric_{index}", number + index / 10)
        for index in range(5):
            make_metric(version, "recall", 0.8, slice=f"group={index}")
        for step in range(1, 6):
            make_metric(version, "train_loss", 1 / step, step=step)
        VersionDataset.objects.create(
            version=version, dataset=make_dataset(f"data-{number}"), role="training"
        )
        make_alias(registered_model, f"alias-{number}", version)
        versions.append(version)
    make_deployment(versions[4], environment)
    return versions


def count_queries(client, url, headers=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    return len(queries)


# Every request: session and user. The page: versions, tags, aliases, datasets, artefacts,
# active deployments, latest metrics, metric definitions, visible parents, suggestions, and
# the header's review count. A chart: versions, metrics, definitions.
PAGE_BUDGET = 2 + 10 + 1
CHART_BUDGET = 2 + 3


def test_the_compare_page_costs_the_same_for_two_or_ten_versions(
    client, contributor, ten_versions, django_assert_max_num_queries
):
    client.force_login(contributor)
    refs = refs_of(ten_versions)

    two = count_queries(client, compare_url(*refs[:2]))
    ten = count_queries(client, compare_url(*refs))
    with django_assert_max_num_queries(PAGE_BUDGET):
        client.get(compare_url(*refs))
    table_two = count_queries(client, compare_url(*refs[:2], diff=1), TABLE_HTMX)
    table_ten = count_queries(client, compare_url(*refs, diff=1), TABLE_HTMX)
    csv_two = count_queries(client, compare_url(*refs[:2], format="csv"))
    csv_ten = count_queries(client, compare_url(*refs, format="csv"))

    assert two == ten
    assert table_two == table_ten <= ten
    assert csv_two == csv_ten


@pytest.mark.parametrize("kind", ["bars", "curves", "slices"])
def test_each_chart_costs_the_same_for_two_or_ten_versions(
    client, contributor, ten_versions, django_assert_max_num_queries, kind
):
    client.force_login(contributor)
    refs = refs_of(ten_versions)

    two = count_queries(client, chart_url(*refs[:2], kind=kind), CHART_HTMX)
    with django_assert_max_num_queries(CHART_BUDGET):
        response = client.get(chart_url(*refs, kind=kind), headers=CHART_HTMX)

    assert "Plotly.newPlot" in response.content.decode()
    assert two == count_queries(client, chart_url(*refs, kind=kind), CHART_HTMX)


def test_the_trends_card_costs_the_same_however_many_versions(
    client, contributor, registered_model, django_assert_max_num_queries
):
    environment = make_environment("staging", order=20)
    client.force_login(contributor)
    url = reverse("models_app:model_trends", args=[registered_model.name])
    headers = {"HX-Request": "true", "HX-Target": "trends"}

    def add_versions(count):
        for _ in range(count):
            version = make_version(registered_model)
            make_metric(version, "auc", 0.9)
            make_metric(version, "recall", 0.8, slice="group=a")
            make_deployment(version, environment, traffic_percent=10)

    add_versions(2)
    few = count_queries(client, url, headers)
    add_versions(10)

    # session, user, model, metric options, definitions, values, deployments; the approvals
    # app's gate thresholds add their own fixed two when it is installed.
    with django_assert_max_num_queries(9):
        client.get(url, headers=headers)
    assert count_queries(client, url, headers) == few


def test_an_htmx_refresh_of_versions_that_went_away_reloads_the_page(client, contributor, trio):
    client.force_login(contributor)

    response = client.get(compare_url("fraud-detector:1", "fraud-detector:99"), headers=TABLE_HTMX)

    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
