"""Approval pages: the review queue, one request and the decisions on it, the form that asks
for approval, and the approvals panel of a version page.

Every decision goes through approvals_app.services; the views only load, authorise, bind a
form, call the service and pick the response (the request card fragment for htmx, a redirect
with a message otherwise).
"""

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from approvals_app import services
from approvals_app.filters import ApprovalQueueFilter
from approvals_app.forms import (
    ChecklistTickForm,
    RequestApprovalForm,
    ResubmitForm,
    ReviewForm,
    WithdrawForm,
)
from approvals_app.gates import Outcome
from approvals_app.models import ApprovalRequest, ChecklistItem, ChecklistTick, Review
from approvals_app.services import ApprovalError, GateReport
from models_app.comparison import format_number, format_value, with_unit
from models_app.models import (
    AuditEvent,
    Deployment,
    Environment,
    Membership,
    MetricDefinition,
    ModelVersion,
)
from models_app.permissions import (
    can_contribute,
    get_visible_version_or_404,
    has_team_role,
    require_contributor,
)
from registry_site.http import HtmxHttpRequest

PAGE_SIZE = 25
MY_REQUESTS_SHOWN = 20
CARD_ID = "request-card"

_RELATED = (
    "version__model__team",
    "version__created_by",
    "environment",
    "policy",
    "requester",
)
# Everything quorum_state and the gate summary read, fetched once for a whole list.
_PREFETCH = (
    "reviews",
    "checklist_ticks",
    "policy__required_roles",
    "policy__checklist_items",
    "policy__gates",
)


@dataclass
class Delta:
    text: str = ""
    percent: str = ""
    tone: str = ""  # "good", "bad" or "" (no change, or direction unknown)


def _delta(candidate: float | None, current: float | None, unit: str, higher) -> Delta:
    """candidate − current, coloured by the metric's direction (``higher`` may be None)."""
    if candidate is None or current is None:
        return Delta()
    change = candidate - current
    if change == 0:
        return Delta(text="no change")
    sign = "+" if change > 0 else "−"
    delta = Delta(text=with_unit(f"{sign}{format_number(abs(change))}", unit))
    if current != 0 and unit != "%":
        delta.percent = f"{change / abs(current) * 100:+.1f}%".replace("-", "−")
    if higher is not None:
        delta.tone = "good" if (change > 0) == higher else "bad"
    return delta


# --- gate results as table rows --------------------------------------------------------------


def _gate_rule(gate: dict) -> str:
    label = gate["metric_key"] + (f"[{gate['metric_slice']}]" if gate.get("metric_slice") else "")
    if gate["kind"] == "absolute":
        operator = {">=": "≥", "<=": "≤"}.get(gate["operator"], gate["operator"])
        return f"{label} {operator} {format_number(gate['threshold'])}"
    return f"{label} no more than {gate['max_regression_percent']:g}% worse than now"


def _gate_rows(results: list[dict], units: dict[str, str]) -> list[dict]:
    """GateResult.as_dict() entries (live or frozen) with display text."""
    rows = []
    for result in results:
        gate = result["gate"]
        unit = units.get(gate["metric_key"], "")
        rows.append(
            {
                "rule": _gate_rule(gate),
                "outcome": result["outcome"],
                "blocking": gate.get("blocking", True),
                "candidate": format_value(result.get("candidate_value"), unit),
                "reference": format_value(result.get("reference_value"), unit),
                "limit": format_value(result.get("limit"), unit),
                "relative": gate["kind"] == "relative",
                "summary": result["summary"],
            }
        )
    return rows


@dataclass
class GateSummary:
    passed: int = 0
    failed: int = 0
    missing: int = 0
    card_blocks: bool = False

    @classmethod
    def of(cls, report: GateReport) -> "GateSummary":
        summary = cls(card_blocks=report.model_card_blocks)
        for result in report.results:
            if result.outcome == Outcome.PASS:
                summary.passed += 1
            elif result.outcome == Outcome.FAIL:
                summary.failed += 1
            else:
                summary.missing += 1
        return summary

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.missing


def _units(keys) -> dict[str, str]:
    return dict(MetricDefinition.objects.filter(key__in=set(keys)).values_list("key", "unit"))


