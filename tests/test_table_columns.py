"""The column-wise shortcuts of tracker ls's table (tracker/formatting.py) give what the one-value
functions give: config_columns what flattening each config does, format_column and
format_durations what format_value and format_duration do, value by value."""
from __future__ import annotations

import math
from collections import OrderedDict
from itertools import chain

import pytest

from tracker.formatting import (config_columns, flat_config, format_column, format_duration, format_durations,
                                format_value, run_fields)

ODD = [0.1, 1, 1.0, True, False, -0.0, 0, 0.0, 1e21, 10**21, 2**70, 123456789.0, 1e6, 999999.5, 1e-7, math.nan,
       float("nan"), math.inf, -math.inf, "text", "1", "", None, [1, 2], [True], 5e-324, 256, 256.0]


def flattened_columns(configs: list[dict]) -> dict[str, list]:
    """What config_columns stands for: each config flattened, a column per key of any of them."""
    flat = [flat_config(config) for config in configs]
    return {key: [config.get(key) for config in flat] for key in dict.fromkeys(chain.from_iterable(flat))}


def same(a: list, b: list) -> bool:
    """Equal lists, NaN equal to NaN and -0.0 told from 0.0."""
    return [repr(value) for value in a] == [repr(value) for value in b]


CONFIGS = {
    "same shape": [{"lr": value, "opt": {"name": name, "beta": {"b1": value}}, "seed": index}
                   for index, (value, name) in enumerate(zip(ODD, ["adam", "sgd"] * 20))],
    "a dotted key met twice": [{"opt.name": "flat", "opt": {"name": "nested"}, "x": 1},
                               {"opt.name": "flat2", "opt": {"name": "nested2"}, "x": 2}],
    "keys in another order": [{"a": 1, "b": 2}, {"b": 3, "a": 4}],
    "a key some lack": [{"a": 1}, {"a": 2, "b": {"c": 3}}, {}],
    "a dict in some configs only": [{"a": {"b": 1}}, {"a": 2}],
    "an empty dict, a value": [{"a": {"b": 1}}, {"a": {}}],
    "nested of other shapes": [{"a": {"b": 1, "c": 2}}, {"a": {"c": 3, "b": 4}}],
    "a dict subclass": [{"a": OrderedDict(b=1)}, {"a": OrderedDict(b=2)}],
    "none": [],
    "empty configs": [{}, {}],
    "a sweep beside a few odd configs": [
        {}, *({"lr": value, "opt": {"name": "adam", "b": index}} for index, value in enumerate(ODD[:12])),
        {"opt": {"b": 9, "name": "sgd"}, "lr": 2}, {"lr": 3, "opt": {"name": "x", "b": 1}},
        {"opt": {"name": "odd"}, "extra": {"deep": {"key": 1}}}, {"lr": 4, "opt": {"name": "y", "b": 2}},
        {"opt": OrderedDict(name="subclass"), "lr": 5}, {"lr.x": 1, "lr": 6}],
}


@pytest.mark.parametrize("configs", CONFIGS.values(), ids=CONFIGS.keys())
def test_config_columns_are_the_flattened_configs_column_by_column(configs):
    expected = flattened_columns(configs)
    columns = config_columns(configs)
    assert list(columns) == list(expected)
    for key, values in expected.items():
        assert key in columns
        assert same(columns[key], values), key
    assert "no such key" not in columns


def test_a_sweeps_configs_take_the_column_by_column_way():
    assert type(config_columns(CONFIGS["same shape"])) is dict
    beside_odd = config_columns(CONFIGS["a sweep beside a few odd configs"])  # the common shape's way
    assert isinstance(beside_odd, dict) and type(beside_odd) is not dict  # not one shape: no ColumnBasis
    many_shapes = [{f"k{index}": index} for index in range(200)]  # too many odd ones: each flattened
    assert type(config_columns(many_shapes)) is not dict
    assert list(config_columns(many_shapes)) == list(flattened_columns(many_shapes))


def test_run_fields_from_columns_or_configs_agree():
    runs = [{"config": config, "summary": {"loss": index}} for index, config in enumerate(CONFIGS["same shape"])]
    fields = run_fields(runs)
    assert fields.params == ["lr", "opt.name", "opt.beta.b1", "seed"]
    assert fields.varying == ["lr", "opt.name", "opt.beta.b1", "seed"]
    assert run_fields(runs, config_columns([run["config"] for run in runs])) == fields
    same_lr = [{"config": {"lr": 1, "x": value}, "summary": {}} for value in (1, 1.0, 2)]
    assert run_fields(same_lr).varying == ["x"]


COLUMNS = {
    "repeated odd values": ODD * 3,
    "1, 1.0 and True repeated": [1, 1.0, True, 1, 1.0, True, -0.0, 0, 0.0, -0.0],
    "NaN objects repeated": [math.nan, float("nan"), math.nan, -0.0, -0.0, 2.5, 2.5, 2.5],
    "ints": [0, -5, 123456789012345678901 - 10**20, 7, 10**20],
    "ints past 1e21": [10**21, 1, 2],
    "floats": [0.1, 2.5, 1e6, 1e-7, math.inf],
    "repeated floats": [0.5, 0.25] * 10,
    "strings repeated": ["a", "b", "a", "1", "1"],
    "one": [1.5],
    "none": [],
}


@pytest.mark.parametrize("values", COLUMNS.values(), ids=COLUMNS.keys())
def test_a_column_formats_as_its_values_one_by_one(values):
    assert format_column(values) == [format_value(value) for value in values]
    assert format_durations(values) == [format_duration(value) for value in values]


def test_repeated_durations_of_a_sweep():
    values = [50.0] * 1000 + [3661, None, "NaN", True, 0.5, -0.0]
    assert format_durations(values) == [format_duration(value) for value in values]
    assert format_durations(values)[:2] == ["50s", "50s"]


def test_a_sweep_beside_an_odd_config_keeps_a_column_basis_with_the_odd_rows_keys():
    """A key all the sweep's configs hold as None is constant (None where a config lacks it, as
    config_columns has it): the odd config that lacks it, taken as the reference row, compares as None."""
    from tracker.ls_table_cache import TABLE_MIN_ROWS, Changes, basis_holds, column_basis

    rows = [{"config": {"lr": 0.1 * index, "x": None}, "summary": {"loss": 1.0}} for index in range(TABLE_MIN_ROWS)]
    rows.insert(0, {"config": {}, "summary": {"loss": 2.0, "acc": 0.5}})
    configs = config_columns([row["config"] for row in rows])
    assert configs["x"] == [None] * len(rows)
    basis = column_basis(configs, rows)
    assert basis.config_keys == ["lr", "x"] and basis.summary_keys == ["loss", "acc"] and "x" not in basis.witnesses
    assert basis.odd == {"0": [[], ["loss", "acc"]]} and basis.keys_at(7) == [["lr", "x"], ["loss"]]
    places = Changes([], [], [7], True)
    assert basis_holds(basis, rows, places)  # row 7 as it was: the odd row 0 is the reference
    rows[7] = {"config": {"lr": 9.0, "x": 1}, "summary": {"loss": 0.5}}
    assert not basis_holds(basis, rows, places)  # x no longer None everywhere
    rows[7] = {"config": {"x": None, "lr": 9.0}, "summary": {"loss": 0.5}}
    assert not basis_holds(basis, rows, places)  # its keys in another order
