"""The compare page's media section in real headless Chromium: two runs' images at one step with one
slider for both, the overlay and swipe modes, a link that opens cold at its key, step and mode,
ROC curves of both runs in one chart with each AUC, a confusion-matrix difference, and logged text
shown as text, from file:// and from an HTTP sub-path."""
from __future__ import annotations

import functools
import json
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

import tracker
from test_site_browser import QuietHandler, assert_inside_site, open_page
from test_site_links import cold_page
from test_site_support import EVIL, run_cli

STEPS = 4
CLASSES = 3
SAMPLES = 60


def step_image(run_number: int, step: int, index: int) -> np.ndarray:
    """A 16x16 image, different for each run, step and index (so each is its own file)."""
    image = np.zeros((16, 16, 3), np.uint8)
    image[..., run_number] = 40 * (step + 1)
    image[index, :, 2] = 255
    return image


def log_run(root, name: str, run_number: int) -> dict:
    """A run logging images, a confusion matrix, ROC curves and a table per step; its expected numbers."""
    rng = np.random.default_rng(run_number)
    run = tracker.init(project="media", name=name, dir=str(root), capture=False)
    expected = {"matrix": {}, "auc": {}}
    y_true = rng.integers(0, CLASSES, SAMPLES)
    for step in range(STEPS):
        noise = 2.5 - step * 0.5 + run_number * 0.3  # later steps separate the classes better
        scores = np.eye(CLASSES)[y_true] + rng.normal(0, noise, (SAMPLES, CLASSES))
        scores = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        predicted = scores.argmax(axis=1)
        run.log({"acc": float((predicted == y_true).mean()),
                 "samples": [tracker.Image(step_image(run_number, step, index), caption=f"{name} step {step} #{index}")
                             for index in range(2)]}, step=step)
        run.log_confusion_matrix("val/confusion", y_true, predicted, labels=list(range(CLASSES)), step=step)
        run.log_roc_curve("val/roc", y_true, scores, labels=list(range(CLASSES)), step=step)
        run.log_table("worst", rows=[[step, EVIL, tracker.Image(step_image(run_number, step, 0), caption=EVIL)]],
                      columns=["step", "label", "image"], step=step)
        expected["matrix"][step] = confusion_matrix(y_true, predicted, labels=list(range(CLASSES))).tolist()
        expected["auc"][step] = [roc_auc_score(y_true == label, scores[:, label]) for label in range(CLASSES)]
    run.log_image("payload", step_image(run_number, 0, 3), caption=EVIL, step=0)
    run.finish()
    return {"id": run.id, "path": run.path, "expected": expected}


def media_files(run_path: str, key: str) -> dict[int, list[str]]:
    """The files logged under `key`, by step, in logged order: read from the run folder's records."""
    records = [json.loads(line) for line in Path(run_path, "events.jsonl").read_text().splitlines()]
    files: dict[int, list[str]] = {}
    for record in sorted((r for r in records if r["type"] == "media" and r["key"] == key), key=lambda r: r["index"]):
        files.setdefault(record["step"], []).append(record["file"])
    return files


@pytest.fixture(scope="module")
def media_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare-media-runs")
    runs = {name: log_run(root, name, number) for number, name in enumerate(["alpha", "beta", "gamma"])}
    plain = []
    for number in range(2):
        run = tracker.init(project="media", name=f"no-media-{number}", dir=str(root), capture=False)
        run.log({"acc": 0.5})
        run.finish()
        plain.append(run.id)
    parent = tmp_path_factory.mktemp("compare-media-served")
    out = parent / "sub" / "path"
    code, stdout, _ = run_cli("build", "--runs", str(root), "--out", str(out))
    assert code == 0, stdout
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"out": out, "runs": runs, "plain": plain,
           "bases": {"file": out.as_uri() + "/", "http": f"http://127.0.0.1:{server.server_port}/sub/path/"}}
    server.shutdown()


def compare_url(media_site, scheme: str, view: str = "", names=("alpha", "beta")) -> str:
    ids = ",".join(media_site["runs"][name]["id"] for name in names)
    return f"compare.html#runs={ids}{view}"


def open_compare(page, media_site, scheme: str, view: str = ""):
    requests, dialogs = open_page(page, media_site, scheme, compare_url(media_site, scheme, view))
    scroll_to_media(page)
    return requests, dialogs


