"""Issue 11 section 1: one bad value never costs good records; misuse is refused before anything exists.

Every example of the issue is a case here, on real runs in temporary folders, read back from the
JSON lines; the non-UTF-8 command line runs in a real child process.
"""
import argparse
import dataclasses
import json
import math
import os
import pathlib
import subprocess
import sys
import threading

import numpy as np
import pytest

import tracker
from tracker.errors import (ArgumentTypeError, ConfigValueError, MetricNameError, NumberTooLargeError, RunIdError,
                            StepError)
from tracker.reader import load_run
from tests.scripts import script_env, write_script

NON_UTF8_NAME = os.fsdecode(b"caf\xe9.csv")  # what Python makes of a file name that is not UTF-8
ESCAPED_NAME = "caf\\udce9.csv"  # how records store it: the six characters \udce9
HUGE = 10 ** 5000


def records(run, kind=None) -> list[dict]:
    lines = pathlib.Path(run.path, "events.jsonl").read_text(encoding="utf-8").splitlines()
    parsed = [json.loads(line) for line in lines]
    return [record for record in parsed if kind is None or record["type"] == kind]


def writer_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("tracker-writer")]


class BrokenRepr:
    def __repr__(self):
        raise RuntimeError("repr is broken")


def circular() -> dict:
    config = {"lr": 0.1}
    config["self"] = config
    return config


def deep(levels: int) -> dict:
    config = value = {}
    for _ in range(levels):
        value["x"] = {}
        value = value["x"]
    return config


# -- misuse at init: refused before the runs folder, a run folder or a writer thread exists ----------

@pytest.mark.parametrize("arguments, error, argument", [
    ({"config": "lr=0.1"}, ArgumentTypeError, "config"),
    ({"config": [("lr", 0.1)]}, ArgumentTypeError, "config"),
    ({"tags": 5}, ArgumentTypeError, "tags"),
    ({"tags": ["ok", None]}, ArgumentTypeError, "tags[1]"),
    ({"notes": 3}, ArgumentTypeError, "notes"),
    ({"name": 5}, ArgumentTypeError, "name"),
    ({"group": ["a"]}, ArgumentTypeError, "group"),
    ({"resume": "yes"}, ArgumentTypeError, "resume"),
    ({"capture": "git"}, ArgumentTypeError, "capture"),
    ({"config": {"seed": HUGE}}, NumberTooLargeError, "config.seed"),
    ({"config": circular()}, ConfigValueError, "config.self"),
    ({"config": deep(2000)}, ConfigValueError, "config.x.x"),
    ({"config": {"model": BrokenRepr()}}, ConfigValueError, "config.model"),
])
def test_misuse_at_init_is_refused_before_anything_is_written(tmp_path, arguments, error, argument):
    runs = tmp_path / "runs"
    before = writer_threads()
    with pytest.raises(error) as caught:
        tracker.init(dir=runs, **{"capture": False, **arguments})
    assert isinstance(caught.value, tracker.UsageError)
    assert str(caught.value).startswith(argument)
    assert not runs.exists()
    assert writer_threads() == before


@pytest.mark.parametrize("run_id", [".x", "..", "", "a/b", "tab\there", "bell\x07", "nul\0", NON_UTF8_NAME, " pad"])
def test_ids_that_cannot_name_a_visible_folder_are_refused(tmp_path, run_id):
    with pytest.raises(RunIdError, match="invalid run id") as caught:
        tracker.init(id=run_id, dir=tmp_path / "runs", capture=False)
    assert caught.value.run_id == run_id
    assert not (tmp_path / "runs").exists()


def test_an_id_holding_a_token_is_refused_without_printing_it(tmp_path):
    """An id names the run folder and every page URL of the site, so it cannot be redacted later."""
    with pytest.raises(RunIdError) as caught:
        tracker.init(id="run-AKIAABCDEFGHIJKLMNOP", dir=tmp_path / "runs", capture=False)
    assert str(caught.value).startswith("invalid run id 'run-[SECRET]': it holds a token-shaped string")
    assert "AKIA" not in str(caught.value) and not (tmp_path / "runs").exists()


def test_the_error_names_the_argument_and_keeps_the_bad_value(tmp_path):
    with pytest.raises(ArgumentTypeError) as caught:
        tracker.init(dir=tmp_path, config="lr=0.1", capture=False)
    assert str(caught.value) == ("config is str ('lr=0.1'), expected a dict, a dataclass instance or an "
                                 "argparse.Namespace")
    assert (caught.value.argument, caught.value.value) == ("config", "lr=0.1")


