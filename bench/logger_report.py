"""Turns the logger benchmark's measurements into the Markdown of the "## Logger" section.

Pure: ``render_report(results) -> str`` with no timing and no I/O, so it can be tested with
made-up numbers. The targets live here, next to the table that states them.
"""
from __future__ import annotations

from common import markdown_table, ms, us, verdict

MAX_RATIO_TO_BASELINE = 1.2    # ours per call, over the plain JSON-lines write
MIN_FACTOR_VS_PEERS = 6.0      # the fastest peer's per-call cost, over ours
MAX_FLATNESS_RATIO = 1.1       # last 10% of a long run over the middle 10%
MAX_IMPORT_S = 0.100
MAX_INIT_S = 0.050
INF_NAME_WORKLOAD = "1 scalar named inference_ms"  # against "1 scalar" ({"loss": ...}): a name must not cost


def render_report(results: dict) -> str:
    """The whole section body: header, targets, then one table per measurement."""
    parts = [
        _header(results),
        *(f"**Problem:** {problem}." for problem in results.get("problems", [])),
        "### Targets\n\n" + _targets_table(results),
        "### Per call, against the baseline\n\n" + _per_call_table(results["per_call"]),
        "### Flatness over a long run\n\n" + _flatness_table(results["flatness"]),
        "### Start-up\n\n" + _startup_table(results["startup"]),
    ]
    if "sampler" in results:
        parts.insert(-1, "### System-metrics sampler\n\n" + _sampler_table(results["sampler"]))
    if "peers" in results:
        parts.append("### Peers\n\n" + _peers_note(results) + "\n\n" + _peers_table(results))
    return "\n\n".join(parts) + "\n"


def _header(results: dict) -> str:
    settings = results["settings"]
    return (
        f"Measured on {results['date']} at commit {results['revision']} with `{results['command']}` on "
        f"{results['machine']}.\n\n"
        f"In-process numbers are medians of {settings['repeats']} repeats with ours and the baseline "
        "interleaved, and the ratio is the median of the paired ratios, so a noisy neighbour moves "
        "both sides; fresh-process numbers are medians too, peers excepted. Per-call costs "
        "include `finish()` (total time / calls). The baseline is a plain buffered JSON-lines "
        'write of the same values: `f.write(json.dumps({"step": i, "time": time.time(), '
        '"values": values}) + "\\n")`, open and close included. Our runs use `capture=False` '
        "so capture's background thread does not share the cores with the loop; its cost shows "
        "in `init()` and `finish()` under Start-up."
    )


def _targets_table(results: dict) -> str:
    rows = []
    for workload, row in results["per_call"].items():
        rows.append([f"`run.log()` per call, {workload}",
                     f"{row['ratio']:.2f}x baseline ({us(row['ours_s'])} vs {us(row['baseline_s'])} µs)",
                     f"≤ {MAX_RATIO_TO_BASELINE}x", verdict(row["ratio"] <= MAX_RATIO_TO_BASELINE)])
    fastest = _fastest_peers(results)
    for workload, (peer, factor) in fastest.items():
        rows.append([f"cheaper than the fastest peer, {workload}", f"{_times(factor)} ({peer})",
                     f"≥ {MIN_FACTOR_VS_PEERS:.0f}x", verdict(factor >= MIN_FACTOR_VS_PEERS)])
    if "peers" in results and not fastest:
        rows.append(["cheaper than the fastest peer", "no peer ran", f"≥ {MIN_FACTOR_VS_PEERS:.0f}x", "—"])
    flatness = results["flatness"]["ratio"]
    rows.append(["last 10% / middle 10% of a long run", f"{flatness:.2f}",
                 f"≤ {MAX_FLATNESS_RATIO}", verdict(flatness <= MAX_FLATNESS_RATIO)])
    startup = results["startup"]
    import_s = startup["imports_s"]["tracker"]
    rows.append(["`import tracker`", f"{ms(import_s)} ms", f"< {MAX_IMPORT_S * 1e3:.0f} ms",
                 verdict(import_s < MAX_IMPORT_S)])
    rows.append(["`tracker.init()`", f"{ms(startup['init_s'])} ms", f"< {MAX_INIT_S * 1e3:.0f} ms",
                 verdict(startup["init_s"] < MAX_INIT_S)])
    return markdown_table(["Measure", "Measured", "Target", "Met"], rows)


