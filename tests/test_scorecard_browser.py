"""The front page and every report in a real browser, offline, and the scorecard's CSV content.

Debian's Chromium (``apt-get install chromium``; CI's ``.ci/run`` installs it) driven by
Playwright through its executable path.  Every request that is not a local file is blocked
and recorded; a page passes when it made none, logged no console error, and every link on the
index resolves (files exist, ``#anchors`` name an element of their page).  Screenshots land in
``build/screenshots/`` for a human to look at.  Without Chromium these tests are skipped and
say how to enable them; with ``MNISTLAB_REQUIRE_BROWSER=1`` (CI) they fail instead.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest

from mnistlab.analysis import scorecard
from mnistlab.analysis.compare import agreement
from mnistlab.analysis.verdicts import EXPLAINABLE, bound
from mnistlab.spec.params import load_params, published_path
from mnistlab.core.paths import build_dir, study_build_dir
from mnistlab.spec.published import load_published, tolerance_of
from mnistlab.present.report import write_index

from .conftest import REPO
from .test_scorecard import _entry

CHROMIUM = Path(os.environ.get("MNISTLAB_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
LOCAL = ("file:", "data:", "about:")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        message = (f"no Chromium at {CHROMIUM}: install Debian's (apt-get install chromium) or set "
                   "MNISTLAB_CHROMIUM to run the browser tests (CI does)")
        if os.environ.get("MNISTLAB_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class OfflinePage:
    """A page in a fresh context where only local files load; everything else is recorded."""

    def __init__(self, browser, width: int = 1280) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 1600})
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: r.url.startswith(LOCAL)
                     and self.errors.append(f"{r.url}: {r.failure}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def _route(self, route) -> None:
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, path: Path):
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        return self.page

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests that would leave the machine: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.dialogs == [], f"a page string ran as script: {self.dialogs}"

    def close(self) -> None:
        self.context.close()


def _screenshot(page, name: str) -> None:
    folder = build_dir(REPO) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _rgb(colour: str) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def _visible_verdicts(page) -> list[str]:
    return page.eval_on_selector_all(
        "#scorecard tr.number", "rows => rows.filter(r => r.offsetParent !== null)"
        ".map(r => r.dataset.verdict)")


# --- a hand-made index: every verdict present, hostile strings, deterministic ---------------

@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    """Two studies' manifests (the unit tests' frame, once per study) and their index."""
    tmp = tmp_path_factory.mktemp("index")
    reports = tmp / "reports"
    for experiment, study, study_id in (("depth", "123_x", "123"), ("loss", "456_y", "456")):
        (reports / experiment).mkdir(parents=True)
        entry = _entry(tmp) | {"experiment": experiment, "study": study, "study_id": study_id}
        if study_id == "456":  # one number judged differently, so the filter has work to do
            entry["scorecard"] = [r | {"n": 1, "verdict": "unjudged"}
                                  if r["column"] == "loss" and r["row"] == "1" else r
                                  for r in entry["scorecard"]]
        (reports / experiment / f"{study}.json").write_text(json.dumps(entry))
    write_index(reports)
    return reports / "index.html"


def test_index_rows_colours_and_filters(browser, small_index):
    view = OfflinePage(browser)
    try:
        page = view.open(small_index)
        summary = pd.read_csv(small_index.parent / "summary.csv")
        assert _visible_verdicts(page) == list(summary["verdict"]), "one row per CSV row, in order"
        for name, verdict in scorecard.VERDICTS.items():
            cells = page.locator(f"#scorecard td.verdict.v-{name}")
            assert cells.count() == int((summary["verdict"] == name).sum())
            for i in range(cells.count()):
                assert cells.nth(i).evaluate("c => getComputedStyle(c).backgroundColor") == \
                    _rgb(verdict.tint), name
        assert {"inside", "close", "far", "unjudged"} <= set(summary["verdict"])

        page.select_option("#study-filter", "loss/456_y")
        assert _visible_verdicts(page) == list(summary[summary["study"] == "456_y"]["verdict"])
        assert page.locator("#shown").inner_text() == "showing 5 of 10 published numbers"
        page.uncheck("#verdict-filter input[value=far]")
        assert "far" not in _visible_verdicts(page) and _visible_verdicts(page)
        page.select_option("#study-filter", "")
        page.check("#verdict-filter input[value=far]")
        assert len(_visible_verdicts(page)) == len(summary)

        assert "<script>alert(1)</script> & co" in page.locator("table.studies").inner_text()
        page.emulate_media(media="print")
        assert page.locator("#controls").evaluate("c => getComputedStyle(c).display") == "none"
        assert page.pdf(format="A4").startswith(b"%PDF")
        _screenshot(page, "index-small")
        view.assert_clean()
    finally:
        view.close()


def test_the_index_on_a_phone_is_one_card_per_study_with_readable_bars(browser, small_index):
    """At 390 px the studies table (links and agreement off-screen, issue 27) gives way to
    one card per study whose links and verdict counts are on screen, and the bar labels of
    the per-study figure are at least 9 px high."""
    view = OfflinePage(browser, 390)
    try:
        page = view.open(small_index)
        assert not page.locator("table.studies").is_visible()
        cards = page.locator(".card")
        assert cards.count() == 2
        for i in range(cards.count()):
            for link in cards.nth(i).locator("a").all():
                box = link.bounding_box()
                assert box and box["x"] + box["width"] <= 390, "a report link off-screen"
            assert "published numbers" in cards.nth(i).inner_text()
        heights = page.eval_on_selector_all(
            "svg.overview text", "ts => ts.map(t => t.getBoundingClientRect().height)")
        assert heights and min(heights) >= 9, f"bar labels {min(heights):.1f} px high"
        _screenshot(page, "index-small-390")
        page.emulate_media(media="print")
        assert not page.locator(".cards").is_visible(), "print keeps the table"
        view.assert_clean()
    finally:
        view.close()


# --- the real thing: the quick-profile project the end-to-end test renders ------------------

def _links(page) -> list[str]:
    return page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")


def test_index_and_every_report_open_offline_and_every_link_resolves(browser, project):
    reports = project / "reports"
    view = OfflinePage(browser)
    try:
        page = view.open(reports / "index.html")
        rows = sum(1 for _ in csv.DictReader((reports / "summary.csv").open()))
        assert page.locator("#scorecard tr.number").count() == rows > 0
        _screenshot(page, "index")
        links = _links(page)
        view.assert_clean()
        for link in links:
            url = urlsplit(link)
            assert url.scheme == "file", f"the index links outside: {link}"
            assert Path(unquote(url.path)).is_file(), f"dead link {link}"
        index = str(reports / "index.html")
        targets = sorted({urlsplit(link).path for link in links if (link.endswith(".html")
                          or ".html#" in link) and unquote(urlsplit(link).path) != index})
        assert len(targets) == len(list(_report_pages(reports))), "every report is linked"
        for link in sorted(set(links)):
            url = urlsplit(link)
            if url.fragment:
                page = view.open(Path(unquote(url.path)))
                assert page.evaluate("id => document.getElementById(id) !== null",
                                     unquote(url.fragment)), f"no #{url.fragment} in {url.path}"
        for report in sorted(_report_pages(reports)):
            page = view.open(report)
            assert page.locator("h1").count() >= 1
            _screenshot(page, f"{report.parent.name}-{report.stem}")
        view.assert_clean()
    finally:
        view.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_is_wider_than_a_desktop_or_a_phone_screen(browser, project, width):
    """Wide tables scroll inside their own box; the page itself never scrolls sideways, so
    nothing is clipped at the right edge (issue 16)."""
    reports = project / "reports"
    view = OfflinePage(browser, width)
    try:
        for path in [reports / "index.html", *sorted(_report_pages(reports))]:
            page = view.open(path)
            overflow = page.evaluate("document.documentElement.scrollWidth") - width
            assert overflow <= 0, f"{path.relative_to(project)} is {overflow} px wider than {width} px"
    finally:
        view.close()


def _report_pages(reports: Path) -> list[Path]:
    """Every study's report page, full ones and previews (under quick/) alike."""
    return [page for page in reports.rglob("*.html") if page.name != "index.html"]


