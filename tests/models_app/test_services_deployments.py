"""Who depends on what: dependency resolution, impact analysis, deprecation and retirement,
and the application and dependency services."""

import pytest

from models_app.models import Application, AuditEvent, Dependency, Deployment, ModelVersion
from models_app.services import (
    InUse,
    NotAllowed,
    RegistryError,
    add_dependency,
    archive_model,
    deprecate_version,
    impact_of,
    impact_of_alias_move,
    impact_of_rollback,
    register_application,
    remove_dependency,
    resolve_dependencies,
    resolve_dependency,
    retire_version,
    rollback_candidate,
    update_application,
)
from tests.factories import (
    add_member,
    make_alias,
    make_deployment,
    make_environment,
    make_model,
    make_team,
    make_user,
    make_version,
)
from tests.models_app.ledger import assert_chain_intact, last_event, row_counts


def counts() -> dict[str, int]:
    return {
        **row_counts(),
        "Deployment": Deployment.objects.count(),
        "Application": Application.objects.count(),
        "Dependency": Dependency.objects.count(),
    }


@pytest.fixture
def production(db):
    return make_environment("production", order=30)


@pytest.fixture
def staging(db):
    return make_environment("staging", order=20)


@pytest.fixture
def versions(registered_model):
    return [make_version(registered_model) for _ in range(3)]


@pytest.fixture
def payments(db):
    return make_team("payments", name="Payments")


@pytest.fixture
def checkout(payments):
    return Application.objects.create(slug="checkout", name="Checkout", owner_team=payments)


@pytest.fixture
def owner(payments):
    """Contributor of the team that owns the applications."""
    user = make_user("paula")
    add_member(user, payments, "contributor")
    return user


def depend(application, model, **route):
    return Dependency.objects.create(application=application, model=model, **route)


def ended(version, environment, **overrides):
    """A deployment that served in the past and was superseded."""
    return make_deployment(
        version,
        environment,
        status=Deployment.Status.SUPERSEDED,
        ended_at=overrides.pop("ended_at", None) or version.created_at,
        **overrides,
    )


# --- resolving dependencies ----------------------------------------------------------------


def test_a_pinned_dependency_resolves_to_its_version(checkout, registered_model, versions):
    dependency = depend(checkout, registered_model, pinned_version=versions[0])

    assert resolve_dependency(dependency) == versions[0]


def test_an_alias_dependency_resolves_to_the_alias_target(checkout, registered_model, versions):
    make_alias(registered_model, "champion", versions[1])
    dependency = depend(checkout, registered_model, alias_name="champion")

    assert resolve_dependency(dependency) == versions[1]


def test_an_environment_dependency_resolves_to_what_serves_full_traffic(
    checkout, registered_model, versions, production
):
    make_deployment(versions[0], production)
    make_deployment(versions[1], production, traffic_percent=10)
    dependency = depend(checkout, registered_model, environment=production)

    resolution = resolve_dependencies([dependency])[dependency.pk]

    assert resolution.version == versions[0]
    assert resolution.via == "environment production"
    assert [d.version for d in resolution.canaries] == [versions[1]]


def test_the_first_route_named_decides_without_falling_through(
    checkout, registered_model, versions, production
):
    make_deployment(versions[2], production)
    make_alias(registered_model, "champion", versions[1])
    pinned = depend(
        checkout,
        registered_model,
        pinned_version=versions[0],
        alias_name="champion",
        environment=production,
    )
    missing_alias = depend(checkout, registered_model, alias_name="ghost", environment=production)

    resolved = resolve_dependencies([pinned, missing_alias])

    assert (resolved[pinned.pk].via, resolved[pinned.pk].version) == ("pinned", versions[0])
    assert resolved[missing_alias.pk].via == "alias ghost"
    assert resolved[missing_alias.pk].version is None


def test_nothing_at_full_traffic_resolves_to_none(checkout, registered_model, production):
    dependency = depend(checkout, registered_model, environment=production)

    assert resolve_dependency(dependency) is None


def test_bulk_resolution_takes_the_same_queries_for_more_dependencies(
    django_assert_num_queries, payments, registered_model, versions, production
):
    make_alias(registered_model, "champion", versions[1])
    make_deployment(versions[2], production)

    def build(count):
        for index in range(count):
            application = Application.objects.create(
                slug=f"app-{Application.objects.count()}", name=f"App {index}", owner_team=payments
            )
            depend(application, registered_model, pinned_version=versions[0])
            depend(application, registered_model, alias_name="champion")
            depend(application, registered_model, environment=production)
        return list(Dependency.objects.all())

    few_rows = build(2)
    # environments, pinned versions, aliases, active deployments
    with django_assert_num_queries(4):
        few = resolve_dependencies(few_rows)
    many_rows = build(8)
    with django_assert_num_queries(4):
        many = resolve_dependencies(many_rows)

    assert len(few) == 6 and len(many) == 30
    assert {r.version for r in many.values()} == set(versions)


