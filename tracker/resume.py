"""What a resumed run inherits from its folder: identity, config, tags and last step, folded from
every writer's records with the format's merge rule (run_state.py), without the reader.

A resume needs none of the histories, so only each metrics record's step is looked at: a
million-step run resumes in seconds and the memory of one chunk of its file."""
from __future__ import annotations

from dataclasses import dataclass

from .event_lines import NotRegularFile, record_chunks
from .problems import Problems
from .record_schema import check_record
from .run_keys import events_files
from .run_state import RunState

_STATE_KINDS = frozenset({"run", "config", "tags"})


@dataclass
class PreviousRun:
    project: str | None
    name: str | None
    group: str | None
    config: dict
    tags: list[str]
    last_step: int


def previous_run(path: str) -> PreviousRun | None:
    """The state a process resuming the run in ``path`` starts from; None when no record of the
    run can be read yet (another rank may be creating it this instant)."""
    try:
        files = events_files(path)
    except OSError:
        return None
    state, last_step, identified = RunState(), -1, False
    problems = Problems(warn=False)  # the reader reports a run's bad lines; a resume only skips them
    for rank, file in enumerate(files):
        file_time = 0.0  # records with no time of their own sort by the record before them
        try:
            for records, numbers in record_chunks(file, problems):
                for record, number in zip(records, numbers):
                    kind = record.get("type")
                    if kind == "metrics":
                        step = record.get("step")
                        if type(step) is int and step > last_step:
                            last_step = step
                        continue
                    if kind == "start":
                        identified = True
                    if kind not in _STATE_KINDS:
                        continue
                    record = check_record(record, f"{file}:{number}", problems)
                    if record is None:
                        continue
                    if record.get("time") is not None:
                        file_time = record["time"]
                    state.apply(kind, record, (file_time, rank, number))
        except (NotRegularFile, OSError):
            continue
    if not (state.seen_run or identified):
        return None
    identity = state.values(state.identity)
    return PreviousRun(project=identity.get("project"), name=identity.get("name"), group=identity.get("group"),
                       config=state.values(state.config),
                       tags=state.tag_list(),
                       last_step=last_step)
