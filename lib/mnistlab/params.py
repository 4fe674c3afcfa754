"""One schema for every experiment's params file, checked before any kernel starts.

A params file names the study it reproduces, the seeds, the data handling, training
``defaults`` and a list of ``configurations`` that override those defaults.  Anything the
study leaves unstated is listed under ``assumptions`` so the report can say so.  Errors
name the file, the key, the value and what is allowed, and nothing is run on a bad file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .cache import project_root

Activation = Literal["relu", "tanh", "sigmoid", "linear", "elu", "selu", "softplus"]
Loss = Literal["categorical_crossentropy", "sparse_categorical_crossentropy",
               "binary_crossentropy", "mean_squared_error"]
OptimizerName = Literal["sgd", "adam", "rmsprop", "adagrad", "adadelta", "nadam", "ftrl"]
Monitor = Literal["loss", "accuracy", "val_loss", "val_accuracy"]
Scaling = Literal["unit", "raw"]
Task = Literal["digits", "zero_vs_rest"]
ProfileName = Literal["quick", "full"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Optimizer(Strict):
    name: OptimizerName
    learning_rate: float | None = Field(None, gt=0, le=10,
                                        description="None means the Keras default")


class EarlyStopping(Strict):
    monitor: Monitor = "loss"
    patience: int = Field(1, ge=0, le=1000)


class RunSpec(Strict):
    """Everything needed to train one model; every field may come from ``defaults``."""

    name: str | None = Field(None, min_length=1, max_length=80)
    label: str | None = None
    group: str | None = None
    hidden: list[int] | None = Field(None, max_length=50)
    activation: Activation | list[Activation] | None = None
    dropout: float | None = Field(None, ge=0, lt=1)
    loss: Loss | None = None
    optimizer: Optimizer | None = None
    batch_size: int | None = Field(None, ge=1, le=60000)
    epochs: int | None = Field(None, ge=1, le=100000)
    early_stopping: EarlyStopping | None = None
    train_inputs: Scaling | None = None
    test_inputs: Scaling | None = None

    @model_validator(mode="after")
    def _units_positive(self) -> "RunSpec":
        if self.hidden is not None and any(u < 1 for u in self.hidden):
            raise ValueError(f"hidden layer sizes must be >= 1, got {self.hidden}")
        if isinstance(self.activation, list) and self.hidden is not None \
                and len(self.activation) != len(self.hidden):
            raise ValueError(f"activation list has {len(self.activation)} entries "
                             f"for {len(self.hidden)} hidden layers")
        return self


REQUIRED_RUN_KEYS = ("hidden", "activation", "loss", "optimizer", "batch_size", "epochs")
RUN_FALLBACKS: dict[str, Any] = {"dropout": 0.0, "early_stopping": None,
                                 "train_inputs": "unit", "test_inputs": "unit"}


class Study(Strict):
    id: str = Field(pattern=r"^\d{3}$")
    seed_file: str
    title: str
    authors: list[str]
    tables: list[str]
    published: str = Field(description="file under params/published/")


class Data(Strict):
    task: Task = "digits"
    validation_split: float = Field(0.0, ge=0, lt=1)
    train_samples: int | None = Field(None, ge=10, le=60000)
    test_samples: int | None = Field(None, ge=10, le=10000)


class Profile(Strict):
    train_samples: int = Field(4000, ge=10, le=60000)
    test_samples: int = Field(2000, ge=10, le=10000)
    max_epochs: int = Field(2, ge=1, le=100)
    seeds: list[int] = Field(default_factory=lambda: [0, 1], min_length=1)


class Assumption(Strict):
    key: str
    reason: str = Field(min_length=10)


class Params(Strict):
    experiment: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    study: Study
    seeds: list[int] = Field(min_length=3)
    data: Data = Data()
    defaults: RunSpec = RunSpec()
    configurations: list[RunSpec] = Field(min_length=1)
    profiles: dict[Literal["quick"], Profile] = Field(default_factory=dict)
    assumptions: list[Assumption] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class ParamsError(ValueError):
    """A params file that cannot be run; the message says where and what is allowed."""


def _allowed(model: type[BaseModel], loc: tuple) -> str:
    """Describe the keys allowed at ``loc`` so a typo's message lists the right spelling."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        if field is None:
            break
        annotation = field.annotation
        candidates = [a for a in _flatten(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        current = candidates[0] if candidates else annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return "allowed keys: " + ", ".join(current.model_fields)
    return ""


def _flatten(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    if not args:
        return [annotation]
    return [leaf for arg in args for leaf in _flatten(arg)]


def _dotted(loc: tuple) -> str:
    """``('configurations', 3, 'batch_size')`` → ``configurations[3].batch_size``.

    Pydantic adds the tried union member to a location (``'list[int]'``, ``'int'``); those
    parts name types, not keys, and are left out.
    """
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "[" not in part and part not in _TYPE_TAGS:
            text += ("." if text else "") + part
    return text


_TYPE_TAGS = {"int", "float", "str", "bool", "none", "function-after"}


def _format(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: invalid params ({error.error_count()} problem(s))"]
    seen = set()
    for item in error.errors():
        key = _dotted(item["loc"])
        if key in seen:
            continue
        seen.add(key)
        if item["type"] == "extra_forbidden":
            lines.append(f"  key '{key}': unknown key; {_allowed(Params, item['loc'])}")
        else:
            value = item.get("input")
            shown = "(missing)" if item["type"] == "missing" else repr(value)
            lines.append(f"  key '{key}': value {shown} is not allowed: {item['msg']}")
    return "\n".join(lines)


def _lookup(raw: dict, dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(dotted)
    return node


def published_path(params_path: str | Path, params: Params) -> Path:
    """The study's published tables: ``params/published/`` beside the params file's folder,
    or, for a params file kept elsewhere (a copy handed out as a lab), the project's own."""
    name = params.study.published
    beside = Path(params_path).resolve().parent.parent / "published" / name
    if beside.is_file():
        return beside
    return project_root() / "params" / "published" / name


def load_params(path: str | Path) -> Params:
    """Read and validate one params file, or raise ``ParamsError`` naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of keys at the top level")
    try:
        params = Params.model_validate(raw)
    except ValidationError as error:
        raise ParamsError(_format(path, error)) from None
    problems = [_check_assumption(raw, a.key) for a in params.assumptions]
    problems += [_check_run(i, run) for i, run in enumerate(resolve_runs(params, strict=False))]
    problems += _check_names(params)
    problems = [p for p in problems if p]
    if problems:
        raise ParamsError(f"{path}: invalid params\n  " + "\n  ".join(problems))
    return params


def _check_assumption(raw: dict, key: str) -> str:
    try:
        _lookup(raw, key)
    except KeyError:
        return f"key 'assumptions': '{key}' names no key of this file (use dotted paths such as defaults.batch_size)"
    return ""


def _check_run(index: int, run: dict) -> str:
    missing = [k for k in REQUIRED_RUN_KEYS if run.get(k) is None]
    if missing:
        return (f"key 'configurations[{index}]': missing {', '.join(missing)} "
                "(set them in the configuration or in defaults)")
    if run["task"] == "zero_vs_rest" and run["loss"] not in ("binary_crossentropy", "mean_squared_error"):
        return (f"key 'configurations[{index}].loss': value {run['loss']!r} is not allowed for task "
                "zero_vs_rest: use binary_crossentropy or mean_squared_error")
    if run["task"] == "digits" and run["loss"] == "binary_crossentropy":
        return (f"key 'configurations[{index}].loss': value 'binary_crossentropy' is not allowed for task "
                "digits: use categorical_crossentropy or sparse_categorical_crossentropy")
    return ""


def _check_names(params: Params) -> list[str]:
    names = [run["name"] for run in resolve_runs(params, strict=False)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    return [f"key 'configurations': duplicate name {n!r}" for n in duplicates]


def resolve_runs(params: Params, strict: bool = True) -> list[dict[str, Any]]:
    """Merge ``defaults`` into each configuration; one plain dict per model to train."""
    defaults = params.defaults.model_dump(exclude_none=True)
    runs = []
    for index, config in enumerate(params.configurations):
        run = {**RUN_FALLBACKS, **defaults, **config.model_dump(exclude_none=True)}
        run.setdefault("name", str(index + 1))
        run.setdefault("label", run["name"])
        run.setdefault("group", "main")
        if isinstance(run.get("activation"), str) and run.get("hidden") is not None:
            run["activation"] = [run["activation"]] * len(run["hidden"])
        run["task"] = params.data.task
        if strict and _check_run(index, run):
            raise ParamsError(_check_run(index, run))
        runs.append(run)
    return runs


def profile_settings(params: Params, profile: ProfileName) -> dict[str, Any]:
    """Seeds, sample counts and an epoch cap for ``profile``; ``full`` is the study as published."""
    if profile == "full":
        return {"seeds": list(params.seeds), "train_samples": params.data.train_samples,
                "test_samples": params.data.test_samples, "max_epochs": None}
    if profile != "quick":
        raise ParamsError(f"profile {profile!r} is not allowed: use one of {get_args(ProfileName)}")
    quick = params.profiles.get("quick", Profile())
    return {"seeds": list(quick.seeds), "train_samples": quick.train_samples,
            "test_samples": quick.test_samples, "max_epochs": quick.max_epochs}


def assumption_table(params: Params, raw_path: str | Path) -> list[dict[str, str]]:
    """Rows of (key, value, reason) so a report can list every assumption with its value."""
    raw = yaml.safe_load(Path(raw_path).read_text())
    return [{"setting": a.key, "value": str(_lookup(raw, a.key)), "why": a.reason}
            for a in params.assumptions]
