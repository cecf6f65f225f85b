"""Many ranks, one run: processes started together with torchrun's, SLURM's and MPI's environment
variables (and a real torch.distributed job under torchrun) join one run, rank zero's metrics only,
each node's hardware and system metrics recorded once (docs/distributed.md)."""
from __future__ import annotations

import glob
import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from tests.scripts import run_script, script_env, write_script
from tracker.launchers import job_place
from tracker.reader import load_run

LAUNCHER_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "GROUP_WORLD_SIZE",
                      "ROLE_RANK", "TORCHELASTIC_RUN_ID", "SLURM_JOB_ID", "SLURM_STEP_ID", "SLURM_PROCID",
                      "SLURM_LOCALID", "SLURM_NTASKS", "SLURM_NODEID", "SLURM_CLUSTER_NAME",
                      "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                      "OMPI_COMM_WORLD_LOCAL_SIZE", "PMI_RANK", "PMI_SIZE", "PMIX_RANK", "PMIX_NAMESPACE",
                      "OMPI_MCA_ess_base_jobid", "OMPI_MCA_orte_ess_jobid", "MPI_LOCALRANKID",
                      "TRACKER_RUN_ID", "TRACKER_NODE")

RANK_SCRIPT = """
import os, sys, time, tracker
rank = int(os.environ["TEST_RANK"])  # what the launcher's variables say is the tracker's to read
run = tracker.init(project="dist", name="job", config={"lr": 0.1, "rank": rank}, dir=sys.argv[1],
                   all_ranks=sys.argv[2] == "all", capture={"git": False})
for step in range(5):
    tracker.log({"loss": 1.0 / (step + 1), "logged_by": rank})
run.summary["best"] = rank
run.add_tags("from-rank-%d" % rank)
run.log_artifact(__file__, "script.py")
time.sleep(2.0)  # the node's sampler takes samples (TRACKER_SYSTEM_INTERVAL_S=0.2) on a busy machine too
tracker.finish()
print(run.id)
"""


def clean_env(**extra: str) -> dict:
    """The test process's environment without any launcher's variables (CI may run under SLURM)."""
    env = {key: value for key, value in script_env(TRACKER_SYSTEM_INTERVAL_S="0.2").items()
           if key not in LAUNCHER_VARIABLES}
    env.update(extra)
    return env