# --- impact analysis -----------------------------------------------------------------------


def test_impact_reaches_applications_through_each_kind_of_dependency(
    payments, other_team, registered_model, versions, production, staging
):
    make_alias(registered_model, "champion", versions[0])
    make_deployment(versions[0], production)
    make_deployment(versions[1], staging)
    make_deployment(versions[0], staging, traffic_percent=20)
    apps = {
        slug: Application.objects.create(slug=slug, name=slug.title(), owner_team=team)
        for slug, team in [
            ("pinned", payments),
            ("aliased", other_team),
            ("prod", payments),
            ("canary", payments),
            ("elsewhere", payments),
        ]
    }
    depend(apps["pinned"], registered_model, pinned_version=versions[0])
    depend(apps["aliased"], registered_model, alias_name="champion")
    depend(apps["prod"], registered_model, environment=production)
    depend(apps["canary"], registered_model, environment=staging)
    depend(apps["elsewhere"], registered_model, pinned_version=versions[2])

    impacts = impact_of(versions[0])

    assert [(i.application.slug, i.owner_team.slug, i.via) for i in impacts] == [
        ("aliased", "vision-team", "alias champion"),
        ("canary", "payments", "environment staging (canary 20%)"),
        ("pinned", "payments", "pinned"),
        ("prod", "payments", "environment production"),
    ]
    assert all(i.current == versions[0] for i in impacts)
    assert impacts[0].as_dict() == {
        "application": "aliased",
        "owner_team": "vision-team",
        "via": "alias champion",
        "version": 1,
    }
    assert impact_of(versions[2])[0].application.slug == "elsewhere"
    assert [i.application.slug for i in impact_of(versions[1])] == ["canary"]


def test_impact_queries_do_not_grow_with_the_dependents(
    django_assert_num_queries, payments, registered_model, versions, production
):
    make_deployment(versions[0], production)

    def add(count):
        for _ in range(count):
            slug = f"app-{Application.objects.count()}"
            application = Application.objects.create(slug=slug, name=slug, owner_team=payments)
            depend(application, registered_model, environment=production)

    add(2)
    # dependencies with applications and teams, environments (cached: none), active deployments
    with django_assert_num_queries(2):
        assert len(impact_of(versions[0])) == 2
    add(8)
    with django_assert_num_queries(2):
        assert len(impact_of(versions[0])) == 10


def test_an_alias_move_reaches_the_applications_following_that_alias(
    checkout, payments, registered_model, versions
):
    make_alias(registered_model, "champion", versions[0])
    make_alias(registered_model, "challenger", versions[1])
    depend(checkout, registered_model, alias_name="champion")
    other = Application.objects.create(slug="other", name="Other", owner_team=payments)
    depend(other, registered_model, alias_name="challenger")

    impacts = impact_of_alias_move(registered_model, "champion", versions[2])

    assert [(i.application, i.current, i.new) for i in impacts] == [
        (checkout, versions[0], versions[2])
    ]
    assert impacts[0].as_dict()["new_version"] == 3
    assert impact_of_alias_move(registered_model, "champion", versions[0]) == []


def test_a_rollback_reaches_the_applications_of_that_environment(
    checkout, payments, registered_model, versions, production, staging
):
    ended(versions[0], production)
    make_deployment(versions[1], production)
    depend(checkout, registered_model, environment=production)
    pinned = Application.objects.create(slug="pinned", name="Pinned", owner_team=payments)
    depend(pinned, registered_model, environment=production, pinned_version=versions[1])
    in_staging = Application.objects.create(slug="staged", name="Staged", owner_team=payments)
    depend(in_staging, registered_model, environment=staging)

    impacts = impact_of_rollback(registered_model, production)

    assert [(i.application, i.current, i.new) for i in impacts] == [
        (checkout, versions[1], versions[0])
    ]
    assert impact_of_rollback(registered_model, staging) == []


def test_the_rollback_candidate_skips_the_live_version_rolled_back_and_retired_ones(
    registered_model, versions, production
):
    v4 = make_version(registered_model)
    ended(versions[0], production)
    ended(versions[1], production)
    make_deployment(
        versions[2],
        production,
        status=Deployment.Status.ROLLED_BACK,
        ended_at=versions[2].created_at,
    )
    ended(v4, production)
    make_deployment(v4, production)
    assert rollback_candidate(registered_model, production).version == versions[1]

    ModelVersion.objects.filter(pk=versions[1].pk).update(retired_at=versions[1].created_at)

    assert rollback_candidate(registered_model, production).version == versions[0]


