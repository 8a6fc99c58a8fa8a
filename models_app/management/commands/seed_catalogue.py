"""Build the catalogue of the Northwind demo organisation so that every page has something
true to show.

The catalogue's history (people, teams, models, versions with their metrics and artefacts,
aliases, applications) is planned as timed steps and replayed in time order under a demo
clock (see _demo_clock), so each row's timestamps and the audit ledger agree. Everything the
services cover goes through them, so the ledger holds a genuine history; reference data
without a service is written here, audited with ``record_admin_change`` where it is an
organisational change. Deployments need approvals_app (promotion), so this command loads none;
``seed_demo`` merges these steps with the governance and release history and replays both.
The run is one transaction and idempotent: a second run finds the marker model and does
nothing.
"""

import hashlib
import io
import json
import math
import random
import struct
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from models_app import services
from models_app.audit import verify_chain
from models_app.management.commands import _demo_data as data
from models_app.management.commands._demo_clock import Step, replay, working_hours
from models_app.models import (
    Alias,
    Application,
    Artifact,
    AuditEvent,
    Dataset,
    Deployment,
    Environment,
    Metric,
    MetricDefinition,
    ModelVersion,
    RegisteredModel,
    Team,
)

ORIGIN_DAYS_AGO = 190
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
        "Load the catalogue part of the demo organisation (teams, users, models, versions, "
        "metrics, artefacts, aliases, applications) unless it is there, without governance or "
        "deployments; `seed_demo` loads the whole organisation, deployments included."
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
                require_empty_ledger()
                history = CatalogueHistory(now=timezone.now())
                replay(history.steps(), until=history.now)
        except services.RegistryError as exc:
            raise CommandError(f"Could not build the demo organisation: {exc.message}") from exc
        self.stdout.write("\n".join(summary_lines(time.monotonic() - started)))


def require_empty_ledger() -> None:
    """Refuse to replay the demo history into a registry that already has one: the replay
    starts months ago, and the ledger's order must stay its time order."""
    count = AuditEvent.objects.count()
    if count:
        raise CommandError(
            f"The audit ledger already holds {count} events. The demo replays six months of "
            "history, which only fits in front of an empty ledger: load it into a fresh "
            "database."
        )


def summary_lines(seconds: float) -> list[str]:
    """What the demo organisation holds, and the demo logins."""
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
    return lines


def _rounded(value: float) -> float:
    magnitude = abs(value)
    if magnitude >= 100:
        return round(value, 1)
    if magnitude >= 1:
        return round(value, 3)
    return round(value, 4)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _VersionContent:
    """What one version is registered with, computed when the history is planned."""

    fields: dict
    metric_batches: list[list[dict]]
    artefacts: list[tuple[str, bytes, str]]
    card: dict
    card_file: bytes | None