def scroll_to_media(page, key: str | None = None) -> None:
    """Scroll to the media section (or the panel of ``key``) as a person would: a panel is drawn
    once it comes near the viewport."""
    page.wait_for_selector("#compare-media:not([hidden]) .compare-media-panel")
    page.locator(f".compare-media-panel[data-key='{key}']" if key else "#compare-media").scroll_into_view_if_needed()


def column_images(page, key: str) -> dict[str, list[str]]:
    """The image files each run's column shows in the panel of `key`, by run name, once it is drawn."""
    page.wait_for_selector(f".compare-media-panel[data-key='{key}'] .compare-media-body:not([aria-busy]) .compare-media-run")
    return page.evaluate("""(key) => Object.fromEntries([...document.querySelectorAll('.compare-media-panel')]
        .filter((panel) => panel.dataset.key === key)[0].querySelectorAll('.compare-media-run')
        .values().map((column) => [column.querySelector('.compare-media-run-name').textContent,
                                   [...column.querySelectorAll('img')].map((img) => img.getAttribute('src'))]))""", key)


def wait_for_step(page, step: int, key: str = "samples") -> None:
    """Until the slider says ``step`` and the panel of ``key`` (logged at every step) shows it in each run."""
    page.wait_for_function(f"document.getElementById('compare-media-step-value').textContent === 'step {step}'")
    page.wait_for_function(f"""() => {{
        const notes = [...document.querySelectorAll(".compare-media-panel[data-key='{key}'] .compare-media-run-step")];
        return notes.length > 0 && notes.every((note) => note.textContent === 'step {step}'); }}""")


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_two_runs_images_side_by_side_at_one_step_and_the_slider_moves_both(page, media_site, scheme):
    requests, dialogs = open_compare(page, media_site, scheme, "&key=samples")
    alpha, beta = (media_files(media_site["runs"][name]["path"], "samples") for name in ("alpha", "beta"))
    wait_for_step(page, STEPS - 1)  # the last step unless the link says otherwise
    assert column_images(page, "samples") == {"alpha": alpha[STEPS - 1], "beta": beta[STEPS - 1]}
    page.get_by_label("Step, all runs").fill("1")
    wait_for_step(page, 1)
    assert column_images(page, "samples") == {"alpha": alpha[1], "beta": beta[1]}
    assert page.locator(".compare-media-run-step").all_inner_texts() == ["step 1", "step 1"]
    page.wait_for_function("location.hash.includes('step=1') && location.hash.includes('key=samples')")
    # the site's copies are the run folder's files, under the same content-addressed names
    for name in alpha[1] + beta[1]:
        assert (media_site["out"] / name).is_file()
    assert page.errors == [] and dialogs == []
    assert_inside_site(requests, media_site, scheme)


def element_at(page, selector: str, fraction: float) -> str:
    """The class of the image hit at `fraction` of the stage's width, half way down."""
    return page.evaluate("""([selector, fraction]) => {
        const stage = document.querySelector(selector);
        stage.scrollIntoView({ block: "center" });
        const box = stage.getBoundingClientRect();
        return document.elementFromPoint(box.left + box.width * fraction, box.top + box.height / 2).className; }""",
                         [selector, fraction])


