"""System metrics: real samples from this machine (and its GPUs when NVML can see any)."""
import os
import subprocess
import sys
import time

import psutil
import pytest

from tracker.system_metrics import SystemMetricsSampler, sample_gpus

RATE_SOURCES = {  # metric name -> the psutil counter it is the rate of
    "disk_read_bytes_per_s": ("disk_io_counters", "read_bytes"),
    "disk_write_bytes_per_s": ("disk_io_counters", "write_bytes"),
    "net_sent_bytes_per_s": ("net_io_counters", "bytes_sent"),
    "net_recv_bytes_per_s": ("net_io_counters", "bytes_recv"),
}


def readable_rates() -> list[str]:
    """The rates this machine can give: a container may have no /proc/diskstats, and then no disk rates."""
    readable = []
    for name, (function, attribute) in RATE_SOURCES.items():
        try:
            counters = getattr(psutil, function)(nowrap=False)
        except Exception:
            continue
        if getattr(counters, attribute, None) is not None:
            readable.append(name)
    return readable


def collect(seconds: float, interval_s: float = 0.1) -> list[dict]:
    records = []
    sampler = SystemMetricsSampler(records.append, interval_s=interval_s)
    sampler.start()
    time.sleep(seconds)
    sampler.stop()
    return records


def test_samples_are_system_records_with_plausible_values():
    records = collect(0.65)

    assert 3 <= len(records) <= 7  # about 6; fewer on a loaded machine
    assert [record["step"] for record in records] == list(range(len(records)))
    assert all(record["type"] == "system" for record in records)
    assert all(abs(record["time"] - time.time()) < 10 for record in records)
    cores = psutil.cpu_count()
    total_memory = psutil.virtual_memory().total
    rates = readable_rates()
    for values in (record["values"] for record in records):
        assert 0 <= values["cpu_percent"] <= 100 * cores
        assert 0 <= values["process_cpu_percent"] <= 100 * cores
        assert 0 < values["memory_percent"] <= 100
        assert 0 < values["memory_used_bytes"] < total_memory
        assert values["process_rss_bytes"] > 10 * 1024 * 1024
        # Every rate the machine can give is in every sample, and none that it cannot is made up.
        assert sorted(name for name in values if name in RATE_SOURCES) == sorted(rates)
        for name in rates:
            assert values[name] >= 0


def test_child_processes_count_towards_process_rss():
    code = "b = b'x' * (200 * 1024 * 1024); print('ready', flush=True); import time; time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        with_child = collect(0.35)[-1]["values"]["process_rss_bytes"]
    finally:
        child.kill()
        child.wait()
    assert with_child > psutil.Process().memory_info().rss + 150 * 1024 * 1024


def test_stop_is_prompt_with_a_long_interval():
    sampler = SystemMetricsSampler(lambda record: None, interval_s=60.0)
    sampler.start()
    started = time.monotonic()
    sampler.stop()
    assert time.monotonic() - started < 1.0


def test_a_failing_callback_does_not_kill_sampling():
    calls = []

    def put(record):
        calls.append(record)
        raise OSError("disk full")

    with pytest.warns(RuntimeWarning, match="system metrics sample failed"):
        sampler = SystemMetricsSampler(put, interval_s=0.05)
        sampler.start()
        time.sleep(0.4)
        sampler.stop()
    assert len(calls) >= 3


def test_importing_tracker_does_not_import_psutil():
    code = "import sys, tracker, tracker.system_metrics; print('psutil' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_interval_comes_from_the_environment():
    code = "from tracker.system_metrics import SystemMetricsSampler as S; print(S(print).interval_s)"
    env = dict(os.environ, TRACKER_SYSTEM_INTERVAL_S="0.25")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "0.25"


def test_gpu_values_are_plausible():
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        pytest.skip("no NVIDIA GPU/driver (pynvml could not initialise)")
    try:
        count = pynvml.nvmlDeviceGetCount()
        values = sample_gpus(pynvml)
        for index in range(count):
            total = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index)).total
            assert 0 <= values[f"gpu{index}_utilization_percent"] <= 100
            assert 0 < values[f"gpu{index}_memory_used_bytes"] <= total
            assert 0 < values[f"gpu{index}_memory_percent"] <= 100
            assert 0 < values[f"gpu{index}_temperature_c"] < 120
            if f"gpu{index}_power_w" in values:  # not every board reports power
                assert 0 < values[f"gpu{index}_power_w"] < 2000
        assert not [name for name in values if int(name[3:].split("_")[0]) >= count]
    finally:
        pynvml.nvmlShutdown()
