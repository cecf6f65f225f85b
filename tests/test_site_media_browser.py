"""The run page's media section in real headless Chromium: evaluation charts that match
scikit-learn, one slider for every stepped panel with its step in the URL, logged text shown as
text, and no request leaving the site, from file:// and from an HTTP sub-path."""
from __future__ import annotations

import functools
import re
import threading
from http.server import ThreadingHTTPServer

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

import tracker
from test_site_browser import QuietHandler, assert_inside_site, open_page
from test_site_support import EVIL, run_cli

EPOCHS = 4
FIGURE_TITLE = '<a href="javascript:window.__pwned=1">click</a><img src=x onerror="window.__pwned=1">'
TEXT_PAYLOAD = "<script>window.__pwned = 1</script>" + EVIL


def epoch_image(epoch: int) -> np.ndarray:
    image = np.zeros((8, 8, 3), np.uint8)
    image[..., epoch % 3] = 25 * (epoch + 1)
    return image


def log_media_run(root) -> dict:
    """A real classifier's evaluation logged per epoch, images per epoch, payloads in every kind
    that holds text, and a 20,000-row table."""
    features, labels = make_classification(n_samples=400, n_features=8, n_informative=5, n_classes=3,
                                           random_state=0)
    train, test = slice(0, 300), slice(300, None)
    run = tracker.init(project="media", name="classifier", dir=str(root), capture=False)
    expected = {}
    for epoch in range(EPOCHS):
        model = LogisticRegression(C=0.001 * 10 ** epoch).fit(features[train], labels[train])
        scores = model.predict_proba(features[test])
        predicted = scores.argmax(axis=1)
        run.log({"val/acc": float((predicted == labels[test]).mean()),
                 "samples": [tracker.Image(epoch_image(epoch), caption=f"epoch {epoch}"),
                             tracker.Image(epoch_image(epoch + 5), caption=EVIL)]}, step=epoch)
        run.log_confusion_matrix("val/confusion", labels[test], predicted, step=epoch)
        run.log_text("notes", f"epoch {epoch}: " + TEXT_PAYLOAD, step=epoch)
        run.log_histogram("val/scores", values=scores.max(axis=1), bins=16, step=epoch)
        expected[epoch] = {"matrix": confusion_matrix(labels[test], predicted).tolist(),
                           "auc": [roc_auc_score(labels[test] == label, scores[:, label]) for label in range(3)],
                           "ap": [average_precision_score(labels[test] == label, scores[:, label]) for label in range(3)]}
        if epoch == EPOCHS - 1:
            run.log_roc_curve("val/roc", labels[test], scores, step=epoch)
            run.log_pr_curve("val/pr", labels[test], scores, step=epoch)
            run.log_feature_importance("importance", [f"x{index}" for index in range(8)], model.coef_[0], step=epoch)
    for step in range(100):  # the same image, logged a hundred times
        run.log_image("constant", epoch_image(0), step=100 + step)
    run.log_table("predictions", rows=[[1, EVIL, tracker.Image(epoch_image(1))], [2, "cat", None]],
                  columns=["id", "label", "image"], step=0)
    with pytest.warns(UserWarning):
        run.log_table("huge", rows=[[index, f"row {index}"] for index in range(20_000)], columns=["i", "name"], step=0)
    import plotly.graph_objects as go  # the site's own dependency

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    axes.set_title(EVIL)
    run.log_figure("matplotlib", figure, step=0)
    plt.close(figure)
    run.log_audio("audio", np.sin(np.linspace(0, 440 * 2 * np.pi, 8_000)).astype(np.float32), sample_rate=8_000,
                  caption="a tone", step=0)
    run.log_figure("figure", go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), layout={"title": {"text": FIGURE_TITLE}}),
                   step=0)
    run.finish()
    return {"path": run.path, "expected": expected}


@pytest.fixture(scope="module")
def media_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("media-runs")
    logged = log_media_run(root)
    parent = tmp_path_factory.mktemp("media-served")
    out = parent / "sub" / "path"
    code, stdout, _ = run_cli("build", "--runs", str(root), "--out", str(out))
    assert code == 0, stdout
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    run_id = logged["path"].rstrip("/").rsplit("/", 1)[-1]
    yield {"out": out, "expected": logged["expected"], "page": f"runs/{run_id}/index.html",
           "bases": {"file": out.as_uri() + "/", "http": f"http://127.0.0.1:{server.server_port}/sub/path/"}}
    server.shutdown()


