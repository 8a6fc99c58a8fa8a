"""A simulated clock for replaying the demo organisation's history.

The demo tells six months of work: versions registered, approved and promoted week after week.
Every row that records a moment (created_at, deployed_at, decided_at …) and the audit ledger
must agree on when each thing happened, and the ledger's sequence order must be its time
order. So the seed commands do not create everything "now" and backdate it afterwards (which
would leave the append-only ledger saying something else); they replay the history step by
step through the real services, each step with ``django.utils.timezone.now`` returning the
step's moment.

This exists for the demo replay only. The application never uses it at run time: the patch
is process-wide (every thread sees it), so it is only safe in a management command that runs
before anything else in the process needs the real time.

Everything that stamps a time reads the module attribute: ``timezone.now()`` in the services
and in models_app.audit.record_event, and DateTimeField.pre_save for auto_now and auto_now_add
fields (django.db.models.fields does ``from django.utils import timezone``). Only model
defaults given as ``default=timezone.now`` captured the function itself (User.date_joined), so
the seeders pass those values explicitly.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from models_app.services import RegistryError

# Each call to now() within a step moves the clock on by this much, so that rows written by
# one step still have distinct, increasing times ("older than" comparisons stay meaningful).
TICK = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Step:
    """One thing that happened in the demo history: ``action`` runs as if at ``moment``."""

    moment: datetime
    action: Callable[[], object]
    label: str = ""


class DemoClock:
    """Stands in for ``django.utils.timezone.now`` while a step of the history runs.

    It never goes backwards: a step scheduled at or before the last time handed out starts
    one tick after it, so the order in which rows are written is also their time order.
    """

    def __init__(self):
        self._moment: datetime | None = None
        self._last: datetime | None = None

    def now(self) -> datetime:
        moment = self._moment
        if self._last is not None and moment <= self._last:
            moment = self._last + TICK
        self._last = moment
        return moment

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        if timezone.is_naive(moment):
            raise ValueError("The demo clock needs an aware datetime.")
        original = timezone.now
        self._moment = moment
        timezone.now = self.now
        try:
            yield
        finally:
            timezone.now = original


def replay(steps: Iterable[Step], *, until: datetime) -> int:
    """Run ``steps`` in time order (steps at the same moment in the order given) under a demo
    clock; refuse a history that reaches ``until`` (the real time when planning began), since
    nothing may be recorded as happening in the future. Returns the number of steps run."""
    ordered = sorted(steps, key=lambda step: step.moment)
    late = [step for step in ordered if step.moment >= until]
    if late:
        raise CommandError(f"The demo history has a step in the future: {late[0].label}")
    clock = DemoClock()
    for step in ordered:
        with clock.at(step.moment):
            try:
                step.action()
            except RegistryError as exc:
                # Name the step: the services' message alone does not say which one it was.
                raise CommandError(
                    f"Demo step “{step.label}” ({step.moment:%Y-%m-%d %H:%M}) was refused: "
                    f"{exc.message}"
                ) from exc
    return len(ordered)


def between(start: datetime, end: datetime, fraction: float) -> datetime:
    """The moment ``fraction`` of the way from ``start`` to ``end``."""
    return start + (end - start) * fraction


def working_hours(moment: datetime) -> datetime:
    """The moment, or the start of the next working period if it falls outside 08:00–19:00
    UTC: people review and deploy in office hours."""
    if moment.hour < 8:
        return moment.replace(hour=8)
    if moment.hour >= 19:
        return (moment + timedelta(days=1)).replace(hour=8)
    return moment
