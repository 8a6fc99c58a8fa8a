"""Build the Northwind demo organisation so that every page has something true to show.

Everything the services cover goes through them (so the audit ledger holds a genuine
history); reference data without a service is written here, audited with
``record_admin_change`` where it is an organisational change. The run is one transaction
and idempotent: a second run finds the marker model and does nothing.
"""

import hashlib
import io
import json
import math
import random
import struct
import time
import zlib
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from models_app import services
from models_app.audit import verify_chain
from models_app.management.commands import _demo_data as data
from models_app.models import (
    Alias,
    Application,
    Artifact,
    AuditEvent,
    Dataset,
    Dependency,
    Deployment,
    Environment,
    Metric,
    MetricDefinition,
    ModelVersion,
    RegisteredModel,
    Team,
)

CURVE_POINTS = 20
CURVE_FRAMEWORKS = {"pytorch", "transformers", "jax", "tensorflow", "lightgbm", "xgboost"}
SAFETENSORS_FRAMEWORKS = {"pytorch", "transformers", "jax", "tensorflow"}

REQUIREMENTS = {
    "xgboost": ["xgboost=={v}", "numpy==1.26.4", "pandas==2.2.2", "scikit-learn==1.5.1"],
    "lightgbm": ["lightgbm=={v}", "numpy==1.26.4", "pandas==2.2.2", "scikit-learn==1.5.1"],
    "sklearn": ["scikit-learn=={v}", "numpy==1.26.4", "pandas==2.2.2", "skops==0.10.0"],
    "pytorch": ["torch=={v}", "numpy==1.26.4", "safetensors==0.4.5"],
    "transformers": [
        "transformers=={v}",
        "torch==2.4.1",
        "safetensors==0.4.5",
        "tokenizers==0.19.1",
        "peft==0.12.0",
    ],
    "prophet": ["prophet=={v}", "pandas==2.2.2", "holidays==0.57"],
}


class Command(BaseCommand):
    help = (
        "Load the catalogue part of the demo organisation (teams, users, models, versions …) "
        "unless it is there; `seed_demo` runs this and then the governance part."
    )

    def handle(self, *args, **options):
        if RegisteredModel.objects.filter(name=data.MARKER_MODEL).exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        started = time.monotonic()
        try:
            # One transaction: a failure leaves no half-built organisation behind, so the
            # marker check above stays a reliable "already done".
            with transaction.atomic():
                _Seeder(now=timezone.now()).run()
        except services.RegistryError as exc:
            raise CommandError(f"Could not build the demo organisation: {exc.message}") from exc
        self._summary(time.monotonic() - started)

    def _summary(self, seconds: float) -> None:
        models = RegisteredModel.objects.all()
        artefact_bytes = Artifact.objects.aggregate(total=Sum("size"))["total"] or 0
        _, problem = verify_chain()
        lines = [
            f"Demo organisation created in {seconds:.1f} s:",
            f"  {Team.objects.count()} teams, {get_user_model().objects.count()} users, "
            f"{models.count()} models ({models.filter(restricted=True).count()} restricted, "
            f"{models.filter(archived_at__isnull=False).count()} archived), "
            f"{ModelVersion.objects.count()} versions",
            f"  {Metric.objects.count()} metrics, {Artifact.objects.count()} artefacts "
            f"({artefact_bytes / 1024:.0f} KiB), {Dataset.objects.count()} datasets, "
            f"{Alias.objects.count()} aliases",
            f"  {Environment.objects.count()} environments, "
            f"{Deployment.objects.filter(status=Deployment.Status.ACTIVE).count()} active "
            f"deployments, {Application.objects.count()} applications",
            f"  {AuditEvent.objects.count()} audit events; chain "
            + ("OK" if problem is None else f"BROKEN at #{problem.sequence}: {problem.reason}"),
            "",
            f"Demo logins, all with the password '{data.PASSWORD}':",
        ]
        people = {person.username: person for person in data.PEOPLE}
        for username in data.DEMO_LOGINS:
            lines.append(f"  {username:<9} {people[username].title}")
        self.stdout.write("\n".join(lines))


