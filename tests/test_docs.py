"""README.md and docs/*.md stay true to the code.

Every ``make <target>`` shown in code exists in the Makefile (with variables the Makefile
reads); every ``python -m mnistlab <subcommand>`` exists in the command line's parser, with
the options shown; every ``python -m mnistlab.<module>`` is a module with a ``main`` and a
``__main__`` guard; every relative link resolves to a file (and a ``#section`` to one of its
headings); and every limit quoted matches the schema's constant.  Reads text only: no
training, no TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import pytest

from mnistlab.pipeline.cli import _parser
from mnistlab.spec import params as schema

from .conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")


def _ids(pages: list[Path]) -> list[str]:
    return [page.relative_to(REPO).as_posix() for page in pages]


def code_lines(text: str) -> list[str]:
    """What a reader would type: the lines of fenced blocks (shell comments cut off) and every
    inline code span of the prose."""
    lines = [re.sub(r"(^|\s)#.*$", "", line) for block in FENCE.findall(text)
             for line in block.splitlines()]
    return lines + INLINE.findall(FENCE.sub("", text))


def prose(text: str) -> str:
    """The text outside fenced blocks and inline code (where links and headings live)."""
    return INLINE.sub("", FENCE.sub("", text))


# --- make ---------------------------------------------------------------------------------

MAKE = re.compile(r"(?:^|[\s;&(])make\s+([A-Za-z][\w.-]*)((?:\s+[A-Za-z_][A-Za-z0-9_]*=\S*)*)")


def make_commands(text: str) -> list[tuple[str, list[str]]]:
    """(target, [VARIABLE, ...]) of every ``make target VAR=value ...`` shown in code."""
    return [(match[1], re.findall(r"([A-Za-z_]\w*)=", match[2]))
            for line in code_lines(text) for match in MAKE.finditer(line)]


def makefile() -> tuple[set[str], set[str]]:
    """The Makefile's targets and the variables it reads or sets."""
    text = (REPO / "Makefile").read_text()
    targets = set()
    for line in text.splitlines():
        rule = re.match(r"^([A-Za-z][\w.-]*(?:[ \t]+[A-Za-z][\w.-]*)*)[ \t]*:(?![=])", line)
        if rule and not line.startswith("."):
            targets.update(rule[1].split())
    variables = set(re.findall(r"\$\((\w+)\)", text)) | set(
        re.findall(r"^(?:export\s+)?(\w+)\s*[?:]?=", text, re.MULTILINE))
    return targets, variables


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_make_target_shown_exists(page):
    targets, variables = makefile()
    shown = make_commands(page.read_text())
    unknown = sorted({target for target, _ in shown if target not in targets})
    assert not unknown, f"{page.name} shows make targets the Makefile lacks: {unknown}"
    unread = sorted({v for _, names in shown for v in names if v not in variables})
    assert not unread, f"{page.name} sets variables the Makefile never reads: {unread}"


def test_the_docs_show_every_make_target():
    targets, _ = makefile()
    shown = {target for page in PAGES for target, _ in make_commands(page.read_text())}
    assert not targets - shown, f"make targets documented nowhere: {sorted(targets - shown)}"


# --- python -m mnistlab ---------------------------------------------------------------------

PYTHON_M = re.compile(r"\bpython[\d.]*\s+-m\s+(mnistlab[\w.]*)([^;&#`]*)")


def python_commands(text: str) -> list[tuple[str, list[str]]]:
    """(module, arguments) of every ``python -m mnistlab...`` shown in code."""
    return [(match[1].rstrip("."), [word.lstrip("[") for word in match[2].split()])
            for line in code_lines(text) for match in PYTHON_M.finditer(line)]


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def command_problems(module: str, arguments: list[str]) -> list[str]:
    """Why ``python -m <module> <arguments>`` as shown would not run, if it would not."""
    if module != "mnistlab":
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            return [f"{module}: no such module"]
        source = Path(spec.origin).read_text()
        if not (re.search(r"^if __name__ == .__main__.:", source, re.MULTILINE)
                and re.search(r"^def main\(", source, re.MULTILINE)):
            return [f"{module}: no main() behind an `if __name__ == \"__main__\"` guard"]
        return []
    if not arguments or not re.fullmatch(r"[a-z][\w-]*", arguments[0]):
        return []  # the command named alone, or a placeholder
    commands = subparsers()
    if arguments[0] not in commands:
        return [f"python -m mnistlab {arguments[0]}: no such subcommand ({', '.join(commands)})"]
    options = commands[arguments[0]]._option_string_actions
    shown = [re.match(r"--[\w-]+", word)[0] for word in arguments[1:] if word.startswith("--")]
    return [f"python -m mnistlab {arguments[0]}: no option {option}"
            for option in shown if option not in options]


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_python_m_mnistlab_command_shown_exists(page):
    problems = [problem for module, arguments in python_commands(page.read_text())
                for problem in command_problems(module, arguments)]
    assert not problems, f"{page.name}: " + "; ".join(dict.fromkeys(problems))


def test_the_docs_show_every_subcommand():
    shown = {arguments[0] for page in PAGES
             for module, arguments in python_commands(page.read_text())
             if module == "mnistlab" and arguments}
    assert set(subparsers()) <= shown, f"subcommands documented nowhere: {set(subparsers()) - shown}"


def test_the_command_checker_finds_what_does_not_exist():
    text = ("```sh\nmake reports PROFILE=quick\npython -m mnistlab render depth\n"
            "python -m mnistlab run depth --fast\npython -m mnistlab.bench\n```\n"
            "and `make report COLOUR=red`")
    targets, variables = makefile()
    assert [t for t, _ in make_commands(text) if t not in targets] == ["reports"]
    assert [v for _, names in make_commands(text) for v in names if v not in variables] == ["COLOUR"]
    problems = [p for m, a in python_commands(text) for p in command_problems(m, a)]
    assert len(problems) == 3 and "render" in problems[0] and "--fast" in problems[1] \
        and "mnistlab.bench" in problems[2], problems


