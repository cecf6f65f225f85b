"""run-fields.js in headless Chromium: the config keys, metrics and default columns the index and
project pages work out from the rows of data/index.js (the build no longer writes them)."""
from pathlib import Path

FIELDS_JS = Path(__file__).resolve().parent.parent / "themes" / "default" / "static" / "js" / "run-fields.js"


def fields_of(page, tmp_path, runs: list[dict]) -> dict:
    html = tmp_path / "fields.html"
    html.write_text(f'<!doctype html><meta charset="utf-8"><script src="{FIELDS_JS.as_uri()}"></script>')
    page.goto(html.as_uri())
    result = page.evaluate("(runs) => window.TrackerFields.of(runs)", runs)
    assert page.errors == []
    return result


def test_keys_and_metrics_come_in_the_order_they_first_appear(page, tmp_path):
    runs = [{"config": {"lr": 0.1, "model": {"depth": 2, "act": "relu"}, "extra": {}}, "summary": {"loss": 1}},
            {"config": {"lr": 0.2, "seed": 3, "model": {"depth": 2, "act": "relu"}, "extra": {}},
             "summary": {"acc": 0.5, "loss": 2}}]
    fields = fields_of(page, tmp_path, runs)
    assert fields["params"] == ["lr", "model.depth", "model.act", "extra", "seed"]
    assert fields["metrics"] == ["loss", "acc"]


def test_default_columns_are_the_keys_that_differ_then_the_metrics(page, tmp_path):
    runs = [{"config": {"same": 1, "lr": 0.1, "gone_later": "x", "always_null": None, "list": [1, 2]},
             "summary": {"m1": 1, "m2": 1, "m3": 1}},
            {"config": {"same": 1, "lr": 0.2, "always_null": None, "list": [1, 2], "new_later": 5},
             "summary": {"m4": 1, "m5": 1}},
            {"config": {"same": 1, "lr": 0.2, "list": [1, 3], "new_later": 5, "text_one": "1"},
             "summary": {}}]
    fields = fields_of(page, tmp_path, runs)
    # "always_null" is null or absent in every run: it does not differ, as in tracker.formatting
    assert fields["defaultColumns"] == ["config.lr", "config.gone_later", "config.list", "config.new_later",
                                        "summary.m1", "summary.m2", "summary.m3", "summary.m4"]


def test_one_run_has_no_differing_keys(page, tmp_path):
    fields = fields_of(page, tmp_path, [{"config": {"lr": 0.1}, "summary": {"loss": 1}}])
    assert fields == {"params": ["lr"], "metrics": ["loss"], "defaultColumns": ["summary.loss"]}
    assert fields_of(page, tmp_path, []) == {"params": [], "metrics": [], "defaultColumns": []}


JS = FIELDS_JS.parent


def test_of_index_on_columns_of_floats_is_of_the_rows(page, tmp_path):
    """ofIndex reads a column of floats a value at a time while few values tell whether it varies, then
    decodes it: a key the same in 200 runs but one (late), the same in all, missing in some, NaN in one."""
    from sitegen.index_data import columns_of

    runs = []
    for at in range(200):
        config = {"late": 0.5 if at != 150 else 0.25, "same": 1.5, "lr": 10.0 ** -(at % 5),
                  "nan": float("nan") if at == 120 else 2.5}
        if at % 3:
            config["sometimes"] = 0.125
        runs.append({"id": f"r{at}", "config": config, "summary": {"loss": at / 7}})
    html = tmp_path / "fields.html"
    html.write_text('<!doctype html><meta charset="utf-8">' + "".join(
        f'<script src="{(JS / name).as_uri()}"></script>' for name in ("run-fields.js", "base64.js", "index-data.js")))
    page.goto(html.as_uri())
    data = {"format": 2, "count": len(runs), "columns": columns_of(runs, 0.0)}
    assert all("f64" in column for column in data["columns"]["config"]["columns"]), "the case needs columns of floats"
    by_index, by_rows = page.evaluate("""(data) => {
      window.TrackerData = { index: data };
      const index = window.TrackerIndex.load();
      const byIndex = window.TrackerFields.ofIndex(index);
      return [byIndex, window.TrackerFields.of(index.rows())];
    }""", data)
    assert page.errors == []
    assert by_index == by_rows
    assert by_index["defaultColumns"][:3] == ["config.late", "config.lr", "config.nan"]
