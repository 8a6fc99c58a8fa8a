"""The audit ledger page: /audit/ with filters, pagination and a CSV export."""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from models_app.filters import AuditEventFilter
from models_app.models import AuditEvent
from registry_site.http import HtmxHttpRequest

PAGE_SIZE = 50
# How many changed keys a row shows before the rest move into the <details> block.
MAX_SHOWN_CHANGES = 4
MAX_VALUE_CHARS = 60
CSV_COLUMNS = (
    "sequence",
    "created_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "model",
    "version",
    "before",
    "after",
    "previous_hash",
    "hash",
)
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@require_safe
@login_required
def audit_list(request: HtmxHttpRequest) -> HttpResponse:
    events = AuditEvent.objects.visible_to(request.user)
    filterset = AuditEventFilter(request.GET or None, queryset=events, request=request)
    # Invalid filters list nothing (and show why) rather than silently listing everything.
    valid = not filterset.is_bound or filterset.is_valid()
    rows = (filterset.qs if valid else events.none()).order_by("-sequence")

    if request.GET.get("format") == "csv":
        return _csv_response(rows)

    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filterset": filterset,
        "page": page,
        "entries": [
            (event, event.object_type.rpartition(".")[2], summarise_changes(event.changes))
            for event in page
        ],
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "filtered": any(value for key, value in request.GET.items() if key != "page"),
    }
    if request.htmx:
        return render(request, "models_app/audit_list.html#results", context)
    # Only the full page shows the actor suggestions and the ledger head, so htmx refreshes
    # skip both. Both span the whole ledger: the chain is one sequence for everybody, and
    # usernames are no secret inside the organisation.
    context["actor_names"] = (
        AuditEvent.objects.order_by("actor_username")
        .values_list("actor_username", flat=True)
        .distinct()
    )
    context["head"] = AuditEvent.objects.only("sequence", "hash", "created_at").first()
    return render(request, "models_app/audit_list.html", context)


# --- before → after summary ------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    key: str
    before: str | None  # None when the key is absent on that side
    after: str | None


@dataclass
class ChangeSummary:
    shown: list[Change] = field(default_factory=list)
    hidden: int = 0
    truncated: bool = False
    full_json: str = ""

    @property
    def needs_details(self) -> bool:
        return self.truncated or self.hidden > 0


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _short(value: Any) -> tuple[str, bool]:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    if len(text) > MAX_VALUE_CHARS:
        return text[: MAX_VALUE_CHARS - 1] + "…", True
    return text, False


def summarise_changes(changes: str) -> ChangeSummary:
    """The keys an event changed, with values shortened for a table cell.

    Keys whose value is the same on both sides are left out, and so are keys that only
    appear on one side with an empty value (a creation's blank fields say nothing).
    """
    data = json.loads(changes or "{}")
    before, after = data.get("before") or {}, data.get("after") or {}
    summary = ChangeSummary(
        full_json=json.dumps({"before": before, "after": after}, indent=2, ensure_ascii=False)
    )
    changed: list[Change] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        if (key not in before and _is_empty(new)) or (key not in after and _is_empty(old)):
            continue
        old_text = new_text = None
        if key in before:
            old_text, cut = _short(old)
            summary.truncated |= cut
        if key in after:
            new_text, cut = _short(new)
            summary.truncated |= cut
        changed.append(Change(key, old_text, new_text))
    summary.shown = changed[:MAX_SHOWN_CHANGES]
    summary.hidden = len(changed) - len(summary.shown)
    return summary


# --- CSV export ------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def csv_safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_rows(events: Iterable[AuditEvent]) -> Iterator[list[Any]]:
    yield list(CSV_COLUMNS)
    for event in events:
        changes = event.changes_dict
        yield [
            event.sequence,
            event.created_at.astimezone(UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            event.actor_username,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.model_name,
            "" if event.version_number is None else event.version_number,
            json.dumps(changes.get("before") or {}, sort_keys=True, ensure_ascii=False),
            json.dumps(changes.get("after") or {}, sort_keys=True, ensure_ascii=False),
            event.previous_hash,
            event.hash,
        ]


def _csv_response(events) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = (
        writer.writerow([csv_safe_cell(cell) for cell in row])
        for row in _csv_rows(events.iterator(chunk_size=2000))
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"audit-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
