"""A run page of forty media keys in real headless Chromium: only the panels near the viewport are
drawn and load their data scripts, scrolling draws the next, printing draws them all; each panel
moved on its own keeps its step in the URL, and a cold link reopens every panel at its step. The
compare view of two such runs draws its panels as they come into view too."""
from __future__ import annotations

import numpy as np
import pytest

import tracker
from test_site_browser import open_page
from test_site_support import run_cli

KEYS = 40
STEPS = 3
IMAGE_KEYS = range(0, KEYS, 4)  # every fourth key holds an image, the others a text (a data script)


def key_name(number: int) -> str:
    return f"key{number:02d}"


def logged_text(number: int, step: int) -> str:
    return f"{key_name(number)} at step {step}"


@pytest.fixture(scope="module")
def lazy_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("lazy-runs")
    ids = []
    for name in ("forty-keys", "forty-more"):
        run = tracker.init(project="media", name=name, dir=str(root), capture=False)
        for step in range(STEPS):
            for number in range(KEYS):
                if number in IMAGE_KEYS:
                    pixels = np.full((8, 8, 3), 40 * step + number, np.uint8)
                    run.log({key_name(number): tracker.Image(pixels, caption=logged_text(number, step))}, step=step)
                else:
                    run.log_text(key_name(number), logged_text(number, step), step=step)
        run.finish()
        ids.append(run.path.rstrip("/").rsplit("/", 1)[-1])
    out = tmp_path_factory.mktemp("lazy-site")
    code, stdout, _ = run_cli("build", "--runs", str(root), "--out", str(out))
    assert code == 0, stdout
    return {"out": out, "page": f"runs/{ids[0]}/index.html", "compare": f"compare.html#runs={','.join(ids)}",
            "bases": {"file": out.as_uri() + "/"}}


def panel(page, number: int):
    return page.locator(f".media-panel[data-key='{key_name(number)}']")


