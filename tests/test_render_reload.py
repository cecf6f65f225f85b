"""A Renderer checks its templates for edits (tracker serve's process renders again and again), unless
made with auto_reload=False, as a build's worker makes it: it then reads each template once. Only a
pool's worker process counts as a build worker."""
from __future__ import annotations

import os
import time

from sitegen.render import Renderer
from sitegen.run_pages import _in_build_worker
from sitegen.theme import resolve_theme
from tracker.parallel import map_on_cores


def test_an_edited_template_is_read_again_only_when_asked(tmp_path):
    templates = tmp_path / "mytheme" / "templates"
    templates.mkdir(parents=True)
    page = templates / "note.html"
    page.write_text("first {{ word }}")
    theme = resolve_theme(str(templates.parent))
    watching, once = Renderer(theme), Renderer(theme, auto_reload=False)
    assert watching.render("note.html", {"word": "a"}, "x") == once.render("note.html", {"word": "a"}, "x") == "first a"
    page.write_text("second {{ word }}")
    later = time.time() + 5
    os.utime(page, (later, later))  # a later modification time, whatever the clock's resolution
    assert watching.render("note.html", {"word": "b"}, "x") == "second b"
    assert once.render("note.html", {"word": "b"}, "x") == "first b"


def in_build_worker(_item) -> bool:
    return _in_build_worker()


def test_the_calling_process_is_no_build_worker_and_a_pool_worker_is():
    assert _in_build_worker() is False
    flags, workers = map_on_cores(in_build_worker, [0, 1], min_items=2, per_task=1)
    assert flags == [workers > 1] * 2  # on one core map_on_cores runs them here: no worker then