class CatalogueHistory:
    """The catalogue part of the demo organisation as a history of timed steps.

    Planning computes when each thing happened and what each version holds (metrics and
    artefacts come from a generator seeded per model, so they are the same on every run);
    the steps then make the rows through the services when ``replay`` runs them. Other parts
    of the demo (approvals_app.demo) plan their steps against the moments kept here.
    """

    def __init__(self, *, now: datetime):
        self.now = now
        # The registry was adopted a little before the oldest model in the demo.
        self.origin = working_hours(now - timedelta(days=ORIGIN_DAYS_AGO))
        self.admin = None
        self.users = {}
        self.teams = {}
        self.environments = {}
        self.ratio_keys = {
            key for key, (_, unit, _, _) in data.METRIC_DEFINITIONS.items() if unit == "ratio"
        }
        self.models: dict[str, RegisteredModel] = {}
        self.versions: dict[tuple[str, int], ModelVersion] = {}
        self.created_at: dict[str, datetime] = {}
        self.version_times: dict[tuple[str, int], datetime] = {}
        self.alias_set_at: dict[tuple[str, str], datetime] = {}
        self._steps: list[Step] = []
        self._plan()

    def steps(self) -> list[Step]:
        return list(self._steps)

    def registered_at(self, model_name: str, number: int) -> datetime:
        return self.version_times[(model_name, number)]

    def _at(self, moment: datetime, label: str, action) -> None:
        self._steps.append(Step(moment, action, label))

    def _plan(self) -> None:
        self._at(self.origin, "organisation", self._organisation)
        for plan in data.MODELS:
            self._plan_model(plan)
        for application in data.APPLICATIONS:
            self._plan_application(*application)

    # --- organisation ----------------------------------------------------------------------

    def _organisation(self) -> None:
        self._people()
        self._teams()
        self._environments()
        self._metric_definitions()

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
                    # Its default was bound to the real clock when the model was defined.
                    "date_joined": timezone.now(),
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

    def _plan_model(self, plan: data.ModelPlan) -> None:
        rng = random.Random(zlib.crc32(plan.name.encode()))
        times = self._timeline(plan, rng)
        self.created_at[plan.name] = times[0] - timedelta(hours=6)
        self._at(self.created_at[plan.name], f"create {plan.name}", partial(self._create, plan))
        framework, framework_version = plan.framework, plan.framework_version
        architecture, hyperparameters = plan.architecture, dict(plan.hyperparameters)
        count = len(plan.versions)
        card = dict(
            zip(("intended_use", "limitations", "ethical_considerations"), plan.card, strict=True)
        )
        for number, step in enumerate(plan.versions, start=1):
            framework = step.framework or framework
            framework_version = step.framework_version or framework_version
            architecture = step.architecture or architecture
            hyperparameters = {**hyperparameters, **step.hyperparameters}
            registered_at = times[number - 1]
            self.version_times[(plan.name, number)] = registered_at
            parent = self._parent_key(plan, step, number)
            if (
                parent is not None
                and self.version_times.get(parent, registered_at) >= registered_at
            ):
                raise CommandError(f"{plan.name} v{number} is registered before its parent.")
            progress = (number - 1) / (count - 1) if count > 1 else 1.0
            progress = min(max(progress + step.quality, -0.3), 1.1)
            # Computed now and in this order, so the generator gives every run the same values.
            metric_batches, evaluation = self._metrics(plan, framework, progress, rng)
            fields = {
                "framework": framework,
                "framework_version": framework_version,
                "architecture": architecture,
                "description": step.note,
                "source_uri": self._source_uri(plan, number),
                "hyperparameters": hyperparameters,
                "external_base_model": step.external_base_model,
                "datasets": self._datasets(plan, number, registered_at),
                "tags": step.tags,
            }
            content = _VersionContent(
                fields=fields,
                metric_batches=metric_batches,
                artefacts=self._artefacts(plan, number, fields, evaluation, rng),
                card=card,
                card_file=self._card_file(plan, number, fields, evaluation)
                if step.card != "none"
                else None,
            )
            self._plan_version(plan, number, step, parent, content, registered_at)
            self._plan_after_version(plan, number, registered_at)
        if plan.archive_reason:
            self._at(
                times[-1] + timedelta(days=12, hours=3),
                f"archive {plan.name}",
                partial(self._archive, plan),
            )

    def _create(self, plan: data.ModelPlan) -> None:
        self.models[plan.name] = services.create_model(
            actor=self.users[plan.author],
            name=plan.name,
            team=self.teams[plan.team],
            display_name=plan.display_name,
            description=plan.description,
            responsible=self.users[plan.responsible],
            task=plan.task,
            risk_tier=plan.initial_risk_tier or plan.risk_tier,
            restricted=plan.restricted,
            tags=plan.tags,
        )

    def _archive(self, plan: data.ModelPlan) -> None:
        services.archive_model(
            actor=self.users[plan.author],
            model=self.models[plan.name],
            reason=plan.archive_reason,
        )

    def _plan_version(self, plan, number, step, parent, content, registered_at) -> None:
        key = (plan.name, number)
        author = step.author or plan.author
        label = f"{plan.name} v{number}"

        def register():
            self.versions[key] = services.register_version(
                actor=self.users[author],
                model=self.models[plan.name],
                parent=self.versions[parent] if parent else None,
                **content.fields,
                **(content.card if step.card == "full" else {}),
            )

        def log_metrics():
            for batch in content.metric_batches:
                services.log_metrics(
                    actor=self.users[author], version=self.versions[key], metrics=batch
                )

        def attach_artefacts():
            for path, payload, kind in content.artefacts:
                self._attach(self.users[author], self.versions[key], path, payload, kind)
            if step.card == "full":
                self._attach(
                    self.users[author], self.versions[key], "MODEL.md", content.card_file, "other"
                )

        def write_card():
            # The model card was written up after registration, by the accountable person.
            responsible = self.users[plan.responsible]
            services.update_version_card(
                actor=responsible, version=self.versions[key], **content.card
            )
            self._attach(responsible, self.versions[key], "MODEL.md", content.card_file, "other")

        self._at(registered_at, f"register {label}", register)
        # The pipeline logs the evaluation and uploads the artefacts once training has finished.
        self._at(registered_at + timedelta(minutes=20), f"metrics of {label}", log_metrics)
        self._at(registered_at + timedelta(minutes=35), f"artefacts of {label}", attach_artefacts)
        if step.card == "later":
            # Next morning, before anyone could ask for an approval (which freezes artefacts).
            self._at(registered_at + timedelta(hours=20), f"card of {label}", write_card)

    def _plan_after_version(self, plan, number: int, registered_at: datetime) -> None:
        for update in plan.updates:
            if update.after == number:
                self._at(
                    registered_at + timedelta(hours=2),
                    f"update {plan.name}",
                    partial(self._update_model, plan, update),
                )
        for op in plan.aliases:
            if (op.after or op.version) != number:
                continue
            moment = registered_at + timedelta(hours=5)
            if not op.delete:
                self.alias_set_at.setdefault((plan.name, op.name), moment)
            self._at(moment, f"alias {plan.name}@{op.name}", partial(self._alias, plan, op))

    def _update_model(self, plan: data.ModelPlan, update: data.ModelUpdate) -> None:
        changes = dict(update.changes)
        tags = changes.pop("tags", None)
        services.update_model(
            actor=self.users[update.actor],
            model=self.models[plan.name],
            tags=list(tags) if tags is not None else None,
            **changes,
        )

    def _alias(self, plan: data.ModelPlan, op: data.AliasOp) -> None:
        responsible = self.users[plan.responsible]
        model = self.models[plan.name]
        if op.delete:
            services.delete_alias(actor=responsible, model=model, name=op.name)
        else:
            services.set_alias(
                actor=responsible,
                model=model,
                name=op.name,
                version=self.versions[(plan.name, op.version)],
            )

    def _parent_key(self, plan, step: data.VersionPlan, number: int) -> tuple[str, int] | None:
        if step.parent_ref is not None:
            return step.parent_ref
        if step.parent == data.PREVIOUS:
            return (plan.name, number - 1) if number > 1 else None
        if step.parent is None:
            return None
        return (plan.name, step.parent)

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

    def _metrics(self, plan, framework, progress, rng) -> tuple[list[list[dict]], dict[str, float]]:
        """The batches a pipeline logs (training curve, evaluation, fairness slices) and the
        evaluation on its own."""
        batches = []
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
            batches.append(curve)

        values = {}
        for key, spec in plan.metrics.items():
            if spec == data.DERIVED:
                continue
            first, last, noise = spec
            values[key] = self._clamp(key, first + (last - first) * progress + rng.gauss(0, noise))
        if plan.metrics.get("f1") == data.DERIVED:
            precision, recall = values["precision"], values["recall"]
            values["f1"] = _rounded(2 * precision * recall / (precision + recall))
        batches.append([{"key": key, "value": value} for key, value in values.items()])

        slices = []
        for key, offsets in plan.fairness.items():
            noise = plan.metrics[key][2]
            for name, offset in offsets.items():
                # Gaps narrow as the team works on them, but never close completely.
                value = values[key] + offset * (1 - 0.5 * max(progress, 0)) + rng.gauss(0, noise)
                slices.append({"key": key, "value": self._clamp(key, value), "slice": name})
        if slices:
            batches.append(slices)
        return batches, values

    # --- artefacts -------------------------------------------------------------------------

    def _attach(self, actor, version, path: str, content: bytes, kind: str) -> None:
        services.attach_artifact(
            actor=actor, version=version, path=path, content=io.BytesIO(content), kind=kind
        )

    def _artefacts(self, plan, number, fields, evaluation, rng) -> list[tuple[str, bytes, str]]:
        """The weights, config and requirements a version is uploaded with: (path, bytes,
        kind)."""
        framework = fields["framework"]
        path, weights = self._weights(plan, framework, rng)
        config = {
            "model": plan.name,
            "version": number,
            "task": plan.task,
            "framework": framework,
            "framework_version": fields["framework_version"],
            "architecture": fields["architecture"],
            "hyperparameters": fields["hyperparameters"],
            "evaluation": evaluation,
        }
        pins = [pin.format(v=fields["framework_version"]) for pin in REQUIREMENTS[framework]]
        return [
            (path, weights, "weights"),
            (
                "config.json",
                (json.dumps(config, indent=2, sort_keys=True) + "\n").encode(),
                "config",
            ),
            ("requirements.txt", ("\n".join(pins) + "\n").encode(), "code"),
        ]

    def _card_file(self, plan, number, fields, evaluation) -> bytes:
        """MODEL.md: the model card and the evaluation, as the team writes it up."""
        intended_use, limitations, ethical = plan.card
        lines = [
            f"# {plan.display_name}: version {number}",
            "",
            fields["description"],
            "",
            f"- Task: {plan.task}",
            f"- Framework: {fields['framework']} {fields['framework_version']}",
            f"- Architecture: {fields['architecture']}",
        ]
        if fields["external_base_model"]:
            lines.append(f"- Base model: {fields['external_base_model']}")
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
        return "\n".join(lines).encode()

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

    # --- applications ----------------------------------------------------------------------

    def _plan_application(self, slug, name, team, contact, description, uses) -> None:
        # Registered a few days after everything it names existed.
        ready = []
        for model_name, _, alias_name, pinned in uses:
            ready.append(self.created_at[model_name])
            if alias_name:
                ready.append(self.alias_set_at[(model_name, alias_name)])
            if pinned:
                ready.append(self.registered_at(model_name, pinned))
        moment = working_hours(max(ready) + timedelta(days=3, hours=2))
        owner = data.APPLICATION_OWNERS[team]

        def register():
            actor = self.users[owner]
            application = services.register_application(
                actor=actor,
                name=name,
                slug=slug,
                owner_team=self.teams[team],
                contact=contact,
                description=description,
            )
            for model_name, env_name, alias_name, pinned in uses:
                services.add_dependency(
                    actor=actor,
                    application=application,
                    model=self.models[model_name],
                    environment=self.environments[env_name] if env_name else None,
                    alias_name=alias_name,
                    pinned_version=self.versions[(model_name, pinned)] if pinned else None,
                )

        self._at(moment, f"application {slug}", register)


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
