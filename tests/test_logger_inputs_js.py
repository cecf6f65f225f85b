"""Config keys named like JavaScript internals stay visible where the site flattens configs (run-fields.js)."""
import json
from pathlib import Path

FIELDS_JS = Path(__file__).resolve().parent.parent / "themes" / "default" / "static" / "js" / "run-fields.js"


def test_proto_and_constructor_keys_survive_flattening_in_the_browser(page, tmp_path):
    html = tmp_path / "fields.html"
    html.write_text(f'<!doctype html><meta charset="utf-8"><script src="{FIELDS_JS.as_uri()}"></script>')
    page.goto(html.as_uri())
    # JSON.parse, as the pages read data/*.js: "__proto__" is an own key of the parsed object.
    config = json.dumps({"__proto__": 1, "constructor": {"x": 2}, "lr": 0.1})
    flat = page.evaluate("""(text) => {
        const flat = window.TrackerFields.flatten(JSON.parse(text));
        return {entries: Object.entries(flat), missingIsAbsent: !("toString" in flat)};
    }""", config)
    assert flat == {"entries": [["__proto__", 1], ["constructor.x", 2], ["lr", 0.1]], "missingIsAbsent": True}
    fields = page.evaluate("(text) => window.TrackerFields.of([{config: JSON.parse(text), summary: {}}])", config)
    assert fields["params"] == ["__proto__", "constructor.x", "lr"]
    assert page.errors == []
