import posixpath
import re

from django.core.exceptions import ValidationError

MODEL_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")
SLUG_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,58}[a-z0-9])?$")
ARTIFACT_PATH_MAX_LENGTH = 500
_ARTIFACT_SEGMENT_RE = re.compile(r"^[A-Za-z0-9._+@=-][A-Za-z0-9 ._+@=-]*$")


# /models/new/ is the page that creates a model, so a model of that name could never be opened.
RESERVED_MODEL_NAMES = frozenset({"new"})


def validate_model_name(value: str) -> None:
    if not MODEL_NAME_RE.match(value or ""):
        raise ValidationError(
            "Use 1–100 lower-case letters, digits, '.', '_' or '-', starting and ending with "
            "a letter or digit (e.g. fraud-detector).",
            code="invalid_name",
        )
    if value in RESERVED_MODEL_NAMES:
        raise ValidationError(
            f"'{value}' is reserved by the registry's own pages; choose another name.",
            code="reserved_name",
        )


def validate_slug_name(value: str) -> None:
    if not SLUG_NAME_RE.match(value or ""):
        raise ValidationError(
            "Use 1–60 lower-case letters, digits, '_' or '-', starting and ending with a "
            "letter or digit.",
            code="invalid_slug",
        )


def clean_artifact_path(raw: str) -> str:
    """Return the normalised relative path of an artefact, or raise ValidationError.

    Refuses anything that could escape the version's namespace or confuse a file system:
    absolute paths, drive letters, backslashes, '.' or '..' segments, control characters.
    """
    path = (raw or "").strip()
    if not path:
        raise ValidationError("The artefact path is empty.", code="empty_path")
    if len(path) > ARTIFACT_PATH_MAX_LENGTH:
        raise ValidationError(
            f"The artefact path is longer than {ARTIFACT_PATH_MAX_LENGTH} characters.",
            code="path_too_long",
        )
    if "\\" in path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise ValidationError(
            f"'{path}' is not a relative path; use forward slashes, e.g. weights/model.bin.",
            code="absolute_path",
        )
    segments = path.split("/")
    for segment in segments:
        if segment in {"", ".", ".."}:
            raise ValidationError(
                f"'{path}' has an empty, '.' or '..' segment.", code="path_traversal"
            )
        if not _ARTIFACT_SEGMENT_RE.match(segment):
            raise ValidationError(
                f"'{segment}' has characters not allowed in an artefact path "
                "(letters, digits, space and . _ - + @ = only).",
                code="invalid_path_characters",
            )
    return posixpath.normpath(path)