@dataclasses.dataclass
class TrainConfig:
    lr: float = 0.1
    layers: tuple = (64, 64)


@pytest.mark.parametrize("config", [argparse.Namespace(lr=0.1, layers=[64, 64]), TrainConfig()])
def test_namespace_and_dataclass_configs_simply_work(tmp_path, config):
    with tracker.init(dir=tmp_path, config=config, capture=False) as run:
        run.log({"loss": 1.0})
    assert load_run(run.path).config == {"lr": 0.1, "layers": [64, 64]}


# -- misuse during the run: refused, nothing written, the run goes on ------------------------------

@pytest.mark.parametrize("call, error", [
    (lambda run: run.log(None), ArgumentTypeError),
    (lambda run: run.log([("a", 1)]), ArgumentTypeError),
    (lambda run: run.log({1: 2.0}), MetricNameError),
    (lambda run: run.log({"x": HUGE}), NumberTooLargeError),
    (lambda run: run.log({"x": -HUGE}), NumberTooLargeError),  # "x" is known: the fast path checks it too
    (lambda run: run.log({"x": math.nan, "y": HUGE}), NumberTooLargeError),
    (lambda run: run.log({"x": 1.0}, step=1.5), StepError),
    (lambda run: run.log({"x": 1.0}, step=math.nan), StepError),
    (lambda run: run.log({"x": 1.0}, step=math.inf), StepError),
    (lambda run: run.log({"x": 1.0}, step=HUGE), NumberTooLargeError),
    (lambda run: run.set_notes(None), ArgumentTypeError),
    (lambda run: run.add_tags(None), ArgumentTypeError),
    (lambda run: run.summary.update({"best": HUGE}), NumberTooLargeError),
    (lambda run: run.config.update(None), ArgumentTypeError),
    (lambda run: run.log_params({"net": circular()}), ConfigValueError),
    (lambda run: run.log_dataset(None), ArgumentTypeError),
])
def test_misuse_during_a_run_writes_nothing_and_the_run_goes_on(tmp_path, call, error):
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"x": 1.0})
        with pytest.raises(error):
            call(run)
        run.log({"x": 2.0})
    assert [record["type"] for record in records(run)] == ["run", "start", "metrics", "metrics", "end"]
    record = load_run(run.path)
    assert record.status == "finished" and record.history("x").values == [1.0, 2.0]
    assert record.history("x").steps == [0, 1]


def test_whole_number_steps_of_other_types_are_accepted(tmp_path):
    with tracker.init(dir=tmp_path, capture=False) as run:
        run.log({"x": 1.0}, step=3.0)
        run.log({"x": 2.0}, step=np.int64(7))
    assert load_run(run.path).history("x").steps == [3, 7]


# -- text that is not valid Unicode is stored escaped, and every good record survives ----------------