# --- deprecation ---------------------------------------------------------------------------


def test_it_deprecates_a_version_and_records_its_dependents(
    contributor, checkout, registered_model, versions
):
    depend(checkout, registered_model, pinned_version=versions[0])

    version = deprecate_version(actor=contributor, version=versions[0], reason="Drifted.")

    version.refresh_from_db()
    assert version.deprecated_at is not None
    event = last_event()
    assert event.action == "models_app.version.deprecated"
    assert event.version_number == 1
    assert event.after == {
        "deprecated": True,
        "reason": "Drifted.",
        "dependents": [
            {"application": "checkout", "owner_team": "payments", "via": "pinned", "version": 1}
        ],
    }
    assert_chain_intact(expected_events=1)


@pytest.mark.parametrize(
    ("state", "message"), [("deprecated_at", "already deprecated"), ("retired_at", "retired")]
)
def test_it_refuses_to_deprecate_twice_or_after_retirement(contributor, versions, state, message):
    ModelVersion.objects.filter(pk=versions[0].pk).update(**{state: versions[0].created_at})
    before = counts()

    with pytest.raises(RegistryError, match=message):
        deprecate_version(actor=contributor, version=versions[0], reason="Old.")

    assert counts() == before


def test_deprecation_needs_a_reason_and_the_contributor_role(contributor, viewer, versions):
    with pytest.raises(RegistryError) as exc:
        deprecate_version(actor=contributor, version=versions[0], reason="  ")
    assert exc.value.field == "reason"

    with pytest.raises(NotAllowed):
        deprecate_version(actor=viewer, version=versions[0], reason="Old.")

    assert AuditEvent.objects.count() == 0


# --- retirement ----------------------------------------------------------------------------


def test_it_retires_an_unused_version(contributor, registered_model, versions, production):
    ended(versions[0], production)

    retire_version(actor=contributor, version=versions[0])

    versions[0].refresh_from_db()
    assert versions[0].retired_at is not None
    event = last_event()
    assert event.action == "models_app.version.retired"
    assert event.after["forced"] is False
    assert event.after["dependents"] == []
    assert_chain_intact(expected_events=1)


def test_it_refuses_to_retire_a_version_applications_depend_on(
    contributor, superuser, checkout, other_team, registered_model, versions, production
):
    make_alias(registered_model, "champion", versions[0])
    make_deployment(versions[0], production)
    depend(checkout, registered_model, pinned_version=versions[0])
    bot = Application.objects.create(slug="bot", name="Support bot", owner_team=other_team)
    depend(bot, registered_model, alias_name="champion")
    before = counts()

    for actor in (contributor, superuser):
        with pytest.raises(InUse) as exc:
            retire_version(actor=actor, version=versions[0], reason="Old.")

        assert exc.value.code == "in_use"
        assert "Checkout (team Payments, via pinned)" in exc.value.message
        assert "Support bot (team Vision, via alias champion)" in exc.value.message
        assert "active in production (100%)" in exc.value.message
        assert [i.application for i in exc.value.impacts] == [checkout, bot]
        assert [d.environment for d in exc.value.deployments] == [production]
    versions[0].refresh_from_db()
    assert versions[0].retired_at is None
    assert counts() == before


def test_it_refuses_to_retire_a_version_that_is_active_even_without_dependents(
    contributor, versions, production
):
    make_deployment(versions[0], production, traffic_percent=5)

    with pytest.raises(InUse, match=r"active in production \(5%\)") as exc:
        retire_version(actor=contributor, version=versions[0])

    assert exc.value.impacts == []


def test_a_superuser_forces_a_retirement_with_a_reason(
    superuser, checkout, registered_model, versions, production, staging
):
    depend(checkout, registered_model, pinned_version=versions[0])
    live = make_deployment(versions[0], production)
    canary = make_deployment(versions[0], staging, traffic_percent=10)

    retire_version(actor=superuser, version=versions[0], reason="Licence withdrawn.", force=True)

    versions[0].refresh_from_db()
    assert versions[0].retired_at is not None
    for deployment in (live, canary):
        deployment.refresh_from_db()
        assert deployment.status == Deployment.Status.RETIRED
        assert deployment.ended_at == versions[0].retired_at
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.action for e in events] == [
        "models_app.deployment.retired",
        "models_app.deployment.retired",
        "models_app.version.retired",
    ]
    assert events[-1].after == {
        "retired": True,
        "reason": "Licence withdrawn.",
        "forced": True,
        "dependents": [
            {"application": "checkout", "owner_team": "payments", "via": "pinned", "version": 1}
        ],
        "ended_deployments": [
            {"environment": "staging", "traffic_percent": 10},
            {"environment": "production", "traffic_percent": 100},
        ],
    }
    assert_chain_intact(expected_events=3)


