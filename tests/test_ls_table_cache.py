"""tracker ls prints its last table again with only the changed rows' lines made anew
(tracker/ls_table_cache.py): byte for byte the table it makes whole, whatever changed in between."""
from __future__ import annotations

import json
import math
import os
import random
import shutil
import time

import pytest

import tracker.cli.ls as ls_command
from tracker import ls_table_cache
from tracker.ls_table_cache import TABLE_FILE

from test_site_support import run_cli

T0 = 1_790_000_000.0
SHAPES = [[], ["--sort=-loss"], ["--sort=name"], ["--columns", "lr,loss,opt.name,nothing"], ["--filter", "lr>0.01"],
          ["--project", "p1", "--sort=-lr"], ["--columns", "extra"], ["--columns", "extra.k,m2,const"]]
VALUES = ["", 0.5, 3, 1e-7, 123456789.0, 2.5e21, -0.0, math.nan, math.inf, "adam", "a  ", "  b", "wide " * 12,
          "caf\u00e9 \u4e2d\u6587", None, True, [1, 2], {"k": 1}, 10 ** 25, 0.1 + 0.2]
LOSSES = [0.5, 3, 1e-7, 123456789.0, 2.5e21, -0.0, math.nan, math.inf, 1e300]


def write_run(root, name: str, rng: random.Random, ended: bool = True, uniform: bool = False, const: int = 5) -> None:
    """A run folder of a few records, its config, name and values drawn from ``rng``; ``uniform``:
    the config and summary keys of every such run, their values still drawn (a sweep)."""
    created = T0 + rng.randrange(0, 10_000) * 60
    config = {"lr": rng.choice([0.001, 0.01, 0.1, rng.random()]), "batch": rng.choice([16, 32]),
              "opt": {"name": rng.choice(["adam", "sgd", "a-long-optimizer-name-" * rng.randint(1, 3)])},
              "const": const}
    if uniform or rng.random() < 0.5:  # a column that is the last of some tables, where a line's trailing spaces are cut
        config["extra"] = rng.choice(VALUES if not uniform else [value for value in VALUES if type(value) is not dict]
                                     if rng.random() < 0.1 else ["", "a  "])
    records = [{"type": "run", "schema": 1, "id": name, "project": rng.choice(["p1", "p2"]),
                "name": rng.choice(["run", "x", "\u00e9t\u00e9", "a-very-long-name-past-forty-characters-of-width"])
                + f"-{rng.randrange(1000)}", "group": None, "time": created},
               {"type": "start", "writer": "w0", "time": created, "pid": 1, "host": "h", "user": "u", "resumed": False,
                "rank": None, "heartbeat_interval_s": 2.0},
               {"type": "config", "time": created, "values": config}]
    for step in range(rng.randint(1, 3)):
        values = {"loss": rng.choice(LOSSES + [rng.random()])}
        if uniform:
            values["acc"] = rng.choice([0.5, 0.25, 0.5, 1e9])
        elif rng.random() < 0.3:
            values[rng.choice(["acc", "m2"])] = rng.choice(VALUES)
        records.append({"type": "metrics", "step": step, "time": created + step, "values": values})
    if ended:
        records.append({"type": "end", "writer": "w0", "time": created + rng.randint(1, 5000), "status":
                        rng.choice(["finished", "finished", "failed"]), "error": None})
    os.makedirs(os.path.join(root, name), exist_ok=True)
    with open(os.path.join(root, name, "events.jsonl"), "w", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(record) + "\n" for record in records))


def random_runs(tmp_path, count: int, seed: int, uniform: bool = False):
    """A runs folder of ``count`` random finished runs, and the generator that drew them."""
    rng = random.Random(seed)
    root = tmp_path / "runs"
    for index in range(count):
        write_run(root, f"run-{index:04d}", rng, uniform=uniform)
    return root, rng


def whole_table_ls(monkeypatch, *argv: str) -> tuple[int, str, str]:
    """``tracker ls ARGV`` with its table made whole, as without the table cache (none read or written)."""
    with monkeypatch.context() as whole:
        whole.setattr(ls_command, "read_table", lambda *arguments: None)
        whole.setattr(ls_command, "write_table", lambda *arguments: None)
        return run_cli("ls", *argv)