def _rounded(value: float) -> float:
    magnitude = abs(value)
    if magnitude >= 100:
        return round(value, 1)
    if magnitude >= 1:
        return round(value, 3)
    return round(value, 4)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Seeder:
    def __init__(self, *, now: datetime):
        self.now = now
        self.admin = None
        self.users = {}
        self.teams = {}
        self.environments = {}
        self.ratio_keys = {
            key for key, (_, unit, _, _) in data.METRIC_DEFINITIONS.items() if unit == "ratio"
        }
        self.plans = {plan.name: plan for plan in data.MODELS}
        self.models: dict[str, RegisteredModel] = {}
        self.versions: dict[tuple[str, int], ModelVersion] = {}
        self.version_times: dict[tuple[str, int], datetime] = {}
        self.alias_times: dict[tuple[str, str], datetime] = {}
        self.archive_times: dict[str, datetime] = {}

    def run(self) -> None:
        self._people()
        self._teams()
        self._environments()
        self._metric_definitions()
        for plan in data.MODELS:
            self._model(plan)
        self._deployments()
        self._applications()
        self._backdate()

    # --- organisation ----------------------------------------------------------------------

    def _people(self) -> None:
        user_model = get_user_model()
        # Hashed once for everyone: the password is public anyway, and hashing it per user
        # would spend seconds in the password hasher.
        password = make_password(data.PASSWORD)
        for person in data.PEOPLE:
            user, _ = user_model.objects.get_or_create(
                username=person.username,
                defaults={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": f"{person.username}@{data.EMAIL_DOMAIN}",
                    "is_staff": person.is_superuser,
                    "is_superuser": person.is_superuser,
                    "password": password,
                },
            )
            self.users[person.username] = user
        self.admin = self.users["admin"]
        if not self.admin.is_superuser:
            raise CommandError("A user 'admin' exists and is not a superuser; rename it first.")
        for name, usernames in data.GROUPS.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.user_set.add(*(self.users[username] for username in usernames))

    def _teams(self) -> None:
        for slug, name, description in data.TEAMS:
            team, created = Team.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )
            if created:
                services.record_admin_change(
                    actor=self.admin,
                    obj=team,
                    action="models_app.team.created",
                    before=None,
                    after={"slug": slug, "name": name, "description": description},
                )
            self.teams[slug] = team
        for username, slug, role in data.MEMBERSHIPS:
            services.set_membership(
                actor=self.admin, team=self.teams[slug], user=self.users[username], role=role
            )

    def _environments(self) -> None:
        for name, display_name, order, requires_approval, description in data.ENVIRONMENTS:
            environment, created = Environment.objects.get_or_create(
                name=name,
                defaults={
                    "display_name": display_name,
                    "order": order,
                    "requires_approval": requires_approval,
                    "description": description,
                },
            )
            if created:
                services.record_admin_change(
                    actor=self.admin,
                    obj=environment,
                    action="models_app.environment.created",
                    before=None,
                    after={
                        "name": name,
                        "order": order,
                        "requires_approval": requires_approval,
                    },
                )
            self.environments[name] = environment

    def _metric_definitions(self) -> None:
        for key, (
            display_name,
            unit,
            higher_is_better,
            description,
        ) in data.METRIC_DEFINITIONS.items():
            MetricDefinition.objects.get_or_create(
                key=key,
                defaults={
                    "display_name": display_name,
                    "unit": unit,
                    "higher_is_better": higher_is_better,
                    "description": description,
                },
            )

    # --- models and versions ---------------------------------------------------------------

    def _timeline(self, plan: data.ModelPlan, rng: random.Random) -> list[datetime]:
        """When each version was registered: spread between the plan's first and last day."""
        first = self.now - timedelta(days=plan.first_days_ago)
        last = self.now - timedelta(days=plan.last_days_ago)
        count = len(plan.versions)
        step = (last - first) / max(count - 1, 1)
        moments = []
        for index in range(count):
            moment = first + step * index
            if 0 < index < count - 1:
                moment += step * rng.uniform(-0.25, 0.25)
            # People register versions in working hours.
            moments.append(
                moment.replace(
                    hour=rng.randint(8, 18), minute=rng.randint(0, 59), second=rng.randint(0, 59)
                )
            )
        return sorted(moments)

    def _model(self, plan: data.ModelPlan) -> None:
        rng = random.Random(zlib.crc32(plan.name.encode()))
        times = self._timeline(plan, rng)
        responsible = self.users[plan.responsible]
        model = services.create_model(
            actor=self.users[plan.author],
            name=plan.name,
            team=self.teams[plan.team],
            display_name=plan.display_name,
            description=plan.description,
            responsible=responsible,
            task=plan.task,
            risk_tier=plan.initial_risk_tier or plan.risk_tier,
            restricted=plan.restricted,
            tags=plan.tags,
        )
        self.models[plan.name] = model
        framework, framework_version = plan.framework, plan.framework_version
        architecture, hyperparameters = plan.architecture, dict(plan.hyperparameters)
        count = len(plan.versions)
        for number, step in enumerate(plan.versions, start=1):
            framework = step.framework or framework
            framework_version = step.framework_version or framework_version
            architecture = step.architecture or architecture
            hyperparameters = {**hyperparameters, **step.hyperparameters}
            registered_at = times[number - 1]
            self.version_times[(plan.name, number)] = registered_at
            actor = self.users[step.author or plan.author]
            card = dict(
                zip(
                    ("intended_use", "limitations", "ethical_considerations"),
                    plan.card,
                    strict=True,
                )
            )
            version = services.register_version(
                actor=actor,
                model=model,
                framework=framework,
                framework_version=framework_version,
                architecture=architecture,
                description=step.note,
                source_uri=self._source_uri(plan, number),
                hyperparameters=hyperparameters,
                parent=self._parent(plan, step, number),
                external_base_model=step.external_base_model,
                datasets=self._datasets(plan, number, registered_at),
                tags=step.tags,
                **(card if step.card == "full" else {}),
            )
            self.versions[(plan.name, number)] = version
            progress = (number - 1) / (count - 1) if count > 1 else 1.0
            progress = min(max(progress + step.quality, -0.3), 1.1)
            evaluation = self._log_metrics(plan, version, framework, progress, rng, actor)
            self._attach_artifacts(
                plan, version, framework, hyperparameters, evaluation, rng, actor
            )
            if step.card == "later":
                # The model card was written up after registration, by the accountable person.
                services.update_version_card(actor=responsible, version=version, **card)
                self._attach_card(plan, version, evaluation, responsible)
            elif step.card == "full":
                self._attach_card(plan, version, evaluation, actor)
            self._after_version(plan, model, number, times)
        if plan.archive_reason:
            services.archive_model(
                actor=self.users[plan.author], model=model, reason=plan.archive_reason
            )
            self.archive_times[plan.name] = times[-1] + timedelta(days=12, hours=3)

    def _after_version(self, plan, model, number: int, times: list[datetime]) -> None:
        responsible = self.users[plan.responsible]
        for op in plan.aliases:
            if (op.after or op.version) != number:
                continue
            if op.delete:
                services.delete_alias(actor=responsible, model=model, name=op.name)
                self.alias_times.pop((plan.name, op.name), None)
            else:
                services.set_alias(
                    actor=responsible,
                    model=model,
                    name=op.name,
                    version=self.versions[(plan.name, op.version)],
                )
                self.alias_times[(plan.name, op.name)] = times[number - 1] + timedelta(hours=5)
        for update in plan.updates:
            if update.after == number:
                changes = dict(update.changes)
                tags = changes.pop("tags", None)
                services.update_model(
                    actor=self.users[update.actor],
                    model=model,
                    tags=list(tags) if tags is not None else None,
                    **changes,
                )

    def _parent(self, plan, step: data.VersionPlan, number: int) -> ModelVersion | None:
        if step.parent_ref is not None:
            return self.versions[step.parent_ref]
        if step.parent == data.PREVIOUS:
            return self.versions.get((plan.name, number - 1))
        if step.parent is None:
            return None
        return self.versions[(plan.name, step.parent)]

    def _source_uri(self, plan, number: int) -> str:
        commit = _digest(f"{plan.repo}#{number}")[:40]
        if plan.task in {"text-generation", "speech", "embedding"}:
            run_id = _digest(f"run:{plan.name}:{number}")[:32]
            return f"https://mlflow.northwind.example/#/experiments/{len(plan.repo)}/runs/{run_id}"
        return f"https://git.northwind.example/ml/{plan.repo}/-/commit/{commit}"

    def _datasets(self, plan, number: int, registered_at: datetime) -> list[dict]:
        # Training and validation are snapshots cut a few days before each training run; the
        # evaluation hold-out is frozen and refreshed once, half-way through the history.
        snapshot = (registered_at - timedelta(days=4)).date().isoformat()
        holdout = "v1" if number <= (len(plan.versions) + 1) // 2 else "v2"
        entries = []
        for role, (name, prefix) in plan.datasets.items():
            version = holdout if role == "evaluation" else snapshot
            entries.append(
                {
                    "name": name,
                    "version": version,
                    "uri": f"{prefix}/{version}/",
                    "digest": "sha256:" + _digest(f"{name}@{version}"),
                    "role": role,
                }
            )
        return entries

    # --- metrics ---------------------------------------------------------------------------

    def _clamp(self, key: str, value: float) -> float:
        if key in self.ratio_keys:
            value = min(max(value, 0.0), 0.9999)
        return _rounded(max(value, 0.0))

    def _log_metrics(self, plan, version, framework, progress, rng, actor) -> dict[str, float]:
        """Log the training curve, the evaluation and the fairness slices; return the latter."""
        if plan.loss and framework in CURVE_FRAMEWORKS:
            initial, floor = plan.loss
            floor *= 1 + 0.25 * (1 - progress)
            tau = rng.uniform(3.0, 6.0)
            curve = []
            for epoch in range(CURVE_POINTS):
                decay = math.exp(-epoch / tau)
                train = floor + (initial - floor) * decay + rng.gauss(0, initial * 0.008)
                # Validation loss levels off higher and creeps up late: mild over-fitting.
                val = (
                    floor * 1.08
                    + (initial * 1.02 - floor * 1.08) * decay
                    + initial * 0.002 * max(0, epoch - 13)
                    + rng.gauss(0, initial * 0.01)
                )
                curve.append({"key": "train_loss", "value": _rounded(train), "step": epoch})
                curve.append({"key": "val_loss", "value": _rounded(val), "step": epoch})
            services.log_metrics(actor=actor, version=version, metrics=curve)

        values = {}
        for key, spec in plan.metrics.items():
            if spec == data.DERIVED:
                continue
            first, last, noise = spec
            values[key] = self._clamp(key, first + (last - first) * progress + rng.gauss(0, noise))
        if plan.metrics.get("f1") == data.DERIVED:
            precision, recall = values["precision"], values["recall"]
            values["f1"] = _rounded(2 * precision * recall / (precision + recall))
        services.log_metrics(
            actor=actor,
            version=version,
            metrics=[{"key": key, "value": value} for key, value in values.items()],
        )

        slices = []
        for key, offsets in plan.fairness.items():
            noise = plan.metrics[key][2]
            for name, offset in offsets.items():
                # Gaps narrow as the team works on them, but never close completely.
                value = values[key] + offset * (1 - 0.5 * max(progress, 0)) + rng.gauss(0, noise)
                slices.append({"key": key, "value": self._clamp(key, value), "slice": name})
        if slices:
            services.log_metrics(actor=actor, version=version, metrics=slices)
        return values

    # --- artefacts -------------------------------------------------------------------------

    def _attach(self, actor, version, path: str, content: bytes, kind: str) -> None:
        services.attach_artifact(
            actor=actor, version=version, path=path, content=io.BytesIO(content), kind=kind
        )

    def _attach_artifacts(
        self, plan, version, framework, hyperparameters, evaluation, rng, actor
    ) -> None:
        path, weights = self._weights(plan, framework, rng)
        self._attach(actor, version, path, weights, "weights")
        config = {
            "model": plan.name,
            "version": version.version,
            "task": plan.task,
            "framework": framework,
            "framework_version": version.framework_version,
            "architecture": version.architecture,
            "hyperparameters": hyperparameters,
            "evaluation": evaluation,
        }
        self._attach(
            actor,
            version,
            "config.json",
            (json.dumps(config, indent=2, sort_keys=True) + "\n").encode(),
            "config",
        )
        pins = [pin.format(v=version.framework_version) for pin in REQUIREMENTS[framework]]
        self._attach(actor, version, "requirements.txt", ("\n".join(pins) + "\n").encode(), "code")

    def _attach_card(self, plan, version, evaluation, actor) -> None:
        intended_use, limitations, ethical = plan.card
        lines = [
            f"# {plan.display_name}: version {version.version}",
            "",
            version.description,
            "",
            f"- Task: {plan.task}",
            f"- Framework: {version.framework} {version.framework_version}",
            f"- Architecture: {version.architecture}",
        ]
        if version.external_base_model:
            lines.append(f"- Base model: {version.external_base_model}")
        lines += [
            "",
            "## Intended use",
            "",
            intended_use,
            "",
            "## Limitations",
            "",
            limitations,
            "",
            "## Ethical considerations",
            "",
            ethical,
            "",
            "## Evaluation",
            "",
            "| metric | value |",
            "| --- | --- |",
            *(f"| {key} | {value} |" for key, value in evaluation.items()),
            "",
        ]
        self._attach(actor, version, "MODEL.md", "\n".join(lines).encode(), "other")

    def _weights(self, plan, framework: str, rng: random.Random) -> tuple[str, bytes]:
        """A small but well-formed weights file, deterministic for a given model."""
        if framework in SAFETENSORS_FRAMEWORKS:
            if "lora_r" in plan.hyperparameters:
                rank = 8
                shapes = {
                    "base_model.model.layers.0.self_attn.q_proj.lora_A.weight": [rank, 64],
                    "base_model.model.layers.0.self_attn.q_proj.lora_B.weight": [64, rank],
                    "base_model.model.layers.0.self_attn.v_proj.lora_A.weight": [rank, 64],
                    "base_model.model.layers.0.self_attn.v_proj.lora_B.weight": [64, rank],
                }
                return "adapter_model.safetensors", _safetensors(shapes, rng)
            width = rng.choice([24, 32, 40])
            shapes = {
                "encoder.weight": [width, 32],
                "encoder.bias": [width],
                "head.weight": [4, width],
                "head.bias": [4],
            }
            return "model.safetensors", _safetensors(shapes, rng)
        if framework == "lightgbm":
            return "model.txt", _lightgbm_text(rng)
        if framework == "prophet":
            params = {
                "k": round(rng.gauss(0, 0.1), 5),
                "m": round(rng.uniform(0.2, 0.6), 5),
                "delta": [round(rng.gauss(0, 0.02), 5) for _ in range(25)],
                "beta": [round(rng.gauss(0, 0.05), 5) for _ in range(26)],
                "sigma_obs": round(rng.uniform(0.02, 0.08), 5),
            }
            model_json = {"__prophet_version": "1.1.5", "params": params, "growth": "linear"}
            return "model.json", (json.dumps(model_json, indent=1) + "\n").encode()
        suffix = {"xgboost": "ubj", "sklearn": "skops"}.get(framework, "bin")
        return f"model.{suffix}", rng.randbytes(rng.randint(3, 9) * 1024)

    # --- deployments and applications ------------------------------------------------------

    def _deployments(self) -> None:
        rng = random.Random(20250101)
        for model_name, env_name, target, history in data.DEPLOYMENTS:
            model = self.models[model_name]
            environment = self.environments[env_name]
            author = self.users[self.plans[model_name].author]
            moments = []
            previous = None
            for index, (number, _, _) in enumerate(history):
                registered_at = self.version_times[(model_name, number)]
                moment = registered_at + timedelta(hours=rng.randint(18, 96))
                if previous is not None:
                    moment = max(moment, previous + timedelta(hours=rng.randint(20, 40)))
                # Never in the future, and leave room for the entries after this one.
                latest = self.now - timedelta(hours=3 * (len(history) - index))
                if moment > latest:
                    earliest = max(registered_at, previous or registered_at) + timedelta(hours=1)
                    moment = earliest + (latest - earliest) * rng.uniform(0.3, 0.9)
                moments.append(moment)
                previous = moment
            for index, (number, status, notes) in enumerate(history):
                # Production releases go through ops; teams deploy elsewhere themselves.
                deployer = self.admin if environment.requires_approval else author
                ended_at = moments[index + 1] if index + 1 < len(history) else None
                deployment = Deployment.objects.create(
                    model=model,
                    version=self.versions[(model_name, number)],
                    environment=environment,
                    status=status,
                    target=target,
                    traffic_percent=100,
                    notes=notes,
                    deployed_by=deployer,
                    deployed_at=moments[index],
                    ended_at=ended_at,
                )
                services.record_admin_change(
                    actor=self.admin,
                    obj=deployment,
                    action="models_app.deployment.recorded",
                    before=None,
                    after={
                        "version": number,
                        "environment": env_name,
                        "status": status,
                        "target": target,
                        "traffic_percent": 100,
                        "deployed_at": moments[index],
                        "ended_at": ended_at,
                    },
                )

    def _applications(self) -> None:
        for slug, name, team, contact, description, uses in data.APPLICATIONS:
            application = Application.objects.create(
                slug=slug,
                name=name,
                owner_team=self.teams[team],
                contact=contact,
                description=description,
            )
            dependencies = []
            for model_name, env_name, alias_name, pinned in uses:
                dependency = Dependency(
                    application=application,
                    model=self.models[model_name],
                    environment=self.environments[env_name] if env_name else None,
                    alias_name=alias_name,
                    pinned_version=self.versions[(model_name, pinned)] if pinned else None,
                )
                try:
                    dependency.full_clean()
                except ValidationError as exc:
                    raise CommandError(f"{slug} → {model_name}: {exc.messages[0]}") from None
                dependency.save()
                dependencies.append(str(dependency))
            services.record_admin_change(
                actor=self.admin,
                obj=application,
                action="models_app.application.created",
                before=None,
                after={
                    "slug": slug,
                    "name": name,
                    "owner_team": team,
                    "dependencies": dependencies,
                },
            )

    # --- history ---------------------------------------------------------------------------

    def _backdate(self) -> None:
        """Spread the catalogue's own timestamps over the last months.

        The audit ledger keeps the moments it was really written: it is hash-chained and
        append-only, and says truthfully that the history was loaded today.
        """
        for (model_name, number), moment in self.version_times.items():
            version = self.versions[(model_name, number)]
            ModelVersion.objects.filter(pk=version.pk).update(created_at=moment)
            Metric.objects.filter(version=version).update(
                recorded_at=moment + timedelta(minutes=20)
            )
            Artifact.objects.filter(version=version).update(
                created_at=moment + timedelta(minutes=35)
            )
        for model_name, model in self.models.items():
            count = model.latest_version
            first = self.version_times[(model_name, 1)]
            last = self.version_times[(model_name, count)]
            fields = {
                "created_at": first - timedelta(hours=6),
                "updated_at": self.archive_times.get(model_name, last),
            }
            if model_name in self.archive_times:
                fields["archived_at"] = self.archive_times[model_name]
            RegisteredModel.objects.filter(pk=model.pk).update(**fields)
        for (model_name, name), moment in self.alias_times.items():
            Alias.objects.filter(model=self.models[model_name], name=name).update(updated_at=moment)
        first_use: dict[int, datetime] = {}
        for dataset_id, created_at in ModelVersion.objects.filter(
            pk__in=[version.pk for version in self.versions.values()]
        ).values_list("dataset_links__dataset_id", "created_at"):
            if dataset_id is not None:
                first_use[dataset_id] = min(created_at, first_use.get(dataset_id, created_at))
        # A dataset is recorded when the first version that names it is registered.
        for dataset_id, moment in first_use.items():
            Dataset.objects.filter(pk=dataset_id).update(created_at=moment)


