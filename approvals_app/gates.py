"""Metric gate evaluation: a pure function of the gates and two sets of metrics.

No ORM, no request: plain values in, results out, so every rule is unit-tested directly.
"""

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    MISSING = "missing"


@dataclass(frozen=True)
class Gate:
    metric_key: str
    kind: str  # "absolute" or "relative"
    operator: str = ""  # ">=" or "<=" (absolute)
    threshold: float | None = None  # absolute
    max_regression_percent: float | None = None  # relative
    metric_slice: str = ""
    blocking: bool = True


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    outcome: Outcome
    candidate_value: float | None
    reference_value: float | None
    summary: str
    limit: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        return self.gate.blocking and self.outcome != Outcome.PASS

    def as_dict(self) -> dict:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        data["blocks"] = self.blocks
        return data


MetricKey = tuple[str, str]  # (key, slice)


def _label(gate: Gate) -> str:
    return f"{gate.metric_key}[{gate.metric_slice}]" if gate.metric_slice else gate.metric_key


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def evaluate_gate(
    gate: Gate,
    candidate: dict[MetricKey, float],
    current: dict[MetricKey, float] | None,
    higher_is_better: dict[str, bool],
) -> GateResult:
    """Evaluate one gate. ``current`` is None when nothing runs in the target environment."""
    key = (gate.metric_key, gate.metric_slice)
    label = _label(gate)
    value = candidate.get(key)
    if value is None:
        return GateResult(
            gate, Outcome.MISSING, None, None, f"The candidate has no {label} metric."
        )

    if gate.kind == "absolute":
        if gate.operator == ">=":
            passed = value >= gate.threshold
        elif gate.operator == "<=":
            passed = value <= gate.threshold
        else:
            raise ValueError(f"Unknown operator {gate.operator!r}")
        verdict = "meets" if passed else "does not meet"
        return GateResult(
            gate,
            Outcome.PASS if passed else Outcome.FAIL,
            value,
            None,
            f"{label} = {_fmt(value)} {verdict} {gate.operator} {_fmt(gate.threshold)}.",
            limit=gate.threshold,
        )

    if gate.kind != "relative":
        raise ValueError(f"Unknown gate kind {gate.kind!r}")
    if current is None:
        # Nothing deployed to compare with: the first version into an environment passes a
        # relative gate by definition; absolute gates still apply.
        return GateResult(
            gate,
            Outcome.PASS,
            value,
            None,
            f"Nothing runs in the target environment yet; {label} has nothing to be worse than.",
        )
    reference = current.get(key)
    if reference is None:
        return GateResult(
            gate,
            Outcome.MISSING,
            value,
            None,
            f"The version running now has no {label} metric to compare with.",
        )
    higher = higher_is_better.get(gate.metric_key, True)
    tolerance = abs(reference) * (gate.max_regression_percent or 0) / 100
    limit = reference - tolerance if higher else reference + tolerance
    passed = value >= limit if higher else value <= limit
    change = 0.0 if reference == 0 else (value - reference) / abs(reference) * 100
    direction = "higher is better" if higher else "lower is better"
    return GateResult(
        gate,
        Outcome.PASS if passed else Outcome.FAIL,
        value,
        reference,
        f"{label} = {_fmt(value)} vs {_fmt(reference)} now ({change:+.2f}%, {direction}; "
        f"tolerated {gate.max_regression_percent:g}% worse, limit {_fmt(limit)}).",
        limit=limit,
        extra={"change_percent": change, "higher_is_better": higher},
    )


def evaluate_gates(
    gates: list[Gate],
    candidate: dict[MetricKey, float],
    current: dict[MetricKey, float] | None,
    higher_is_better: dict[str, bool],
) -> list[GateResult]:
    return [evaluate_gate(gate, candidate, current, higher_is_better) for gate in gates]