def _per_call_table(per_call: dict) -> str:
    rows = [[workload, f"{row['calls']:,}", us(row["baseline_s"]), us(row["ours_s"]), f"{row['ratio']:.2f}x"]
            for workload, row in per_call.items()]
    table = markdown_table(["Values", "Calls", "Baseline µs/call", "Ours µs/call", "Ours / baseline"], rows)
    named = per_call.get(INF_NAME_WORKLOAD, {})
    if "to_loss_ratio" not in named:
        return table
    return (table + f"\n\n`inference_ms` costs {named['to_loss_ratio']:.2f}x `loss` ({us(named['ours_s'])} vs "
            f"{us(named['loss_s'])} µs/call, the two loops interleaved, median of the paired ratios): "
            "the writer's line template checks the values for NaN and infinity, not the names for \"nan\" and "
            "\"inf\", so such a name keeps the fast path.")


def _flatness_table(flatness: dict) -> str:
    tenths = flatness["tenths_s"]
    row = [flatness["workload"], f"{flatness['calls']:,}", us(tenths[4]), us(tenths[-1]),
           f"{flatness['ratio']:.2f}", f"{flatness['finish_s']:.2f}"]
    table = markdown_table(["Values", "Calls", "Middle 10% µs/call", "Last 10% µs/call", "Last / middle",
                            "finish() s"], [row])
    return (table + "\n\nEvery tenth, µs/call (a cost that grows with the run would show as a steady "
            "climb; jumps either way are the shared machine). The first tenth is cheaper because the "
            "writer thread's share of the work, JSON encoding on the same interpreter, has not caught up "
            "yet; once more than 20,000 records wait, each `log()` hands the interpreter to the writer, "
            "which takes them 5,000 at a time, so a loop that does nothing but log settles at the cost of "
            "logging plus writing, and memory stays bounded: "
            + ", ".join(us(seconds) for seconds in tenths) + ".")


def _sampler_table(sampler: dict) -> str:
    row = [sampler["workload"], f"{sampler['calls']:,}", f"{sampler['interval_s']:g} s", us(sampler["without_s"]),
           us(sampler["with_s"]), f"{sampler['ratio']:.2f}x"]
    table = markdown_table(["Values", "Calls", "Sample every", "Sampler off µs/call", "Sampler on µs/call",
                            "On / off"], [row])
    return (table + "\n\nThe sampler (CPU, memory, disk and network rates, GPUs through NVML) runs in its own "
            "thread; one sample costs about 0.35 ms of CPU. Sampling 50x more often than the default 5 s "
            "makes any cost to the training loop visible; a ratio near 1.00 means none is measurable.")


def _startup_table(startup: dict) -> str:
    repeats = startup["repeats"]
    rows = [["`python -c pass` (whole process, for reference)", f"{ms(startup['python_s'])} ms"]]
    for module, seconds in startup["imports_s"].items():
        cell = seconds if isinstance(seconds, str) else f"{ms(seconds)} ms"
        rows.append([f"`import {module}` (timed inside the child)", cell])
    rows.append(["`tracker.init()`, default capture (runs in the background)", f"{ms(startup['init_s'])} ms"])
    rows.append(["`finish()` right after, waiting for capture", f"{ms(startup['finish_s'])} ms"])
    return markdown_table(["What (fresh process)", f"Median of {repeats}"], rows)


def _peers_note(results: dict) -> str:
    settings = results["settings"]
    slow = sorted({row["peer"] for row in results["peers"] if row["calls"] != settings["calls"]})
    fewer = (f", except those that take milliseconds per call, which get {settings['peer_calls']:,}: "
             + "; ".join(slow)) if slow else ""
    return (
        "Each peer runs once per workload in its own process and temporary folder, offline, with as "
        f"many calls as ours ({settings['calls']:,}){fewer}. Per call includes the peer's finish/end; "
        "start is its `init`/`start_run`, not included. The ratio is to the baseline above; \"ours "
        "cheaper by\" is the peer's per-call cost over ours."
    )


def _peers_table(results: dict) -> str:
    rows = []
    for row in results["peers"]:
        result = row["result"]
        if isinstance(result, str):
            rows.append([row["peer"], row["workload"], f"{row['calls']:,}", result, "", "", ""])
            continue
        per_call = result["per_call_s"]
        baseline = results["per_call"][row["workload"]]["baseline_s"]
        ours = results["per_call"][row["workload"]]["ours_s"]
        rows.append([row["peer"], row["workload"], f"{row['calls']:,}", f"{result['start_s']:.2f}",
                     us(per_call), _times(per_call / baseline), _times(per_call / ours)])
    return markdown_table(["Peer", "Values", "Calls", "Start s", "µs/call", "Ratio to baseline",
                           "Ours cheaper by"], rows)


def _times(factor: float) -> str:
    return f"{factor:.1f}x" if factor < 10 else f"{factor:,.0f}x"


def _fastest_peers(results: dict) -> dict:
    """For each workload: (fastest peer that ran, its per-call cost over ours)."""
    fastest = {}
    for row in results.get("peers", []):
        if isinstance(row["result"], str):
            continue
        factor = row["result"]["per_call_s"] / results["per_call"][row["workload"]]["ours_s"]
        if row["workload"] not in fastest or factor < fastest[row["workload"]][1]:
            fastest[row["workload"]] = (row["peer"], factor)
    return fastest


