"""Benchmark: how fast the main pages answer, and with how many queries, in a big registry.

Run by hand (not part of the test suite); it builds its own database in a temporary folder,
or uses DATABASE_URL when set (point it at a scratch PostgreSQL database: it writes rows).

    .venv/bin/python bench/pages.py --models 300 --versions 40 --metrics 12

Rows are bulk-inserted for speed — this measures reading, not registering — then each page
is fetched several times through Django's test client as a signed-in contributor.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _setup_django(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_site.settings")
    os.environ.setdefault("REGISTRY_VAR_DIR", var_dir)
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("STATIC_MANIFEST", "false")
    import django

    # Static files are not collected for a benchmark; whitenoise's warning about it is noise.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()


def _load(models: int, versions: int, metrics: int) -> dict:
    from django.contrib.auth import get_user_model

    from models_app.models import (
        AuditEvent,
        Environment,
        Membership,
        Metric,
        MetricDefinition,
        ModelVersion,
        RegisteredModel,
        Team,
    )
    from models_app.services import create_model, register_version

    rng = random.Random(7)
    user = get_user_model().objects.create_user("bench")
    teams = [Team.objects.create(slug=f"team-{i}", name=f"Team {i}") for i in range(8)]
    for team in teams:
        Membership.objects.create(user=user, team=team, role="contributor")
    Environment.objects.create(name="production", order=30, requires_approval=True)
    keys = [f"metric_{k}" for k in range(metrics)]
    MetricDefinition.objects.bulk_create(
        [MetricDefinition(key=k, higher_is_better=bool(i % 2)) for i, k in enumerate(keys)]
    )
    registered = []
    for m in range(models):
        model = RegisteredModel.objects.create(
            name=f"model-{m:05d}",
            team=teams[m % len(teams)],
            task=rng.choice(RegisteredModel.Task.values),
            risk_tier=rng.choice(RegisteredModel.RiskTier.values),
            latest_version=versions,
            restricted=m % 17 == 0,
        )
        registered.append(model)
        ModelVersion.objects.bulk_create(
            [
                ModelVersion(
                    model=model,
                    version=v,
                    framework=rng.choice(ModelVersion.Framework.values),
                    hyperparameters={"lr": rng.random()},
                )
                for v in range(1, versions + 1)
            ]
        )
    version_ids = list(ModelVersion.objects.values_list("id", flat=True))
    batch = []
    for version_id in version_ids:
        for key in keys:
            batch.append(Metric(version_id=version_id, key=key, value=rng.random()))
        if len(batch) > 20_000:
            Metric.objects.bulk_create(batch)
            batch = []
    Metric.objects.bulk_create(batch)
    # A few registrations through the service, so the ledger and lineage are real.
    sample = create_model(actor=user, name="bench-audited", team=teams[0])
    parent = None
    for _ in range(20):
        parent = register_version(actor=user, model=sample, parent=parent)
    return {
        "user": user,
        "model": registered[len(registered) // 2],
        "audited": sample,
        "counts": {
            "models": RegisteredModel.objects.count(),
            "versions": ModelVersion.objects.count(),
            "metrics": Metric.objects.count(),
            "audit events": AuditEvent.objects.count(),
        },
    }


def _time(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    queries = 0
    status = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        queries, status = len(captured), response.status_code
    return statistics.median(timings), max(timings), queries, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--versions", type=int, default=40, help="versions per model")
    parser.add_argument("--metrics", type=int, default=12, help="metrics per version")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as var_dir:
        _setup_django(var_dir)
        from django.core.management import call_command
        from django.test import Client

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        world = _load(args.models, args.versions, args.metrics)
        loaded = time.perf_counter() - started
        print(
            f"Loaded in {loaded:.1f} s: "
            + ", ".join(f"{n:,} {what}" for what, n in world["counts"].items())
        )

        client = Client()
        client.force_login(world["user"])
        model, audited = world["model"], world["audited"]
        pages = [
            ("home", "/"),
            ("catalogue", "/models/"),
            ("catalogue, search", "/models/?q=model-001&sort=-updated"),
            ("catalogue, page 10", "/models/?page=10"),
            ("model page", f"/models/{model.name}/"),
            ("version page", f"/models/{model.name}/versions/{args.versions // 2}/"),
            ("version metrics tab", f"/models/{model.name}/versions/2/?tab=metrics"),
            ("version lineage (20 deep)", f"/models/{audited.name}/versions/20/?tab=lineage"),
            (
                "compare 10 versions",
                "/compare/?" + "&".join(f"v={model.name}:{n}" for n in range(1, 11)),
            ),
            ("audit ledger", "/audit/"),
            ("approvals queue", "/approvals/"),
            ("deployments board", "/deployments/"),
        ]
        print(f"\n{'page':<28}{'median ms':>10}{'max ms':>9}{'queries':>9}{'status':>8}")
        for label, url in pages:
            median, worst, queries, status = _time(client, url, args.repeat)
            print(f"{label:<28}{median:>10.1f}{worst:>9.1f}{queries:>9}{status:>8}")


if __name__ == "__main__":
    main()
