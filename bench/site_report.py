"""The site benchmark's report: results (see bench_site.py) -> Markdown for docs/benchmarks.md."""
from __future__ import annotations

from common import markdown_table, verdict

HEADING = "## Site at scale"
MAX_COLD_1K_S = 15.0         # 1,000 runs cold on a 2-core machine
MAX_REBUILD_S = 1.0          # one changed run
MAX_PEAK_10K_BYTES = 400e6   # peak memory of a 10,000-run build, worker processes included
MAX_SITE_10K_BYTES = 1e9     # GitHub Pages' published-site limit
MAX_READY_10K_MS = 1000.0    # the 10,000-run index interactive after load


def render_report(results: dict) -> str:
    sizes = {row["runs"]: row for row in results["sizes"]}
    parts = [
        f"Measured on {results['date']} at commit {results['revision']} with `{results['command']}` on "
        f"{results['machine']}.",
        "Synthetic runs (bench/synthetic_runs.py): each a finished run of "
        f"{results['sizes'][0]['steps']:,} steps x {results['sizes'][0]['metrics']} metrics with a config, "
        "tags, git and environment records. Builds run `tracker build` in a fresh process. The floor is a "
        "process that only reads every events file and parses every line; the build's ratio to it is what "
        "the site costs on top of reading the records once. Peak memory is the largest sum of RSS over the "
        "build's whole process tree (its worker processes included), sampled every 10 ms. A rebuild follows "
        f"one record appended to one run (the median of {results.get('rebuild_repeats', 3)}, each a different "
        "run), with Python's bytecode cache on as in an installed tracker; its floor is a fresh process that "
        "stats every file of every run folder, the least a rebuild must do to see what changed, measured after "
        "each rebuild. Page times are medians in headless "
        "Chromium from file://; \"blank\" is a page that loads only the same data/index.js, the floor for the index.",
        "### Targets",
        _targets(sizes),
        "### Builds",
        _builds(results["sizes"]),
        "### Index page",
        _pages(results["sizes"]),
        "### tracker ls",
        "The first listing reads every run; later ones read only the runs whose files changed (a cache in "
        "the runs folder, docs/format.md). \"One run changed\" is the median of listings that each follow one "
        "record appended to one run.",
        _listings(results["sizes"]),
    ]
    return "\n\n".join(parts)


def _targets(sizes: dict) -> str:
    rows = []
    if 1000 in sizes:
        cold = sizes[1000]["cold_s"]
        rows.append(["1,000 runs, cold build", f"{cold:.1f} s", f"< {MAX_COLD_1K_S:.0f} s",
                     verdict(cold < MAX_COLD_1K_S)])
    for count, row in sizes.items():
        rows.append([f"{count:,} runs, one changed run rebuilt", f"{row['rebuild_s']:.2f} s",
                     f"< {MAX_REBUILD_S:.0f} s", verdict(row["rebuild_s"] < MAX_REBUILD_S)])
    if 10000 in sizes:
        row = sizes[10000]
        rows.append(["10,000 runs, peak memory of the build", _mb(row["cold_peak_bytes"]),
                     f"< {_mb(MAX_PEAK_10K_BYTES)}", verdict(row["cold_peak_bytes"] < MAX_PEAK_10K_BYTES)])
        rows.append(["10,000 runs, site size", _mb(row["site_bytes"]), f"< {_mb(MAX_SITE_10K_BYTES)}",
                     verdict(row["site_bytes"] < MAX_SITE_10K_BYTES)])
        ready = row["page"]["ready_ms"]
        rows.append(["10,000 runs, index interactive", f"{ready:.0f} ms", f"< {MAX_READY_10K_MS:.0f} ms",
                     verdict(ready < MAX_READY_10K_MS)])
    return markdown_table(["Measure", "Measured", "Target", "Met"], rows)


def _builds(sizes: list[dict]) -> str:
    rows = [[f"{row['runs']:,}", f"{row['lines']:,}", f"{row['floor_s']:.2f}", f"{row['cold_s']:.2f}",
             f"{row['cold_s'] / row['floor_s']:.1f}x", _mb(row["cold_peak_bytes"]), f"{row['scan_floor_s']:.2f}",
             f"{row['rebuild_s']:.2f}", f"{row['rebuild_s'] / row['scan_floor_s']:.1f}x",
             _mb(row["rebuild_peak_bytes"]), _mb(row["site_bytes"]), f"{row['site_files']:,}"]
            for row in sizes]
    return markdown_table(["Runs", "Record lines", "Floor s", "Cold build s", "Cold / floor", "Cold peak",
                           "Scan floor s", "Rebuild s", "Rebuild / scan floor", "Rebuild peak", "Site size",
                           "Files"], rows)


def _pages(sizes: list[dict]) -> str:
    rows = [[f"{row['runs']:,}", f"{row['page']['blank_ms']:.0f}", f"{row['page']['ready_ms']:.0f}",
             f"{row['page']['ready_ms'] / max(row['page']['blank_ms'], 1.0):.1f}x",
             f"{row['page']['search_ms']:.0f}", f"{row['page']['sort_ms']:.0f}", f"{row['page']['rows_in_dom']:,}"]
            for row in sizes]
    return markdown_table(["Runs", "Blank page ms", "Index interactive ms", "Index / blank", "Search redraw ms",
                           "Sort redraw ms", "Rows in the DOM after the search"], rows)


def _listings(sizes: list[dict]) -> str:
    rows = [[f"{row['runs']:,}", f"{row['listing']['first_s']:.2f}", f"{row['listing']['scan_floor_s']:.2f}",
             f"{row['listing']['changed_s']:.2f}",
             f"{row['listing']['changed_s'] / row['listing']['scan_floor_s']:.1f}x"]
            for row in sizes if "listing" in row]
    return markdown_table(["Runs", "First listing s", "Scan floor s", "One run changed s",
                           "One run changed / scan floor"], rows)


def _mb(size_bytes: float) -> str:
    return f"{size_bytes / 1e6:,.0f} MB"
