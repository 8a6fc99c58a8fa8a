"""Gate thresholds for the catalogue's metric charts, offered through models_app.extensions."""

from approvals_app.models import ApprovalPolicy, MetricGate
from models_app.comparison import format_number, metric_id
from models_app.models import RegisteredModel


def gate_thresholds(model: RegisteredModel) -> dict[str, list[tuple[str, float]]]:
    """The absolute gates a version of ``model`` must pass, per metric id, labelled with the
    environment: {"auc": [("Production gate ≥ 0.9", 0.9)]}.

    Per environment the policy is the one promotion would use (the first active policy that
    covers the model's risk tier, as approvals_app.services.find_policy picks it). Relative
    gates have no fixed line to draw and are left out. Two queries: policies, then gates.
    """
    chosen: dict[int, ApprovalPolicy] = {}
    policies = (
        ApprovalPolicy.objects.filter(active=True)
        .select_related("environment")
        .order_by("environment__order", "environment__name", "pk")
    )
    for policy in policies:
        if policy.environment_id not in chosen and policy.applies_to_tier(model.risk_tier):
            chosen[policy.environment_id] = policy
    if not chosen:
        return {}
    policies_by_pk = {policy.pk: policy for policy in chosen.values()}
    gates = MetricGate.objects.filter(
        policy__in=list(policies_by_pk),
        kind=MetricGate.Kind.ABSOLUTE,
        threshold__isnull=False,
    ).order_by("policy__environment__order", "metric_key", "pk")
    lines: dict[str, list[tuple[str, float]]] = {}
    for gate in gates:
        environment = policies_by_pk[gate.policy_id].environment
        label = f"{environment} gate {gate.get_operator_display()} {format_number(gate.threshold)}"
        if not gate.blocking:
            label += " (advisory)"
        lines.setdefault(metric_id(gate.metric_key, gate.metric_slice), []).append(
            (label, gate.threshold)
        )
    return lines
