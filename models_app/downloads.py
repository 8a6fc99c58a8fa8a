"""Serving an artefact's bytes, shared by the version page's download link and the API."""

import logging

from django.http import FileResponse, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags

from models_app import services
from models_app.models import Artifact

logger = logging.getLogger(__name__)

DOWNLOAD_BLOCK_SIZE = 256 * 1024


def artifact_response(request, artifact: Artifact) -> HttpResponse:
    """The artefact as an attachment after checking its bytes against the recorded sha256,
    or 304 when the client already holds them. Raises services.ArtifactCorrupted (and logs
    it) when the stored bytes are missing or changed."""
    etag = f'"{artifact.sha256}"'
    # The bytes behind a path never change, so a client holding this digest has them.
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    try:
        stream = services.open_verified_artifact(artifact)
    except services.ArtifactCorrupted as exc:
        logger.error(
            "Artefact download refused: %s v%s %s (sha256 %s): %s",
            artifact.version.model.name,
            artifact.version.version,
            artifact.path,
            artifact.sha256,
            exc.message,
        )
        raise
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=artifact.path.rsplit("/", 1)[-1],
        content_type=artifact.content_type or "application/octet-stream",
    )
    response.block_size = DOWNLOAD_BLOCK_SIZE
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    # Restricted models' files must not land in shared caches.
    response["Cache-Control"] = "private, max-age=0, must-revalidate"
    return response
