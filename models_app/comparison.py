"""Side-by-side comparison of model versions, as a pure function of plain data.

The compare view loads rows and hands each version over as a mapping of plain values; this
module turns them into table rows: one row per field that any version has, a cell per
version, the delta of each metric against a baseline column, coloured by the metric's
direction. No ORM and no request here, so every rule is unit-tested directly.
"""

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_VERSIONS = 2
MAX_VERSIONS = 10
MISSING = "—"
# "name:number", the way people write a version in chat and in the URL.
_REF = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*):v?(?P<number>[0-9]{1,9})$")
# Units whose values need no suffix: a share in [0, 1] reads fine as a bare number.
_UNITLESS = {"", "ratio"}
# Units written without a space: 12%, 0.4×.
_TIGHT_UNITS = {"%", "×", "x"}

SECTIONS = (
    ("overview", "Overview"),
    ("metrics", "Metrics"),
    ("hyperparameters", "Hyperparameters"),
    ("datasets", "Datasets"),
    ("artifacts", "Artefacts"),
)


class ComparisonError(ValueError):
    """Input that cannot be compared; ``message`` is written for the person who sent it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- parsing the versions named in the URL -----------------------------------------------------


def parse_refs(values: Sequence[str]) -> list[tuple[str, int]]:
    """``["fraud:3", "fraud:4"]`` → ``[("fraud", 3), ("fraud", 4)]``, duplicates dropped.

    Raises ComparisonError for a malformed entry or more than MAX_VERSIONS versions; fewer
    than MIN_VERSIONS is not an error here (the page then asks for more).
    """
    refs: list[tuple[str, int]] = []
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        match = _REF.match(text)
        if match is None:
            shown = text if len(text) <= 60 else text[:59] + "…"
            raise ComparisonError(
                f"“{shown}” is not a version. Write the model name and the version number "
                "separated by a colon, e.g. fraud-classifier:3."
            )
        ref = (match["name"], int(match["number"]))
        if ref not in refs:
            refs.append(ref)
    if len(refs) > MAX_VERSIONS:
        raise ComparisonError(
            f"At most {MAX_VERSIONS} versions can be compared at once; "
            f"this link names {len(refs)}. Remove some and try again."
        )
    return refs


def ref_label(name: str, number: int) -> str:
    return f"{name}:{number}"


def choose_baseline(
    refs: Sequence[str], requested: str | None, in_production: Sequence[str] | set[str]
) -> tuple[int, str]:
    """The column deltas are measured against, and why it was chosen.

    The one asked for if it is compared; else the first that serves production at full
    traffic; else the first column. Returns (index, "chosen" | "production" | "first").
    """
    if requested and requested in refs:
        return list(refs).index(requested), "chosen"
    for index, ref in enumerate(refs):
        if ref in in_production:
            return index, "production"
    return 0, "first"


# --- formatting --------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """A few significant digits: enough to tell versions apart, short enough for ten columns."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-4:
        return f"{value:.4g}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    decimals = 0 if magnitude >= 1000 else 1 if magnitude >= 100 else 2 if magnitude >= 10 else 4
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def with_unit(text: str, unit: str) -> str:
    if unit in _UNITLESS:
        return text
    return f"{text}{unit}" if unit in _TIGHT_UNITS else f"{text} {unit}"


def format_value(value: float | None, unit: str = "") -> str:
    return MISSING if value is None else with_unit(format_number(value), unit)


def format_delta(delta: float, unit: str = "") -> str:
    """A signed difference; a difference of percentages is in percentage points."""
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    text = sign + format_number(abs(delta))
    if unit == "%":
        return f"{text} pp"
    return with_unit(text, unit)


def direction_label(higher_is_better: bool | None) -> str:
    if higher_is_better is None:
        return ""
    return "↑ higher is better" if higher_is_better else "↓ lower is better"


def metric_id(key: str, metric_slice: str = "") -> str:
    """How a metric of one slice is named in URLs and gate lists: ``recall[gender=female]``."""
    return f"{key}[{metric_slice}]" if metric_slice else key