def edit(root, rng: random.Random, serial: list[int], uniform: bool, odd: set) -> None:
    """One random change to the runs folder, of the kinds a listing meets between two runs of ls.
    ``odd``: the runs whose "const" is not the usual one, which make it vary, or whose config keys
    are not those of the others, rewritten more often (to see "const" stop varying, and the keys
    be the same again)."""
    names = sorted(name for name in os.listdir(root) if not name.startswith("."))
    kind = rng.choice(["append", "append", "rewrite", "rewrite", "add", "remove", "running", "none"])
    name = rng.choice(sorted(odd & set(names)) if odd & set(names) and rng.random() < 0.5 else names)
    if kind == "append":  # as a resumed writer does: the row's summary changes, maybe its width
        with open(os.path.join(root, name, "events.jsonl"), "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"type": "metrics", "step": 99, "time": T0,
                                     "values": {"loss": rng.choice(LOSSES + [rng.random()])}}) + "\n")
    elif kind in ("rewrite", "running"):
        const, regular = 6 if rng.random() < 0.2 else 5, rng.random() < 0.9
        (odd.add if const == 6 or not regular else odd.discard)(name)
        write_run(root, name, rng, ended=kind == "rewrite", uniform=uniform and regular, const=const)
    elif kind == "add":
        serial[0] += 1
        write_run(root, f"run-{serial[0]:04d}", rng, uniform=uniform)
    elif kind == "remove" and len(names) > 5:
        shutil.rmtree(os.path.join(root, name))


@pytest.mark.parametrize("uniform", [False, True], ids=["mixed", "sweep"])
@pytest.mark.parametrize("seed", range(len(SHAPES)))
def test_random_changes_print_what_the_whole_table_prints(tmp_path, monkeypatch, seed, uniform):
    monkeypatch.setattr(ls_table_cache, "TABLE_MIN_ROWS", 1)
    root, rng = random_runs(tmp_path, 40, seed, uniform)
    serial, spliced_tables, bases, odd = [40], [], [], set()

    def recorded_splice(*arguments):
        table = ls_table_cache.spliced(*arguments)
        spliced_tables.append(table)
        return table

    def recorded_basis(*arguments):
        bases.append(ls_table_cache.basis_holds(*arguments))
        return bases[-1]

    monkeypatch.setattr(ls_command, "spliced", recorded_splice)
    monkeypatch.setattr(ls_command, "basis_holds", recorded_basis)
    shape = SHAPES[seed]
    for _ in range(60):
        edit(root, rng, serial, uniform, odd)
        if rng.random() < 0.2:
            shape = rng.choice(SHAPES)
        expected = whole_table_ls(monkeypatch, "--runs", str(root), *shape)
        assert run_cli("ls", "--runs", str(root), *shape) == expected
    # most listings spliced the last table; the others could not (a width moved, another shape)
    assert sum(table is not None for table in spliced_tables) > len(spliced_tables) / 2
    if uniform:  # the columns mostly chosen from the kept table's basis, sometimes not
        assert True in bases and False in bases


def test_a_running_run_is_made_anew_every_time(tmp_path, monkeypatch):
    """A running run's row changes with the clock, its files as they were: never taken as kept."""
    monkeypatch.setattr(ls_table_cache, "TABLE_MIN_ROWS", 1)
    root, _ = random_runs(tmp_path, 10, seed=3)
    started = time.time() - 5
    (root / "live").mkdir()
    (root / "live" / "events.jsonl").write_text("".join(json.dumps(record) + "\n" for record in [
        {"type": "run", "schema": 1, "id": "live", "project": "p1", "name": "live", "group": None, "time": started},
        {"type": "start", "writer": "w0", "time": started, "pid": os.getpid(), "host": "h", "user": "u",
         "resumed": False, "rank": None, "heartbeat_interval_s": 600.0},
        {"type": "metrics", "step": 0, "time": started, "values": {"loss": 1.0}}]))
    printed = []
    for _ in range(2):
        expected = whole_table_ls(monkeypatch, "--runs", str(root))
        printed.append(run_cli("ls", "--runs", str(root)))
        assert printed[-1] == expected
        assert "running" in expected[1]
        time.sleep(1.1)
    assert printed[0] != printed[1]  # its duration, a second on


def without_token(kept: bytes) -> tuple[dict, bytes]:
    """A table file's header, but for the token drawn for each file written, and its body."""
    header, _, body = kept.partition(b"\n")
    return {name: value for name, value in json.loads(header).items() if name != "token"}, body


