from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from approvals_app.demo import build_approvals_demo


class Command(BaseCommand):
    help = (
        "Load the demo organisation unless it is there: the catalogue (seed_catalogue), then "
        "reviewer roles, approval policies and requests in every state."
    )

    def handle(self, *args, **options):
        call_command("seed_catalogue", stdout=self.stdout, stderr=self.stderr)
        # The demo's reviews would otherwise print dozens of notification emails to the
        # console the first time `make run` starts.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            build_approvals_demo(stdout=self.stdout)
