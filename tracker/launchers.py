"""A process's place in a job of torchrun, SLURM or MPI: its rank, local rank, world size and node,
and the run id that every rank of the job derives from the job's identity, with no communication.

Read from the environment the launchers set (docs/distributed.md). The id comes from, in order:
``$TRACKER_RUN_ID``; torchrun's ``$TORCHELASTIC_RUN_ID`` (unless it is torchrun's default "none");
SLURM's job and step; an MPI job id; and, for a job whose ranks all run on one node, the process
that launched them (torchrun's agent or mpirun: the ranks' parent), by its pid and start time. A
job of several nodes with none of these has no id: each rank then logs a run of its own.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from typing import NamedTuple

RUN_ID_VARIABLE = "TRACKER_RUN_ID"
NODE_VARIABLE = "TRACKER_NODE"  # names the node in place of the host name (containers, tests)
TORCHRUN_DEFAULT_ID = "none"  # torchrun's --rdzv-id when none is given: shared by every such job

# (launcher, rank, local rank, world size, local world size): the first launcher whose rank is set
# wins, and its own variables give the rest (torchrun under SLURM: RANK, not SLURM_PROCID, which
# numbers torchrun's agents).
_RANK_VARIABLES = (
    ("torchrun", "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE"),
    ("slurm", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS", None),
    ("mpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_SIZE",
     "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("mpi", "PMI_RANK", "MPI_LOCALRANKID", "PMI_SIZE", "MPI_LOCALNRANKS"),
    ("mpi", "PMIX_RANK", None, None, None),
)
_MPI_JOB_VARIABLES = ("PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid", "OMPI_MCA_orte_ess_jobid")
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_JOB_ID_CHARS = 100


class JobPlace(NamedTuple):
    """Where this process runs. ``rank``, ``local_rank`` and ``world_size`` are None outside a
    launched job; ``run_id`` is None when the job has no identity (or there is no job). A
    NamedTuple, not a dataclass: dataclasses imports inspect, 10 ms of every tracker.init()."""

    rank: int | None
    local_rank: int | None
    world_size: int | None
    node: str
    run_id: str | None
    launcher: str | None

    @property
    def in_job(self) -> bool:
        """Whether ranks of one job share a run: the job has an id and several ranks, or
        $TRACKER_RUN_ID names the run."""
        return self.run_id is not None

    @property
    def logs(self) -> bool:
        """Whether this rank's log() is recorded by default: rank zero's, or a process's of no job."""
        return not self.rank

    @property
    def samples_node(self) -> bool:
        """Whether this rank records its node's hardware and system metrics: one rank per node."""
        return not self.local_rank

    @property
    def without_shared_id(self) -> bool:
        """A job of several ranks that found no id to share (a warning tells how to give one)."""
        return self.run_id is None and (self.world_size or 1) > 1


def job_place(environ=os.environ) -> JobPlace:
    """This process's place, read from ``environ``."""
    launcher, rank, local_rank, world_size, local_world_size = _ranks(environ)
    node = _node(environ)
    run_id = environ.get(RUN_ID_VARIABLE) or None
    if run_id is None and (world_size or 1) > 1:
        run_id = _job_run_id(environ, launcher, world_size, local_world_size)
    return JobPlace(rank=rank, local_rank=local_rank, world_size=world_size, node=node,
                    run_id=run_id, launcher=launcher)


def _ranks(environ) -> tuple:
    for launcher, rank_name, local_name, size_name, local_size_name in _RANK_VARIABLES:
        rank = _int(environ, rank_name)
        if rank is not None:
            return (launcher, rank, _int(environ, local_name), _int(environ, size_name),
                    _int(environ, local_size_name))
    return None, None, None, None, None


def _int(environ, name: str | None) -> int | None:
    value = environ.get(name) if name else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def host_name() -> str:
    """This machine's name, as socket.gethostname() gives it: os.uname()'s node name where there is
    one (the same name, without importing socket: 5 ms of every tracker.init())."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def _node(environ) -> str:
    node = environ.get(NODE_VARIABLE) or host_name() or "localhost"
    return node.replace("/", "-")  # a node names system metrics "<node>/<name>"


def _job_run_id(environ, launcher: str | None, world_size: int, local_world_size: int | None) -> str | None:
    """The id the job's identity gives, the same on every rank; None when it has none."""
    elastic = environ.get("TORCHELASTIC_RUN_ID")
    if elastic and elastic != TORCHRUN_DEFAULT_ID:
        return _safe_id("torchrun", elastic)
    slurm_job = environ.get("SLURM_JOB_ID")
    if slurm_job:
        cluster = environ.get("SLURM_CLUSTER_NAME")
        step = environ.get("SLURM_STEP_ID")
        job = f"{cluster}-{slurm_job}" if cluster else slurm_job
        return _safe_id("slurm", f"{job}.{step}" if step else job)
    for name in _MPI_JOB_VARIABLES:
        if environ.get(name):
            return _safe_id("mpi", environ[name])
    one_node = local_world_size == world_size or _int(environ, "GROUP_WORLD_SIZE") == 1
    if one_node:
        return _launching_process_id(launcher or "job")
    return None


def _safe_id(launcher: str, job: str) -> str:
    """``<launcher>-<job>`` as a safe folder and page name; a job id that had to change for that
    keeps a hash of itself, so two ids never meet in one."""
    safe = _UNSAFE_ID_CHARS.sub("-", job).strip("-.")[:MAX_JOB_ID_CHARS]
    if safe != job:
        safe = f"{safe}-{hashlib.sha256(job.encode('utf-8', 'replace')).hexdigest()[:8]}"
    return f"{launcher}-{safe}"


def _launching_process_id(launcher: str) -> str | None:
    """On one node the launcher is every rank's parent: its start time and pid name the job
    (``20261129-213800-torchrun-4f2a9c1e``), time-ordered like other run ids. None off Linux."""
    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/stat", encoding="ascii", errors="replace") as handle:
            # the command name (field 2) may hold spaces and parentheses: fields count from the last ")"
            start_ticks = int(handle.read().rpartition(")")[2].split()[19])
        with open("/proc/stat", encoding="ascii", errors="replace") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime "))
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot_id = handle.read().strip()
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    started = boot + start_ticks / os.sysconf("SC_CLK_TCK")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
    digest = hashlib.sha256(f"{host_name()}:{boot_id}:{parent}:{start_ticks}".encode()).hexdigest()[:8]
    return f"{stamp}-{launcher}-{digest}"
