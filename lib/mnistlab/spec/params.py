"""One schema for every experiment's params file, checked before any kernel starts.

A params file names the study it reproduces, the seeds, the data handling, training
``defaults`` and a list of ``configurations`` that override those defaults.  Each merged
configuration is a *run spec*, a tagged union on ``kind`` (``mlp`` today; a new kind of run
is one more model in ``RUN_KINDS``), checked as a whole so a missing or wrong setting is
named where it was written (the configuration, or ``defaults``).  Optimizers are a union on
``name`` whose options are Keras's own argument names.  Anything the study leaves unstated is
listed under ``assumptions`` so the report can say so.  Errors name the file, the key, the
value and what is allowed, and nothing is run on a bad file.
"""

from __future__ import annotations

from mnistlab.core.errors import ParamsError

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from mnistlab.spec.tasks import TASKS
from mnistlab.core.yamlfile import bounded, load_yaml, shorten

Activation = Literal["relu", "tanh", "sigmoid", "linear", "elu", "selu", "softplus", "softsign",
                     "swish", "gelu", "leaky_relu", "hard_sigmoid", "exponential"]
Loss = Literal["categorical_crossentropy", "sparse_categorical_crossentropy",
               "binary_crossentropy", "mean_squared_error"]
Monitor = Literal["loss", "accuracy", "val_loss", "val_accuracy"]
Scaling = Literal["unit", "raw"]
TaskName = Literal[tuple(TASKS)]  # type: ignore[valid-type]
ProfileName = Literal["quick", "full"]
Rate = Annotated[float, Field(gt=0, le=10, description="None means the Keras default")]
Decay = Annotated[float, Field(ge=0, lt=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


def _unique(seeds: list[int]) -> list[int]:
    """A seed listed twice trains the same run twice: its ± would shrink with no new evidence."""
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise ValueError(f"seeds must differ; {', '.join(map(str, repeated))} is listed twice")
    return seeds


Seed = Annotated[int, Field(ge=0, lt=2**32, description="Keras's range: 0 to 2**32 - 1")]
MAX_SEEDS, MAX_QUICK_SEEDS = 100, 10
MAX_WEIGHTS = 20_000_000  # 80 MB of float32 weights, about 4x that while training with Adam
MAX_STEPS = 10_000_000  # optimizer steps in one run (study 004 at batch 1: 3.6M, ~20 s here)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Optimizer(Strict):
    """Options left out keep Keras's own defaults (the studies' "default one given by keras")."""

    learning_rate: Rate | None = None


class SGD(_Optimizer):
    name: Literal["sgd"]
    momentum: Decay | None = None
    nesterov: bool | None = None


class Adam(_Optimizer):
    name: Literal["adam"]
    beta_1: Decay | None = None
    beta_2: Decay | None = None
    epsilon: Positive | None = None
    amsgrad: bool | None = None


class Adamax(_Optimizer):
    name: Literal["adamax"]
    beta_1: Decay | None = None
    beta_2: Decay | None = None
    epsilon: Positive | None = None


class Nadam(_Optimizer):
    name: Literal["nadam"]
    beta_1: Decay | None = None
    beta_2: Decay | None = None
    epsilon: Positive | None = None


class RMSprop(_Optimizer):
    name: Literal["rmsprop"]
    rho: Decay | None = None
    momentum: Decay | None = None
    epsilon: Positive | None = None
    centered: bool | None = None


class Adagrad(_Optimizer):
    name: Literal["adagrad"]
    initial_accumulator_value: NonNegative | None = None
    epsilon: Positive | None = None


class Adadelta(_Optimizer):
    name: Literal["adadelta"]
    rho: Decay | None = None
    epsilon: Positive | None = None


class Ftrl(_Optimizer):
    name: Literal["ftrl"]
    learning_rate_power: Annotated[float, Field(le=0)] | None = None
    initial_accumulator_value: NonNegative | None = None
    l1_regularization_strength: NonNegative | None = None
    l2_regularization_strength: NonNegative | None = None
    l2_shrinkage_regularization_strength: NonNegative | None = None
    beta: NonNegative | None = None


OPTIMIZER_SPECS = (SGD, Adam, Adamax, Nadam, RMSprop, Adagrad, Adadelta, Ftrl)
Optimizer = Annotated[Union[OPTIMIZER_SPECS], Field(discriminator="name")]  # type: ignore[valid-type]


class NamedInitializer(Strict):
    """A Keras initializer without options of its own (its fan-in/fan-out scaling)."""

    name: Literal["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                  "lecun_normal"]


class NormalInitializer(Strict):
    """Normal weights; omitted options keep Keras's defaults (mean 0, stddev 0.05)."""

    name: Literal["random_normal", "truncated_normal"]
    mean: float | None = None
    stddev: Positive | None = None


Initializer = Annotated[Union[NamedInitializer, NormalInitializer], Field(discriminator="name")]


class EarlyStopping(Strict):
    monitor: Monitor = "loss"
    patience: int = Field(1, ge=0, le=1000)


class CriticalPoint(Strict):
    """From the trained weights, Newton steps on the gradient to a point where it is (nearly)
    zero, and the Hessian's spectrum there."""

    steps: int = Field(3, ge=1, le=50, description="Newton steps (each needs one Hessian)")
    cutoff: float = Field(1e-4, gt=0, lt=1, description="eigenvalues below cutoff × the "
                          "largest are left out of each step (flat directions)")


class Probes(Strict):
    """Recordings beyond the epoch logs, stored beside the run's JSON as ``.npz``."""

    weights_every: int | None = Field(None, ge=1, le=1000, description="epochs between "
                                      "snapshots of all weights (epoch 0 is always kept)")
    grad_norm: Literal["step", "epoch"] | None = Field(
        None, description="step: norm of each update's gradient; epoch: norm of the gradient "
        "of the loss on `sample` training rows at the end of each epoch")
    hessian: bool = Field(False, description="eigenvalues of the loss Hessian on `sample` "
                          "training rows at the end (models of at most HESSIAN_MAX weights)")
    sample: int = Field(2000, ge=10, le=60000)
    loss: Literal["step"] | None = Field(None, description="step: the training loss of each "
                                         "update, recorded inside the compiled epoch")
    predictions: bool | None = Field(None, description="the model's outputs on `sample` "
                                     "training rows at the end")
    critical: CriticalPoint | None = Field(None, description="minimal ratio: Hessian spectrum "
                                           "at a nearby point of near-zero gradient (models of "
                                           "at most HESSIAN_MAX weights)")


HESSIAN_MAX = 5000


class MlpRun(Strict):
    """A fully connected network on the task's inputs: everything needed to train one model."""

    kind: Literal["mlp"] = "mlp"
    name: str = Field(min_length=1, max_length=80)
    label: str = Field(min_length=1, max_length=200)
    group: str = Field("main", min_length=1, max_length=80)
    task: TaskName
    hidden: list[Annotated[int, Field(ge=1, le=100000)]] = Field(max_length=50)
    activation: Activation | list[Activation]
    dropout: float = Field(0.0, ge=0, lt=1)
    dropout_after: Literal["each_hidden", "last_hidden"] | None = Field(
        None, description="where Dropout layers go when dropout > 0: after each hidden layer "
        "(None: the usual placement, Srivastava et al. 2014) or only after the last one")
    loss: Loss
    optimizer: Optimizer
    batch_size: int = Field(ge=1, le=60000)
    epochs: int = Field(ge=1, le=100000)
    early_stopping: EarlyStopping | None = None
    train_inputs: Scaling = "unit"
    test_inputs: Scaling = "unit"
    probes: Probes | None = None
    test_curve: bool = Field(False, description="evaluate the test set after every epoch too, "
                             "logged as test_loss and test_<metric> beside the validation "
                             "curves: a reading of an unstated training length")
    kernel_initializer: Initializer | None = Field(None, description="every Dense layer's "
                                                   "weights; omitted = Keras's glorot_uniform")
    init: Literal["keras", "pytorch"] | None = Field(
        None, description="initial weights: keras (None: Glorot-uniform kernels, zero biases) or "
        "pytorch (nn.Linear's default: kernels and biases U(±1/√fan_in)), for studies written "
        "in PyTorch")
    extra_softmax: bool | None = Field(
        None, description="a second softmax after the softmax output: what PyTorch's "
        "nn.CrossEntropyLoss (which takes logits) computes when the network already ends in "
        "nn.Softmax, the classic double-softmax mistake")

    @model_validator(mode="after")
    def _extra_softmax_needs_softmax(self) -> "MlpRun":
        output = TASKS[self.task].output_activation
        if self.extra_softmax and output != "softmax":
            raise ValueError(f"extra_softmax needs a softmax output; task {self.task} ends in "
                             f"{output}")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> "MlpRun":
        if isinstance(self.activation, list) and len(self.activation) != len(self.hidden):
            raise ValueError(f"activation list has {len(self.activation)} entries "
                             f"for {len(self.hidden)} hidden layers")
        task = TASKS[self.task]
        if self.loss not in task.losses:
            raise ValueError(f"loss {self.loss!r} is not allowed for task {self.task}: "
                             f"use {' or '.join(task.losses)}")
        weights = mlp_weights(task.inputs, self.hidden, task.outputs)
        if weights > MAX_WEIGHTS:
            raise ValueError(f"hidden {shorten(self.hidden, 60)} makes a model of {weights:,} "
                             f"weights; at most {MAX_WEIGHTS:,} are allowed")
        if self.probes and (self.probes.hessian or self.probes.critical) \
                and weights > HESSIAN_MAX:
            raise ValueError(f"probes.hessian and probes.critical need a model of at most "
                             f"{HESSIAN_MAX} weights; this one has {weights}")
        return self


def mlp_weights(inputs: int, hidden: list[int], outputs: int) -> int:
    """Weights and biases of a dense network ``inputs → hidden... → outputs``."""
    sizes = [inputs, *hidden, outputs]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


class RegressionRun(MlpRun):
    """A fully connected network fitting a real-valued target (a function of one variable)
    by mean squared error.  Its data are tiny, so ``passes_per_epoch`` passes over them are
    one compiled call and one logged epoch: 20,000 full-batch steps are 20 calls, not 20,000."""

    kind: Literal["regression"]
    loss: Literal["mean_squared_error"] = "mean_squared_error"
    passes_per_epoch: int = Field(1, ge=1, le=100000, description="passes over the training "
                                  "rows per logged epoch (one compiled call)")


RUN_KINDS: dict[str, type[Strict]] = {"mlp": MlpRun, "regression": RegressionRun}


def _plain_name(name: str) -> str:
    """``study.published`` names a file in ``params/published/``, never a path elsewhere."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.ya?ml", name):
        raise ValueError("use the plain name of a .yaml file in params/published/ (letters, "
                         "digits, '_', '-', '.'; no folders), e.g. 000_rim_shin.yaml")
    return name


class Paper(Strict):
    """The published study a params file reproduces: who, what, and where its numbers are."""

    id: str = Field(pattern=r"^\d{3}$")
    seed_file: str
    title: str = Field(min_length=1, max_length=300)
    authors: list[str]
    tables: list[str]
    published: Annotated[str, AfterValidator(_plain_name)] | None = Field(
        None, description="a file name in params/published/ (no folders); none for a study "
        "of your own with nothing published to compare")
    published_rows: Literal["all", "some"] = Field(
        "all", description="all: every published row must name a configuration here (a row "
        "that names none is a typo, refused); some: a variant that runs only some of the "
        "study's configurations, whose other published rows show as not run")


class Data(Strict):
    task: TaskName = "digits"
    validation_split: float = Field(0.0, ge=0, lt=1)
    train_samples: int | None = Field(None, ge=10, le=60000)
    test_samples: int | None = Field(None, ge=10, le=10000)


class Profile(Strict):
    train_samples: int = Field(4000, ge=10, le=60000)
    test_samples: int = Field(2000, ge=10, le=10000)
    max_epochs: int = Field(2, ge=1, le=100)
    seeds: Annotated[list[Seed], AfterValidator(_unique)] = Field(
        default_factory=lambda: [0, 1], min_length=1, max_length=MAX_QUICK_SEEDS)


class Assumption(Strict):
    key: str
    reason: str = Field(min_length=10)


class Params(Strict):
    experiment: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    study: Paper
    seeds: Annotated[list[Seed], AfterValidator(_unique)] = Field(min_length=3,
                                                                  max_length=MAX_SEEDS)
    data: Data = Data()
    seeds_together: bool = Field(True, description="train a configuration's seeds as towers, "
                                 "stepped by one compiled call (results equal to separate runs; "
                                 "each run's time is the group's share); false where the study "
                                 "reports each model's training time")
    defaults: dict[str, Any] = Field(default_factory=dict)
    configurations: list[dict[str, Any]] = Field(min_length=1)
    analyses: list[str] = Field(default_factory=list, description="study-specific analyses "
                                "(mnistlab.studies) shown after the generic sections; their "
                                "names are checked by the pipeline, which loads the plugins")
    profiles: dict[Literal["quick"], Profile] = Field(default_factory=dict)
    assumptions: list[Assumption] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    narrative: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")],
                    Annotated[str, Field(min_length=1, max_length=4000)]] = Field(
        default_factory=dict, description="the study's own sentences in its experiment's "
        "notebook (the question it asks, the numbers it quotes), by the name the notebook "
        "asks for; Markdown, escaped like every params string")


def _allowed(model: Any, loc: tuple) -> str:
    """Describe the keys allowed at ``loc`` so a typo's message lists the right spelling.

    A union member in the location (an optimizer's name) picks that member's keys.
    """
    current: Any = model
    options: list[Any] = []
    for part in loc[:-1]:
        tagged = [o for o in options if _tag(o) == part]
        if tagged:
            current, options = tagged[0], []
            continue
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        if field is None:
            continue
        options = [a for a in _flatten(field.annotation)
                   if isinstance(a, type) and issubclass(a, BaseModel)]
        current = options[0] if options else field.annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return "allowed keys: " + ", ".join(current.model_fields)
    return ""


def _tag(model: type[BaseModel]) -> Any:
    """The literal ``name`` of a union member (``"adam"``), or None."""
    field = model.model_fields.get("name")
    args = get_args(field.annotation) if field else ()
    return args[0] if len(args) == 1 else None


def _flatten(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    if not args:
        return [annotation]
    return [leaf for arg in args for leaf in _flatten(arg)]


_TYPE_TAGS = {"int", "float", "str", "bool", "none", "function-after", "list", "dict"}
_UNION_TAGS = {tag for spec in (*OPTIMIZER_SPECS, NamedInitializer, NormalInitializer)
               for tag in spec.model_fields["name"].annotation.__args__}


def _dotted(loc: tuple) -> str:
    """``('configurations', 3, 'batch_size')`` → ``configurations[3].batch_size``.

    Pydantic adds the tried union member to a location (``'list[int]'``, ``'int'``, an
    optimizer's name); those parts name types, not keys, and are left out.
    """
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "[" not in part and part not in _TYPE_TAGS and part not in _UNION_TAGS:
            text += ("." if text else "") + part
    return text


def _messages(error: ValidationError, model: Any, prefix: tuple = ()) -> list[str]:
    lines = []
    for item in error.errors():
        loc = prefix + tuple(item["loc"])
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc += (item["ctx"]["discriminator"].strip("'"),)
        key = _dotted(loc)
        if item["type"] == "extra_forbidden":
            lines.append(f"key '{key}': unknown key; {_allowed(model, tuple(item['loc']))}")
        elif item["type"] == "missing":
            lines.append(f"key '{key}': missing (set it here or in defaults)")
        elif item["type"] == "union_tag_invalid":
            lines.append(f"key '{key}': value {item['ctx']['tag']!r} is not allowed: use one of "
                         f"{item['ctx']['expected_tags']}")
        elif _yaml_text_number(item):
            lines.append(_text_number_message(key, item["input"]))
        else:
            lines.append(f"key '{key}': value {shorten(item.get('input'))} is not allowed: "
                         f"{item['msg']}")
    return list(dict.fromkeys(lines))


def _yaml_text_number(item: dict) -> bool:
    """A number YAML read as text: PyYAML's floats need a dot and a signed exponent, so
    ``1e-3`` (unquoted) arrives as the string '1e-3'."""
    value = item.get("input")
    if item["type"] not in ("float_type", "int_type") or not isinstance(value, str):
        return False
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _text_number_message(key: str, value: str) -> str:
    from decimal import Decimal

    plain = f"{Decimal(value.strip()):f}"
    return (f"key '{key}': value {value} was read by YAML as text, not a number (YAML needs a "
            f"dot and a signed exponent, as in 1.0e-3): write {plain}")


def _lookup(raw: dict, dotted: str) -> Any:
    """The value at ``dotted``; ``configurations[4].loss`` names one configuration's key, as
    error messages name it."""
    node: Any = raw
    for part in dotted.split("."):
        name, _, index = part.partition("[")
        if isinstance(node, dict) and name in node:
            node = node[name]
        else:
            raise KeyError(dotted)
        if index:
            position = index.rstrip("]")
            if not (position.isdigit() and isinstance(node, list) and int(position) < len(node)):
                raise KeyError(dotted)
            node = node[int(position)]
    return node


def published_path(params_path: str | Path, params: Params) -> Path | None:
    """The study's published tables: ``params/published/`` beside the params file's folder
    (a scratch copy of a project), or, for a params file kept elsewhere (a copy handed out as
    a lab), the project's own.  The name is a plain file name (the schema allows no folders),
    so the file is always inside a ``params/published/``."""
    from mnistlab.core.paths import project_root

    name = params.study.published
    if name is None:
        return None
    beside = Path(params_path).resolve().parent.parent / "published" / name
    if beside.parent.parent.name == "params" and beside.is_file():
        return beside
    return project_root() / "params" / "published" / name


def load_params(path: str | Path) -> Params:
    """Read and validate one params file, or raise ``ParamsError`` naming the problem."""
    path = Path(path)
    raw = load_yaml(path, "params file", ParamsError)
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of keys at the top level")
    try:
        params = Params.model_validate(raw)
    except ValidationError as error:
        raise _invalid(path, _messages(error, Params)) from None
    problems = [_check_assumption(raw, a.key) for a in params.assumptions]
    problems += [line for index in range(len(params.configurations))
                 for line in _check_run(params, index)]
    problems += _check_names(params)
    problems += _check_task_keys(params)
    problems = list(dict.fromkeys(p for p in problems if p))
    if not problems:  # the runs resolve: their length can be measured
        problems = list(dict.fromkeys(_check_steps(params)))
    if problems:
        raise _invalid(path, problems)
    return params


MAX_PROBLEMS = 30


def _invalid(path: Path, problems: list[str]) -> ParamsError:
    """One error listing the problems, bounded: the first ``MAX_PROBLEMS``, each cut short."""
    shown = [bounded(line, 400) for line in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS} more")
    return ParamsError(bounded(f"{path}: invalid params ({len(problems)} problem(s))\n  "
                               + "\n  ".join(shown)))


def _check_steps(params: Params) -> list[str]:
    """Refuse a run of more optimizer steps than a study on this kit could ever finish
    (``epochs: 5000000`` for ``50``): epochs × batches per epoch of the full profile; and a
    batch larger than the full profile's training rows, which the report would misstate.
    (The quick profile's fewer rows train such a batch as one full batch, and say so.)"""
    problems = []
    for index, run in enumerate(resolve_runs(params)):
        rows = (TASKS[run["task"]].source.train_rows(params.data.train_samples)
                * (1 - params.data.validation_split))
        steps = run["epochs"] * -(-int(rows) // run["batch_size"])
        if run["batch_size"] > rows:
            problems.append(f"key '{_where(params, index, 'batch_size')}.batch_size': value "
                            f"{run['batch_size']} is larger than the {int(rows)} training rows "
                            "the study trains on (data.train_samples less the validation "
                            f"split): use at most {int(rows)}, one full batch per epoch")
        if steps > MAX_STEPS:
            problems.append(f"key '{_where(params, index, 'epochs')}.epochs': value "
                            f"{run['epochs']} is not allowed: with batch_size {run['batch_size']} "
                            f"on {int(rows)} training rows that is {steps:,} optimizer steps per "
                            f"run; at most {MAX_STEPS:,}")
    return problems


def _check_assumption(raw: dict, key: str) -> str:
    try:
        _lookup(raw, key)
    except KeyError:
        return f"key 'assumptions': '{key}' names no key of this file (use dotted paths such as defaults.batch_size or configurations[0].loss)"
    return ""


def _merged(params: Params, index: int) -> dict[str, Any]:
    """Configuration ``index`` over ``defaults``.  The task is the study's (``data.task``)
    unless the configuration names its own: a study's one multiclass model beside its binary
    ones (004's best network) stays in the report of the experiment it belongs to."""
    run = {**params.defaults, **params.configurations[index]}
    run.setdefault("name", str(index + 1))
    run.setdefault("label", run["name"])
    run["task"] = params.configurations[index].get("task", params.data.task)
    return run


def _check_run(params: Params, index: int) -> list[str]:
    """Messages for configuration ``index`` merged with defaults, each located where the
    offending key was written."""
    run = _merged(params, index)
    kind = run.get("kind", "mlp")
    model = RUN_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        return [f"key '{_where(params, index, 'kind')}.kind': value {kind!r} is not allowed: "
                f"use one of {', '.join(RUN_KINDS)}"]
    try:
        model.model_validate(run)
    except ValidationError as error:
        return [_relocate(line, params, index) for line in _messages(error, model)]
    return []


def _where(params: Params, index: int, key: str) -> str:
    return "defaults" if key in params.defaults and key not in params.configurations[index] \
        else f"configurations[{index}]"


def _relocate(line: str, params: Params, index: int) -> str:
    """``key 'loss': ...`` → ``key 'defaults.loss': ...`` or ``key 'configurations[3].loss'``."""
    key = line.split("'")[1]
    first = key.split(".")[0].split("[")[0]
    where = f"configurations[{index}]" if not key else _where(params, index, first)
    return line.replace(f"key '{key}'", f"key '{where}{'.' + key if key else ''}'", 1)


def _check_names(params: Params) -> list[str]:
    names = [_merged(params, i)["name"] for i in range(len(params.configurations))]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    return [f"key 'configurations': duplicate name {n!r}" for n in duplicates]


def _check_task_keys(params: Params) -> list[str]:
    """The study's task has one place (``data.task``); only a configuration may override it."""
    if "task" in params.defaults:
        return [f"key 'defaults.task': value {params.defaults['task']!r} is not allowed: set the "
                "study's task in data.task (a configuration may override it with its own task)"]
    return []


# What names a configuration in its study, never what trains: left out of a run's content
# key, so the same model in two studies (004's relu/64 in activation and width) trains once.
NAMING_FIELDS = ("name", "label", "group")


def training_spec(run: dict[str, Any]) -> dict[str, Any]:
    """A resolved run without the fields that only name it in its study."""
    return {k: v for k, v in run.items() if k not in NAMING_FIELDS}


def resolve_runs(params: Params) -> list[dict[str, Any]]:
    """Each configuration merged with ``defaults`` and validated: one plain dict per model.

    Unset optional settings are left out, so adding an option to the schema does not change
    the cache key of runs that do not use it.
    """
    runs = []
    for index in range(len(params.configurations)):
        run = _merged(params, index)
        spec = RUN_KINDS[run.get("kind", "mlp")].model_validate(run)
        resolved = spec.model_dump(exclude_none=True)
        if isinstance(resolved.get("activation"), str):
            resolved["activation"] = [resolved["activation"]] * len(resolved["hidden"])
        runs.append(resolved)
    return runs


def profile_settings(params: Params, profile: ProfileName) -> dict[str, Any]:
    """Seeds, sample counts, an epoch cap and whether seeds train together for ``profile``;
    ``full`` is the study as published."""
    if profile == "full":
        return {"seeds": list(params.seeds), "train_samples": params.data.train_samples,
                "test_samples": params.data.test_samples, "max_epochs": None,
                "seeds_together": params.seeds_together}
    if profile != "quick":
        raise ParamsError(f"profile {profile!r} is not allowed: use one of {get_args(ProfileName)}")
    quick = params.profiles.get("quick", Profile())
    return {"seeds": list(quick.seeds), "train_samples": quick.train_samples,
            "test_samples": quick.test_samples, "max_epochs": quick.max_epochs,
            "seeds_together": params.seeds_together}


def assumption_table(params: Params, raw_path: str | Path) -> list[dict[str, str]]:
    """Rows of (key, value, reason) so a report can list every assumption with its value."""
    raw = load_yaml(raw_path, "params file", ParamsError)
    return [{"setting": a.key, "value": str(_lookup(raw, a.key)), "why": a.reason}
            for a in params.assumptions]