def test_a_cut_or_changed_file_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(ls_table_cache, "TABLE_MIN_ROWS", 1)
    root, _ = random_runs(tmp_path, 20, seed=7)
    printed = run_cli("ls", "--runs", str(root))
    whole = (root / TABLE_FILE).read_bytes()
    header, _, body = whole.partition(b"\n")
    assert json.loads(header)["rows"] == 20
    lines = body.decode().split("\n")
    # a row's line changed in the file (its CRC now wrong): the file is not believed
    forged = whole.replace(lines[-2].encode(), lines[-2].encode().replace(b"run", b"RUN"))
    assert forged != whole
    for damaged in [whole[:cut] for cut in (0, 10, len(header) + 1, len(whole) // 2, len(whole) - 1)] + [forged]:
        (root / TABLE_FILE).write_bytes(damaged)
        assert run_cli("ls", "--runs", str(root)) == printed
        assert without_token((root / TABLE_FILE).read_bytes()) == without_token(whole)  # made whole, kept again


def test_a_small_table_keeps_no_file(tmp_path):
    root = tmp_path / "runs"
    write_run(root, "run-0001", random.Random(1))
    code, out, _ = run_cli("ls", "--runs", str(root))
    assert code == 0 and "run-0001" in out
    assert not (root / TABLE_FILE).exists()


def sweep_run(root, index: int, **config) -> None:
    """Run ``index`` of a sweep, started ``index`` minutes on (its place in the table kept however
    it is rewritten): lr from its index, ``config`` added."""
    created = T0 + index * 60
    records = [{"type": "run", "schema": 1, "id": f"run-{index:04d}", "project": "p1", "name": f"sweep-{index}",
                "group": None, "time": created},
               {"type": "start", "writer": "w0", "time": created, "pid": 1, "host": "h", "user": "u", "resumed": False,
                "rank": None, "heartbeat_interval_s": 2.0},
               {"type": "config", "time": created, "values": {"lr": index / 100, "const": 5, **config}},
               {"type": "metrics", "step": 0, "time": created, "values": {"loss": 1 / (index + 1)}},
               {"type": "end", "writer": "w0", "time": created + 30, "status": "finished", "error": None}]
    folder = os.path.join(root, f"run-{index:04d}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "events.jsonl"), "w", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(record) + "\n" for record in records))


@pytest.mark.parametrize("index, change, shape", [
    (7, {"const": 5}, []),  # the one run that made "const" vary no longer does: its column goes
    (12, {"late": 1}, ["--columns", "late,loss"]),  # a config key no other run has: a param
    (12, {"const": 7}, ["--columns", "const,loss"]),  # a value of a column that varied: a wider cell
], ids=["a-column-stops-varying", "a-new-config-key", "a-wider-cell"])
def test_a_changed_row_that_changes_the_columns_makes_the_table_whole(tmp_path, monkeypatch, index, change, shape):
    monkeypatch.setattr(ls_table_cache, "TABLE_MIN_ROWS", 1)
    root = tmp_path / "runs"
    for place in range(20):
        sweep_run(root, place, const=6 if place == 7 else 5)
    first = run_cli("ls", "--runs", str(root), *shape)
    assert ls_table_cache.read_table(str(root), ls_command.table_shape(
        ls_command.__file__, runs=[str(root)], project=None, filter="", sort=None,
        columns=shape[1] if shape else None)).basis is not None
    sweep_run(root, index, **change)
    expected = whole_table_ls(monkeypatch, "--runs", str(root), *shape)
    assert expected != first
    assert run_cli("ls", "--runs", str(root), *shape) == expected


def test_a_listing_after_a_few_changes_appends_a_patch_read_back_whole_or_not_at_all(tmp_path, monkeypatch):
    monkeypatch.setattr(ls_table_cache, "TABLE_MIN_ROWS", 1)
    root = tmp_path / "runs"
    for place in range(20):
        sweep_run(root, place)
    run_cli("ls", "--runs", str(root))
    whole = (root / TABLE_FILE).read_bytes()
    with open(root / "run-0012" / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"type": "metrics", "step": 1, "time": T0, "values": {"loss": 0.5}}) + "\n")
    printed = run_cli("ls", "--runs", str(root))
    patched = (root / TABLE_FILE).read_bytes()
    assert patched.startswith(whole) and patched.count(b"\n") == whole.count(b"\n") + 1  # one line appended
    assert "0.5" in printed[1]
    assert whole_table_ls(monkeypatch, "--runs", str(root)) == printed
    for cut in [*range(len(whole), len(patched), 7), len(patched) - 1, len(patched)]:
        (root / TABLE_FILE).write_bytes(patched[:cut])  # a listing killed while appending
        assert run_cli("ls", "--runs", str(root)) == printed
