"""Configuration as users pass it to ``tracker.init(config=...)``, with the real libraries: a Hydra app
run as a subprocess with command-line overrides, a click command, pydantic models, nested dataclasses;
the runs read back with load_run. Bad input keeps its clear error, and importing tracker loads none
of these libraries."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.frameworks import require_framework

omegaconf = require_framework("omegaconf", extra="configs")
hydra = require_framework("hydra", extra="configs")
click = require_framework("click", extra="configs")
pydantic = require_framework("pydantic", extra="configs")

from click.testing import CliRunner  # noqa: E402

import tracker  # noqa: E402
from tracker.errors import ArgumentTypeError, ConfigValueError  # noqa: E402
from tracker.reader import load_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def only_run(folder: Path):
    [path] = [path for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")]
    return load_run(str(path))


def logged_config(tmp_path, config) -> dict:
    run = tracker.init(dir=tmp_path, config=config, capture=False)
    run.finish()
    return only_run(tmp_path).config


HYDRA_APP = """
import hydra
import tracker

@hydra.main(config_path="conf", config_name="config", version_base=None)
def main(cfg):
    run = tracker.init(project="hydra-test", config=cfg, capture=False)
    run.log({"loss": 1.0 / cfg.model.depth}, step=0)
    run.finish()

main()
"""
HYDRA_CONFIG = """
lr: 0.01
name: ${model.kind}-d${model.depth}
model:
  kind: mlp
  depth: 2
  widths: [16, "${model.depth}"]
"""


def test_a_hydra_app_records_its_resolved_config_and_its_command_line_overrides(tmp_path):
    app = tmp_path / "app"
    (app / "conf").mkdir(parents=True)
    (app / "train.py").write_text(HYDRA_APP)
    (app / "conf" / "config.yaml").write_text(HYDRA_CONFIG)
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, "train.py", "lr=0.5", "model.depth=3", "+seed=7",
                           f"hydra.run.dir={tmp_path / 'outputs'}"],
                          cwd=app, capture_output=True, text=True, timeout=120,
                          env={**_env(), "TRACKER_DIR": str(runs)})
    assert done.returncode == 0, done.stderr
    run = only_run(runs)
    assert run.config == {"lr": 0.5, "name": "mlp-d3", "seed": 7,
                          "model": {"kind": "mlp", "depth": 3, "widths": [16, 3]},
                          "hydra": {"overrides": ["lr=0.5", "model.depth=3", "+seed=7"]}}
    assert run.status == "finished" and run.history("loss").values == [pytest.approx(1 / 3)]


def test_an_omegaconf_config_outside_hydra_is_resolved_without_overrides(tmp_path):
    config = omegaconf.OmegaConf.create({"base": 4, "twice": "${oc.decode:'${base}'}", "later": "???",
                                         "layers": [{"units": "${base}"}]})
    assert logged_config(tmp_path, config) == {"base": 4, "twice": 4, "later": "???", "layers": [{"units": 4}]}


def test_an_omegaconf_node_inside_a_dict_is_resolved_against_its_root(tmp_path):
    config = omegaconf.OmegaConf.create({"width": 8, "model": {"hidden": "${width}", "act": "relu"}})
    assert logged_config(tmp_path, {"model": config.model, "extra": omegaconf.OmegaConf.create([1, 2])}) == {
        "model": {"hidden": 8, "act": "relu"}, "extra": [1, 2]}


def test_an_interpolation_that_cannot_resolve_names_its_key_and_leaves_no_run(tmp_path):
    config = omegaconf.OmegaConf.create({"model": {"width": "${missing_key}"}})
    with pytest.raises(ConfigValueError, match=r"^config cannot be stored: OmegaConf could not resolve "
                                               r"model\.width \(InterpolationKeyError: .*missing_key"):
        tracker.init(dir=tmp_path, config=config, capture=False)
    with pytest.raises(ConfigValueError, match=r"^config\.net cannot be stored: OmegaConf could not resolve "
                                               r"model\.width \("):
        tracker.init(dir=tmp_path, config={"net": config.model}, capture=False)
    assert list(tmp_path.iterdir()) == []


CLICK_APP = """
import click
import tracker

@click.group()
@click.option("--seed", type=int, default=0)
@click.pass_context
def cli(ctx, seed):
    pass

@cli.command()
@click.option("--lr", type=float, default=0.1)
@click.option("--layers", type=int, multiple=True)
@click.option("--data", type=click.Path(), default="data/train.csv")
@click.argument("name")
@click.pass_context
def train(ctx, lr, layers, data, name):
    run = tracker.init(project="click-test", config=ctx, capture=False)
    run.finish()