# --- the review queue ------------------------------------------------------------------------


@dataclass
class RowState:
    """The decision cell of one "waiting for you" row, and what the last decision made from
    the queue left to show in it."""

    can_review: bool = False
    approved_already: bool = False
    refusal: str = ""  # why this user has no decision buttons
    confirm: bool = False  # ask to confirm the approval of a high-risk model
    error: str = ""  # a refusal of the decision, shown at the top of the row
    # A refused reject / request-changes form opens again with what was typed and the error.
    reason_for: str = ""
    reason_error: str = ""
    comment: str = ""

    @property
    def reason_forms(self) -> list[dict]:
        """The two decisions that need a reason, each a small form behind a <details>."""
        return [
            {
                "decision": decision,
                "summary": summary,
                "label": label,
                "button": button,
                "open": self.reason_for == decision,
                "comment": self.comment if self.reason_for == decision else "",
                "error": self.reason_error if self.reason_for == decision else "",
            }
            for decision, summary, label, button in _REASON_FORMS
        ]


_REASON_FORMS = (
    (
        Review.Decision.REQUEST_CHANGES,
        "Request changes…",
        "What should change?",
        "Send back for changes",
    ),
    (Review.Decision.REJECT, "Reject…", "Why is it rejected?", "Reject request"),
)


@dataclass
class QueueRow:
    approval: ApprovalRequest
    gates: GateSummary
    missing: list[str]
    age: str
    reviews: int = 0
    # A blocking gate fails or lacks data, or the model card is incomplete, and no admin has
    # overridden that in the current round (after an override the others may still approve).
    blocked: bool = False
    state: RowState = field(default_factory=RowState)


def _queue_rows(approvals: list[ApprovalRequest]) -> list[QueueRow]:
    """Rows for the queue tables in a fixed number of queries, however many rows there are."""
    prefetch_related_objects(approvals, *_PREFETCH)
    reports = services.evaluate_policies([(a.version, a.environment, a.policy) for a in approvals])
    now = timezone.now()
    rows = []
    for approval, report in zip(approvals, reports, strict=True):
        if approval.status == ApprovalRequest.Status.OPEN:
            missing = services.quorum_state(approval).describe_missing()
        elif approval.status == ApprovalRequest.Status.CHANGES_REQUESTED:
            missing = ["changes requested: waiting for the requester to re-submit"]
        else:
            missing = []
        rows.append(
            QueueRow(
                approval=approval,
                gates=GateSummary.of(report),
                missing=missing,
                age=timesince(approval.created_at, now, depth=1),
                reviews=len(approval.reviews.all()),
                blocked=not report.passes and _round_override(approval) is None,
            )
        )
    return rows


def _with_query(url: str, **params) -> str:
    """``url`` with these query parameters replaced (None removes one)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _queue_return_url(request: HtmxHttpRequest) -> str:
    """Where a decision made in the queue goes back to: the queue page it was made on (its
    filters and page kept) when the posted ``next`` is a local URL, else the plain queue."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("approvals_app:queue")


