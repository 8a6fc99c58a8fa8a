import sys

from django.core.management.base import BaseCommand

from models_app.audit import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit ledger's hash chain: prints OK, or the first event that is missing "
        "or does not match its hash, and then exits with status 1."
    )

    def handle(self, *args, **options):
        checked, problem = verify_chain()
        if problem is not None:
            self.stderr.write(f"FAILED at event #{problem.sequence}: {problem.reason}")
            # Not CommandError: scripts and CI read the exact line, without a class-name prefix.
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"OK: {checked} events, chain intact"))