# --- links ----------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's ids for the page's headings: lower case, punctuation dropped, spaces → '-',
    a repeated heading numbered."""
    seen: dict[str, int] = {}
    for line in FENCE.sub("", page.read_text()).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading[1].replace("`", "").lower()).replace(" ", "-")
            seen[slug] = seen.get(slug, -1) + 1
            if seen[slug]:
                seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def link_problems(page: Path) -> list[str]:
    problems = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto:: not a link between the pages
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.is_file():
            problems.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{target}: no heading with the id {anchor!r} in {linked.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_relative_link_resolves(page):
    problems = link_problems(page)
    assert not problems, f"{page.name}: " + "; ".join(problems)


def test_every_docs_page_is_linked_from_the_index():
    index = prose((REPO / "docs" / "README.md").read_text())
    linked = {Path(t.partition("#")[0]).name for t in LINK.findall(index)}
    missing = [p.name for p in PAGES if p.parent.name == "docs" and p.name != "README.md"
               and p.name not in linked]
    assert not missing, f"docs/README.md does not list {missing}"


# --- limits ---------------------------------------------------------------------------------

NUMBER = r"(\d[\d,]*(?:\.\d+)?(?:\s*million\b)?)"
BOUND = r"(?:at most|≤|<=)\s*"
PATTERNS = {  # what a limit is called -> how the docs say it (one number group each)
    "steps": [rf"{BOUND}{NUMBER}\s+optimizer steps",
              rf"optimizer steps[^.\n|]{{0,30}}?{BOUND}{NUMBER}",
              rf"batches per epoch\s*{BOUND}{NUMBER}"],
    "weights": [rf"{BOUND}{NUMBER}\s+weights", rf"weights[;,]?\s+{BOUND}{NUMBER}"],
    "seeds": [rf"{BOUND}{NUMBER}\s+seeds"],
}
LIMITS = {"MAX_STEPS": schema.MAX_STEPS, "MAX_WEIGHTS": schema.MAX_WEIGHTS,
          "HESSIAN_MAX": schema.HESSIAN_MAX, "MAX_SEEDS": schema.MAX_SEEDS,
          "MAX_QUICK_SEEDS": schema.MAX_QUICK_SEEDS}


def number(text: str) -> int:
    """``"10,000,000"`` → 10000000; ``"2 million"`` → 2000000."""
    value = float(text.lower().replace("million", "").replace(",", "").strip())
    return round(value * 1_000_000 if "million" in text.lower() else value)


def clause(text: str, start: int, end: int) -> str:
    """The clause around a match: from the last ';', '|' or sentence end before it to the
    first one after it."""
    before = max(text.rfind(mark, 0, start) for mark in (";", "|", ". "))
    after = [i for i in (text.find(mark, end) for mark in (";", "|", ". ")) if i >= 0]
    return text[before + 1:min(after, default=len(text))]


def limit_mentions(text: str) -> list[tuple[str, int, str]]:
    """(constant, number quoted, the words around it) for every limit the text quotes."""
    flat = re.sub(r"\s+", " ", text)
    found = []
    for kind, patterns in PATTERNS.items():
        for pattern in patterns:
            for match in re.finditer(pattern, flat, re.IGNORECASE):
                around = clause(flat, match.start(), match.end())
                if kind == "steps":
                    constant = "MAX_STEPS"
                elif kind == "weights":
                    constant = ("HESSIAN_MAX" if re.search(r"hessian|critical", around, re.I)
                                else "MAX_WEIGHTS")
                else:
                    constant = "MAX_QUICK_SEEDS" if "quick" in around.lower() else "MAX_SEEDS"
                found.append((constant, number(match[1]), around.strip()))
    return found


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_limit_quoted_matches_the_schema(page):
    wrong = [f"{constant} is {LIMITS[constant]:,}, the page says {value:,}: {around!r}"
             for constant, value, around in limit_mentions(page.read_text())
             if value != LIMITS[constant]]
    assert not wrong, f"{page.name}: " + "; ".join(wrong)


def test_every_limit_is_quoted_somewhere():
    quoted = {constant for page in PAGES for constant, _, _ in limit_mentions(page.read_text())}
    assert set(LIMITS) <= quoted, f"limits the docs never state: {sorted(set(LIMITS) - quoted)}"


def test_the_limit_checker_catches_the_old_readme():
    """The README before issue 22 said 2,000,000 steps when the schema allowed 10,000,000."""
    old = ("| `hidden […] makes a model of N weights; at most 20,000,000`, `… optimizer steps per "
           "run; at most 2,000,000` | a model that will not fit in memory, or a run that cannot "
           "finish (each layer ≤ 100,000 units; epochs × batches per epoch ≤ 2 million) |")
    mentions = {(constant, value) for constant, value, _ in limit_mentions(old)}
    assert mentions == {("MAX_WEIGHTS", 20_000_000), ("MAX_STEPS", 2_000_000)}
    assert ("HESSIAN_MAX", 5000) in {(c, v) for c, v, _ in limit_mentions(
        "`probes.hessian` and `probes.critical` need a model of at most 5,000 weights")}
    assert {(c, v) for c, v, _ in limit_mentions(
        "`seeds` lists at most 100 seeds; `profiles.quick.seeds` at most 10 seeds")} \
        == {("MAX_SEEDS", 100), ("MAX_QUICK_SEEDS", 10)}