def test_a_forced_retirement_by_a_non_superuser_is_refused(
    contributor, checkout, registered_model, versions
):
    depend(checkout, registered_model, pinned_version=versions[0])
    before = counts()

    with pytest.raises(NotAllowed, match="Only an administrator"):
        retire_version(actor=contributor, version=versions[0], reason="Please.", force=True)

    assert counts() == before
    versions[0].refresh_from_db()
    assert versions[0].retired_at is None


def test_a_forced_retirement_needs_a_written_reason(
    superuser, checkout, registered_model, versions
):
    depend(checkout, registered_model, pinned_version=versions[0])

    with pytest.raises(RegistryError) as exc:
        retire_version(actor=superuser, version=versions[0], reason=" ", force=True)

    assert exc.value.field == "reason"
    assert AuditEvent.objects.count() == 0


def test_it_refuses_to_retire_twice_or_for_viewers(contributor, viewer, versions):
    with pytest.raises(NotAllowed):
        retire_version(actor=viewer, version=versions[0])
    retire_version(actor=contributor, version=versions[0])

    with pytest.raises(RegistryError, match="already retired"):
        retire_version(actor=contributor, version=versions[0])

    assert AuditEvent.objects.count() == 1


def test_versions_of_an_archived_model_cannot_be_retired(contributor, registered_model, versions):
    archive_model(actor=contributor, model=registered_model)

    with pytest.raises(RegistryError, match="archived"):
        retire_version(actor=contributor, version=versions[0])


# --- applications --------------------------------------------------------------------------


def test_it_registers_an_application(owner, payments):
    application = register_application(
        actor=owner,
        name=" Checkout ",
        slug="Checkout",
        owner_team=payments,
        contact="#checkout-oncall",
        description="Scores card payments at checkout.",
    )

    application.refresh_from_db()
    assert (application.slug, application.name) == ("checkout", "Checkout")
    assert application.created_by == owner
    event = last_event()
    assert event.action == "models_app.application.registered"
    assert event.model_name == ""
    assert event.after == {
        "slug": "checkout",
        "name": "Checkout",
        "owner_team": "payments",
        "contact": "#checkout-oncall",
        "description": "Scores card payments at checkout.",
    }
    assert_chain_intact(expected_events=1)


def test_only_contributors_of_the_owner_team_register_applications(contributor, payments):
    viewer = make_user("vera")
    add_member(viewer, payments, "viewer")

    for actor in (contributor, viewer):
        with pytest.raises(NotAllowed):
            register_application(actor=actor, name="Checkout", slug="checkout", owner_team=payments)

    assert Application.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "slug", "field"),
    [("", "checkout", "name"), ("Checkout", "not a slug", "slug"), ("Checkout", "", "slug")],
)
def test_it_refuses_an_invalid_application(owner, payments, name, slug, field):
    with pytest.raises(RegistryError) as exc:
        register_application(actor=owner, name=name, slug=slug, owner_team=payments)

    assert exc.value.field == field
    assert Application.objects.count() == 0


def test_it_refuses_a_duplicate_slug(owner, payments, checkout):
    with pytest.raises(RegistryError) as exc:
        register_application(actor=owner, name="Again", slug="checkout", owner_team=payments)

    assert (exc.value.field, exc.value.code) == ("slug", "duplicate")
    assert AuditEvent.objects.count() == 0


def test_it_updates_an_application(owner, checkout):
    update_application(actor=owner, application=checkout, contact="ops@example.com", name="Till")

    checkout.refresh_from_db()
    assert (checkout.name, checkout.contact) == ("Till", "ops@example.com")
    event = last_event()
    assert event.action == "models_app.application.updated"
    assert event.before == {"name": "Checkout", "contact": ""}
    assert event.after == {"name": "Till", "contact": "ops@example.com"}


def test_moving_an_application_needs_the_role_in_both_teams(owner, checkout, other_team):
    with pytest.raises(NotAllowed, match="Vision"):
        update_application(actor=owner, application=checkout, owner_team=other_team)
    add_member(owner, other_team, "contributor")

    update_application(actor=owner, application=checkout, owner_team=other_team)

    checkout.refresh_from_db()
    assert checkout.owner_team == other_team
    assert last_event().after == {"owner_team": "Vision"}