def _published_numbers(root: Path) -> dict[tuple[str, str, str, str, str], float]:
    """Every published number of every study in the project: (study, table, row, column)."""
    numbers = {}
    for params_path in sorted((root / "params").glob("*/*.yaml")):
        if params_path.parent.name == "published":
            continue
        params = load_params(params_path)
        path = published_path(params_path, params)
        for name, table in (load_published(path) if path else {}).items():
            if table.compare is None:
                continue
            keys = table.frame[table.compare.key].astype(str)  # as compare.agreement reads them
            for column in table.compare.columns:
                for key, value in zip(keys, table.frame[column]):
                    if pd.notna(value):
                        study = (params_path.parent.name, params_path.stem)
                        numbers[(*study, name, key, column)] = float(value)
    return numbers


def test_summary_csv_has_every_published_number_once_judged_by_its_interval(project):
    summary = pd.read_csv(project / "reports/summary.csv", dtype={"row": str, "study_id": str})
    keys = list(zip(summary["experiment"], summary["study"], summary["table"], summary["row"],
                    summary["column"]))
    assert len(keys) == len(set(keys)), "a published number appears twice"
    expected = _published_numbers(project)
    assert set(keys) == set(expected)
    assert summary["published"].tolist() == pytest.approx([expected[k] for k in keys])
    for _, row in summary.iterrows():
        assert row["verdict"] in (_verdict(row), "explained") and \
            (row["verdict"] != "explained" or (row["primary"] and row["explained_by"]
                                               and _verdict(row) in EXPLAINABLE)), row.to_dict()


