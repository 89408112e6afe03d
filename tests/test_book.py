"""The book, end to end: `make book` from fixture records, served on 127.0.0.1, read in Chromium.

The fixture records in tests/fixtures/results/smoke come from real smoke runs of five arms
and two seeds (`python -m lib runs --profile smoke --executor direct --arms
resnet34,resnet34_lr,resnet34_selu,resnet34_inception,improved --seeds 0,1`), so the
build also exercises the partial-results path (ten of the fifteen arms are missing). The
site (``book_site``, tests/conftest.py: built once per session) also holds the records of
tests/fixtures/excluded (stale, failed, invalid, duplicated), which it must name and leave
out; tests/test_oracle.py checks its numbers against an independent calculation.
"""

from __future__ import annotations

import functools
import html
import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import urlopen

import pytest
from booksite import EXCLUDED, REPO, built, make_book

from lib.core.arms import ARMS
from lib.report import claims
from lib.report.formatting import mean_sd, num
from lib.report.results import load

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHAPTERS = [
    "intro",
    "absolute_gap",
    "paper_protocol",
    "reading",
    "table2_lr",
    "table3_selu",
    "table4_inception",
    "table5_combined",
    "beyond",
    "methods",
    "implementation",
    "reproducibility",
    "running",
    "performance",
    "code",
]
TABLE_PAGES = {2: "table2_lr", 3: "table3_selu", 4: "table4_inception", 5: "table5_combined"}
SCREENSHOT = REPO / "_build" / "screenshots" / "intro.png"
# Where the builder's files lie: none of it may leak into a page.
ABSOLUTE_ROOTS = (str(REPO), "/tmp/", "/root/", "/home/")


def page_text(html_dir: Path, name: str) -> str:
    """A page's text as a reader sees it: tags as spaces, except <wbr> (a place a name may
    break, no space: lib.report.formatting.code)."""
    text = re.sub(r"<wbr\s*/?>", "", (html_dir / "book" / f"{name}.html").read_text())
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


@pytest.fixture(scope="module")
def site(book_site):
    return book_site


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(
        QuietHandler, directory=str(site["html"])
    )  # serves whatever is on disk now
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_every_chapter_is_built(site):
    for name in CHAPTERS:
        assert (site["html"] / "book" / f"{name}.html").is_file(), name
    assert (site["html"] / "index.html").is_file()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_site_in_headless_chromium(site, server):
    from playwright.sync_api import sync_playwright

    results = load("smoke", site["results"])
    links: set[str] = set()
    foreign: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on(
            "request",
            lambda r: (
                foreign.append(r.url)
                if urlparse(r.url).hostname not in ("127.0.0.1", None)
                else None
            ),
        )
        for name in CHAPTERS:
            url = urljoin(server, f"book/{name}.html")
            response = page.goto(url, wait_until="load")
            assert response is not None and response.ok, url
            text = page.inner_text("body").replace("\xa0", " ")  # no-break spaces read as spaces
            assert "Traceback (most recent call last)" not in text, name
            assert page.locator(".traceback, .output.error").count() == 0, name
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.currentSrc || e.src, e.complete, e.naturalWidth])"
            )
            for src, complete, width in images:
                assert complete and width > 0, f"{name}: image {src} did not load"
            links.update(page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"))
            if name == "intro":
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=False)
                assert "Results shown" not in text  # profile plumbing: on Reproducibility
                assert page.locator("img[alt^='Forest plot']").count() == 1
            if name == "reproducibility":
                assert "Results shown" in text and "smoke" in text
                hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                for download in ("runs.csv", "records.zip", "source.tar.gz"):
                    target = next(h for h in hrefs if h.endswith(download))
                    with urlopen(target) as response:
                        assert response.status == 200 and response.read(), download
            html_source = page.content()
            for root in ABSOLUTE_ROOTS:
                assert root not in html_source, f"{name}: absolute path {root} on the page"
            if name in TABLE_PAGES.values():
                table = {v: k for k, v in TABLE_PAGES.items()}[name]
                arm = claims.TABLE_ARMS[table]
                for epochs, value in ARMS[arm].paper_accuracy.items():
                    assert num(value) in text, f"{name}: paper's {value} missing"
                    ours = mean_sd(results.summary(arm, epochs))
                    assert ours in text, f"{name}: our {ours} for {arm} missing"
        browser.close()
    assert not foreign, f"pages requested other hosts: {sorted(set(foreign))[:5]}"

    internal = {u for u in links if urlparse(u).hostname == "127.0.0.1"}
    assert internal, "no internal links found"
    pages: dict[str, str] = {}
    for url in sorted(internal):
        target, fragment = urldefrag(url)
        if target not in pages:
            try:
                with urlopen(target) as response:
                    pages[target] = response.read().decode("utf-8", "replace")
            except HTTPError as error:
                raise AssertionError(f"broken internal link {url}: {error}") from error
        if fragment:
            assert re.search(rf'id="{re.escape(fragment)}"', pages[target]), url


PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
SMALL_LAPTOP = {"width": 1024, "height": 768}
# Each figure's <img>: its source, its left edge and rendered width, the width it was glued at.
FIGURES_JS = """els => els.map(e => [e.getAttribute('src'), e.getBoundingClientRect().left,
    e.getBoundingClientRect().width, parseFloat(e.style.width)])"""


# Words of table cells that a line break cuts inside (a break at a hyphen, underscore, slash
# or dot is a place a name may break; lib.report.formatting and book/_static/custom.css).
BROKEN_WORDS_JS = """cells => cells.flatMap(cell => {
    const broken = [], walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.data.matchAll(/[^\\s\\-_/:.+]+/g)) {
            const range = document.createRange();
            range.setStart(node, m.index);
            range.setEnd(node, m.index + m[0].length);
            const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            if (lines.size > 1) broken.push(m[0]);
        }
    }
    return broken;
})"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_every_column_and_figure_in_view_and_every_figure_once(site, server):
    """At 1280 and 1024 px no table scrolls sideways inside its column (no column hidden
    behind a scrollbar), no word of a table breaks inside, and every figure is shown at the
    width it was drawn for (its 11 pt labels never shrunk); at 390 px a figure shrinks to the
    column, whole in view; no figure appears twice on the site."""
    from playwright.sync_api import sync_playwright

    shown: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for viewport in (LAPTOP, SMALL_LAPTOP, PHONE):
            page = browser.new_page(viewport=viewport)
            for name in CHAPTERS:
                page.goto(urljoin(server, f"book/{name}.html"), wait_until="load")
                if viewport is not PHONE:
                    hidden = page.eval_on_selector_all(
                        ".repl-scroll",
                        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1)"
                        ".map(e => e.querySelector('th').innerText)",
                    )
                    assert not hidden, f"{name}: tables wider than the column: {hidden}"
                    broken = page.eval_on_selector_all(
                        "table.repl-table :is(th, td)", BROKEN_WORDS_JS
                    )
                    assert not broken, f"{name} at {viewport['width']} px: words cut {broken}"
                for src, left, width, drawn in page.eval_on_selector_all("figure img", FIGURES_JS):
                    if viewport is not PHONE:  # at the width it was drawn for
                        assert abs(width - drawn) < 1, f"{name}: {src} shown {width} px of {drawn}"
                        shown.setdefault(src, []).append(name)
                    else:  # shrunk to the column, whole in view
                        assert width <= drawn and left >= 0, f"{name}: {src} at {left}, {width} px"
                        assert left + width <= PHONE["width"], f"{name}: {src} cut off on a phone"
            page.close()
        browser.close()
    twice = {src: set(pages) for src, pages in shown.items() if len(set(pages)) > 1}
    assert not twice, f"figures shown more than once: {twice}"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_pages_fit_a_phone_with_the_verdicts_in_view(site, server):
    """At 390 px no page scrolls sideways (wide tables scroll inside their column), and the
    intro's claims table shows its Verdict column without scrolling the table."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE)
        for name in CHAPTERS:
            page.goto(urljoin(server, f"book/{name}.html"), wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name}: the page is {width} px wide on a phone"
        page.goto(urljoin(server, "book/intro.html"), wait_until="load")
        header = page.locator("th", has_text="Verdict").first
        header.scroll_into_view_if_needed()
        box = header.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        browser.close()


def test_all_paper_numbers_beside_ours(site):
    gap = page_text(site["html"], "absolute_gap")  # every absolute cell against the paper
    for _table, _arm, _epochs, value in claims.accuracy_claims():
        assert f"{num(value)} %" in gap


def test_a_rebuild_shows_the_new_results_and_none_says_so(site, tmp_path):
    """Freshness and the empty site in one build: a copy of the built site (its execution
    cache included) rebuilt from an empty results folder loses every number it showed and
    says on every page that there are no results, without a traceback."""
    before = mean_sd(load("smoke", site["results"]).summary("resnet34_selu"))
    assert before in page_text(site["html"], "table3_selu")
    out = tmp_path / "out"
    shutil.copytree(site["out"], out)
    empty = tmp_path / "results"
    empty.mkdir()
    built(make_book(empty, out, profile=""))
    rebuilt = out / "_build" / "html"
    assert "No results to show" in page_text(rebuilt, "intro")
    for name in CHAPTERS[1:]:
        text = page_text(rebuilt, name)
        assert "Traceback" not in text, name
    for name in TABLE_PAGES.values():
        assert "No results yet" in page_text(rebuilt, name), name
    assert before not in page_text(rebuilt, "table3_selu")