def _safetensors(shapes: dict[str, list[int]], rng: random.Random) -> bytes:
    """Serialise float32 tensors in the safetensors layout: header length, JSON, raw data."""
    header = {"__metadata__": {"format": "pt"}}
    buffers = []
    offset = 0
    for name, shape in shapes.items():
        count = math.prod(shape)
        buffers.append(struct.pack(f"<{count}f", *(rng.gauss(0, 0.05) for _ in range(count))))
        header[name] = {
            "dtype": "F32",
            "shape": shape,
            "data_offsets": [offset, offset + count * 4],
        }
        offset += count * 4
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(buffers)


def _lightgbm_text(rng: random.Random) -> bytes:
    """A small model in LightGBM's text format: a header and a few shallow trees."""
    features = 12
    lines = [
        "tree",
        "version=v4",
        "num_class=1",
        "num_tree_per_iteration=1",
        "label_index=0",
        f"max_feature_idx={features - 1}",
        "objective=binary sigmoid:1",
        "feature_names=" + " ".join(f"f{i}" for i in range(features)),
        "",
    ]
    for tree in range(16):
        splits = [rng.randrange(features) for _ in range(3)]
        lines += [
            f"Tree={tree}",
            "num_leaves=4",
            "num_cat=0",
            "split_feature=" + " ".join(map(str, splits)),
            "split_gain=" + " ".join(f"{rng.uniform(1, 400):.4f}" for _ in splits),
            "threshold=" + " ".join(f"{rng.uniform(-2, 2):.6f}" for _ in splits),
            "decision_type=2 2 2",
            "left_child=1 -1 -2",
            "right_child=2 -3 -4",
            "leaf_value=" + " ".join(f"{rng.gauss(0, 0.1):.6f}" for _ in range(4)),
            "leaf_count=" + " ".join(str(rng.randint(50, 5000)) for _ in range(4)),
            "shrinkage=0.05",
            "",
        ]
    lines += ["end of trees", ""]
    return "\n".join(lines).encode()
