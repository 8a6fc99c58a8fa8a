import pytest
from django.core.files.storage import InMemoryStorage, storages

from tests.factories import add_member, make_model, make_team, make_user

# CI reads these back from the JUnit XML to refuse a run in which required tests were skipped.
_MARKERS_REPORTED_TO_CI = {"postgres", "e2e"}


def pytest_collection_modifyitems(items):
    for item in items:
        names = sorted({m.name for m in item.iter_markers()} & _MARKERS_REPORTED_TO_CI)
        if names:
            item.user_properties.append(("markers", ",".join(names)))


@pytest.fixture(autouse=True)
def _fast_hermetic_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # storages caches backends; a fresh InMemoryStorage per test keeps tests independent.
    storages._storages.pop("artifacts", None)
    yield
    storages._storages.pop("artifacts", None)


@pytest.fixture
def artifact_store():
    store = storages["artifacts"]
    assert isinstance(store, InMemoryStorage)
    return store


@pytest.fixture
def team(db):
    return make_team("fraud-team", name="Fraud")


@pytest.fixture
def other_team(db):
    return make_team("vision-team", name="Vision")


@pytest.fixture
def contributor(team):
    user = make_user("carol")
    add_member(user, team, "contributor")
    return user


@pytest.fixture
def viewer(team):
    """Member of the owning team with read-only rights."""
    user = make_user("victor")
    add_member(user, team, "viewer")
    return user


@pytest.fixture
def outsider(other_team):
    """Signed in, but in another team: cannot see the team's restricted models."""
    user = make_user("oscar")
    add_member(user, other_team, "contributor")
    return user


@pytest.fixture
def superuser(db):
    return make_user("root", is_superuser=True, is_staff=True)


@pytest.fixture
def registered_model(team):
    return make_model("fraud-detector", team=team, display_name="Fraud detector")


@pytest.fixture
def restricted_model(team):
    return make_model("secret-scorer", team=team, restricted=True)