MAX_BOUND_COST = 1.15    # a tight loop with the time bound, over the same loop without it
MAX_FULL_DISK_RATIO = 1.1  # the loop while every write fails, over the loop on a working disk


def render_durability_report(results: dict) -> str:
    """The "## Logger durability" section: what the SIGKILL loss bound costs, and a full disk."""
    lag, disk = results["lag_bound"], results["full_disk"]
    settings = results["settings"]
    rows = []
    for workload, row in lag.items():
        cost = row["on_ratio"] / row["off_ratio"]
        rows.append([f"tight loop with the time bound over without, {workload}", f"{cost:.2f}x",
                     f"≤ {MAX_BOUND_COST}x", verdict(cost <= MAX_BOUND_COST)])
    rows.append([f"loop while the disk is full over a working disk, {disk['workload']}", f"{disk['ratio']:.2f}x",
                 f"≤ {MAX_FULL_DISK_RATIO}x", verdict(disk["ratio"] <= MAX_FULL_DISK_RATIO)])
    rows.append(["bytes held for retry while the disk is full", f"{disk['held_bytes']:,}",
                 f"≤ {disk['bound_bytes']:,}", verdict(disk["held_bytes"] <= disk["bound_bytes"])])
    lag_rows = [[workload, f"{row['calls']:,}", us(row["baseline_s"]), us(row["on_s"]), us(row["off_s"]),
                 f"{row['on_ratio']:.2f}x", f"{row['off_ratio']:.2f}x", f"{row['on_lag_s']:.2f}", f"{row['off_lag_s']:.2f}"]
                for workload, row in lag.items()]
    disk_row = [disk["workload"], f"{disk['calls']:,}", us(disk["working_s"]), us(disk["full_s"]), f"{disk['ratio']:.2f}x"]
    if "loop_ratio" in disk:  # loop and finish() timed apart (older results timed the loop only)
        disk_row += [us(disk["working_loop_s"]), us(disk["full_loop_s"]), f"{disk['loop_ratio']:.2f}x",
                     f"{disk['working_finish_s']:.2f}", f"{disk['full_finish_s']:.2f}"]
    disk_row.append(f"{disk['held_bytes']:,}")
    disk_header = ["Values", "Calls", "Working disk µs/call", "Full disk µs/call", "Full / working"]
    if "loop_ratio" in disk:
        disk_header += ["Working, loop only µs/call", "Full, loop only µs/call", "Loop only, full / working",
                        "Working finish() s", "Full finish() s"]
    disk_header.append("Bytes held at end")
    parts = [
        f"Measured on {results['date']} at commit {results['revision']} with `{results['command']}` on "
        f"{results['machine']}. Medians of {settings['repeats']} repeats, ours and the baseline interleaved; "
        "ratios are medians of the paired ratios.",
        *(f"**Problem:** {problem}." for problem in results.get("problems", [])),
        "### Targets\n\n" + markdown_table(["Measure", "Measured", "Target", "Met"], rows),
        "### SIGKILL loses at most the flush interval\n\n" + markdown_table(
            ["Values", "Calls", "Baseline µs/call", "Bound on µs/call", "Bound off µs/call", "On / baseline",
             "Off / baseline", "Unwritten at loop end, on (s)", "Unwritten at loop end, off (s)"], lag_rows)
        + "\n\nA loop that does nothing but log, 1 s flush interval, `finish()` included. With the bound on, "
        "`log()` waits for the writer when the oldest record not yet written is older than the interval, so a "
        "SIGKILL loses at most about that much; \"unwritten at loop end\" is the age of the oldest unwritten "
        "record when the loop ended: what a SIGKILL at that moment would have lost. Off is the writer before "
        "the bound (it waited only past 200,000 pending records). The bound moves the writer's work into the "
        "loop rather than adding any: the total is the same.",
        "### Full disk\n\n" + markdown_table(disk_header, [disk_row])
        + "\n\nThe events file is replaced by a link to /dev/full after `init()`, so every write fails with "
        "ENOSPC. Records are encoded once and kept as bytes; a retry is one failing `write` and retries back "
        "off to every 5 s; past the bound the oldest metrics are dropped. "
        + (f"Per call is the loop plus its `finish()`, so both sides do the same work (every record encoded; on "
           f"a working disk `finish()` writes what the loop left); the loop logs for many "
           f"{disk['flush_interval_s']:g} s flush intervals. The loop alone is shown too: on a working disk the "
           "time bound makes `log()` wait for the writer, on a full disk it never waits."
           if "loop_ratio" in disk else "(`finish()` not timed)."),
    ]
    return "\n\n".join(parts) + "\n"
