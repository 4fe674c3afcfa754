"""Every error mnistlab raises on purpose, and the exit code the command line gives it.

Each message names the file, key or run at fault and what to do; the command line prints
it as one ``error:`` line and exits with the class's ``exit_code``, so a script (or an
instructor's grading loop) can tell bad input (2) from missing data (3) from a lab problem
(4) from a study or run that failed (1).
"""

from __future__ import annotations

from typing import Protocol


class Failure(Protocol):
    """What a failed study reports (``mnistlab.core.failures.Failure``)."""

    def describe(self) -> str: ...


class MnistlabError(Exception):
    """Base of the errors the command line reports in one line (never a traceback)."""

    exit_code = 1


class YamlFileError(MnistlabError, ValueError):
    """A file that cannot be read as YAML; the message names the file and what is wrong."""

    exit_code = 2


class ParamsError(MnistlabError, ValueError):
    """A params file that cannot be run; the message says where and what is allowed."""

    exit_code = 2


class PublishedError(MnistlabError, ValueError):
    """A published-tables file that cannot be read; the message names file, key and value."""

    exit_code = 2


class MnistNotFound(MnistlabError, RuntimeError):
    """No verified copy of MNIST can be found or fetched."""

    exit_code = 3


class LabError(MnistlabError, RuntimeError):
    """A lab cannot be built or graded; the message says which file and what to do."""

    exit_code = 4


class CannotWrite(MnistlabError, OSError):
    """A file of ours cannot be written (a full disk, a read-only folder); the message names
    it and what to do.  Nothing half-written is left where a complete file was."""

    exit_code = 5


class SchedulerUnreachable(MnistlabError, ConnectionError):
    """Nothing answered at the Dask scheduler address given; the message says how to start one."""

    exit_code = 6


class TrainingFailed(MnistlabError, RuntimeError):
    """A run failed on two workers; the message names the study, configuration and seed."""


class MissingRuns(MnistlabError, LookupError):
    """A study analysis needs runs, epoch logs or published tables that this study does not
    have: an instructor's variant that keeps only some configurations.  ``needs`` names what
    the analysis needs and what the study has; ``Study.show_analyses`` shows it as one line in
    place of that analysis, and the rest of the report renders.  Raised before an analysis
    draws anything, by ``mnistlab.studies.require``."""

    def __init__(self, needs: str):
        super().__init__(needs)
        self.needs = needs

    def __str__(self) -> str:
        return f"this analysis needs {self.needs}"


class StudyFailed(MnistlabError, RuntimeError):
    """One study could not be run or rendered; the other studies go on."""

    def __init__(self, failure: "Failure"):
        super().__init__(failure.describe())
        self.failure = failure


class StudiesFailed(MnistlabError, RuntimeError):
    """The end of a run in which some studies failed: the summary and what did succeed."""

    def __init__(self, failures: "list[Failure]", done: list[str]):
        self.failures, self.done = failures, done
        super().__init__(failure_summary(failures, len(failures) + len(done)))


def failure_summary(failures: "list[Failure]", total: int) -> str:
    """``2 of 9 studies failed:`` and one line per failure."""
    lines = [f"{len(failures)} of {total} stud{'y' if total == 1 else 'ies'} failed:"]
    lines += ["  " + failure.describe() for failure in failures]
    if total > len(failures):
        lines.append("The other studies' reports were written (reports/index.html lists them).")
    return "\n".join(lines)
