"""registry-cli: register models, versions, metrics and artefacts from a pipeline.

Standard library only, so it runs wherever Python 3.11 does, without the server's checkout
or its dependencies. It talks to the REST API under /api/v1/ and reads two environment
variables:

    REGISTRY_URL    where the registry is, e.g. https://registry.example.org
    REGISTRY_TOKEN  a personal access token (Account → API tokens on the site)

Every command prints a short line, or the server's JSON with --json, and exits 1 with the
server's message when the registry refuses.
"""

import argparse
import json
import mimetypes
import os
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib import error, parse, request

API_PREFIX = "/api/v1"
CHUNK_SIZE = 1024 * 1024
# A dataset digest is "<algorithm>:<hex>", e.g. sha256:9f2c…; what precedes it is the URI,
# which may itself hold colons (s3://…).
_DIGEST_TAIL = re.compile(r"^(?:(?P<uri>.*):)?(?P<digest>[A-Za-z0-9]+:[0-9a-fA-F]{8,})$")


class CLIError(Exception):
    """A problem to report in one line, then exit 1."""


# --- talking to the server -----------------------------------------------------------------


class Client:
    def __init__(self, base_url: str, token: str, timeout: float = 60):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def url(self, *parts: str | int) -> str:
        quoted = "/".join(parse.quote(str(part), safe="") for part in parts)
        return f"{self.base_url}{API_PREFIX}/{quoted}/"

    def call(
        self,
        method: str,
        url: str,
        payload: Any = None,
        *,
        body: Any = None,
        headers: dict | None = None,
    ) -> Any:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": "registry-cli",
            **(headers or {}),
        }
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        # main() refuses any REGISTRY_URL that is not http(s), so no file: URL gets here.
        req = request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with request.urlopen(req, timeout=self.timeout) as response:  # noqa: S310
                data = response.read()
        except error.HTTPError as exc:
            raise CLIError(_server_message(exc)) from None
        except error.URLError as exc:
            raise CLIError(f"cannot reach {self.base_url}: {exc.reason}") from None
        except TimeoutError:
            raise CLIError(f"{self.base_url} did not answer within {self.timeout:g}s") from None
        return json.loads(data) if data else None

    def upload(self, url: str, file_path: Path, fields: dict[str, str]) -> Any:
        """POST one file as multipart/form-data, streamed from disk in chunks."""
        boundary = f"registry-cli-{uuid.uuid4().hex}"
        head = b"".join(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
            for name, value in fields.items()
        )
        content_type = mimetypes.guess_type(file_path.name)[0] or "application/octet-stream"
        filename = file_path.name.replace('"', "_")
        head += (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        length = len(head) + file_path.stat().st_size + len(tail)

        def chunks() -> Iterator[bytes]:
            yield head
            with file_path.open("rb") as source:
                while chunk := source.read(CHUNK_SIZE):
                    yield chunk
            yield tail

        return self.call(
            "POST",
            url,
            body=chunks(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
            },
        )


def _server_message(exc: error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    problem = body.get("error") if isinstance(body, dict) else None
    if isinstance(problem, dict) and problem.get("message"):
        field = f" [{problem['field']}]" if problem.get("field") else ""
        return f"{problem['message']}{field} (HTTP {exc.code} {problem.get('code', '')})".rstrip()
    return f"HTTP {exc.code} {exc.reason}"


# --- parsing the pipeline's arguments ------------------------------------------------------


def parse_dataset(spec: str) -> dict[str, str]:
    """'role:name[:version[:uri[:digest]]]', e.g.
    training:transactions:2024-06:s3://data/tx/2024-06:sha256:9f2c41…"""
    parts = spec.split(":", 3)
    if len(parts) < 2 or not parts[1]:
        raise CLIError(f"--dataset {spec!r}: write role:name[:version[:uri[:digest]]]")
    entry = {"role": parts[0] or "training", "name": parts[1]}
    if len(parts) > 2:
        entry["version"] = parts[2]
    if len(parts) > 3:
        rest = parts[3]
        match = _DIGEST_TAIL.match(rest)
        if match:
            entry["uri"], entry["digest"] = match["uri"] or "", match["digest"]
        else:
            entry["uri"] = rest
    return entry


def parse_metric(spec: str) -> dict[str, Any]:
    """'key=value[@step][#slice]', e.g. accuracy=0.93, loss=0.21@1200, recall=0.8#gender=f."""
    key, sep, rest = spec.partition("=")
    if not sep or not key.strip():
        raise CLIError(f"metric {spec!r}: write key=value[@step][#slice]")
    value_and_step, _, metric_slice = rest.partition("#")
    raw_value, at, raw_step = value_and_step.partition("@")
    try:
        value = float(raw_value)
    except ValueError:
        raise CLIError(f"metric {spec!r}: {raw_value!r} is not a number") from None
    entry: dict[str, Any] = {"key": key.strip(), "value": value}
    if at:
        if not raw_step.isdigit():
            raise CLIError(f"metric {spec!r}: the step {raw_step!r} is not a whole number")
        entry["step"] = int(raw_step)
    if metric_slice:
        entry["slice"] = metric_slice
    return entry


def _read_json_argument(text: str, what: str) -> Any:
    """JSON given inline, or @path to read it from a file ('-' for standard input)."""
    if text.startswith("@"):
        source = text[1:]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text()
        except OSError as exc:
            raise CLIError(f"{what}: cannot read {source}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CLIError(f"{what}: not valid JSON ({exc})") from None


def _metrics_from_file(path: str) -> list[dict]:
    data = _read_json_argument(f"@{path}", "--file")
    if isinstance(data, dict) and "metrics" in data:
        data = data["metrics"]
    if isinstance(data, dict):
        # {"accuracy": 0.93, "loss": 0.2}: the shape most training scripts already write.
        return [{"key": key, "value": value} for key, value in data.items()]
    if not isinstance(data, list):
        raise CLIError("--file: expected a list of metrics or an object of key: value")
    return data


def _files_to_upload(paths: list[str], name_in_version: str | None) -> list[tuple[Path, str]]:
    """(file on disk, path within the version) for each file; a directory contributes every
    file below it under its relative path."""
    found: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                found.append((file, file.relative_to(path).as_posix()))
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise CLIError(f"{given}: no such file or directory")
    if name_in_version:
        if len(found) != 1:
            raise CLIError("--as names one file; give exactly one file with it")
        found = [(found[0][0], name_in_version)]
    return found


# --- commands ------------------------------------------------------------------------------


def cmd_whoami(client: Client, args) -> tuple[Any, str]:
    me = client.call("GET", client.url("me"))
    teams = ", ".join(f"{m['team']} ({m['role']})" for m in me["teams"]) or "no teams"
    return me, f"{me['username']}: {teams}"


def cmd_register_model(client: Client, args) -> tuple[Any, str]:
    payload = {"name": args.name, "team": args.team, "tags": args.tag}
    for option in ("display_name", "description", "task", "risk_tier", "responsible"):
        if getattr(args, option) is not None:
            payload[option] = getattr(args, option)
    if args.restricted:
        payload["restricted"] = True
    model = client.call("POST", client.url("models"), payload)
    return model, f"registered model {model['name']} ({model['web_url']})"


def cmd_register_version(client: Client, args) -> tuple[Any, str]:
    payload: dict[str, Any] = {
        "datasets": [parse_dataset(spec) for spec in args.dataset],
        "tags": args.tag,
    }
    if args.hyperparameters is not None:
        payload["hyperparameters"] = _read_json_argument(args.hyperparameters, "--hyperparameters")
    for option in (
        "framework",
        "framework_version",
        "architecture",
        "description",
        "source_uri",
        "parent",
        "external_base_model",
        "intended_use",
        "limitations",
        "ethical_considerations",
    ):
        if getattr(args, option) is not None:
            payload[option] = getattr(args, option)
    version = client.call("POST", client.url("models", args.model, "versions"), payload)
    return version, f"registered {version['model']} v{version['version']} ({version['web_url']})"


def cmd_log_metrics(client: Client, args) -> tuple[Any, str]:
    entries = [parse_metric(spec) for spec in args.metrics]
    if args.file:
        entries += _metrics_from_file(args.file)
    if not entries:
        raise CLIError("give metrics as key=value arguments or --file metrics.json")
    url = client.url("models", args.model, "versions", args.version, "metrics")
    result = client.call("POST", url, entries)
    noun = "metric" if result["count"] == 1 else "metrics"
    return result, f"logged {result['count']} {noun} for {args.model} v{args.version}"


def cmd_upload(client: Client, args) -> tuple[Any, str]:
    url = client.url("models", args.model, "versions", args.version, "artifacts")
    uploaded, lines = [], []
    for file, path in _files_to_upload(args.paths, args.as_path):
        if args.prefix:
            path = f"{args.prefix.strip('/')}/{path}"
        artifact = client.upload(url, file, {"path": path, "kind": args.kind})
        uploaded.append(artifact)
        lines.append(
            f"uploaded {artifact['path']} ({artifact['size']:,} bytes, {artifact['sha256']})"
        )
    return uploaded, "\n".join(lines)


def cmd_set_alias(client: Client, args) -> tuple[Any, str]:
    url = client.url("models", args.model, "aliases", args.alias)
    alias = client.call("PUT", url, {"version": args.version, "confirm": args.yes})
    return alias, f"{alias['model']}@{alias['name']} → v{alias['version']}"


def cmd_show(client: Client, args) -> tuple[Any, str]:
    if args.version is None:
        data = client.call("GET", client.url("models", args.model))
    else:
        data = client.call("GET", client.url("models", args.model, "versions", args.version))
    return data, json.dumps(data, indent=2, ensure_ascii=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="registry-cli",
        description="Register models, versions, metrics and artefacts in the model registry. "
        "Reads REGISTRY_URL and REGISTRY_TOKEN from the environment.",
    )
    parser.add_argument("--json", action="store_true", help="print the server's JSON answer")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per request")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    command = commands.add_parser("whoami", help="check the token: who it signs in as")
    command.set_defaults(run=cmd_whoami)

    command = commands.add_parser("register-model", help="register a new model")
    command.add_argument("name", help="e.g. fraud-detector (lower case, never changes)")
    command.add_argument("--team", required=True, help="slug of the owning team")
    command.add_argument("--display-name")
    command.add_argument("--description", help="Markdown")
    command.add_argument("--task", help="e.g. classification, text-generation")
    command.add_argument("--risk-tier", choices=["minimal", "limited", "high"])
    command.add_argument("--responsible", help="username of the accountable person")
    command.add_argument("--restricted", action="store_true", help="only the team may see it")
    command.add_argument("--tag", action="append", default=[], help="repeat for more tags")
    command.set_defaults(run=cmd_register_model)

    command = commands.add_parser("register-version", help="register the next version")
    command.add_argument("model")
    command.add_argument("--framework", help="e.g. pytorch, sklearn, xgboost, transformers")
    command.add_argument("--framework-version")
    command.add_argument("--architecture")
    command.add_argument("--description", help="Markdown: what changed and why")
    command.add_argument("--source-uri", help="the run, job or commit that produced it")
    command.add_argument("--parent", help="the version it derives from: model-name:version")
    command.add_argument("--external-base-model", help="e.g. mistralai/Mistral-7B-v0.3")
    command.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="ROLE:NAME[:VERSION[:URI[:DIGEST]]]",
        help="repeat per dataset; role is training, validation or evaluation",
    )
    command.add_argument(
        "--hyperparameters", metavar="JSON|@FILE", help="a JSON object, or @file.json"
    )
    command.add_argument("--intended-use")
    command.add_argument("--limitations")
    command.add_argument("--ethical-considerations")
    command.add_argument("--tag", action="append", default=[], help="repeat for more tags")
    command.set_defaults(run=cmd_register_version)

    command = commands.add_parser("log-metrics", help="log a batch of metrics for a version")
    command.add_argument("model")
    command.add_argument("version", type=int)
    command.add_argument("metrics", nargs="*", metavar="KEY=VALUE[@STEP][#SLICE]")
    command.add_argument(
        "--file", help='JSON: a list of {"key", "value", "step", "slice"} or {key: value}'
    )
    command.set_defaults(run=cmd_log_metrics)

    command = commands.add_parser("upload", help="upload artefact files to a version")
    command.add_argument("model")
    command.add_argument("version", type=int)
    command.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    command.add_argument("--kind", default="other", choices=["weights", "config", "code", "other"])
    command.add_argument("--as", dest="as_path", help="path within the version (one file)")
    command.add_argument("--prefix", help="put the files under this folder in the version")
    command.set_defaults(run=cmd_upload)

    command = commands.add_parser("set-alias", help="point an alias (e.g. champion) at a version")
    command.add_argument("model")
    command.add_argument("alias")
    command.add_argument("version", type=int)
    command.add_argument(
        "--yes", action="store_true", help="move it even though applications follow the alias"
    )
    command.set_defaults(run=cmd_set_alias)

    command = commands.add_parser("show", help="print a model or one of its versions as JSON")
    command.add_argument("model")
    command.add_argument("version", type=int, nargs="?")
    command.set_defaults(run=cmd_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    base_url = os.environ.get("REGISTRY_URL", "").strip()
    token = os.environ.get("REGISTRY_TOKEN", "").strip()
    if not base_url or not token:
        print(
            "registry-cli: set REGISTRY_URL and REGISTRY_TOKEN (make a token under "
            "Account → API tokens on the registry's site)",
            file=sys.stderr,
        )
        return 2
    if parse.urlsplit(base_url).scheme not in {"http", "https"}:
        print(
            f"registry-cli: REGISTRY_URL must start with https://, got {base_url}", file=sys.stderr
        )
        return 2
    client = Client(base_url, token, timeout=args.timeout)
    try:
        data, line = args.run(client, args)
    except CLIError as exc:
        print(f"registry-cli: {exc}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else line)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (| head); the command itself succeeded. Point stdout at
        # devnull so that the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
