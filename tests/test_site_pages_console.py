"""Terminal escapes in the console section: colours rendered, every other escape stripped, never raw."""
from __future__ import annotations

import subprocess
import sys

import pytest

from sitegen.terminal_text import StyledText, parse_terminal_text
from test_site_support import TOKEN
from tests.scripts import run_script

ESC = "\x1b"
OSC8_LINK = f"{ESC}]8;;https://127.0.0.1:9/evil{ESC}\\the docs{ESC}]8;;{ESC}\\"


@pytest.mark.parametrize("raw, text, styles", [
    (f"{ESC}[1;31mERROR{ESC}[0m done", "ERROR done", [(0, 5, "ansi-bold ansi-fg-1")]),
    (f"{ESC}[32mok{ESC}[39m plain {ESC}[44;97mbadge{ESC}[m", "ok plain badge",
     [(0, 2, "ansi-fg-2"), (9, 14, "ansi-fg-15 ansi-bg-4")]),
    (f"see {OSC8_LINK} now", "see the docs now", []),                          # OSC-8, ST-terminated
    (f"{ESC}]8;;https://x.example/\x07link{ESC}]8;;\x07", "link", []),          # OSC-8, BEL-terminated
    (f"{ESC}]0;window title\x07{ESC}[2K{ESC}[1Gepoch 3{ESC}[?25l", "epoch 3", []),  # title, erase, cursor
    (f"{ESC}[38;5;196mred256{ESC}[0m {ESC}[38;5;9mbright{ESC}[0m {ESC}[38;2;1;2;3mrgb", "red256 bright rgb",
     [(7, 13, "ansi-fg-9")]),                                                  # only the 16 named colours
    (f"{ESC}[1mbold {ESC}[31mand red{ESC}[22m red only", "bold and red red only",
     [(0, 5, "ansi-bold"), (5, 12, "ansi-bold ansi-fg-1"), (12, 21, "ansi-fg-1")]),
    ("tail cut mid-escape " + f"{ESC}[3", "tail cut mid-escape ", []),
    ("bell\x07 backspace\x08 nul\x00 tab\tnewline\r\n", "bell backspace nul tab\tnewline\r\n", []),
    ("no escapes at all\n", "no escapes at all\n", []),
])
def test_terminal_text_keeps_named_colours_and_strips_every_other_escape(raw, text, styles):
    assert parse_terminal_text(raw) == StyledText(text, styles)


def test_segments_cover_the_text_in_order():
    styled = parse_terminal_text(f"a{ESC}[31mb{ESC}[0mc")
    assert styled.segments() == [("", "a"), ("ansi-fg-1", "b"), ("", "c")]


def test_a_line_changed_by_redaction_loses_its_colours_and_the_others_keep_them():
    styled = parse_terminal_text(f"{ESC}[31mred{ESC}[0m\nkey ab{ESC}[33mcd{ESC}[0m\n{ESC}[32mgreen{ESC}[0m\n")
    assert styled.segments("red\nkey [REDACTED]\ngreen\n") == [
        ("ansi-fg-1", "red"), ("", "\n"), ("", "key [REDACTED]\n"), ("ansi-fg-2", "green"), ("", "\n")]


@pytest.fixture(scope="module")
def console_page_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("console")
    result = run_script(folder, f"""
        import sys, tracker
        run = tracker.init(project="p", name="colours", dir=sys.argv[1])
        print("\\x1b[1;31mERROR\\x1b[0m loader stalled")
        print("read {OSC8_LINK.encode('unicode_escape').decode()} for help")
        print("\\x1b[2K\\x1b[1Gepoch 3/3")
        print("key {TOKEN[:12]}\\x1b[33m{TOKEN[12:]}\\x1b[0m")  # a colour code inside a token
        run.log({{"loss": 0.5}})
        raise RuntimeError("loader stalled")  # a failed run: its console section is open
    """, str(folder / "runs"))
    assert result.returncode == 1, result.stderr
    subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", str(folder / "runs"),
                    "--out", str(folder / "site")], check=True, capture_output=True)
    [run_page] = (folder / "site" / "runs").glob("*/index.html")
    return run_page.as_uri()


def test_console_shows_colours_not_escapes_and_osc8_links_stay_text(page, console_page_url):
    page.goto(console_page_url)
    console = page.locator("pre.console")
    text = console.inner_text()
    assert "ERROR loader stalled" in text and "read the docs for help" in text and "epoch 3/3" in text
    assert "\x1b" not in text and "[1;31m" not in text and "]8;;" not in text and "[2K" not in text
    error = console.locator("span", has_text="ERROR")
    assert error.get_attribute("class") == "ansi-bold ansi-fg-1"
    colours = error.evaluate("span => [getComputedStyle(span).color, getComputedStyle(span.parentElement).color,"
                             " getComputedStyle(span).fontWeight]")
    assert colours[0] != colours[1] and colours[2] == "700"  # red and bold, unlike the text around it
    assert console.locator("a").count() == 0  # the OSC-8 hyperlink is not a live link
    assert page.get_by_text("the docs").count() == 1
    assert page.errors == []


def test_a_token_split_by_a_colour_code_is_still_redacted_on_the_page(page, console_page_url):
    page.goto(console_page_url)
    html = page.content()
    assert TOKEN not in html and TOKEN[12:] not in html
    assert "key [REDACTED]" in page.locator("pre.console").inner_text()
