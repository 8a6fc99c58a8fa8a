"""A reviewer's first minutes: sign in, filter the catalogue live, open a version, switch tabs."""

import re

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_organisation(db):
    call_command("seed_demo", verbosity=0)


def test_a_user_filters_the_catalogue_and_browses_a_version(demo_organisation, page, sign_in):
    sign_in("engineer")
    page.goto("/models/")
    catalogue = page.locator("#results table")
    assert catalogue.get_by_role("link", name="demand-forecaster").count() == 1

    # A marker on window survives htmx swaps but not a page load: it proves the live update.
    page.evaluate("window.__noReload = true")
    page.fill("input[name=q]", "fraud")
    page.wait_for_url(re.compile(r"/models/\?q=fraud"))
    page.wait_for_function(
        "() => !document.querySelector('#results').textContent.includes('demand-forecaster')"
    )
    assert page.evaluate("window.__noReload") is True
    assert catalogue.get_by_role("link", name="fraud-classifier").count() == 1

    page.get_by_role("link", name="fraud-classifier").click()
    page.wait_for_url("**/models/fraud-classifier/")
    page.locator("a[href$='/models/fraud-classifier/versions/3/']").first.click()
    page.wait_for_url("**/models/fraud-classifier/versions/3/")
    assert page.locator("#tab-overview").get_attribute("aria-selected") == "true"

    page.evaluate("window.__noReload = true")
    page.click("#tab-metrics")
    page.wait_for_url("**/versions/3/?tab=metrics")
    page.wait_for_selector("#tab-metrics[aria-selected=true]")
    panel = page.locator("#version-tab-panel")
    assert "auc" in panel.inner_text()
    assert page.evaluate("window.__noReload") is True

    page.click("#tab-artifacts")
    page.wait_for_url("**/versions/3/?tab=artifacts")
    page.wait_for_selector("#version-tab-panel a[href*='/artifacts/config.json']")

    # The same URL opened directly renders the tab as a full page.
    page.goto(page.url)
    assert page.locator("#tab-artifacts").get_attribute("aria-selected") == "true"