def panel(page, key: str):
    """The panel of ``key``, scrolled to as a person would: a panel is drawn once near the viewport."""
    found = page.locator(f".media-panel[data-key='{key}']")
    found.scroll_into_view_if_needed()
    return found


def draw_every_panel(page) -> None:
    """Scroll to each panel in turn, waiting until it is drawn (its body no longer aria-busy)."""
    for key in page.evaluate("[...document.querySelectorAll('.media-panel')].map((panel) => panel.dataset.key)"):
        panel(page, key).locator(".media-panel-body:not([aria-busy])").wait_for(state="attached")


def matrix_cells(page) -> list[list[int]]:
    rows = panel(page, "val/confusion").locator("table.media-cm tbody tr")
    return [[int(text) for text in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def legend_areas(page, key: str, name: str) -> dict[int, float]:
    legend = panel(page, key).locator(".legendtext")
    legend.first.wait_for()
    shown = {}
    for text in legend.all_text_contents():
        match = re.fullmatch(rf"(\d) \({name} ([0-9.]+)\)", text)
        assert match, text
        shown[int(match.group(1))] = float(match.group(2))
    return shown


def test_confusion_matrix_and_roc_legend_equal_scikit_learn(page, media_site):
    open_page(page, media_site, "file", media_site["page"])
    last = media_site["expected"][EPOCHS - 1]
    page.wait_for_selector(".media-panel[data-key='val/confusion'] table.media-cm")
    assert matrix_cells(page) == last["matrix"]
    assert legend_areas(page, "val/roc", "AUC") == {label: round(auc, 4) for label, auc in enumerate(last["auc"])}
    assert legend_areas(page, "val/pr", "AP") == {label: round(ap, 4) for label, ap in enumerate(last["ap"])}
    # the normalised toggle: each true class's row sums to 1
    panel(page, "val/confusion").get_by_label("Normalised (per true class)").check()
    rows = panel(page, "val/confusion").locator("table.media-cm tbody tr")
    for i, counts in enumerate(last["matrix"]):
        shares = [float(text) for text in rows.nth(i).locator("td").all_inner_texts()]
        assert shares == pytest.approx([count / sum(counts) for count in counts], abs=0.0051)  # 2 decimals
    assert page.errors == []


def shown_steps(page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.media-panel')]
        .map((panel) => [panel.dataset.key, panel.dataset.step]))""")


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_page_slider_moves_every_stepped_panel_and_a_link_opens_the_step_cold(page, browser, media_site, scheme):
    open_page(page, media_site, scheme, media_site["page"])
    page.wait_for_selector(".media-panel[data-key='samples'] figcaption")
    steps = page.evaluate("TrackerData.media[document.getElementById('media').dataset.runId].steps")
    assert page.locator("#media-step-value").inner_text() == f"step {steps[-1]}"
    slider = page.locator("#media-step")
    slider.fill(str(steps.index(1)))  # the slider moves over the run's steps by position
    page.wait_for_function("document.querySelector(\".media-panel[data-key='samples'] figcaption\")"
                           ".textContent === 'epoch 1'")
    shown = shown_steps(page)
    for key in ("samples", "val/confusion", "notes"):
        assert shown[key] == "1", (key, shown)
    assert shown["val/roc"] == "3"  # logged at step 3 only: its first step is all it has
    assert shown["val/scores"] == "1"  # a histogram shows every step, with the page's marked
    assert panel(page, "notes").locator("pre").inner_text().startswith("epoch 1: ")
    page.wait_for_function("location.hash.includes('step=1')")
    link = page.url
    # the panels' own sliders move one panel only
    panel(page, "samples").locator("input[type=range]").fill("2")
    assert shown_steps(page)["samples"] == "2" and shown_steps(page)["notes"] == "1"

    cold = browser.new_context().new_page()
    cold.goto(link)
    cold.wait_for_selector(".media-panel[data-key='samples'] figcaption")
    assert cold.locator(".media-panel[data-key='samples'] figcaption").first.inner_text() == "epoch 1"
    assert cold.locator("#media-step-value").inner_text() == "step 1"
    cells = panel(cold, "val/confusion").locator("table.media-cm tbody tr").first
    cells.wait_for()
    assert [int(text) for text in cells.locator("td").all_inner_texts()] == media_site["expected"][1]["matrix"][0]
    cold.context.close()


def test_table_is_capped_with_the_notice_and_cells_and_images_show(page, media_site):
    open_page(page, media_site, "file", media_site["page"])
    huge = panel(page, "huge")
    huge.locator(".media-notice").wait_for()
    assert "10,000 rows past the table's cap" in huge.locator(".media-notice").inner_text()
    assert "10,000 rows are kept" in huge.locator(".media-notice").inner_text()
    assert huge.locator(".media-table-status").inner_text() == "showing 500 of 10,000 matching rows"
    huge.get_by_placeholder("Search rows").fill("row 9999")
    assert huge.locator("tbody tr").count() == 1
    huge.get_by_role("button", name="i").click()
    huge.get_by_role("button", name="i").click()  # descending
    huge.get_by_placeholder("Search rows").fill("")
    assert huge.locator("tbody tr").first.locator("td").first.inner_text() == "9999"
    predictions = panel(page, "predictions")
    predictions.locator("img.media-thumb").wait_for()
    assert predictions.locator("img.media-thumb").evaluate("(image) => image.complete && image.naturalWidth") == 8


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_payloads_show_as_text_run_no_script_and_no_request_leaves_the_site(page, media_site, scheme):
    requests, dialogs = open_page(page, media_site, scheme, media_site["page"])
    draw_every_panel(page)
    page.wait_for_selector(".media-panel[data-key='figure'] .main-svg")
    panel(page, "predictions").locator("tbody td").nth(1).wait_for()
    page.wait_for_timeout(300)
    assert dialogs == [] and page.evaluate("window.__pwned === undefined")
    assert page.locator("img[src='x']").count() == 0
    assert panel(page, "samples").locator("figcaption").nth(1).inner_text() == EVIL
    assert panel(page, "predictions").locator("tbody td").nth(1).inner_text() == EVIL
    assert panel(page, "notes").locator("pre").inner_text().endswith(TEXT_PAYLOAD)
    title = panel(page, "figure").locator(".gtitle")
    assert title.text_content() == '<a href="javascript:window.__pwned=1">click</a><img src=x onerror="window.__pwned=1">'
    assert panel(page, "figure").locator("a").count() == 0
    # SVG through <img> only; audio with the browser's player, from the site
    svg = panel(page, "matplotlib").locator("img.media-svg")
    assert svg.get_attribute("src").endswith(".svg") and panel(page, "matplotlib").locator("svg").count() == 0
    svg.scroll_into_view_if_needed()  # loading="lazy": it loads once near the viewport
    page.wait_for_function("(image) => image.complete && image.naturalWidth > 0", arg=svg.element_handle(),
                           timeout=10_000)
    assert panel(page, "audio").locator("audio[controls]").get_attribute("src").endswith(".wav")
    assert panel(page, "audio").locator("figcaption").inner_text() == "a tone"
    assert panel(page, "val/scores").locator(".main-svg").count() >= 1
    assert panel(page, "importance").locator(".media-bar-name").all_inner_texts() != []
    # the lightbox opens the image large, and closes
    panel(page, "samples").locator("button.media-image-open").first.click()
    page.locator("dialog.media-lightbox img").wait_for()
    page.get_by_role("button", name="Close").click()
    assert page.locator("dialog.media-lightbox").count() == 0
    assert page.errors == []
    assert_inside_site(requests, media_site, scheme)


def test_the_same_image_logged_a_hundred_times_is_one_file_in_the_site(media_site):
    media = media_site["out"] / "media"
    pngs = sorted(path.name for path in media.rglob("*.png"))
    assert len(pngs) == len(set(pngs))
    data = next((media_site["out"] / "data" / "media").glob("*.js")).read_text(encoding="utf-8")
    constant = re.search(r'"key":"constant".*?"items":(\[\[.*?\]\])\}', data).group(1)
    files = set(re.findall(r'"file":"(media/[^"]+)"', constant))
    assert len(re.findall(r'"index":0', constant)) == 100 and len(files) == 1
    assert (media_site["out"] / files.pop()).is_file()
