"""The scale benchmark measures what it says: the many-writer run is one run of N writers with a
series each, the one-writer run holds the same points, and the widened index keeps the row shape."""
from bench_scale import widen_index, write_writers_run

from sitegen.index_data import index_files, index_of_text
from sitegen.render import script_json

from tracker.reader import load_run


def test_the_many_writer_run_and_the_one_writer_run_hold_the_same_points(tmp_path):
    write_writers_run(tmp_path / "many", 8, 30, split=True)
    write_writers_run(tmp_path / "one", 8, 30, split=False)
    many, one = load_run(str(tmp_path / "many" / "writers-run")), load_run(str(tmp_path / "one" / "writers-run"))
    assert (many.status, len(many.writers), many.warnings) == ("finished", 8, [])
    assert (one.status, len(one.writers), one.warnings) == ("finished", 1, [])
    assert sorted(many.metric_names) == sorted(one.metric_names) == sorted(f"rank{rank}/loss" for rank in range(8))
    assert {name: history.count for name, history in many.histories.items()} == \
        {name: history.count for name, history in one.histories.items()} == {f"rank{rank}/loss": 30 for rank in range(8)}


def test_the_widened_index_has_the_rows_asked_each_its_own_run_in_the_built_rows_shape(tmp_path):
    built = [{"id": "a", "name": "a", "status": "finished", "config": {"lr": 0.1}, "slug": "a",
              "url": "runs/a/index.html", "created": 1.0},
             {"id": "b", "name": "b", "status": "crashed", "config": {"lr": 0.2}, "slug": "b",
              "url": "runs/b/index.html", "created": 2.0}]
    (tmp_path / "data").mkdir()
    texts = index_files([script_json(row) for row in built], [("runs/bad", "unreadable")])
    (tmp_path / "data" / "index.js").write_text(texts["data/index.js"])
    assert widen_index(tmp_path, 5) == 5
    text = (tmp_path / "data" / "index.js").read_text()
    assert '"columns"' in text  # written as a build writes it, by column
    index = index_of_text(text)
    rows = index["runs"]
    assert len({row["slug"] for row in rows}) == len({row["id"] for row in rows}) == 5
    assert all(sorted(row) == sorted(built[0]) for row in rows)
    assert [row["status"] for row in rows] == ["finished", "crashed", "finished", "crashed", "finished"]
    assert rows[3]["url"] == f"runs/{rows[3]['slug']}/index.html"
    assert (index["unreadable"], index["maxCompareRuns"]) == ([{"path": "runs/bad", "reason": "unreadable"}], 50)
