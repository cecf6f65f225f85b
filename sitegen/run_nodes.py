"""A job's nodes on its run page: each node's ranks and hardware, and its system-metric charts as one group.

In a job of torchrun, SLURM or MPI, one rank per node records that node's hardware (a ``hardware``
record with its ``node``) and samples its system metrics as ``<node>/<name>`` (docs/distributed.md).
A run of one process has no node: its system metrics form one unnamed group, as before.
"""
from __future__ import annotations

from tracker.formatting import format_bytes


def run_nodes(run) -> list[str]:
    """The nodes the run's writers named, in order of name; none for a run outside a job."""
    named = {writer.node for writer in run.writers if isinstance(writer.node, str) and writer.rank is not None}
    return sorted(named | {node for node in run.node_hardware if isinstance(node, str)})


def system_groups(run, nodes: list[str]) -> list[dict]:
    """The system-metric charts, one group per node whose sampler named them ``<node>/<name>``,
    then the rest (a run of one process: all of them) as a group with no node."""
    groups = {node: [] for node in nodes}
    rest = []
    for name in run.system:
        node, slash, _ = name.partition("/")
        (groups[node] if slash and node in groups else rest).append(name)
    listed = [{"node": node, "names": names, "hardware": hardware_line(run.node_hardware.get(node))}
              for node, names in groups.items() if names]
    return listed + ([{"node": None, "names": rest, "hardware": None}] if rest else [])


def nodes_context(run, nodes: list[str]) -> list[dict]:
    """One row per node: its ranks (as a range where they run on), and its hardware in a line."""
    rows = []
    for node in nodes:
        ranks = sorted(writer.rank for writer in run.writers
                       if writer.node == node and type(writer.rank) is int)
        rows.append({"node": node, "ranks": rank_ranges(ranks), "writers": len(ranks),
                     "hardware": hardware_line(run.node_hardware.get(node)) or "not recorded"})
    return rows


def rank_ranges(ranks: list[int]) -> str:
    """``[0, 1, 2, 3, 8]`` as ``0-3, 8``."""
    spans: list[list[int]] = []
    for rank in ranks:
        if spans and rank <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], rank)
        else:
            spans.append([rank, rank])
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in spans)


def hardware_line(record) -> str | None:
    """A node's hardware in one line: ``2 × NVIDIA H100 · 64 CPUs · 503.8 GiB``."""
    if not isinstance(record, dict):
        return None
    parts = []
    gpus = [gpu for gpu in record.get("gpus") or [] if isinstance(gpu, dict)]
    if gpus:
        names = sorted({str(gpu.get("name") or "GPU") for gpu in gpus})
        parts.append(f"{len(gpus)} × {', '.join(names)}")
    cpus = record.get("cpu_count_logical")
    if type(cpus) is int:
        parts.append(f"{cpus} CPUs")
    memory = record.get("memory_total_bytes")
    if type(memory) is int:
        parts.append(format_bytes(memory))
    return " · ".join(parts) or None
