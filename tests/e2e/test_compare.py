"""In Chromium: pick three versions on a model page, compare them, keep only the differences,
and see the plotly charts drawn."""

import pytest

from tests.factories import (
    add_member,
    make_metric,
    make_metric_definition,
    make_model,
    make_team,
    make_user,
    make_version,
)


@pytest.fixture
def fraud_model(db):
    team = make_team("fraud-risk", name="Fraud & Risk")
    add_member(make_user("engineer", password="demo"), team, "contributor")
    model = make_model("fraud-classifier", team=team, display_name="Card fraud classifier")
    make_metric_definition("auc", display_name="ROC AUC", unit="ratio", higher_is_better=True)
    for number, auc in enumerate((0.91, 0.93, 0.95, 0.94), start=1):
        version = make_version(
            model, framework="xgboost", hyperparameters={"max_depth": 6, "eta": 0.1 / number}
        )
        make_metric(version, "auc", auc)
        for step in range(1, 6):
            make_metric(version, "train_loss", (1 + number / 10) / step, step=step)
    return model


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_select_three_versions_compare_them_and_see_the_charts(page, sign_in, fraud_model):
    sign_in("engineer")
    page.goto("/models/fraud-classifier/")

    for number in (1, 2, 4):
        page.check(f"input[name=v][value='fraud-classifier:{number}']")
    page.click("button:has-text('Compare selected')")

    page.wait_for_url("**/compare/?**")
    assert page.url.count("v=fraud-classifier") == 3
    table = page.locator("#comparison table")
    assert table.locator("thead th.cmp-version").count() == 3
    assert table.locator("tr:has-text('max_depth')").count() == 1

    page.click("#comparison .cmp-switch")
    page.wait_for_selector("#comparison .cmp-switch[aria-checked=true]")
    page.wait_for_url("**diff=1**")
    # max_depth is the same in every version, so differences-only leaves it out; eta differs.
    assert page.locator("#comparison tr:has-text('max_depth')").count() == 0
    assert page.locator("#comparison tr:has-text('eta')").count() == 1

    # The charts arrive through htmx; their inline scripts must run for plotly to draw SVG.
    page.wait_for_selector("#chart-bars .js-plotly-plot svg")
    page.wait_for_selector("#chart-curves .js-plotly-plot svg")
    assert page.locator("#chart-bars .js-plotly-plot .legendtext").count() == 3


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_model_page_draws_the_metric_trend_and_switches_metric(page, sign_in, fraud_model):
    sign_in("engineer")
    page.goto("/models/fraud-classifier/")

    page.wait_for_selector("#trends .js-plotly-plot svg")
    page.select_option("#trends-metric", "train_loss")
    page.wait_for_selector("#trends .gtitle:has-text('train_loss across versions')")
    assert page.locator("#trends .js-plotly-plot svg").count() > 0
