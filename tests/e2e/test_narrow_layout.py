"""In Chromium at 800 pixels wide: the catalogue pages never scroll sideways. Wide tables
scroll inside their own box, the top bar wraps, and long model names wrap."""

import pytest

from tests.factories import (
    add_member,
    make_artifact_row,
    make_metric,
    make_model,
    make_team,
    make_user,
    make_version,
)

# Valid, and the longest a name may be: nothing on a page may be as wide as it.
LONG_NAME = "a" * 100


@pytest.fixture
def catalogue(db):
    team = make_team("fraud-risk", name="Fraud & Risk")
    add_member(make_user("engineer", password="demo", is_staff=True), team, "contributor")
    for name in ("fraud-classifier", LONG_NAME):
        model = make_model(name, team=team, display_name="")
        first = make_version(model, architecture="Gradient-boosted trees " * 3)
        second = make_version(model, parent=first)
        for version in (first, second):
            make_metric(version, "auc", 0.9)
        make_artifact_row(second, path="weights/" + "w" * 60 + ".bin")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_no_page_scrolls_sideways_at_800_pixels(browser, live_server, catalogue):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "engineer")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    too_wide = {}
    for url in (
        "/",
        "/models/",
        "/models/fraud-classifier/",
        f"/models/{LONG_NAME}/",
        f"/models/{LONG_NAME}/versions/2/",
        "/models/fraud-classifier/versions/2/?tab=artifacts",
        "/models/fraud-classifier/versions/2/?tab=lineage",
        f"/compare/?v=fraud-classifier:1&v=fraud-classifier:2&v={LONG_NAME}:2",
        "/audit/",
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 800:
            too_wide[url] = width
    context.close()

    assert too_wide == {}