def test_lone_surrogates_everywhere_are_stored_escaped_and_nothing_is_lost(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with tracker.init(dir=tmp_path / "runs", capture=False, name=NON_UTF8_NAME, group=NON_UTF8_NAME,
                      tags=[NON_UTF8_NAME], notes=f"read {NON_UTF8_NAME}",
                      config={"file": NON_UTF8_NAME, NON_UTF8_NAME: 1, "path": pathlib.Path(NON_UTF8_NAME)}) as run:
        for step in range(5):
            run.log({"loss": 1.0 / (step + 1), NON_UTF8_NAME: float(step)})
        run.summary[NON_UTF8_NAME] = NON_UTF8_NAME
        run.log_dataset(str(data / NON_UTF8_NAME), name=NON_UTF8_NAME)
    record = load_run(run.path)
    assert record.status == "finished"
    assert record.name == ESCAPED_NAME and record.group == ESCAPED_NAME and record.tags == [ESCAPED_NAME]
    assert record.notes == f"read {ESCAPED_NAME}"
    assert record.config == {"file": ESCAPED_NAME, ESCAPED_NAME: 1, "path": ESCAPED_NAME}
    assert record.history("loss").steps == [0, 1, 2, 3, 4]
    assert record.history(ESCAPED_NAME).values == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert record.summary[ESCAPED_NAME] == ESCAPED_NAME
    [dataset] = record.datasets
    assert dataset["name"] == ESCAPED_NAME and dataset["path"].endswith(ESCAPED_NAME)
    assert dataset["kind"] == "missing"


def test_a_traceback_naming_a_non_utf8_file_is_kept(tmp_path):
    with pytest.raises(FileNotFoundError):
        with tracker.init(dir=tmp_path, capture=False) as run:
            run.log({"x": 1.0})
            open(NON_UTF8_NAME)
    record = load_run(run.path)
    assert record.status == "failed" and ESCAPED_NAME in record.error
    assert record.history("x").values == [1.0]


CHILD = """
    import sys, tracker
    with tracker.init(project="p", dir=sys.argv[1]) as run:
        for step in range(200):
            run.log({"loss": 1.0 / (step + 1)})
"""


def test_a_non_utf8_command_line_argument_keeps_all_200_steps_and_the_end(tmp_path):
    script = write_script(tmp_path, CHILD)
    argv = [os.fsencode(sys.executable), os.fsencode(script), os.fsencode(tmp_path / "runs"), b"--data=caf\xe9.csv"]
    result = subprocess.run(argv, capture_output=True, env=script_env(), timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Warning" not in result.stderr, result.stderr.decode(errors="replace")
    [record] = tracker.runs(tmp_path / "runs")
    assert record.status == "finished"
    assert record.history("loss").steps == list(range(200))
    assert record.code["command"][-1] == "--data=caf\\udce9.csv"


# -- config keys that flatten onto one name keep every value visible --------------------------------

def test_colliding_flattened_keys_are_renamed_with_a_warning(tmp_path):
    with pytest.warns(RuntimeWarning, match=r"'a\.b' as 'a\.b~2'"):
        with tracker.init(dir=tmp_path, capture=False, config={"a.b": 1, "a": {"b": 2}}) as run:
            pass
    from tracker.formatting import flatten

    config = load_run(run.path).config
    assert config == {"a.b": 1, "a": {"b~2": 2}}
    assert flatten(config) == {"a.b": 1, "a.b~2": 2}


def test_a_later_update_that_collides_is_renamed_and_an_overwrite_is_not(tmp_path):
    with tracker.init(dir=tmp_path, capture=False, config={"opt": {"lr": 0.1}}) as run:
        run.config["opt"] = {"lr": 0.2}  # the same key again: a new value, not a collision
        with pytest.warns(RuntimeWarning, match=r"'opt\.lr' as 'opt\.lr~2'"):
            run.config["opt.lr"] = 0.3
    assert load_run(run.path).config == {"opt": {"lr": 0.2}, "opt.lr~2": 0.3}
    assert run.config == {"opt": {"lr": 0.2}, "opt.lr~2": 0.3}


def test_keys_named_like_javascript_internals_are_kept(tmp_path):
    with tracker.init(dir=tmp_path, capture=False, config={"__proto__": 1, "constructor": {"x": 2}}) as run:
        pass
    assert load_run(run.path).config == {"__proto__": 1, "constructor": {"x": 2}}


# -- tags: a set beside the list ---------------------------------------------------------------------

def test_tags_are_deduplicated_in_order_and_100000_are_added_in_linear_time(tmp_path):
    many = [f"tag-{index}" for index in range(100_000)]
    with tracker.init(dir=tmp_path, capture=False, tags=["a", "b", "a"]) as run:
        run.add_tags("b", ["c", "a"], "d")
        run.add_tags(*many)
        run.add_tags(*many[:10])
    record = load_run(run.path)
    assert record.tags[:4] == ["a", "b", "c", "d"] and record.tags[4:] == many
    assert [len(r["add"]) for r in records(run, "tags")] == [2, 2, 100_000]


def test_the_deepest_config_the_logger_takes_is_the_deepest_the_reader_keeps(tmp_path):
    from tracker.values import MAX_CONFIG_DEPTH

    deepest = deep(MAX_CONFIG_DEPTH - 2)  # under one top-level key: the record's values are a level too
    with tracker.init(dir=tmp_path, capture=False, config={"k": deepest}) as run:
        with pytest.raises(ConfigValueError, match=f"nested more than {MAX_CONFIG_DEPTH} levels deep"):
            run.config["k2"] = deep(MAX_CONFIG_DEPTH - 1)
    assert load_run(run.path).config == {"k": deepest}
