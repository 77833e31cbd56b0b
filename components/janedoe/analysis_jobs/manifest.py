"""`janedoe-job.yaml`: what a job folder runs, on which dataset, in which mode, with which limits and outputs.

Strict on purpose: an unknown key is more likely a typo that silently drops a limit than a feature, so it is refused
with the field and line. There is no place for packages: jobs run in the service's pinned, read-only environment.
"""

import dataclasses
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml
from janedoe.errors import JaneDoeInputError
from janedoe.output_checks import DeclaredOutput
from janedoe.sandbox import ResourceLimits

MANIFEST_NAME = "janedoe-job.yaml"
MODES = ("dp", "review")
OUTPUT_KINDS = ("table", "figure", "text", "notebook")
ENTRY_SUFFIXES = (".py", ".ipynb")
MAX_MANIFEST_BYTES = 64 * 1024
MAX_OUTPUTS = 100
_KEYS = ("dataset", "entry", "mode", "limits", "outputs")
_OUTPUT_KEYS = ("path", "kind", "count_columns")
_INSTALL_KEYS = ("requirements", "install", "pip", "packages", "dependencies", "conda", "apt", "setup")
LIMIT_FIELDS = tuple(field.name for field in dataclasses.fields(ResourceLimits))


@dataclass(frozen=True)
class JobManifest:
    dataset: str
    entry: str
    mode: str  # "dp" | "review"
    limits: ResourceLimits
    outputs: tuple[DeclaredOutput, ...]

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset, "entry": self.entry, "mode": self.mode,
            "limits": dataclasses.asdict(self.limits),
            "outputs": [{"path": out.path, "kind": out.kind, "count_columns": list(out.count_columns)}
                        for out in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "JobManifest":
        """The stored form (already validated at submission)."""
        return cls(
            data["dataset"], data["entry"], data["mode"], ResourceLimits(**data["limits"]),
            tuple(DeclaredOutput(out["path"], out["kind"], tuple(out["count_columns"])) for out in data["outputs"]),
        )


def load_manifest(job_dir: Path, *, caps: ResourceLimits | None = None) -> JobManifest:
    """The job folder's manifest, checked against the folder (the entry must be a regular file inside it) and against
    the limit caps an admin set (default: ResourceLimits())."""
    job_dir = Path(job_dir)
    path = job_dir / MANIFEST_NAME
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise JaneDoeInputError("the job folder has no manifest", where=MANIFEST_NAME) from None
    if not stat.S_ISREG(info.st_mode):
        raise JaneDoeInputError("the manifest must be a regular file (not a link)", where=MANIFEST_NAME)
    if info.st_size > MAX_MANIFEST_BYTES:
        raise JaneDoeInputError(f"the manifest is larger than {MAX_MANIFEST_BYTES >> 10} KiB", where=MANIFEST_NAME)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise JaneDoeInputError("the manifest is not UTF-8 text", where=MANIFEST_NAME) from None
    manifest = parse_manifest(text, caps=caps)
    check_entry(job_dir, manifest.entry)
    return manifest


def parse_manifest(text: str, *, caps: ResourceLimits | None = None) -> JobManifest:
    """The manifest's text, validated on its own (the entry is checked against a folder by load_manifest)."""
    caps = caps or ResourceLimits()
    root = _compose(text)
    fields = _mapping(root, "")
    for key, (key_node, _value) in fields.items():
        if key.lower() in _INSTALL_KEYS:
            raise JaneDoeInputError(
                "jobs cannot install packages: they run in the service's pinned, read-only Python environment",
                where=_at(key, key_node))
        if key not in _KEYS:
            raise JaneDoeInputError(f"unknown key (allowed: {', '.join(_KEYS)})", where=_at(key, key_node))
    for key in ("dataset", "entry", "mode"):
        if key not in fields:
            raise JaneDoeInputError("is required", where=f"{MANIFEST_NAME}: {key}")
    dataset = _string(fields["dataset"][1], "dataset")
    entry = _entry(fields["entry"][1])
    mode = _string(fields["mode"][1], "mode")
    if mode not in MODES:
        raise JaneDoeInputError(f"must be one of {', '.join(MODES)}", where=_at("mode", fields["mode"][1]))
    limits = _limits(fields["limits"][1], caps) if "limits" in fields else _default_limits(caps)
    outputs = _outputs(fields["outputs"][1]) if "outputs" in fields else ()
    if mode == "dp" and outputs:
        raise JaneDoeInputError(
            "a dp-mode job releases only its DP query answers; declare files in review mode",
            where=_at("outputs", fields["outputs"][1]))
    if mode == "review" and not outputs:
        raise JaneDoeInputError("a review-mode job must declare its outputs", where=f"{MANIFEST_NAME}: outputs")
    return JobManifest(dataset, entry, mode, limits, outputs)


def check_entry(job_dir: Path, entry: str) -> None:
    """The entry must be a regular file reached without following a symlink, inside the folder."""
    current = Path(job_dir)
    for part in PurePosixPath(entry).parts:
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            raise JaneDoeInputError("no such file in the job folder", where=f"{MANIFEST_NAME}: entry") from None
        if stat.S_ISLNK(info.st_mode):
            raise JaneDoeInputError("must not go through a symlink", where=f"{MANIFEST_NAME}: entry")
    if not stat.S_ISREG(os.lstat(current).st_mode):
        raise JaneDoeInputError("must be a regular file", where=f"{MANIFEST_NAME}: entry")


def safe_relative_path(value: str) -> str | None:
    """The normalised relative POSIX path, or None when it is absolute, empty or climbs out with '..'."""
    if not value or "\\" in value or "\x00" in value or value.startswith("/"):
        return None
    parts = [part for part in PurePosixPath(value).parts if part != "."]
    if not parts or any(part == ".." for part in parts):
        return None
    return "/".join(parts)


def _compose(text: str) -> yaml.Node:
    if len(text.encode("utf-8")) > MAX_MANIFEST_BYTES:
        raise JaneDoeInputError(f"the manifest is larger than {MAX_MANIFEST_BYTES >> 10} KiB", where=MANIFEST_NAME)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = event.start_mark  # the parser marks every event
                raise JaneDoeInputError("anchors and aliases are not allowed",
                                        where=f"{MANIFEST_NAME}:{mark.line + 1}" if mark else MANIFEST_NAME)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{MANIFEST_NAME}:{mark.line + 1}" if mark is not None else MANIFEST_NAME
        raise JaneDoeInputError("not valid YAML", where=where) from None
    if root is None:
        raise JaneDoeInputError("the manifest is empty", where=MANIFEST_NAME)
    return root


def _at(field: str, node: yaml.Node) -> str:
    return f"{MANIFEST_NAME}:{node.start_mark.line + 1}: {field}"


def _mapping(node: yaml.Node, field: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise JaneDoeInputError("must be a mapping", where=_at(field or "manifest", node))
    found: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        name = f"{field}.{key_node.value}" if field else str(key_node.value)
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            raise JaneDoeInputError("keys must be names", where=_at(field or "manifest", key_node))
        if key_node.value in found:
            raise JaneDoeInputError("duplicate key", where=_at(name, key_node))
        found[key_node.value] = (key_node, value_node)
    return found


def _string(node: yaml.Node, field: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value.strip():
        raise JaneDoeInputError("must be a non-empty string", where=_at(field, node))
    if len(node.value) > 1024:
        raise JaneDoeInputError("is too long", where=_at(field, node))
    return node.value


def _positive_int(node: yaml.Node, field: str) -> int:
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int":
        raise JaneDoeInputError("must be a whole number", where=_at(field, node))
    value = yaml.safe_load(node.value)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise JaneDoeInputError("must be a positive whole number", where=_at(field, node))
    return value


def _entry(node: yaml.Node) -> str:
    value = _string(node, "entry")
    entry = safe_relative_path(value)
    if entry is None:
        raise JaneDoeInputError("must be a relative path inside the job folder", where=_at("entry", node))
    if not entry.endswith(ENTRY_SUFFIXES) or entry == MANIFEST_NAME:
        raise JaneDoeInputError("must be a .py script or an .ipynb notebook", where=_at("entry", node))
    return entry


def _default_limits(caps: ResourceLimits) -> ResourceLimits:
    defaults = ResourceLimits()
    return ResourceLimits(**{name: min(getattr(defaults, name), getattr(caps, name)) for name in LIMIT_FIELDS})


def _limits(node: yaml.Node, caps: ResourceLimits) -> ResourceLimits:
    values = dataclasses.asdict(_default_limits(caps))
    for key, (key_node, value_node) in _mapping(node, "limits").items():
        field = f"limits.{key}"
        if key not in LIMIT_FIELDS:
            raise JaneDoeInputError(f"unknown limit (allowed: {', '.join(LIMIT_FIELDS)})", where=_at(field, key_node))
        value = _positive_int(value_node, field)
        cap = getattr(caps, key)
        if value > cap:
            raise JaneDoeInputError(f"is above this service's cap of {cap}", where=_at(field, value_node))
        values[key] = value
    return ResourceLimits(**values)


def _outputs(node: yaml.Node) -> tuple[DeclaredOutput, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise JaneDoeInputError("must be a list of {path, kind}", where=_at("outputs", node))
    if len(node.value) > MAX_OUTPUTS:
        raise JaneDoeInputError(f"at most {MAX_OUTPUTS} outputs", where=_at("outputs", node))
    outputs, seen = [], set()
    for index, item in enumerate(node.value):
        field = f"outputs[{index}]"
        fields = _mapping(item, field)
        for key, (key_node, _value) in fields.items():
            if key not in _OUTPUT_KEYS:
                raise JaneDoeInputError(f"unknown key (allowed: {', '.join(_OUTPUT_KEYS)})",
                                        where=_at(f"{field}.{key}", key_node))
        for key in ("path", "kind"):
            if key not in fields:
                raise JaneDoeInputError("is required", where=_at(f"{field}.{key}", item))
        path_node = fields["path"][1]
        path = safe_relative_path(_string(path_node, f"{field}.path"))
        if path is None:
            raise JaneDoeInputError("must be a relative path inside /output", where=_at(f"{field}.path", path_node))
        if path in seen:
            raise JaneDoeInputError("declared twice", where=_at(f"{field}.path", path_node))
        seen.add(path)
        kind_node = fields["kind"][1]
        kind = _string(kind_node, f"{field}.kind")
        if kind not in OUTPUT_KINDS:
            raise JaneDoeInputError(f"must be one of {', '.join(OUTPUT_KINDS)}", where=_at(f"{field}.kind", kind_node))
        count_columns: tuple[str, ...] = ()
        if "count_columns" in fields:
            columns_node = fields["count_columns"][1]
            where = f"{field}.count_columns"
            if kind != "table":
                raise JaneDoeInputError("only a table has count columns", where=_at(where, columns_node))
            if not isinstance(columns_node, yaml.SequenceNode):
                raise JaneDoeInputError("must be a list of column names", where=_at(where, columns_node))
            count_columns = tuple(_string(column, where) for column in columns_node.value)
        outputs.append(DeclaredOutput(path, kind, count_columns))
    return tuple(outputs)