cli()
"""


def test_a_click_context_records_its_groups_and_its_commands_parameters(tmp_path):
    (tmp_path / "cli.py").write_text(CLICK_APP)
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, "cli.py", "--seed", "3", "train", "--lr", "0.5",
                           "--layers", "64", "--layers", "32", "first"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**_env(), "TRACKER_DIR": str(runs)})
    assert done.returncode == 0, done.stderr
    assert only_run(runs).config == {"seed": 3, "lr": 0.5, "layers": [64, 32], "data": "data/train.csv",
                                     "name": "first"}


def test_click_params_passed_as_a_dict_are_recorded_as_they_are(tmp_path):
    recorded = {}

    @click.command()
    @click.option("--epochs", type=int, default=2)
    @click.pass_context
    def command(ctx, epochs):
        recorded.update(logged_config(tmp_path, ctx.params))

    result = CliRunner().invoke(command, ["--epochs", "5"])
    assert result.exit_code == 0, result.output
    assert recorded == {"epochs": 5}


class Optimizer(pydantic.BaseModel):
    name: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)


class TrainSettings(pydantic.BaseModel):
    lr: float = 1e-3
    out: Path = Path("runs/out")
    optimizer: Optimizer = Optimizer()
    tags: set[str] = {"b"}


def test_a_pydantic_model_is_recorded_as_its_json_dump(tmp_path):
    settings = TrainSettings(lr=0.5, optimizer=Optimizer(name="sgd"))
    assert logged_config(tmp_path, settings) == {
        "lr": 0.5, "out": "runs/out", "optimizer": {"name": "sgd", "betas": [0.9, 0.999]}, "tags": ["b"]}


def test_a_pydantic_model_inside_a_dict_and_a_run_config_update(tmp_path):
    run = tracker.init(dir=tmp_path, config={"settings": TrainSettings()}, capture=False)
    run.config.update({"optimizer": Optimizer(name="lion")})
    run.finish()
    config = only_run(tmp_path).config
    assert config["settings"]["optimizer"] == {"name": "adam", "betas": [0.9, 0.999]}
    assert config["optimizer"] == {"name": "lion", "betas": [0.9, 0.999]}


@dataclasses.dataclass
class Data:
    path: Path = Path("data")
    splits: tuple = ("train", "val")


@dataclasses.dataclass
class Experiment:
    lr: float = 0.1
    data: Data = dataclasses.field(default_factory=Data)
    history: list = dataclasses.field(default_factory=lambda: [Data(Path("old"), ())])


def test_nested_dataclasses_are_recorded_field_by_field(tmp_path):
    assert logged_config(tmp_path, Experiment()) == {
        "lr": 0.1, "data": {"path": "data", "splits": ["train", "val"]},
        "history": [{"path": "old", "splits": []}]}


@pytest.mark.filterwarnings("ignore:tracker. config is a click.core.Command:UserWarning")
@pytest.mark.parametrize("config", [
    "lr=0.1", 5, ["lr", 0.1], omegaconf.OmegaConf.create([1, 2]), click.Command("train"),
])
def test_what_is_no_mapping_is_still_an_argument_type_error_naming_config(tmp_path, config):
    with pytest.raises(ArgumentTypeError, match=r"^config is \w+ \(.*\), expected a dict, a dataclass instance "
                                                r"or an argparse.Namespace$"):
        tracker.init(dir=tmp_path, config=config, capture=False)
    assert list(tmp_path.iterdir()) == []


def test_a_pydantic_model_class_is_no_config(tmp_path):
    with pytest.warns(UserWarning, match="stored as its repr"), pytest.raises(ArgumentTypeError, match="^config is"):
        tracker.init(dir=tmp_path, config=TrainSettings, capture=False)


def test_importing_tracker_and_logging_a_dict_config_loads_none_of_these_libraries(tmp_path):
    script = textwrap.dedent(f"""
        import sys, tracker
        run = tracker.init(dir={str(tmp_path)!r}, config={{"lr": 0.1, "nested": {{"a": [1]}}}}, capture=False)
        run.config.update({{"more": {{"b": 2}}}})
        run.finish()
        print(sorted(name for name in ("omegaconf", "hydra", "click", "pydantic") if name in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=_env())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().replace("'", '"')) == []


def _env() -> dict:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_the_framework_callbacks_parameters_from_these_sources_are_plain_values():
    from tracker.integrations.callback_run import plain_config

    hydra_config = omegaconf.OmegaConf.create({"lr": 0.1, "model": {"widths": [8, "${lr}"], "act": "relu"}})
    assert plain_config({"cfg": hydra_config, "layers": hydra_config.model.widths, "optim": Optimizer()}) == {
        "cfg": {"lr": 0.1, "model": {"widths": [8, 0.1], "act": "relu"}}, "layers": [8, 0.1],
        "optim": {"name": "adam", "betas": [0.9, 0.999]}}


def test_the_hydra_example_app_logs_a_run_with_its_overrides(tmp_path):
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "hydra_app" / "train.py"), f"runs={runs}",
                           "optim.lr=0.5", "epochs=5"], capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    run = only_run(runs)  # Hydra's own outputs are in the hidden runs/.hydra
    assert (run.name, run.status, run.config["optim"], run.config["epochs"]) == (
        "logreg-lr0.5", "finished", {"lr": 0.5}, 5)
    assert run.config["hydra"] == {"overrides": [f"runs={runs}", "optim.lr=0.5", "epochs=5"]}
    assert run.history("loss").steps == list(range(5))
