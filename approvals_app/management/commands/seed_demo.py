import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from approvals_app.demo import GovernanceHistory, summary_line
from approvals_app.models import ApprovalPolicy
from models_app.management.commands import _demo_data as data
from models_app.management.commands._demo_clock import replay
from models_app.management.commands.seed_catalogue import (
    CatalogueHistory,
    require_empty_ledger,
    summary_lines,
)
from models_app.models import RegisteredModel
from models_app.services import RegistryError


class Command(BaseCommand):
    help = (
        "Load the demo organisation unless it is there: six months of catalogue, approvals, "
        "promotions and rollbacks, replayed in time order through the services."
    )

    def handle(self, *args, **options):
        if RegisteredModel.objects.filter(name=data.MARKER_MODEL).exists():
            if not ApprovalPolicy.objects.exists():
                self.stderr.write(
                    "The demo catalogue is here without its approvals and deployments "
                    "(`seed_catalogue` loaded it alone). They are part of one history and "
                    "cannot be added afterwards: load `seed_demo` into a fresh database."
                )
            self.stdout.write("Demo data already present; nothing to do.")
            return
        started = time.monotonic()
        # The demo's reviews would otherwise print dozens of notification emails to the
        # console the first time `make run` starts.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            try:
                # One transaction: a failure leaves no half-built organisation behind, so the
                # marker check above stays a reliable "already done".
                with transaction.atomic():
                    require_empty_ledger()
                    catalogue = CatalogueHistory(now=timezone.now())
                    governance = GovernanceHistory(catalogue)
                    replay([*catalogue.steps(), *governance.steps()], until=catalogue.now)
            except RegistryError as exc:
                raise CommandError(f"Could not build the demo organisation: {exc.message}") from exc
        self.stdout.write("\n".join(summary_lines(time.monotonic() - started)))
        self.stdout.write(summary_line())