def test_the_swipe_divider_moves_what_is_visible(page, media_site):
    open_compare(page, media_site, "file", "&key=samples&mode=swipe&step=2")
    stage = ".compare-media-pair .compare-media-stage"
    page.wait_for_selector(stage)
    alpha, beta = (media_files(media_site["runs"][name]["path"], "samples") for name in ("alpha", "beta"))
    sources = page.evaluate(f"[...document.querySelector('{stage}').querySelectorAll('img')].map(i => i.getAttribute('src'))")
    assert sources == [alpha[2][0], beta[2][0]]  # alpha left (under), beta right (over)
    assert page.locator(".compare-media-pair").count() == 2  # one pair per image logged at the step
    assert element_at(page, stage, 0.25) == "compare-media-a" and element_at(page, stage, 0.75) == "compare-media-b"
    page.get_by_label("Swipe divider position").first.fill("90")
    assert element_at(page, stage, 0.75) == "compare-media-a" and element_at(page, stage, 0.95) == "compare-media-b"
    page.locator(stage).first.scroll_into_view_if_needed()
    box = page.locator(stage).first.bounding_box()  # dragging on the images moves it too
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2, steps=4)
    page.mouse.up()
    assert element_at(page, stage, 0.25) == "compare-media-b"
    assert page.get_by_label("Swipe divider position").first.input_value() == "10"
    assert page.errors == []


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_a_link_with_key_step_and_mode_opens_cold_in_that_state(page, media_site, scheme):
    open_page(page, media_site, scheme, "index.html")
    other = cold_page(page)
    requests = []
    other.on("request", lambda request: requests.append(request.url))
    other.goto(media_site["bases"][scheme] + compare_url(media_site, scheme, "&key=samples&step=1&mode=overlay"))
    other.wait_for_selector(".compare-media-pair img.compare-media-b")
    assert other.get_by_label("Media key", exact=True).input_value() == "samples"
    assert other.get_by_label("Mode", exact=True).input_value() == "overlay"
    assert other.locator("#compare-media-step-value").inner_text() == "step 1"
    assert other.locator(".compare-media-panel").count() == 1
    assert other.locator("#compare-media-pair").is_hidden()  # two runs: nothing to choose
    alpha, beta = (media_files(media_site["runs"][name]["path"], "samples") for name in ("alpha", "beta"))
    stage = other.locator(".compare-media-pair .compare-media-stage").first
    assert stage.locator("img.compare-media-a").get_attribute("src") == alpha[1][0]
    assert stage.locator("img.compare-media-b").get_attribute("src") == beta[1][0]
    assert other.evaluate("getComputedStyle(document.querySelector('.compare-media-b')).opacity") == "0.5"
    other.get_by_label("Opacity of beta").first.fill("100")
    assert element_at(other, ".compare-media-stage", 0.25) == "compare-media-b"
    # changing the view writes it back; the hash keeps the other widgets' keys
    other.get_by_label("Mode", exact=True).select_option("side")
    other.wait_for_function("!location.hash.includes('mode=') && location.hash.includes('step=1')")
    assert column_images(other, "samples") == {"alpha": alpha[1], "beta": beta[1]}
    assert other.errors == []
    assert_inside_site(requests, media_site, scheme)


def test_of_three_runs_the_pair_to_swipe_is_chosen_and_kept_in_the_link(page, media_site):
    names = ("alpha", "beta", "gamma")
    ids = {name: media_site["runs"][name]["id"] for name in names}
    files = {name: media_files(media_site["runs"][name]["path"], "samples") for name in names}
    open_page(page, media_site, "file", compare_url(media_site, "file", "&key=samples&mode=swipe&step=2"
                                                    f"&pair={ids['gamma']},{ids['alpha']}", names))
    scroll_to_media(page)
    stage = page.locator(".compare-media-pair .compare-media-stage").first
    stage.locator("img.compare-media-b").wait_for()
    assert page.get_by_label("First", exact=True).input_value() == ids["gamma"]
    assert stage.locator("img.compare-media-a").get_attribute("src") == files["gamma"][2][0]
    assert stage.locator("img.compare-media-b").get_attribute("src") == files["alpha"][2][0]
    page.get_by_label("Second", exact=True).select_option(label="beta")
    page.wait_for_function(f"location.hash.includes('pair={ids['gamma']},{ids['beta']}')")
    stage = page.locator(".compare-media-pair .compare-media-stage").first
    stage.locator("img.compare-media-b").wait_for()
    assert stage.locator("img.compare-media-b").get_attribute("src") == files["beta"][2][0]
    # side by side shows all three, and no pair choice
    page.get_by_label("Mode", exact=True).select_option("side")
    page.wait_for_selector(".compare-media-run")
    assert sorted(column_images(page, "samples")) == ["alpha", "beta", "gamma"]
    assert page.locator("#compare-media-pair").is_hidden()
    assert page.errors == []