def drawn_keys(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.media-panel')]
        .filter((panel) => !panel.querySelector('.media-panel-body[aria-busy]')).map((panel) => panel.dataset.key)""")


def media_scripts(requests: list[str]) -> int:
    """Requests for media/<aa>/<sha256>.js: one text's data each."""
    return sum(1 for url in requests if "/media/" in url and url.endswith(".js") and "/data/media/" not in url)


def wait_until_drawn_panels_loaded_their_scripts(page, panel_class: str, body_class: str) -> None:
    """Until as many text scripts are in the page as text panels are drawn: none still loading."""
    page.wait_for_function(f"""() => [...document.scripts].filter((script) => /\\/media\\/..\\/[0-9a-f]{{64}}\\.js$/.test(script.src)).length
        === [...document.querySelectorAll('.{panel_class}')].filter((panel) => panel.querySelector('pre.media-text')
            && !panel.querySelector('.{body_class}[aria-busy]')).length""")


def shown_text(page, number: int) -> str:
    """What the panel shows, once drawn: a text's text or an image's caption."""
    found = panel(page, number)
    found.scroll_into_view_if_needed()
    shown = found.locator("pre.media-text, figcaption.media-caption").first
    shown.wait_for()
    return shown.inner_text()


def test_only_the_panels_near_the_viewport_are_drawn_and_scrolling_draws_the_next(page, lazy_site):
    page.set_viewport_size({"width": 1280, "height": 800})
    requests, _ = open_page(page, lazy_site, "file", lazy_site["page"])
    page.locator("#media").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('.media-panel-body:not([aria-busy])').length > 0")
    page.wait_for_timeout(300)  # the observer's reports for what the scroll brought near
    wait_until_drawn_panels_loaded_their_scripts(page, "media-panel", "media-panel-body")
    first = drawn_keys(page)
    assert 0 < len(first) <= KEYS // 2, first
    assert key_name(KEYS - 1) not in first
    # a data script per drawn text panel, none for the others
    texts_drawn = [key for key in first if int(key[3:]) not in IMAGE_KEYS]
    assert media_scripts(requests) == len(texts_drawn)
    assert page.locator(".media-panel .media-panel-body[aria-busy] > *").count() == 0  # undrawn bodies are empty

    assert shown_text(page, KEYS - 1) == logged_text(KEYS - 1, STEPS - 1)
    wait_until_drawn_panels_loaded_their_scripts(page, "media-panel", "media-panel-body")
    later = drawn_keys(page)
    assert key_name(KEYS - 1) in later and set(first) <= set(later)  # a drawn panel stays drawn
    assert len(later) < KEYS
    assert media_scripts(requests) == len([key for key in later if int(key[3:]) not in IMAGE_KEYS])
    assert page.errors == []


def test_printing_draws_every_panel(page, lazy_site):
    open_page(page, lazy_site, "file", lazy_site["page"])
    assert len(drawn_keys(page)) < KEYS
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.wait_for_function(f"document.querySelectorAll('.media-panel pre.media-text').length === {KEYS - len(IMAGE_KEYS)}")
    assert len(drawn_keys(page)) == KEYS
    assert page.errors == []


def test_each_moved_panel_keeps_its_step_in_the_url_and_a_cold_link_reopens_it(page, browser, lazy_site):
    open_page(page, lazy_site, "file", lazy_site["page"])
    page.locator("#media-step").fill("1")  # the page slider: step 1 for all
    panel(page, 1).scroll_into_view_if_needed()
    panel(page, 1).locator("input[type=range]").fill("0")
    panel(page, KEYS - 1).scroll_into_view_if_needed()
    panel(page, KEYS - 1).locator("input[type=range]").fill("2")
    page.wait_for_function(f"location.hash.includes('panels=1-0,{KEYS - 1}-2')")
    assert "step=1" in page.url
    link = page.url

    cold = browser.new_context().new_page()
    cold.goto(link)
    assert shown_text(cold, 1) == logged_text(1, 0)
    assert shown_text(cold, 2) == logged_text(2, 1)  # not moved: the page step
    assert shown_text(cold, KEYS - 1) == logged_text(KEYS - 1, 2)  # far down: drawn at its step when scrolled to
    assert shown_text(cold, KEYS - 4) == logged_text(KEYS - 4, 1)  # an image key at the page step
    assert cold.locator("#media-step-value").inner_text() == "step 1"
    # the page slider moves every panel again, and the panels' own steps leave the URL
    cold.locator("#media-step").fill("0")
    cold.wait_for_function("!location.hash.includes('panels=') && location.hash.includes('step=0')")
    assert shown_text(cold, KEYS - 1) == logged_text(KEYS - 1, 0)
    assert shown_text(cold, 1) == logged_text(1, 0)
    cold.context.close()


def test_a_hand_edited_panels_entry_naming_no_panel_is_skipped(page, lazy_site):
    open_page(page, lazy_site, "file", lazy_site["page"] + "#step=0&panels=3-2,999-1,x-1,5")
    assert shown_text(page, 3) == logged_text(3, 2)
    assert shown_text(page, 5) == logged_text(5, 0)
    assert page.errors == []


def test_the_compare_view_draws_its_panels_as_they_come_into_view(page, lazy_site):
    requests, _ = open_page(page, lazy_site, "file", lazy_site["compare"])
    page.wait_for_selector("#compare-media:not([hidden]) .compare-media-panel")
    page.locator("#compare-media").scroll_into_view_if_needed()
    page.wait_for_selector(".compare-media-body:not([aria-busy]) pre.media-text")
    page.wait_for_timeout(300)
    wait_until_drawn_panels_loaded_their_scripts(page, "compare-media-panel", "compare-media-body")
    drawn = page.evaluate("""() => [...document.querySelectorAll('.compare-media-panel')]
        .filter((panel) => !panel.querySelector('.compare-media-body[aria-busy]')).map((panel) => panel.dataset.key)""")
    assert 0 < len(drawn) <= KEYS // 2 and key_name(KEYS - 1) not in drawn
    # both runs logged the same texts: one script per drawn text panel
    assert media_scripts(requests) == len([key for key in drawn if int(key[3:]) not in IMAGE_KEYS])
    last = page.locator(f".compare-media-panel[data-key='{key_name(KEYS - 1)}']")
    last.scroll_into_view_if_needed()
    last.locator("pre.media-text").nth(1).wait_for()
    assert last.locator("pre.media-text").all_inner_texts() == [logged_text(KEYS - 1, STEPS - 1)] * 2
    # the step slider (at the top of the section) redraws the panels near it at the new step, and
    # the last one when it is scrolled to again
    page.locator("#compare-media-step").fill("0")
    page.wait_for_function("document.getElementById('compare-media-step-value').textContent === 'step 0'")
    first = page.locator(f".compare-media-panel[data-key='{key_name(1)}']")
    first.locator("pre.media-text").nth(1).wait_for()
    assert first.locator("pre.media-text").all_inner_texts() == [logged_text(1, 0)] * 2
    last = page.locator(f".compare-media-panel[data-key='{key_name(KEYS - 1)}']")
    assert last.locator(".compare-media-body[aria-busy]").count() == 1
    last.scroll_into_view_if_needed()
    last.locator("pre.media-text").nth(1).wait_for()
    assert last.locator("pre.media-text").all_inner_texts() == [logged_text(KEYS - 1, 0)] * 2
    assert page.errors == []