# --- the table ---------------------------------------------------------------------------------


@dataclass
class Cell:
    value: Any  # what equality is judged on; None when the version has no value
    text: str = MISSING
    detail: str = ""  # a second line: a digest, a version's URI
    items: list[str] = field(default_factory=list)  # list values: tags, aliases, environments
    href: str = ""
    export: Any = None  # the CSV value when it is not the text, e.g. a full digest
    is_baseline: bool = False
    changed: bool = False  # differs from the baseline column
    delta_text: str = ""
    relative_text: str = ""
    tone: str = ""  # good / bad / same for metrics with a known direction

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass
class Row:
    section: str
    key: str
    label: str
    cells: list[Cell]
    note: str = ""  # e.g. a metric's slice
    code: str = ""  # a metric's key as logged, when the label is its display name
    unit: str = ""
    direction: str = ""  # "up", "down" or "" when the metric has no definition
    differs: bool = False

    @property
    def direction_text(self) -> str:
        if not self.direction:
            return ""
        return direction_label(self.direction == "up")


@dataclass
class Section:
    key: str
    title: str
    rows: list[Row]
    hidden: int = 0  # rows left out because every version agrees


@dataclass
class Comparison:
    refs: list[str]
    baseline: int
    sections: list[Section]
    differences_only: bool = False

    @property
    def total_rows(self) -> int:
        return sum(len(section.rows) + section.hidden for section in self.sections)

    @property
    def hidden_rows(self) -> int:
        return sum(section.hidden for section in self.sections)

    @property
    def differing_rows(self) -> int:
        return sum(1 for section in self.sections for row in section.rows if row.differs)


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _plain_cell(value: Any) -> Cell:
    """A metadata, hyperparameter or artefact value: text, or a list shown as chips."""
    if value is None or value == "" or value == []:
        return Cell(value=None)
    if isinstance(value, list | tuple):
        items = [str(item) for item in value]
        return Cell(value=tuple(items), text=", ".join(items), items=items)
    text = _json_text(value)
    href = text if text.lower().startswith(("https://", "http://")) else ""
    return Cell(value=text, text=text, href=href)


def _dataset_cell(value: Mapping[str, str] | None) -> Cell:
    if not value:
        return Cell(value=None)
    version = value.get("version") or ""
    digest = value.get("digest") or ""
    return Cell(
        value=(version, digest, value.get("uri") or ""),
        text=version or "unversioned",
        detail=digest,
        export=" ".join(part for part in (version, digest) if part),
    )


def _artifact_cell(value: Mapping[str, Any] | None) -> Cell:
    if not value:
        return Cell(value=None)
    digest = value.get("sha256") or ""
    return Cell(value=digest, text=digest[:12], detail=digest, export=digest)


def _metric_cells(
    values: list[float | None], baseline: int, unit: str, higher: bool | None
) -> list[Cell]:
    reference = values[baseline]
    cells = []
    for index, value in enumerate(values):
        cell = Cell(value=value, text=format_value(value, unit))
        if index == baseline or value is None or reference is None:
            cells.append(cell)
            continue
        delta = value - reference
        cell.delta_text = format_delta(delta, unit)
        if reference != 0:
            cell.relative_text = f"{delta / abs(reference) * 100:+.1f}%".replace("-", "−")
        if delta == 0:
            cell.tone = "same"
        elif higher is not None:
            cell.tone = "good" if (delta > 0) == higher else "bad"
        cells.append(cell)
    return cells


def _finish(row: Row, baseline: int) -> Row:
    values = [cell.value for cell in row.cells]
    row.differs = any(value != values[0] for value in values[1:])
    for index, cell in enumerate(row.cells):
        cell.is_baseline = index == baseline
        cell.changed = index != baseline and cell.value != values[baseline]
    return row


def _keys_in_order(mappings: Sequence[Mapping]) -> list:
    """Every key of every mapping, in the order they are first met."""
    seen: dict = {}
    for mapping in mappings:
        for key in mapping:
            seen.setdefault(key, None)
    return list(seen)


