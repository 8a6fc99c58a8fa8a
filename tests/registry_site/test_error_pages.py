"""The 403, 404 and 500 pages people meet when they follow a link they may not use."""

import re

from django.template.loader import render_to_string
from django.urls import reverse


def test_a_viewer_refused_a_write_page_sees_why_inside_the_site_layout(
    client, viewer, registered_model
):
    client.force_login(viewer)

    response = client.get(reverse("models_app:model_edit", args=[registered_model.name]))

    content = response.content.decode()
    assert response.status_code == 403
    assert "You need the contributor role in team" in content
    assert 'class="topbar"' in content and "Nothing was changed" in content


def test_a_restricted_model_and_a_missing_one_get_the_same_not_found_page(
    client, outsider, restricted_model
):
    client.force_login(outsider)

    hidden = client.get(reverse("models_app:model_detail", args=[restricted_model.name]))
    missing = client.get(reverse("models_app:model_detail", args=["no-such-model"]))

    assert hidden.status_code == missing.status_code == 404
    assert 'class="topbar"' in hidden.content.decode()
    assert restricted_model.name not in hidden.content.decode()
    assert _without_csrf_tokens(hidden) == _without_csrf_tokens(missing)


def _without_csrf_tokens(response) -> str:
    # Each response masks the CSRF token afresh; everything else must be identical.
    return re.sub(r'(csrftoken": "|value=")[A-Za-z0-9]{64}', r"\1", response.content.decode())


def test_the_server_error_page_renders_without_a_request():
    content = render_to_string("500.html")

    assert "Something went wrong" in content
    assert "/static/css/app.css" in content
