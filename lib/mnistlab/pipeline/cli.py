"""Command line: ``python -m mnistlab run|report|validate|labs|grade`` (see docs/commands.md)."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from mnistlab.core.errors import LabError, MnistlabError, ParamsError
from mnistlab.core.paths import project_root
from mnistlab.pipeline import grading, labs, sandbox
from mnistlab.pipeline.runner import (Job, discover, hermetic_env, registered_folder, report_all,
                                      run_studies, validate)
from mnistlab.spec.data import load_mnist
from mnistlab.train.cluster import worker_count


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnistlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one experiment's studies and render their reports")
    run.add_argument("experiment")
    run.add_argument("--params", type=Path, help="one params file (default: all of the experiment's)")
    report = sub.add_parser("report", help="run every registered study and write reports/index.html")
    report.add_argument("--jobs", type=worker_count, default=1,
                        help="local Dask worker processes training uncached runs, and studies "
                        "rendered at once (default 1: everything in this process)")
    report.add_argument("--scheduler", default=None,
                        help="address of an existing Dask scheduler (tcp://host:8786) to train "
                        "on instead of a local cluster; default $MNISTLAB_SCHEDULER")
    for command in (run, report):
        command.add_argument("--profile", choices=["quick", "full"], default="full")
        command.add_argument("--force", action="store_true", help="re-execute even if up to date")
    check = sub.add_parser("validate", help="check params files against the schema")
    check.add_argument("files", nargs="*", type=Path)
    build = sub.add_parser("labs", help="student versions of the notebooks with exercises (nbgrader)")
    build.add_argument("names", nargs="*", help="labs to build (default: every notebook with nbgrader cells)")
    grade = sub.add_parser("grade", help="autograde submitted labs with nbgrader and print the scores")
    grade.add_argument("lab")
    grade.add_argument("submissions", nargs="+", type=Path, metavar="submission")
    grade.add_argument("--student", help="the student's id in the gradebook (one submission; "
                       "default: the file's name, or its folder's when the file is <lab>.ipynb)")
    grade.add_argument("--jobs", type=worker_count, default=1,
                       help="submissions graded at once, each in its own worker (default 1)")
    grade.add_argument("--timeout", type=_seconds, default=labs.CELL_TIMEOUT_S,
                       help=f"seconds one cell may run (default {labs.CELL_TIMEOUT_S}: 3x the "
                       "labs' slowest cell)")
    grade.add_argument("--isolation", choices=sandbox.ISOLATIONS, default="auto",
                       help="how student code is confined: bwrap (bubblewrap), user (unprivileged "
                       "user with rlimits), none (rlimits only); auto: bwrap where it works")
    return parser


def _seconds(text: str) -> int:
    """``--timeout``: whole seconds, at least 1 (0 would stop every cell at once)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, got {value}")
    return value


def _jobs_for(experiment: str, params: Path | None) -> list[Job]:
    jobs = discover(experiment=experiment)
    if not jobs:
        known = sorted({job.experiment for job in discover()})
        raise ParamsError(f"unknown experiment {experiment!r}: allowed values are {', '.join(known)}")
    if params is None:
        return jobs
    return [Job(experiment, params.resolve(), jobs[0].notebook_path)]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    try:
        if args.command == "validate":
            jobs = [Job(registered_folder(p, project_root()) or "", p.resolve(), Path())
                    for p in args.files] or discover()
            validate(jobs)
            print(f"{len(jobs)} params file(s) valid")
        elif args.command == "run":
            jobs = _jobs_for(args.experiment, args.params)
            validate(jobs)
            run_studies(jobs, args.profile, force=args.force)
        elif args.command == "labs":
            started = time.perf_counter()
            for lab in labs.build(args.names or None):
                print(lab, flush=True)
            print(f"labs built in {time.perf_counter() - started:.1f} s", flush=True)
        elif args.command == "grade":
            _grade(args)
        else:
            report_all(args.profile, args.jobs, force=args.force, scheduler=args.scheduler)
    except MnistlabError as error:  # one line and the error's exit code (mnistlab.core.errors)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept in the cache; run the same command to resume",
              file=sys.stderr)
        return 130
    return 0


def _grade(args: argparse.Namespace) -> None:
    """Autograde each submission (student id: --student, or from the file's name), print
    each grade as it is done, then where the gradebook table and the feedback are."""
    if args.student and len(args.submissions) > 1:
        raise LabError("--student names one submission; several are named by their files")
    students = {args.student or grading.student_id(path, args.lab): path for path in args.submissions}
    if len(students) < len(args.submissions):
        raise LabError("two submissions give the same student id: rename the files")
    hermetic_env(project_root(), load_mnist().folder)  # the grading kernels inherit it
    settings = grading.Settings(args.jobs, args.timeout, args.isolation)
    print(f"grading {len(students)} submission(s) of {args.lab}: {args.jobs} at a time, cells "
          f"stopped after {args.timeout} s, isolation {sandbox.choose(args.isolation)}", flush=True)
    done = []

    def progress(grade: grading.Grade) -> None:
        done.append(grade)
        print(f"[{len(done)}/{len(students)}] {grade}", flush=True)

    batch = grading.grade_batch(args.lab, students, settings, progress=progress)
    zeros = sum(grade.score == 0 for grade in batch.grades)
    print(f"{len(batch.grades)} graded in {batch.seconds:.0f} s ({zeros} with 0 points)\n"
          f"gradebook table: {labs.shown(batch.grades_csv)}", flush=True)
    for student, page in batch.feedback.items():
        print(f"feedback for {student}: {labs.shown(page)}", flush=True)