def build_comparison(
    columns: Sequence[Mapping[str, Any]],
    *,
    baseline: int = 0,
    definitions: Mapping[str, Mapping[str, Any]] | None = None,
    differences_only: bool = False,
) -> Comparison:
    """Rows for the compare table.

    ``columns`` has one mapping per version with ``ref`` ("name:n") and any of:
    ``overview`` {label: str | list}, ``hyperparameters`` {name: JSON value}, ``datasets``
    {label: {version, digest, uri}}, ``artifacts`` {path: {sha256}} and ``metrics``
    {(key, slice): float}. ``definitions`` maps a metric key to {label, unit,
    higher_is_better}. A value a version lacks is a missing cell (never zero), and a row
    differs when any two versions differ, a missing value included.
    """
    definitions = definitions or {}
    if not 0 <= baseline < len(columns):
        raise ValueError("The baseline must be one of the columns.")
    sections: list[Section] = []
    for section_key, title in SECTIONS:
        data = [column.get(section_key) or {} for column in columns]
        keys = _keys_in_order(data)
        rows: list[Row] = []
        if section_key == "metrics":
            keys.sort(key=lambda pair: (pair[0], pair[1]))
        elif section_key in ("hyperparameters", "artifacts"):
            keys.sort()
        for key in keys:
            if section_key == "metrics":
                rows.append(_metric_row(key, data, baseline, definitions.get(key[0])))
                continue
            make_cell = {"datasets": _dataset_cell, "artifacts": _artifact_cell}.get(
                section_key, _plain_cell
            )
            row = Row(section_key, str(key), str(key), [make_cell(d.get(key)) for d in data])
            rows.append(_finish(row, baseline))
        hidden = 0
        if differences_only:
            shown = [row for row in rows if row.differs]
            hidden, rows = len(rows) - len(shown), shown
        sections.append(Section(section_key, title, rows, hidden))
    return Comparison(
        refs=[column["ref"] for column in columns],
        baseline=baseline,
        sections=sections,
        differences_only=differences_only,
    )


def _metric_row(
    key: tuple[str, str], data: list[Mapping], baseline: int, definition: Mapping | None
) -> Row:
    metric_key, metric_slice = key
    unit = (definition or {}).get("unit") or ""
    higher = None if definition is None else bool(definition.get("higher_is_better", True))
    values = [_finite_or_none(d.get(key)) for d in data]
    row = Row(
        section="metrics",
        key=metric_id(metric_key, metric_slice),
        label=(definition or {}).get("label") or metric_key,
        code=metric_key,
        note=metric_slice,
        unit=unit,
        direction="" if higher is None else "up" if higher else "down",
        cells=_metric_cells(values, baseline, unit, higher),
    )
    return _finish(row, baseline)


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --- CSV -----------------------------------------------------------------------------------


def csv_rows(comparison: Comparison) -> list[list[Any]]:
    """The table as spreadsheet rows: a value column per version, then each metric's
    difference from the baseline. Values are raw (full digests, unrounded metrics)."""
    refs = comparison.refs
    base = refs[comparison.baseline]
    others = [index for index in range(len(refs)) if index != comparison.baseline]
    header = ["section", "field", "slice", "unit", *refs]
    header += [f"delta {refs[index]} vs {base}" for index in others]
    lines: list[list[Any]] = [header]
    for section in comparison.sections:
        for row in section.rows:
            cells = [_csv_value(cell) for cell in row.cells]
            deltas: list[Any] = []
            if section.key == "metrics":
                reference = row.cells[comparison.baseline].value
                for index in others:
                    value = row.cells[index].value
                    missing = value is None or reference is None
                    deltas.append("" if missing else value - reference)
            else:
                deltas = [""] * len(others)
            label = row.code or row.label
            lines.append([section.title, label, row.note, row.unit, *cells, *deltas])
    return lines


def _csv_value(cell: Cell) -> Any:
    if cell.value is None:
        return ""
    if cell.export is not None:
        return cell.export
    return cell.value if isinstance(cell.value, float) else cell.text