EXCLUDED_RECORDS = sorted(
    str(p.relative_to(EXCLUDED)) for p in EXCLUDED.glob("smoke/*/seed-*/record.json")
)
INVALID = {
    "smoke/improved/seed-2/record.json": "not a percentage in [0, 100]",
    "smoke/resnet34/seed-2/record.json": "lies in smoke/resnet34/seed-2",
    "smoke/resnet34/seed-3/record.json": "is not its config's",
    "smoke/resnet34_inception/seed-1/record.json": "duplicate: the same iteration losses",
    "smoke/resnet34_inception/seed-2/record.json": "duplicate: the same iteration losses",
}


def test_invalid_records_are_warned_about(site):
    err = site["process"].stderr
    warned = [line for line in err.splitlines() if line.startswith("warning: /")]
    assert len(warned) == len(INVALID), err[-3000:]
    for path, reason in INVALID.items():
        assert any(str(site["results"] / path) in w and reason in w for w in warned), path
    assert "5 record(s) are invalid or malformed" in err


def test_strict_build_fails_on_invalid_records_before_executing(site, tmp_path):
    process = make_book(site["results"], tmp_path / "out", "smoke", "STRICT=1")
    assert process.returncode != 0
    assert "--strict: no site built" in process.stderr
    assert "executed" not in process.stdout  # no chapter ran
    assert not (tmp_path / "out" / "_build" / "html").exists()


def test_reproducibility_page_names_every_record_left_out(site):
    text = page_text(site["html"], "reproducibility")
    assert len(EXCLUDED_RECORDS) == 6
    for path in [*EXCLUDED_RECORDS, "smoke/resnet34_inception/seed-1/record.json"]:
        assert path in text, path
    for reason in [*INVALID.values(), "non-finite training loss", "differs from today"]:
        assert reason in text, reason
    assert "7 record(s) do not count" in text and "5 of them are invalid" in text
    commits = ("77e32235e0", "38b65fc4a3", "d75ed5b393")  # the fixtures' (git log)
    assert all(c in text for c in commits)
    assert "from 9 complete record(s) made by 3 commit(s)" in text  # inception seed 1 is out
    assert "3 commit(s) of the code" in text  # the profile banner: here, not on page one


def execute_in_child(out: Path, notebooks: list[Path]) -> subprocess.CompletedProcess:
    """book/execute.py's ``execute`` in a fresh process, as `make book` runs it (its own
    process pool, its own signal handlers), not inside a threaded pytest-xdist worker."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import execute; "
        "sys.exit(execute.execute(Path(sys.argv[2]), 60, [Path(p) for p in sys.argv[3:]]))"
    )
    command = [sys.executable, "-c", code, str(REPO / "book"), str(out), *map(str, notebooks)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def write_notebook(path: Path, source: str, kernel: str = "python3") -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel}
    nbformat.write(nb, path)
    return path


def test_a_chapter_error_fails_the_build(tmp_path):
    """book/execute.py (the first step of `make book`) fails when a notebook raises."""
    good = write_notebook(tmp_path / "good.ipynb", "x = 1")
    bad = write_notebook(tmp_path / "bad.ipynb", "raise ValueError('chapter broke')")
    assert execute_in_child(tmp_path / "out", [good]).returncode == 0
    failed = execute_in_child(tmp_path / "out", [good, bad])
    assert failed.returncode == 1 and "chapter broke" in failed.stderr
    assert "retrying" not in failed.stdout  # a cell that raises is not the kernel's fault
    sys.path.insert(0, str(REPO / "book"))
    try:
        import execute
    finally:
        sys.path.pop(0)
    markdown = {"code", "running"}  # Markdown pages: nothing to execute
    notebooks = [f"{name}.ipynb" for name in CHAPTERS if name not in markdown]
    assert [p.name for p in execute.chapters()] == notebooks


def test_a_kernel_that_dies_at_start_up_gets_one_more_try(tmp_path, flaky_kernel):
    """CI once lost a chapter to two parallel kernels racing for one port ("Kernel died
    before replying to kernel_info"): such a chapter is retried, a raising one is not. And
    the pool ends: with jupyter-cache's own pool, nbclient's SIGTERM handler, left behind in
    the worker whose kernel died, kept that pool waiting forever in 3 of 10 runs here."""
    marker = flaky_kernel("flaky")
    notebook = write_notebook(tmp_path / "flaky.ipynb", "x = 1", kernel="flaky")
    done = execute_in_child(tmp_path / "out", [notebook])
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert marker.exists()  # the first start did fail
    assert "retrying 1 chapter(s) whose kernel failed" in done.stdout
