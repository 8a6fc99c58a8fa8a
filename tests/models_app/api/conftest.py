import pytest

from models_app.services import create_access_token


@pytest.fixture
def bearer():
    """bearer(user) → headers that sign that user in with a fresh personal access token."""

    def make(user):
        _, raw = create_access_token(actor=user, name="tests")
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def as_contributor(contributor, bearer):
    return bearer(contributor)


@pytest.fixture
def as_viewer(viewer, bearer):
    return bearer(viewer)


@pytest.fixture
def as_outsider(outsider, bearer):
    return bearer(outsider)
