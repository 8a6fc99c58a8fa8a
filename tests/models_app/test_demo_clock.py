"""The demo clock the seed commands replay their history under."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from models_app import services
from models_app.management.commands._demo_clock import TICK, DemoClock, Step, replay
from models_app.models import AuditEvent

MOMENT = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)


def test_it_stands_in_for_now_while_a_step_runs_and_puts_it_back():
    clock = DemoClock()
    real = timezone.now

    with clock.at(MOMENT):
        first, second = timezone.now(), timezone.now()

    assert (first, second) == (MOMENT, MOMENT + TICK)
    assert timezone.now is real
    assert timezone.now() - datetime.now(UTC) < timedelta(seconds=5)


def test_it_puts_the_real_clock_back_when_a_step_fails():
    real = timezone.now

    with pytest.raises(ZeroDivisionError), DemoClock().at(MOMENT):
        1 / 0  # noqa: B018

    assert timezone.now is real


def test_it_never_goes_backwards():
    clock = DemoClock()
    with clock.at(MOMENT):
        late = timezone.now()
    with clock.at(MOMENT - timedelta(days=1)):
        earlier_step = timezone.now()

    assert earlier_step == late + TICK


def test_it_refuses_a_naive_moment():
    with pytest.raises(ValueError, match="aware"), DemoClock().at(datetime(2025, 3, 4)):
        pass


@pytest.mark.django_db
def test_auto_now_fields_services_and_the_ledger_all_read_it(superuser, team):
    with DemoClock().at(MOMENT):
        model = services.create_model(actor=superuser, name="clocked", team=team)

    event = AuditEvent.objects.get(action="models_app.model.created")
    # auto_now_add (DateTimeField.pre_save) and record_event both asked the demo clock.
    assert MOMENT <= model.created_at < event.created_at < MOMENT + timedelta(seconds=1)


@pytest.mark.django_db
def test_replay_runs_the_steps_in_time_order(superuser, team):
    now = timezone.now()
    seen = []
    steps = [
        Step(MOMENT + timedelta(days=2), lambda: seen.append(("b", timezone.now())), "b"),
        Step(MOMENT, lambda: seen.append(("a", timezone.now())), "a"),
        Step(MOMENT + timedelta(days=2), lambda: seen.append(("c", timezone.now())), "c"),
    ]

    assert replay(steps, until=now) == 3

    assert seen == [
        ("a", MOMENT),
        ("b", MOMENT + timedelta(days=2)),
        ("c", MOMENT + timedelta(days=2) + TICK),
    ]


def test_replay_refuses_a_step_in_the_future():
    now = timezone.now()
    ran = []
    steps = [Step(MOMENT, lambda: ran.append(1), "past"), Step(now, lambda: ran.append(2), "now")]

    with pytest.raises(CommandError, match="step in the future: now"):
        replay(steps, until=now)

    assert ran == []


@pytest.mark.django_db
def test_replay_names_the_step_a_service_refused(superuser, team):
    def duplicate():
        services.create_model(actor=superuser, name="twice", team=team)

    steps = [Step(MOMENT, duplicate, "first"), Step(MOMENT, duplicate, "second")]

    with pytest.raises(CommandError, match="“second” .* was refused: .*already exists"):
        replay(steps, until=timezone.now())
