"""The filter and order_by language of MLflow's search endpoints, applied to our querysets.

MLflow sends filters such as ``name LIKE 'fraud-%' AND tags.`team` = 'risk'`` and
``run_id IN ('a', 'b')``. Only AND joins conditions, as in MLflow. A tag is "k = v" when the
model or version has the property k with value v, or, for an empty v, the registry tag k
(see services.split_tags). ``!=`` on a tag means "does not have that tag value", so a model
without the tag matches: the stock client adds ``tag.`mlflow.prompt.is_prompt` != 'true'``
to every model search and expects untagged models back.
"""

import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from models_app.models import ModelVersion, RegisteredModel

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ident>(?:[A-Za-z_]+\.)?(?:`[^`]*`|"[^"]*"|[A-Za-z_][\w.\-]*))
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<>|<=|>=|=|<|>)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
_TAG_PREFIXES = {"tag", "tags"}
_ATTRIBUTE_PREFIXES = {"attribute", "attributes", "attr"}
_KEYWORD_OPERATORS = {"LIKE", "ILIKE", "IN"}


class FilterError(ValueError):
    """A filter or order_by clause this registry cannot read; the message says why."""


@dataclass(frozen=True)
class Condition:
    kind: str  # "attribute" or "tag"
    key: str
    operator: str
    value: object  # str, int, or a tuple of str for IN / NOT IN


@dataclass(frozen=True)
class Fields:
    """How one entity's MLflow attribute names map onto our fields."""

    strings: dict[str, str]
    numbers: dict[str, str]
    order: dict[str, str]
    list_keys: frozenset[str]
    tag_through: type
    tag_owner_field: str


MODEL_FIELDS = Fields(
    strings={"name": "name"},
    numbers={},
    order={
        "name": "name",
        "creation_timestamp": "created_at",
        "timestamp": "created_at",
        "last_updated_timestamp": "updated_at",
    },
    list_keys=frozenset({"name"}),
    tag_through=RegisteredModel.tags.through,
    tag_owner_field="registeredmodel",
)
VERSION_FIELDS = Fields(
    strings={"name": "model__name", "run_id": "run_id", "source_path": "source_uri"},
    numbers={"version_number": "version"},
    order={
        "name": "model__name",
        "version_number": "version",
        "creation_timestamp": "created_at",
        "timestamp": "created_at",
        "last_updated_timestamp": "created_at",
    },
    list_keys=frozenset({"name", "run_id"}),
    tag_through=ModelVersion.tags.through,
    tag_owner_field="modelversion",
)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`\"'":
        body = text[1:-1]
        return body.replace("''", "'") if text[0] == "'" else body
    return text


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FilterError(f"cannot read the filter from '{text[position:][:30]}'")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


def _identifier(raw: str, fields: Fields) -> tuple[str, str]:
    prefix, dot, rest = raw.partition(".")
    if dot and prefix.lower() in _TAG_PREFIXES:
        key = _unquote(rest)
        if not key:
            raise FilterError("a tag filter needs a key, e.g. tags.`team`")
        return "tag", key
    if dot and prefix.lower() in _ATTRIBUTE_PREFIXES:
        raw = rest
    key = _unquote(raw)
    if key in fields.strings or key in fields.numbers:
        return "attribute", key
    known = ", ".join(sorted([*fields.strings, *fields.numbers, "tags.<key>"]))
    raise FilterError(f"'{key}' cannot be searched; use one of {known}")