def start_ranks(tmp_path, envs: list[dict], mode: str = "rank0") -> list[str]:
    """Start one process per environment, all at once; their printed run ids."""
    script = write_script(tmp_path, RANK_SCRIPT, "rank_script.py")
    processes = [subprocess.Popen([sys.executable, script, str(tmp_path / "runs"), mode], env=env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for env in envs]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err
        assert "Warning" not in err, err
    return [out.strip() for out, _ in outputs]


def events_of(run_path: str) -> list[tuple[str, dict]]:
    records = []
    for file in sorted(glob.glob(os.path.join(run_path, "events*.jsonl"))):
        with open(file, encoding="utf-8") as handle:
            records += [(os.path.basename(file), json.loads(line)) for line in handle]
    return records


def torchrun_env(rank: int, world: int = 16, per_node: int = 8) -> dict:
    return clean_env(TEST_RANK=str(rank), RANK=str(rank), LOCAL_RANK=str(rank % per_node), WORLD_SIZE=str(world),
                     LOCAL_WORLD_SIZE=str(per_node), GROUP_RANK=str(rank // per_node), ROLE_RANK=str(rank),
                     GROUP_WORLD_SIZE=str(world // per_node), TORCHELASTIC_RUN_ID="job-42",
                     TRACKER_NODE=f"node{rank // per_node}")


@pytest.fixture(scope="module")
def sixteen_ranks(tmp_path_factory):
    """A 16-rank torchrun-style job on two simulated nodes (TRACKER_NODE), started together."""
    tmp_path = tmp_path_factory.mktemp("torchrun")
    ids = start_ranks(tmp_path, [torchrun_env(rank) for rank in range(16)])
    return tmp_path, ids


def test_sixteen_torchrun_ranks_make_one_run_with_rank_zeros_metrics(sixteen_ranks):
    tmp_path, ids = sixteen_ranks
    assert set(ids) == {"torchrun-job-42"}
    assert os.listdir(tmp_path / "runs") == ["torchrun-job-42"]
    run = load_run(str(tmp_path / "runs" / "torchrun-job-42"))
    assert run.warnings == []
    assert run.status == "finished" and run.name == "job" and run.project == "dist"
    assert len(run.writers) == 16
    assert sorted(writer.rank for writer in run.writers) == list(range(16))
    assert {writer.node for writer in run.writers if writer.rank < 8} == {"node0"}
    assert {writer.node for writer in run.writers if writer.rank >= 8} == {"node1"}
    assert run.histories["loss"].steps == [0, 1, 2, 3, 4]  # five points, not eighty
    assert set(run.histories["logged_by"].values) == {0}
    assert run.config == {"lr": 0.1, "rank": 0} and run.summary["best"] == 0
    assert run.tags == ["from-rank-0"]
    records = events_of(str(tmp_path / "runs" / "torchrun-job-42"))
    starts = [record for _, record in records if record["type"] == "start"]
    assert sorted((start["rank"], start["local_rank"], start["world_size"]) for start in starts) == \
        [(rank, rank % 8, 16) for rank in range(16)]
    # every rank wrote the same run record into its own file: no rank waited on another
    assert len({file for file, record in records if record["type"] == "run"}) == 16
    assert {(record["id"], record["name"]) for _, record in records if record["type"] == "run"} == \
        {("torchrun-job-42", "job")}
    assert sum(record["type"] == "config" for _, record in records) == 1
    assert sum(record["type"] == "code" for _, record in records) == 1  # rank zero's only
    assert sum(record["type"] == "artifact" for _, record in records) == 1
    assert os.listdir(tmp_path / "runs" / "torchrun-job-42" / "artifacts") == ["script.py"]


def test_each_node_records_its_hardware_and_system_metrics_once(sixteen_ranks):
    tmp_path, _ = sixteen_ranks
    path = str(tmp_path / "runs" / "torchrun-job-42")
    run = load_run(path)
    assert sorted(run.node_hardware) == ["node0", "node1"]
    records = events_of(path)
    for kind in ("hardware", "environment"):
        assert sorted(record.get("node", "-") if kind == "hardware" else file
                      for file, record in records if record["type"] == kind).__len__() == 2
    samplers = {file for file, record in records if record["type"] == "system"}
    assert len(samplers) == 2  # local rank 0 of each node, not every rank
    names = set(run.system)
    assert {"node0/cpu_percent", "node1/cpu_percent", "node0/memory_percent"} <= names
    assert all(name.split("/")[0] in ("node0", "node1") for name in names)


def test_the_run_page_shows_each_node(sixteen_ranks, page):
    tmp_path, _ = sixteen_ranks
    subprocess.run([sys.executable, "-m", "tracker.cli", "build", "--runs", str(tmp_path / "runs"),
                    "--out", str(tmp_path / "site")], check=True, capture_output=True, env=clean_env())
    page.goto((tmp_path / "site" / "runs" / "torchrun-job-42" / "index.html").as_uri())
    nodes = page.get_by_role("region", name="Nodes (2)")
    rows = nodes.get_by_role("row")
    assert rows.nth(1).inner_text().split("\t")[:2] == ["node0", "0-7"]
    assert rows.nth(2).inner_text().split("\t")[:2] == ["node1", "8-15"]
    groups = page.locator("details.system-charts")
    assert groups.count() == 2
    for index, node in enumerate(("node0", "node1")):
        group = groups.nth(index)
        assert group.locator("summary").inner_text().startswith(f"System metrics of node {node}")
        group.locator("summary").click()
        chart = group.locator(f'figure[data-metric="{node}/cpu_percent"]')
        chart.scroll_into_view_if_needed()
        chart.locator(".main-svg").first.wait_for()
        assert chart.locator(".scatterlayer .trace").count() >= 1
    assert page.errors == []


def test_slurm_ranks_over_four_nodes_join_the_job_and_steps_make_their_own_runs(tmp_path):
    def slurm_env(rank: int, step: str) -> dict:
        return clean_env(TEST_RANK=str(rank), SLURM_JOB_ID="4242", SLURM_STEP_ID=step, SLURM_PROCID=str(rank),
                         SLURM_LOCALID=str(rank % 2), SLURM_NTASKS="8", SLURM_NODEID=str(rank // 2),
                         TRACKER_NODE=f"gpu-{rank // 2}")

    ids = start_ranks(tmp_path, [slurm_env(rank, "0") for rank in range(8)] + [slurm_env(0, "1"), slurm_env(1, "1")])
    assert set(ids) == {"slurm-4242.0", "slurm-4242.1"}
    run = load_run(str(tmp_path / "runs" / "slurm-4242.0"))
    assert len(run.writers) == 8 and run.status == "finished"
    assert sorted(run.node_hardware) == ["gpu-0", "gpu-1", "gpu-2", "gpu-3"]
    assert {name.split("/")[0] for name in run.system} == {"gpu-0", "gpu-1", "gpu-2", "gpu-3"}
    assert set(run.histories["logged_by"].values) == {0}


def test_all_ranks_records_every_ranks_metrics(tmp_path):
    envs = [clean_env(TEST_RANK=str(rank), OMPI_COMM_WORLD_RANK=str(rank), OMPI_COMM_WORLD_LOCAL_RANK=str(rank),
                      OMPI_COMM_WORLD_SIZE="2", PMIX_NAMESPACE="prterun-host-77@1") for rank in range(2)]
    ids = start_ranks(tmp_path, envs, mode="all")
    assert len(set(ids)) == 1 and ids[0].startswith("mpi-prterun-host-77-1-")
    run = load_run(str(tmp_path / "runs" / ids[0]))
    assert sorted(run.histories["logged_by"].values) == [0] * 5 + [1] * 5


def test_tracker_run_id_outside_a_launcher_joins_one_run_where_steps_go_on(tmp_path):
    code = """
import sys, time, tracker
run = tracker.init(dir=sys.argv[1], capture={"git": False})
tracker.log({"loss": 1.0})
time.sleep(0.5)
tracker.finish()
"""
    for _ in range(2):
        result = run_script(tmp_path, code, str(tmp_path / "runs"), env=clean_env(TRACKER_RUN_ID="shared-1"))
        assert result.returncode == 0, result.stderr
    run = load_run(str(tmp_path / "runs" / "shared-1"))
    assert len(run.writers) == 2 and run.histories["loss"].steps == [0, 1]
    assert run.hardware is not None and run.node_hardware == {}  # no launcher: no nodes to tell apart
    assert run.system and not any("/" in name for name in run.system)


def test_a_job_of_several_nodes_with_no_id_warns_and_each_rank_logs_its_own_run(tmp_path):
    code = """
import sys, tracker
run = tracker.init(dir=sys.argv[1], capture=False)
tracker.log({"loss": 1.0})
tracker.finish()
"""
    for rank in range(2):
        env = clean_env(RANK=str(rank), LOCAL_RANK="0", WORLD_SIZE="2", LOCAL_WORLD_SIZE="1",
                        TORCHELASTIC_RUN_ID="none")
        result = run_script(tmp_path, code, str(tmp_path / "runs"), env=env)
        assert result.returncode == 0, result.stderr
        assert f"rank {rank} of a 2-rank job found no job id" in result.stderr
        assert "Set TRACKER_RUN_ID to the same value on every rank, or pass torchrun --rdzv-id" in result.stderr
    runs = [load_run(str(path)) for path in sorted((tmp_path / "runs").iterdir())]
    assert len(runs) == 2
    assert sorted(len(run.histories) for run in runs) == [0, 1]  # rank 1's log() is still dropped


def test_job_place_reads_each_launcher():
    torchrun = job_place({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4", "TORCHELASTIC_RUN_ID": "a b/c",
                          "SLURM_PROCID": "0", "SLURM_JOB_ID": "9", "TRACKER_NODE": "n/1"})
    assert (torchrun.rank, torchrun.local_rank, torchrun.world_size, torchrun.node) == (3, 1, 4, "n-1")
    assert torchrun.run_id.startswith("torchrun-a-b-c-") and not torchrun.logs and not torchrun.samples_node
    assert job_place({"RANK": "1", "WORLD_SIZE": "4", "TORCHELASTIC_RUN_ID": "none", "SLURM_JOB_ID": "9"}).run_id \
        == "slurm-9"
    assert job_place({"SLURM_PROCID": "2", "SLURM_NTASKS": "4", "SLURM_JOB_ID": "9", "SLURM_STEP_ID": "3",
                      "SLURM_CLUSTER_NAME": "big"}).run_id == "slurm-big-9.3"
    assert job_place({"PMI_RANK": "0", "PMI_SIZE": "2", "OMPI_MCA_ess_base_jobid": "123"}).run_id == "mpi-123"
    assert job_place({"RANK": "0", "WORLD_SIZE": "2", "SLURM_JOB_ID": "9", "TRACKER_RUN_ID": "mine"}).run_id == "mine"
    # one process of an allocation (a sweep's trials one after another) is no job: a fresh run each
    assert job_place({"SLURM_JOB_ID": "9", "SLURM_PROCID": "0", "SLURM_NTASKS": "1"}).run_id is None
    several_nodes = job_place({"RANK": "0", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2", "TORCHELASTIC_RUN_ID": "none"})
    assert several_nodes.run_id is None and several_nodes.without_shared_id


def test_torchruns_default_id_on_one_node_is_the_launching_process(tmp_path):
    """torchrun without --rdzv-id sets TORCHELASTIC_RUN_ID=none; the ranks' parent names the job."""
    code = "from tracker.launchers import job_place; print(job_place().run_id)"
    env = clean_env(RANK="0", WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", TORCHELASTIC_RUN_ID="none")
    launcher = ("import subprocess, sys; print(''.join(subprocess.run([sys.executable, '-c', %r], text=True, "
                "capture_output=True).stdout for _ in range(2)))" % code)
    first = subprocess.run([sys.executable, "-c", launcher], env=env, capture_output=True, text=True).stdout.split()
    second = subprocess.run([sys.executable, "-c", launcher], env=env, capture_output=True, text=True).stdout.split()
    assert len(first) == 2 and first[0] == first[1] and "-torchrun-" in first[0]
    assert second[0] == second[1] != first[0]


GLOO_SCRIPT = """
import os, sys, torch, torch.distributed as dist, tracker
dist.init_process_group("gloo")
run = tracker.init(project="dist", name="gloo", dir=sys.argv[1], capture={"git": False, "system": False})
for step in range(3):
    value = torch.tensor([float(dist.get_rank() + step)])
    dist.all_reduce(value)
    tracker.log({"sum_of_ranks": value.item()})
tracker.finish()
dist.destroy_process_group()
"""


def test_a_torch_distributed_gloo_job_under_torchrun_logs_one_run(tmp_path):
    from tests.frameworks import require_framework

    require_framework("torch", extra="lightning")
    script = write_script(tmp_path, GLOO_SCRIPT, "gloo_job.py")
    with socket.socket() as probe:  # a free port for the rendezvous (torchrun's static one needs a number)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    launcher = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=4",
                                 "--master-addr=127.0.0.1", f"--master-port={port}", script, str(tmp_path / "runs")],
                                env=clean_env(OMP_NUM_THREADS="1"), cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = launcher.communicate(timeout=180)
    finally:
        if launcher.poll() is None:  # the whole job: torchrun's workers too
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    result = subprocess.CompletedProcess(launcher.args, launcher.returncode, "", stderr)
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = os.listdir(tmp_path / "runs")
    assert "-torchrun-" in folder  # torchrun's default rendezvous id "none": the agent names the job
    run = load_run(str(tmp_path / "runs" / folder))
    assert run.status == "finished" and len(run.writers) == 4
    assert sorted(writer.rank for writer in run.writers) == [0, 1, 2, 3]
    assert run.histories["sum_of_ranks"].values == [6.0, 10.0, 14.0]


def test_a_site_build_on_a_file_system_without_locks_goes_on_and_leaves_other_builds_alone(tmp_path, monkeypatch):
    """Lustre mounted without -o flock answers flock with ENOSYS: the build warns and skips the
    clean-up of folders that another machine's build may be writing."""
    import errno

    from sitegen import output_lock

    def refused(fd, operation):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(output_lock.fcntl, "flock", refused)
    other_build = tmp_path / ".site.building-4242"
    other_build.mkdir()
    with pytest.warns(RuntimeWarning, match="has no file locks"):
        with output_lock.locked_output(str(tmp_path / "site")):
            pass
    assert other_build.is_dir()
    assert not (tmp_path / ".site.lock").exists()