def _verdict(row: pd.Series) -> str:
    """The verdict a summary.csv row's own numbers call for, by its kind."""
    if row["n"] < 2 and row["kind"] != "exact":
        return "not_run" if row["n"] == 0 else "unjudged"
    if row["kind"] == "bound":
        return bound(row["published"], row["direction"], row["pi_low"], row["pi_high"], row["n"])
    if row["kind"] == "exact":
        return "exact" if row["mean"] == row["published"] else "differs"
    if row["kind"] == "trend":
        return row["verdict"]  # a column's verdict: test_verdicts.py checks the rule
    inside = row["pi_low"] <= row["published"] <= row["pi_high"]
    close = abs(row["mean"] - row["published"]) <= row["tolerance"]  # False when NaN
    return "inside" if inside else "close" if close else "far"


def test_summary_numbers_are_the_measured_runs(project):
    """Mean and intervals of each study's CSV rows recomputed from its results.csv."""
    summary = pd.read_csv(project / "reports/summary.csv", dtype={"row": str})
    for (experiment, study), rows in summary.groupby(["experiment", "study"]):
        params_path = project / "params" / experiment / f"{study}.yaml"
        results = pd.read_csv(study_build_dir("quick", experiment, study, project) / "results.csv")
        tables = load_published(published_path(params_path, load_params(params_path)))
        for table_name, part in rows.groupby("table"):
            columns = tables[table_name].compare.columns.values()
            metrics = {c.metric for c in columns}
            if not metrics <= set(results.columns) or any(c.epoch for c in columns):
                continue  # per-run statistics the notebook derives from the curves (004 Fig. 2),
                # or scores read off the test curves (004's training-length readings)
            measured = agreement(results, tables[table_name]).set_index(["row", "column"])
            for _, row in part.iterrows():
                m = measured.loc[(row["row"], row["column"])]
                assert row["mean"] == pytest.approx(m["mean"], nan_ok=True)
                for bound_ in ("pi_low", "pi_high", "ci_low", "ci_high"):
                    assert row[bound_] == pytest.approx(m[bound_], nan_ok=True)
                spec = tables[table_name].compare.columns[row["column"]]
                tolerance = tolerance_of(spec.tolerance, row["published"])
                assert (math.isnan(tolerance) and math.isnan(row["tolerance"])) or \
                    row["tolerance"] == pytest.approx(tolerance)


def test_every_explanation_links_to_a_heading_of_its_report(project):
    summary = pd.read_csv(project / "reports/summary.csv")
    explained = summary[summary["explanation"].notna()]
    assert len(explained) > 0
    for link in explained["explanation_link"]:
        report, _, anchor = link.partition("#")
        assert anchor, f"{link}: the section was not found in the report"
        page = (project / "reports" / report).read_text()
        assert anchor in scorecard.section_anchors(page).values() or \
            f'id="{anchor}"' in page, "a heading, or the table of the reading that explains it"