def test_the_slug_of_an_application_cannot_change(owner, checkout):
    with pytest.raises(RegistryError, match="slug"):
        update_application(actor=owner, application=checkout, slug="till")


# --- dependencies --------------------------------------------------------------------------


def test_it_adds_each_kind_of_dependency(owner, checkout, registered_model, versions, production):
    make_alias(registered_model, "champion", versions[1])

    pinned = add_dependency(
        actor=owner, application=checkout, model=registered_model, pinned_version=versions[0]
    )
    aliased = add_dependency(
        actor=owner, application=checkout, model=registered_model, alias_name="Champion"
    )
    in_env = add_dependency(
        actor=owner, application=checkout, model=registered_model, environment=production
    )

    assert aliased.alias_name == "champion"
    assert [resolve_dependency(d) for d in (pinned, aliased, in_env)] == [
        versions[0],
        versions[1],
        None,
    ]
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.action for e in events] == ["models_app.dependency.added"] * 3
    assert events[0].model_name == "fraud-detector"
    assert events[0].after == {
        "application": "checkout",
        "model": "fraud-detector",
        "environment": None,
        "alias": None,
        "pinned_version": 1,
    }
    assert events[2].after["environment"] == "production"
    assert_chain_intact(expected_events=3)


def test_a_dependency_must_name_how_it_gets_a_version(owner, checkout, registered_model):
    with pytest.raises(RegistryError, match="Name an environment, an alias or a pinned version"):
        add_dependency(actor=owner, application=checkout, model=registered_model)


def test_it_refuses_a_pinned_version_of_another_model(owner, checkout, registered_model):
    stranger = make_version(make_model("other-model"))

    with pytest.raises(RegistryError) as exc:
        add_dependency(
            actor=owner, application=checkout, model=registered_model, pinned_version=stranger
        )

    assert exc.value.field == "pinned_version"


def test_it_refuses_a_model_the_actor_cannot_see(owner, checkout, restricted_model, production):
    with pytest.raises(RegistryError) as exc:
        add_dependency(
            actor=owner, application=checkout, model=restricted_model, environment=production
        )

    assert exc.value.field == "model"
    assert exc.value.message == "That model does not exist."


def test_it_refuses_a_missing_alias_a_retired_pin_and_a_duplicate(
    owner, checkout, registered_model, versions, production
):
    with pytest.raises(RegistryError) as exc:
        add_dependency(actor=owner, application=checkout, model=registered_model, alias_name="x")
    assert exc.value.field == "alias_name"

    ModelVersion.objects.filter(pk=versions[0].pk).update(retired_at=versions[0].created_at)
    with pytest.raises(RegistryError, match="retired") as exc:
        add_dependency(
            actor=owner, application=checkout, model=registered_model, pinned_version=versions[0]
        )
    assert exc.value.field == "pinned_version"

    add_dependency(
        actor=owner, application=checkout, model=registered_model, environment=production
    )
    with pytest.raises(RegistryError) as exc:
        add_dependency(
            actor=owner, application=checkout, model=registered_model, environment=production
        )
    assert exc.value.code == "duplicate"
    assert Dependency.objects.count() == 1


def test_only_the_owner_team_changes_dependencies(
    owner, contributor, checkout, registered_model, production
):
    with pytest.raises(NotAllowed):
        add_dependency(
            actor=contributor, application=checkout, model=registered_model, environment=production
        )
    dependency = add_dependency(
        actor=owner, application=checkout, model=registered_model, environment=production
    )
    with pytest.raises(NotAllowed):
        remove_dependency(actor=contributor, dependency=dependency)

    assert Dependency.objects.count() == 1


def test_it_removes_a_dependency(owner, checkout, registered_model, production):
    dependency = depend(checkout, registered_model, environment=production)

    remove_dependency(actor=owner, dependency=dependency)

    assert Dependency.objects.count() == 0
    event = last_event()
    assert event.action == "models_app.dependency.removed"
    assert event.before["environment"] == "production"
    with pytest.raises(RegistryError, match="no longer exists"):
        remove_dependency(actor=owner, dependency=dependency)


def test_the_rollback_candidate_never_returns_to_a_version_that_was_rolled_back(
    registered_model, versions, production
):
    # As recorded before rollbacks linked their deployments: v1, v2 rolled back, v1 again, v3.
    ended(versions[0], production)
    make_deployment(
        versions[1],
        production,
        status=Deployment.Status.ROLLED_BACK,
        ended_at=versions[1].created_at,
    )
    ended(versions[0], production)
    make_deployment(versions[2], production)

    assert rollback_candidate(registered_model, production).version == versions[0]