def parse_filter(text: str | None, fields: Fields) -> list[Condition]:
    """The AND-joined conditions of an MLflow filter string; raises FilterError."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    conditions, index = [], 0

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise FilterError("the filter ends too early")
        index += 1
        return tokens[index - 1]

    while True:
        kind, raw = take()
        if kind != "ident":
            raise FilterError(f"expected a field name, found '{raw}'")
        entity, key = _identifier(raw, fields)
        kind, raw = take()
        operator = raw.upper()
        if kind == "ident" and operator == "NOT":
            kind, raw = take()
            if raw.upper() != "IN":
                raise FilterError("NOT is only understood in 'NOT IN'")
            operator = "NOT IN"
        elif kind == "op":
            operator = "!=" if raw == "<>" else raw
        elif kind != "ident" or operator not in _KEYWORD_OPERATORS:
            raise FilterError(f"expected a comparison after '{key}', found '{raw}'")
        value = _value(take, operator)
        conditions.append(_checked(Condition(entity, key, operator, value), fields))
        if index == len(tokens):
            return conditions
        kind, raw = take()
        if raw.upper() != "AND":
            raise FilterError(f"conditions can only be joined with AND, found '{raw}'")


def _value(take, operator: str) -> object:
    kind, raw = take()
    if operator in {"IN", "NOT IN"}:
        if raw != "(":
            raise FilterError(f"{operator} needs a list such as ('a', 'b')")
        values = []
        while True:
            kind, raw = take()
            if kind != "string":
                raise FilterError(f"{operator} lists hold quoted strings, found '{raw}'")
            values.append(_unquote(raw))
            kind, raw = take()
            if raw == ")":
                return tuple(values)
            if raw != ",":
                raise FilterError(f"expected ',' or ')' in the {operator} list, found '{raw}'")
    if kind == "string":
        return _unquote(raw)
    if kind == "number":
        return raw
    if kind == "ident" and raw.startswith('"'):
        return _unquote(raw)
    raise FilterError(f"expected a quoted value, found '{raw}'")


def _checked(condition: Condition, fields: Fields) -> Condition:
    key, operator, value = condition.key, condition.operator, condition.value
    if condition.kind == "tag":
        if operator not in {"=", "!=", "LIKE", "ILIKE"}:
            raise FilterError(f"tags can be compared with =, !=, LIKE or ILIKE, not {operator}")
        return condition
    if key in fields.numbers:
        if operator not in {"=", "!=", "<", "<=", ">", ">="}:
            raise FilterError(f"'{key}' is a number; compare it with =, !=, <, <=, > or >=")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise FilterError(f"'{key}' must be compared with a whole number") from None
        return Condition(condition.kind, key, operator, number)
    if operator in {"<", "<=", ">", ">="}:
        raise FilterError(f"'{key}' is text; compare it with =, !=, LIKE, ILIKE or IN")
    if operator in {"IN", "NOT IN"} and key not in fields.list_keys:
        raise FilterError(f"IN is not supported for '{key}'")
    if operator not in {"IN", "NOT IN"} and not isinstance(value, str):
        raise FilterError(f"'{key}' must be compared with a quoted string")
    return condition


def like_to_regex(pattern: str) -> str:
    """SQL LIKE ('%' any run, '_' one character) as an anchored regular expression that
    SQLite's and PostgreSQL's regex engines read alike."""
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        elif char in r".^$*+?{}[]\|()":
            parts.append("\\" + char)
        else:
            parts.append(char)
    return "^" + "".join(parts) + "$"


def _text_q(field: str, operator: str, value) -> Q:
    if operator == "=":
        return Q(**{field: value})
    if operator == "!=":
        return ~Q(**{field: value})
    if operator == "IN":
        return Q(**{f"{field}__in": value})
    if operator == "NOT IN":
        return ~Q(**{f"{field}__in": value})
    lookup = "regex" if operator == "LIKE" else "iregex"
    return Q(**{f"{field}__{lookup}": like_to_regex(value)})


def _tag_q(fields: Fields, key: str, operator: str, value: str, alias: str) -> Q:
    positive = "=" if operator == "!=" else operator
    # Spelled out because a missing key reads as NULL, and NOT (NULL = 'x') is not true.
    has_value = Q(**{f"{alias}__isnull": False}) & _text_q(alias, positive, value)
    # A value-less tag stored as a registry tag counts as the value "".
    if positive == "=":
        empty_matches = value == ""
    else:
        empty_matches = re.fullmatch(
            like_to_regex(value), "", re.IGNORECASE if positive == "ILIKE" else 0
        )
    if empty_matches:
        registry_tag = fields.tag_through.objects.filter(
            **{f"{fields.tag_owner_field}_id": OuterRef("pk"), "tag__name": key}
        )
        has_value |= Q(Exists(registry_tag))
    return ~has_value if operator == "!=" else has_value


def apply_filter(queryset: QuerySet, conditions: list[Condition], fields: Fields) -> QuerySet:
    """Narrow ``queryset`` to the rows matching every condition."""
    for number, condition in enumerate(conditions):
        if condition.kind == "tag":
            alias = f"_mlflow_tag_{number}"
            # Cast: a bare key transform compares its right-hand side as JSON, not as text.
            value = Cast(KeyTextTransform(condition.key, "properties"), TextField())
            queryset = queryset.alias(**{alias: value})
            queryset = queryset.filter(
                _tag_q(fields, condition.key, condition.operator, condition.value, alias)
            )
        elif condition.key in fields.numbers:
            field = fields.numbers[condition.key]
            lookups = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
            if condition.operator == "!=":
                queryset = queryset.exclude(**{field: condition.value})
            else:
                lookup = lookups[condition.operator]
                queryset = queryset.filter(**{f"{field}__{lookup}": condition.value})
        else:
            field = fields.strings[condition.key]
            queryset = queryset.filter(_text_q(field, condition.operator, condition.value))
    return queryset


def parse_order_by(clauses: list[str], fields: Fields) -> list[str]:
    """MLflow order_by clauses ('name ASC', 'version_number DESC') as Django ordering."""
    ordering = []
    for clause in clauses:
        words = clause.split()
        if not words or len(words) > 2:
            raise FilterError(f"cannot order by '{clause}'")
        key = _unquote(words[0])
        if "." in key and key.split(".", 1)[0].lower() in _ATTRIBUTE_PREFIXES:
            key = key.split(".", 1)[1]
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if key not in fields.order or direction not in {"ASC", "DESC"}:
            known = ", ".join(sorted(fields.order))
            raise FilterError(f"cannot order by '{clause}'; use one of {known} with ASC or DESC")
        ordering.append(("-" if direction == "DESC" else "") + fields.order[key])
    return ordering