def test_roc_curves_of_both_runs_are_overlaid_with_each_auc(page, media_site):
    open_compare(page, media_site, "file", "&key=val%2Froc&step=2")
    plot = "document.querySelector('.compare-media-panel[data-key=\"val/roc\"] .media-plot')"
    page.wait_for_function(f"{plot} && {plot}.data && {plot}.data.length === {2 * CLASSES + 1}")
    names = page.evaluate(f"{plot}.data.filter(t => t.showlegend !== false).map(t => t.name)")
    assert len(names) == 2 * CLASSES
    assert {name.split(" · ")[0] for name in names} == {"alpha", "beta"}
    legend = page.evaluate("[...document.querySelectorAll('.compare-media-panel[data-key=\"val/roc\"] .legendtext')]"
                           ".map((text) => text.textContent)")
    assert legend == names
    for name in ("alpha", "beta"):
        curves = [text for text in names if text.startswith(f"{name} · ")]
        assert [text.split(" ")[2] for text in curves] == ["0", "1", "2"]  # "<run> · <class> (AUC x)"
        aucs = [float(text.rsplit("AUC ", 1)[1].rstrip(")")) for text in curves]
        # each class's AUC, one vs rest, as scikit-learn computes it, to the legend's 4 decimals
        assert aucs == pytest.approx(media_site["runs"][name]["expected"]["auc"][2], abs=5.1e-5)
    assert page.errors == []


def test_the_confusion_matrix_difference_is_the_difference_of_the_two_runs(page, media_site):
    open_compare(page, media_site, "file", "&key=val%2Fconfusion&step=1&mode=difference")
    cells = ".compare-media-difference td.media-cm-cell"
    page.wait_for_selector(cells)
    counts = page.evaluate(f"[...document.querySelectorAll('{cells}')].map(td => Number(td.dataset.count))")
    alpha, beta = (np.array(media_site["runs"][name]["expected"]["matrix"][1]) for name in ("alpha", "beta"))
    assert counts == (alpha - beta).ravel().tolist() and any(counts)
    title = page.locator(".compare-media-pair-title").inner_text()
    assert title.startswith("alpha minus beta")
    page.get_by_label("Mode", exact=True).select_option("side")
    page.wait_for_selector(".compare-media-run td.media-cm-cell")
    side = page.evaluate("""[...document.querySelectorAll('.compare-media-run')].map((column) =>
        [...column.querySelectorAll('td.media-cm-cell')].map((td) => Number(td.dataset.count)))""")
    assert side == [alpha.ravel().tolist(), beta.ravel().tolist()]
    assert page.errors == []


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_payloads_in_captions_and_table_cells_show_as_text(page, media_site, scheme):
    requests, dialogs = open_compare(page, media_site, scheme)
    scroll_to_media(page, "worst")
    page.wait_for_selector(".compare-media-panel[data-key='worst'] td")
    scroll_to_media(page, "payload")
    page.wait_for_selector(".compare-media-panel[data-key='payload'] figcaption")
    page.wait_for_timeout(300)
    assert dialogs == [] and page.evaluate("window.__pwned === undefined")
    assert page.locator("img[src='x']").count() == 0
    captions = page.locator(".compare-media-panel[data-key='payload'] figcaption").all_inner_texts()
    assert captions == [EVIL, EVIL]
    cells = page.locator(".compare-media-panel[data-key='worst'] td").all_inner_texts()
    assert cells.count(EVIL) == 2 * 2  # each run's label cell, and its image cell's caption
    assert page.errors == []
    assert_inside_site(requests, media_site, scheme)


def test_a_run_without_media_is_named_and_runs_without_any_show_no_section(page, media_site):
    alpha, (plain, other_plain) = media_site["runs"]["alpha"]["id"], media_site["plain"]
    open_page(page, media_site, "file", f"compare.html#runs={alpha},{plain}")
    scroll_to_media(page)
    page.wait_for_selector("#compare-media:not([hidden]) .compare-media-run")
    assert page.locator("#compare-media-note").inner_text() == "No media logged by no-media-0."
    runs = page.locator(".compare-media-panel[data-key='samples'] .compare-media-run")
    assert runs.nth(1).inner_text().startswith("no-media-0\nnot logged in this run")
    cold = cold_page(page)
    cold.goto(media_site["bases"]["file"] + f"compare.html#runs={plain},{other_plain}")
    cold.wait_for_function("document.querySelector('#compare-charts figure')")
    cold.wait_for_timeout(300)
    assert cold.locator("#compare-media").is_hidden()
    assert cold.errors == [] and page.errors == []
