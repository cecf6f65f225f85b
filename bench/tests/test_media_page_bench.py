"""The media-page benchmark's report: each page beside the floors, and after against before."""
from argparse import Namespace

from bench_media_page import render_report


def page(settled_ms, busy_ms, scripts=0):
    return {"settled_ms": settled_ms, "busy_ms": busy_ms, "scripts": scripts}


def test_report_gives_each_page_against_the_floors_and_after_against_before():
    results = {"date": "2026-11-30", "revision": "abc1234", "command": "python bench/bench_media_page.py",
               "machine": "a test machine", "load_before": "1.0", "load_after": "2.0", "before": "def5678",
               "pages": {"blank": page(50, 40), "plotly": page(1000, 900),
                         "before": page(8000, 7000, 2525), "after": page(1500, 1400, 2),
                         "before#media": page(9000, 8000, 2525), "after#media": page(1000, 700, 4)}}
    report = render_report(results, Namespace(keys=40, histogram_steps=500, repeats=3))
    rows = [line for line in report.splitlines() if line.startswith("| ")][1:]
    assert rows == [
        "| a blank page (floor) | 50 | 1.0x | 40 |  | 0 |",
        "| a blank page loading plotly.js (floor) | 1,000 | 20.0x | 900 | 1.0x | 0 |",
        "| every panel drawn at once (before), opened at the top | 8,000 | 160.0x | 7,000 | 8.0x | 2,525 |",
        "| panels drawn when near (after), opened at the top | 1,500 | 30.0x | 1,400 | 1.5x | 2 |",
        "| after / before, opened at the top | 0.19 |  | 0.20 |  |  |",
        "| every panel drawn at once (before), opened at its media section (#media) | 9,000 | 180.0x | 8,000 | 9.0x | 2,525 |",
        "| panels drawn when near (after), opened at its media section (#media) | 1,000 | 20.0x | 700 | 1.0x | 4 |",
        "| after / before, opened at its media section (#media) | 0.11 |  | 0.09 |  |  |",
    ]
    assert "the media scripts of def5678 (before)" in report and "a histogram of 500 steps" in report
