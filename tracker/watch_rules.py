"""Watch rules: a small YAML file of conditions on a run's latest metric values (`tracker watch --rules`).

    rules:
      - metric: loss
        is: nan                 # nan, inf (either sign) or not-finite
      - metric: val/acc
        below: 0.5
        after_step: 1000        # only once the metric's last step is past 1,000
        level: error            # info, warn (default) or error
      - name: slow learner      # the notification's title (default: the condition, "val/acc < 0.5")
        metric: train/loss
        above: 2.0
        runs: "project:vision -tag:debug"   # only the runs this filter selects (the `tracker ls` language)

Each rule holds one condition (``is``, ``below`` or ``above``; ``below`` and ``above`` may be
combined as a band to leave). A rule is checked against the last value of its metric each time the
watcher reads the run, and fires once per run. A file that breaks these rules is refused with
every problem named by file, line and key, before the watcher starts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .errors import UsageError
from .query import Query, QueryError, parse
from .notify.event import LEVELS

RULE_KEYS = ("name", "metric", "is", "below", "above", "after_step", "level", "runs")
IS_WORDS = ("nan", "inf", "not-finite")


class RulesFileError(UsageError, ValueError):
    """A rules file that cannot be used; ``problems`` lists each "file:line: what is wrong"."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Rule:
    name: str
    metric: str
    level: str = "warn"
    is_: str | None = None
    below: float | None = None
    above: float | None = None
    after_step: int | None = None
    runs: Query | None = None

    @property
    def condition(self) -> str:
        """The rule in words, e.g. ``val/acc < 0.5 after step 1000``."""
        parts = []
        if self.is_:
            parts.append(f"{self.metric} is {self.is_}")
        if self.below is not None:
            parts.append(f"{self.metric} < {self.below:g}")
        if self.above is not None:
            parts.append(f"{self.metric} > {self.above:g}")
        return " or ".join(parts) + (f" after step {self.after_step}" if self.after_step is not None else "")

    def holds(self, run) -> tuple[int, float] | None:
        """(step, value) of ``run``'s last point of the metric when the rule holds for it, else None."""
        if self.runs is not None and not self.runs.matches(run.as_filterable()):
            return None
        history = run.histories.get(self.metric)
        if history is None or not history.steps:
            return None
        step, value = history.steps[-1], history.values[-1]
        if self.after_step is not None and step <= self.after_step:
            return None
        if self.is_ == "nan" and math.isnan(value) or self.is_ == "inf" and math.isinf(value) \
                or self.is_ == "not-finite" and not math.isfinite(value):
            return step, value
        if self.below is not None and value < self.below or self.above is not None and value > self.above:
            return step, value
        return None


def load_rules(path: str) -> list[Rule]:
    """The rules of the YAML file at ``path``; RulesFileError names every problem (file:line: key)."""
    try:
        import yaml  # PyYAML: only `tracker watch --rules` needs it
    except ImportError:
        raise RulesFileError([f"{path}: reading rules needs PyYAML: pip install pyyaml"]) from None
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise RulesFileError([f"{path}: cannot read ({exc.strerror or exc})"]) from None
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise RulesFileError([f"{where}: not YAML ({getattr(exc, 'problem', None) or exc})"]) from None
    items = _rule_nodes(document, path)
    problems, rules, names = [], [], set()
    for node in items:
        where = f"{path}:{node.start_mark.line + 1}"
        rule = _rule(node, where, problems)
        if rule is None:
            continue
        if rule.name in names:
            problems.append(f"{where}: two rules are named {rule.name!r}; give each a different name")
        names.add(rule.name)
        rules.append(rule)
    if problems:
        raise RulesFileError(problems)
    return rules


def _rule_nodes(document, path: str) -> list:
    import yaml

    if document is None:
        return []
    if isinstance(document, yaml.MappingNode):
        keys = {key.value: value for key, value in document.value}
        if set(keys) != {"rules"}:
            raise RulesFileError([f"{path}:{document.start_mark.line + 1}: expected one key, rules: a list of rules"])
        document = keys["rules"]
    if not isinstance(document, yaml.SequenceNode):
        raise RulesFileError([f"{path}:{document.start_mark.line + 1}: expected rules: a list of rules"])
    return document.value


def _rule(node, where: str, problems: list[str]) -> Rule | None:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        problems.append(f"{where}: a rule is a mapping (metric: ..., below: ...)")
        return None
    loader = yaml.SafeLoader("")
    fields = {}
    for key_node, value_node in node.value:
        key = key_node.value
        line = f"{where.rpartition(':')[0]}:{key_node.start_mark.line + 1}"
        if key not in RULE_KEYS:
            problems.append(f"{line}: unknown key {key!r}; a rule takes {', '.join(RULE_KEYS)}")
            continue
        fields[key] = (loader.construct_object(value_node, deep=True), line)
    count = len(problems)
    metric = _field(fields, "metric", str, "a metric name", problems, where, required=True)
    is_ = _field(fields, "is", str, f"one of {', '.join(IS_WORDS)}", problems, where)
    if is_ is not None and is_ not in IS_WORDS:
        problems.append(f"{fields['is'][1]}: is: {is_!r} is not one of {', '.join(IS_WORDS)}")
    below = _field(fields, "below", (int, float), "a number", problems, where)
    above = _field(fields, "above", (int, float), "a number", problems, where)
    after_step = _field(fields, "after_step", int, "a whole number", problems, where)
    level = _field(fields, "level", str, f"one of {', '.join(LEVELS)}", problems, where) or "warn"
    if level not in LEVELS:
        problems.append(f"{fields['level'][1]}: level: {level!r} is not one of {', '.join(LEVELS)}")
    name = _field(fields, "name", str, "text", problems, where)
    runs = _field(fields, "runs", str, "a filter, e.g. \"project:vision -tag:debug\"", problems, where)
    query = None
    if runs is not None:
        try:
            query = parse(runs)
        except QueryError as exc:
            problems.append(f"{fields['runs'][1]}: runs: {exc}")
    if metric is not None and not fields.keys() & {"is", "below", "above"}:
        problems.append(f"{where}: the rule for {metric!r} has no condition: add is:, below: or above:")
    if len(problems) > count:
        return None
    rule = Rule(name="", metric=metric, level=level, is_=is_, below=below, above=above, after_step=after_step,
                runs=query)
    return replace(rule, name=name or rule.condition)


def _field(fields: dict, key: str, types, expected: str, problems: list, where: str, required: bool = False):
    if key not in fields:
        if required:
            problems.append(f"{where}: the rule has no {key}: key")
        return None
    value, line = fields[key]
    if isinstance(value, bool) or not isinstance(value, types):
        problems.append(f"{line}: {key}: {value!r} is not {expected}")
        return None
    return value