@require_safe
@login_required
def queue(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    waiting = ApprovalRequest.objects.awaiting_review_by(user)
    mine = ApprovalRequest.objects.visible_to(user).filter(requester=user)
    filterset = ApprovalQueueFilter(request.GET or None, queryset=waiting, request=request)
    if filterset.is_bound and not filterset.is_valid():
        waiting, mine = waiting.none(), mine.none()
    elif filterset.is_bound:
        # The same filters narrow both lists.
        waiting, mine = filterset.qs, filterset.filter_queryset(mine)
    # Oldest first: the request that has waited longest is the one to look at next.
    page = Paginator(
        waiting.select_related(*_RELATED).order_by("created_at", "pk"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    mine_total = mine.count()
    my_requests = list(
        mine.select_related(*_RELATED).order_by("-created_at", "-pk")[:MY_REQUESTS_SHOWN]
    )
    rows = _queue_rows([*page.object_list, *my_requests])
    waiting_rows = rows[: len(page.object_list)]
    # ?confirm=<pk> is where a high-risk approval made without JavaScript asks to confirm.
    confirm = request.GET.get("confirm", "")
    for row in waiting_rows:
        # Every waiting row is one this user may decide, unless it is back with the requester.
        decidable = row.approval.status == ApprovalRequest.Status.OPEN
        row.state = RowState(can_review=decidable, confirm=str(row.approval.pk) == confirm)
    context = {
        "filterset": filterset,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "rows": waiting_rows,
        "my_rows": rows[len(page.object_list) :],
        "mine_total": mine_total,
        "filtered": any(
            value for key, value in request.GET.items() if key not in ("page", "confirm")
        ),
        "back": _with_query(request.get_full_path(), confirm=None),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "approvals_app/queue.html#results", context)
    return render(request, "approvals_app/queue.html", context)


# --- one request -----------------------------------------------------------------------------


def _get_request_or_404(user, pk: int) -> ApprovalRequest:
    """The request if the user may see its model; 404 otherwise, so restricted ones don't leak."""
    return get_object_or_404(
        ApprovalRequest.objects.visible_to(user)
        .select_related(*_RELATED)
        .prefetch_related(
            Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
            Prefetch("checklist_ticks", queryset=ChecklistTick.objects.select_related("ticked_by")),
            "policy__required_roles",
            "policy__checklist_items",
        ),
        pk=pk,
    )


@dataclass
class CardState:
    """What the last action left to show in the request card."""

    review_form: ReviewForm | None = None
    confirm: bool = False  # ask to confirm the approval of a high-risk model
    override: bool = False  # offer an admin override after a gate failure
    error: str = ""
    tick_forms: dict[int, ChecklistTickForm] = field(default_factory=dict)
    resubmit_form: ResubmitForm | None = None


def _comparison(
    version: ModelVersion, current: ModelVersion | None, values: dict, definitions: dict
) -> dict:
    """The candidate next to what runs in the target environment now: metric rows with
    deltas coloured by direction, and hyperparameters side by side."""
    candidate_values = values.get(version.pk, {})
    current_values = values.get(current.pk, {}) if current else {}
    metric_rows = []
    for key, metric_slice in sorted(candidate_values.keys() | current_values.keys()):
        definition = definitions.get(key)
        unit = definition.unit if definition else ""
        higher = definition.higher_is_better if definition else None
        candidate = candidate_values.get((key, metric_slice))
        now = current_values.get((key, metric_slice))
        metric_rows.append(
            {
                "key": key,
                "slice": metric_slice,
                "higher": higher,
                "candidate": format_value(candidate, unit),
                "current": format_value(now, unit),
                "delta": _delta(candidate, now, unit, higher),
            }
        )

    def params(v) -> dict[str, str]:
        raw = v.hyperparameters if v and isinstance(v.hyperparameters, dict) else {}
        return {k: x if isinstance(x, str) else json.dumps(x) for k, x in raw.items()}

    candidate_params, current_params = params(version), params(current)
    param_rows = [
        {
            "key": key,
            "candidate": candidate_params.get(key, "—"),
            "current": current_params.get(key, "—") if current else "—",
            "changed": current is not None and candidate_params.get(key) != current_params.get(key),
        }
        for key in sorted(candidate_params.keys() | current_params.keys())
    ]
    return {"metrics": metric_rows, "params": param_rows}


@dataclass
class DecisionRights:
    eligible: bool
    can_review: bool
    approved_already: bool  # in this round, on a request still open
    refusal: str  # why there are no decision buttons, when that needs saying


def _round_override(approval: ApprovalRequest) -> Review | None:
    """The admin override recorded in the request's current round; reviews prefetched."""
    return next(
        (r for r in approval.reviews.all() if r.is_override and r.round == approval.round), None
    )


def _decision_rights(user, approval: ApprovalRequest) -> DecisionRights:
    """Whether ``user`` may decide ``approval`` now; its reviews must be prefetched."""
    version = approval.version
    own = user.pk in (approval.requester_id, version.created_by_id)
    eligible = services.is_eligible_reviewer(user, version)
    is_open = approval.status == ApprovalRequest.Status.OPEN
    approved_already = any(
        r.reviewer_id == user.pk and r.round == approval.round and r.decision == "approve"
        for r in approval.reviews.all()
    )
    return DecisionRights(
        eligible=eligible,
        can_review=is_open
        and eligible
        and not approved_already
        and (approval.policy.author_may_approve or not own),
        approved_already=is_open and approved_already,
        refusal=_review_refusal(approval, own=own, eligible=eligible),
    )


def _card_context(request, approval: ApprovalRequest, state: CardState) -> dict:
    user = request.user
    version = approval.version
    policy = approval.policy
    rights = _decision_rights(user, approval)
    team_admin = has_team_role(user, version.model.team_id, Membership.Role.ADMIN)
    is_open = approval.status == ApprovalRequest.Status.OPEN
    quorum = services.quorum_state(approval)
    ticks = {tick.item_id: tick for tick in approval.checklist_ticks.all()}
    can_tick = approval.is_open and (user.pk == approval.requester_id or rights.eligible)
    checklist = [
        {
            "item": item,
            "tick": ticks.get(item.pk),
            "form": state.tick_forms.get(item.pk) or ChecklistTickForm(prefix=f"item{item.pk}"),
        }
        for item in policy.checklist_items.all()
    ]
    review_form = state.review_form or ReviewForm()
    if state.override:
        review_form.fields["override_reason"].required = True
    return {
        "approval": approval,
        "version": version,
        "model": version.model,
        "policy": policy,
        "quorum": quorum,
        "missing": quorum.describe_missing() if is_open else [],
        "round_override": _round_override(approval) if is_open else None,
        "reviews": list(approval.reviews.all()),
        "checklist": checklist,
        "can_review": rights.can_review,
        "approved_already": rights.approved_already,
        "review_refusal": rights.refusal,
        "can_tick": can_tick,
        "can_withdraw": approval.is_open and (user.pk == approval.requester_id or team_admin),
        "can_resubmit": approval.status == ApprovalRequest.Status.CHANGES_REQUESTED
        and user.pk == approval.requester_id,
        "review_form": review_form,
        "withdraw_form": WithdrawForm(),
        "resubmit_form": state.resubmit_form
        or ResubmitForm(initial={"justification": approval.justification}),
        "state": state,
        "card_id": CARD_ID,
        "closing": _closing_note(approval),
    }


_CLOSING_ACTIONS = {
    ApprovalRequest.Status.SUPERSEDED: "approvals.request.superseded",
    ApprovalRequest.Status.WITHDRAWN: "approvals.request.withdrawn",
}


def _closing_note(approval: ApprovalRequest) -> dict:
    """What the ledger says about why a superseded or withdrawn request closed: the newer
    request that superseded it, or the withdrawal reason. One query, none for other states."""
    action = _CLOSING_ACTIONS.get(approval.status)
    if action is None:
        return {}
    event = AuditEvent.objects.filter(
        action=action, object_type=ApprovalRequest._meta.label, object_id=str(approval.pk)
    ).first()
    after = event.after if event is not None else {}
    newer = after.get("superseded_by")
    return {
        "superseded_by": newer,
        "superseded_by_url": reverse("approvals_app:request_detail", args=[newer]) if newer else "",
        "withdrawal_reason": after.get("reason") or "",
    }


def _review_refusal(approval: ApprovalRequest, *, own: bool, eligible: bool) -> str:
    """Why this user sees no decision buttons on an open request (shown as a note)."""
    if approval.status != ApprovalRequest.Status.OPEN:
        return ""
    if own and not approval.policy.author_may_approve:
        return (
            "Separation of duties: you created this version or asked for this approval, so you "
            "cannot review it."
        )
    if not eligible:
        return (
            f"You are not a reviewer for team “{approval.version.model.team}” and hold no "
            "organisation-wide reviewer role, so you can read this request but not decide it."
        )
    return ""


def _evidence_context(approval: ApprovalRequest) -> dict:
    """Gate results (live, or frozen once approved), the comparison and the frozen evidence."""
    version = approval.version
    [report] = services.evaluate_policies([(version, approval.environment, approval.policy)])
    current = report.current.version if report.current else None
    values = services.latest_metric_values_of([version.pk, *([current.pk] if current else [])])
    frozen = approval.evidence if approval.status == ApprovalRequest.Status.APPROVED else {}
    frozen_gates = (frozen.get("gates") or {}).get("gates") or []
    keys = (
        {key for per_version in values.values() for key, _ in per_version}
        | {r.gate.metric_key for r in report.results}
        | {g["gate"]["metric_key"] for g in frozen_gates}
        | {m["key"] for m in frozen.get("metrics", [])}
    )
    definitions = {d.key: d for d in MetricDefinition.objects.filter(key__in=keys)}
    units = {key: d.unit for key, d in definitions.items()}
    context = {
        "report": report,
        "current_deployment": report.current,
        "current": current,
        "gate_rows": _gate_rows([r.as_dict() for r in report.results], units),
        "gate_summary": GateSummary.of(report),
        "comparison": _comparison(version, current, values, definitions),
        "frozen": frozen,
    }
    if frozen:
        context.update(
            frozen_gate_rows=_gate_rows(frozen_gates, units),
            frozen_metrics=[
                {**m, "display": format_value(m["value"], units.get(m["key"], ""))}
                for m in frozen.get("metrics", [])
            ],
            frozen_card=[
                (label, (frozen.get("model_card") or {}).get(name, ""))
                for name, label in _CARD_FIELDS
            ],
            evidence_changes=[
                dict(_CARD_FIELDS).get(name, name) for name in services.evidence_changes(approval)
            ],
        )
    return context


_CARD_FIELDS = (
    ("description", "Description"),
    ("intended_use", "Intended use"),
    ("limitations", "Limitations"),
    ("ethical_considerations", "Ethical considerations"),
)


def _render_request(
    request: HtmxHttpRequest, approval: ApprovalRequest, state: CardState | None = None
) -> HttpResponse:
    """The request page, or only its card (plus the evidence, out of band) for htmx requests
    aimed at the card: the forms on the card and its Cancel links."""
    state = state or CardState()
    context = {**_card_context(request, approval, state), **_evidence_context(approval)}
    card_only = request.htmx and (request.method == "POST" or request.htmx.target == CARD_ID)
    if card_only and not request.htmx.history_restore_request:
        return render(request, "approvals_app/request_detail.html#card", context)
    return render(request, "approvals_app/request_detail.html", context)


@require_safe
@login_required
def request_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    approval = _get_request_or_404(request.user, pk)
    return _render_request(request, approval)


# --- decisions -------------------------------------------------------------------------------


def _after_action(request: HtmxHttpRequest, approval: ApprovalRequest, note: str) -> HttpResponse:
    """Success: the card re-rendered in place for htmx, a redirect with a message otherwise."""
    messages.success(request, note)
    if request.htmx:
        return _render_request(request, _get_request_or_404(request.user, approval.pk))
    return redirect(approval)


def _refused(
    request: HtmxHttpRequest,
    approval: ApprovalRequest,
    state: CardState,
    reason: str,
    *,
    at_field: bool = False,
) -> HttpResponse:
    """A refusal: shown inside the card (status 200, so htmx 2 swaps it) — next to the field
    when ``at_field``, else at the top — or as a message on the request page without
    JavaScript."""
    if request.htmx:
        if not at_field:
            state.error = reason
        return _render_request(request, approval, state)
    messages.error(request, reason)
    return redirect(approval)


def _first_error(form) -> str:
    return next(iter(error for errors in form.errors.values() for error in errors))


_DECIDED = {
    Review.Decision.APPROVE: "You approved {request}.",
    Review.Decision.REJECT: "You rejected {request}.",
    Review.Decision.REQUEST_CHANGES: "You sent {request} back to the requester for changes.",
}


def _queue_decision(
    request: HtmxHttpRequest,
    approval: ApprovalRequest,
    form: ReviewForm,
    *,
    note: str = "",
    error: ApprovalError | str | None = None,
) -> HttpResponse:
    """The answer to a decision made in the queue: that request's row re-rendered in place for
    htmx (status 200 for refusals too, so htmx 2 swaps them), or a redirect back to the queue
    page with a message without JavaScript."""
    back = _queue_return_url(request)
    confirm = isinstance(error, ApprovalError) and error.code == "confirmation_required"
    reason = error.message if isinstance(error, ApprovalError) else (error or "")
    if note:
        messages.success(request, note)
    if not request.htmx:
        if confirm:
            # The queue shows the confirmation step in that row (see ``queue``).
            messages.warning(request, reason)
            return redirect(f"{_with_query(back, confirm=approval.pk)}#queue-request-{approval.pk}")
        if reason:
            messages.error(request, reason)
        return redirect(back)
    fresh = ApprovalRequest.objects.select_related(*_RELATED).get(pk=approval.pk)
    [row] = _queue_rows([fresh])
    rights = _decision_rights(request.user, fresh)
    row.state = RowState(
        can_review=rights.can_review,
        approved_already=rights.approved_already,
        refusal=rights.refusal,
        confirm=confirm and rights.can_review,
    )
    decision = form.data.get("decision", "")
    at_reason = (
        rights.can_review
        and decision in (Review.Decision.REJECT, Review.Decision.REQUEST_CHANGES)
        and ("comment" in form.errors or getattr(error, "field", None) == "comment")
    )
    if at_reason:
        row.state.reason_for, row.state.reason_error = decision, reason
        row.state.comment = form.data.get("comment", "")
    elif reason and not confirm:
        row.state.error = reason
    return render(
        request, "approvals_app/queue.html#queue_row", {"row": row, "back": back, "oob": True}
    )


@require_POST
@login_required
def review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    approval = _get_request_or_404(request.user, pk)
    form = ReviewForm(request.POST)
    # Decisions made in the queue answer with their queue row, not with the request card.
    from_queue = request.POST.get("from") == "queue"
    if not form.is_valid():
        if from_queue:
            return _queue_decision(request, approval, form, error=_first_error(form))
        return _refused(request, approval, CardState(review_form=form), _first_error(form))
    data = form.cleaned_data
    try:
        decided = services.submit_review(
            actor=request.user,
            approval=approval,
            decision=data["decision"],
            comment=data["comment"],
            confirmed=data["confirmed"],
            override_reason=data["override_reason"],
        )
    except ApprovalError as exc:
        if from_queue:
            return _queue_decision(request, approval, form, error=exc)
        state = CardState(review_form=form)
        if exc.code == "confirmation_required":
            # Not an error: the second step of a high-risk approval. Rendered as a page
            # without JavaScript too, so the confirmation works everywhere.
            state.confirm = True
            return _render_request(request, approval, state)
        overridable = approval.policy.allow_admin_override and request.user.is_superuser
        if exc.code == "gate_failed" and overridable:
            state.override, state.error = True, exc.message
            if "override_reason" in request.POST and not data["override_reason"]:
                # The admin is answering the override box: the gates are known, the reason not.
                state.error = "Give the reason for the override."
                form.add_error("override_reason", state.error)
            return _render_request(request, approval, state)
        at_field = exc.field in form.fields
        if at_field:
            form.add_error(exc.field, exc.message)
        return _refused(request, approval, state, exc.message, at_field=at_field)
    note = _DECIDED[data["decision"]].format(request=f"request #{approval.pk}")
    if decided.status == ApprovalRequest.Status.APPROVED:
        note += " The quorum is complete: the request is approved and its evidence is frozen."
    if from_queue:
        return _queue_decision(request, decided, form, note=note)
    return _after_action(request, decided, note)


@require_POST
@login_required
def withdraw(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    approval = _get_request_or_404(request.user, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _refused(request, approval, CardState(), _first_error(form))
    try:
        services.withdraw_request(
            actor=request.user, approval=approval, reason=form.cleaned_data["reason"]
        )
    except ApprovalError as exc:
        return _refused(request, approval, CardState(), exc.message)
    return _after_action(request, approval, f"Request #{approval.pk} was withdrawn.")


@require_POST
@login_required
def resubmit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    approval = _get_request_or_404(request.user, pk)
    form = ResubmitForm(request.POST)
    if form.is_valid():
        try:
            services.resubmit_request(
                actor=request.user,
                approval=approval,
                justification=form.cleaned_data["justification"],
            )
        except ApprovalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if form.errors:
        state = CardState(resubmit_form=form)
        at_field = not form.non_field_errors()
        return _refused(request, approval, state, _first_error(form), at_field=at_field)
    return _after_action(
        request, approval, f"Request #{approval.pk} is back with the reviewers for a new round."
    )


@require_POST
@login_required
def tick_checklist(request: HtmxHttpRequest, pk: int, item_id: int) -> HttpResponse:
    approval = _get_request_or_404(request.user, pk)
    item = get_object_or_404(ChecklistItem, pk=item_id, policy_id=approval.policy_id)
    form = ChecklistTickForm(request.POST, prefix=f"item{item.pk}")
    if form.is_valid():
        try:
            services.tick_checklist_item(
                actor=request.user,
                approval=approval,
                item=item,
                note=form.cleaned_data["note"],
                evidence_url=form.cleaned_data["evidence_url"],
            )
        except ApprovalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if form.errors:
        # A refusal of the person (not of what they typed) goes to the top of the card: the
        # tick form may not even be shown to them.
        state = CardState(tick_forms={item.pk: form})
        at_field = not form.non_field_errors()
        return _refused(request, approval, state, _first_error(form), at_field=at_field)
    return _after_action(request, approval, f"Ticked “{item.text}”.")


# --- asking for approval ---------------------------------------------------------------------


@dataclass
class EnvironmentPanel:
    """One target environment on a version's approvals panel."""

    environment: Environment
    report: GateReport
    gate_rows: list[dict]
    summary: GateSummary
    requests: list[ApprovalRequest]
    open_request: ApprovalRequest | None
    valid_approval: ApprovalRequest | None  # approved and unexpired: promote, don't re-request
    runs_here: bool  # the version itself is what runs in the environment now


def _environment_panels(version: ModelVersion, requests: list[ApprovalRequest]) -> list:
    """The dry run of each environment whose policy covers the version, and its requests."""
    policies = services.applicable_policies(version)
    covered = {p.environment_id for p in policies}
    # Environments whose policy changed since a request was made still show that request.
    extra = {r.environment_id: r.environment for r in requests if r.environment_id not in covered}
    targets = [(version, p.environment, p) for p in policies]
    targets += [(version, environment, None) for environment in extra.values()]
    reports = services.evaluate_policies(targets)
    units = _units(result.gate.metric_key for r in reports for result in r.results)
    running = set(
        version.deployments.filter(status=Deployment.Status.ACTIVE).values_list(
            "environment_id", flat=True
        )
    )
    panels = []
    for (_, environment, _), report in zip(targets, reports, strict=True):
        mine = [r for r in requests if r.environment_id == environment.pk]
        panels.append(
            EnvironmentPanel(
                environment=environment,
                report=report,
                gate_rows=_gate_rows([r.as_dict() for r in report.results], units),
                summary=GateSummary.of(report),
                requests=mine,
                open_request=next((r for r in mine if r.is_open), None),
                valid_approval=next((r for r in mine if r.is_valid_approval), None),
                runs_here=environment.pk in running,
            )
        )
    return panels


def _version_requests(version: ModelVersion) -> list[ApprovalRequest]:
    return list(
        version.approval_requests.select_related("environment", "requester").order_by(
            "-created_at", "-pk"
        )
    )


@require_safe
@login_required
def version_panel(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    version = get_visible_version_or_404(request.user, name, number)
    context = {
        "version": version,
        "model": version.model,
        "panels": _environment_panels(version, _version_requests(version)),
        "can_request": can_contribute(request.user, version.model)
        and not version.model.is_archived
        and not version.retired_at,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "approvals_app/version_panel.html#panel", context)
    return render(request, "approvals_app/version_panel.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def request_create(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    version = get_visible_version_or_404(request.user, name, number)
    require_contributor(request.user, version.model)
    panels = _environment_panels(version, _version_requests(version))
    environments = Environment.objects.filter(
        pk__in=[p.environment.pk for p in panels if p.report.policy is not None]
    )
    form = RequestApprovalForm(
        request.POST or None,
        environments=environments,
        initial={"environment": request.GET.get("environment")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            approval = services.request_approval(
                actor=request.user,
                version=version,
                environment=form.cleaned_data["environment"],
                justification=form.cleaned_data["justification"],
            )
        except ApprovalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                f"Approval requested for {version} in {approval.environment}. "
                "Eligible reviewers have been notified.",
            )
            return redirect(approval)
    return render(
        request,
        "approvals_app/request_form.html",
        {"version": version, "model": version.model, "form": form, "panels": panels},
    )
