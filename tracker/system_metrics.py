"""System metrics: a daemon thread that samples CPU, memory, disk, network and GPUs.

Every ``interval_s`` it hands one ``system`` record to a ``put`` callback (``RecordWriter.put``).
Rates are computed from the counters' change since the previous sample. GPUs come from NVML
(``nvidia-ml-py``, imported lazily); without it or without a driver they are skipped silently.

Cost: one sample takes about 0.35 ms of CPU (and so of GIL) time on a 2-core Linux VM with
psutil 7 and no GPU (NVML calls run in C with the GIL released); the training thread waits for
none of it. Finding the child processes
(``process_rss_bytes`` counts them) scans all of /proc, about 2 ms, so it is done only every
CHILDREN_REFRESH_S; in between the known children are re-read.
"""
from __future__ import annotations

import os
import threading
import time
import warnings

SYSTEM_METRICS_INTERVAL_S = float(os.environ.get("TRACKER_SYSTEM_INTERVAL_S", "5.0"))
CHILDREN_REFRESH_S = 30.0
STOP_TIMEOUT_S = 2.0

_RATE_COUNTERS = {  # value name -> (psutil function, counter attribute)
    "disk_read_bytes_per_s": ("disk_io_counters", "read_bytes"),
    "disk_write_bytes_per_s": ("disk_io_counters", "write_bytes"),
    "net_sent_bytes_per_s": ("net_io_counters", "bytes_sent"),
    "net_recv_bytes_per_s": ("net_io_counters", "bytes_recv"),
}


class SystemMetricsSampler:
    """Samples system metrics every ``interval_s`` and passes each record to ``put``.

    ``start()`` and ``stop()`` are the whole interface; nothing here raises into the caller.
    """

    def __init__(self, put, interval_s: float = SYSTEM_METRICS_INTERVAL_S, name_prefix: str = ""):
        self._put = put
        self.interval_s = interval_s
        self.name_prefix = name_prefix  # "<node>/" in a job of several nodes' ranks: one series per node
        self._stop = threading.Event()
        self._warned: set[type] = set()
        self._thread = threading.Thread(target=self._run, name="tracker-system-metrics", daemon=True)

    def start(self) -> None:
        """Start sampling in the background."""
        if self._thread.ident is None and not self._stop.is_set():
            self._thread.start()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop sampling (no final sample); waits at most ``timeout_s`` for the thread."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            import psutil

            state = _SamplerState(psutil)
        except Exception as exc:  # psutil missing, or unsupported on this platform
            warnings.warn(f"tracker: system metrics are off: {exc}", RuntimeWarning, stacklevel=1)
            return
        nvml = _init_nvml()
        step = 0
        while not self._stop.wait(self.interval_s):
            try:
                values = state.sample()
                if nvml is not None:
                    values.update(_gpu_values(nvml))
                if self.name_prefix:
                    values = {self.name_prefix + name: value for name, value in values.items()}
                self._put({"type": "system", "time": time.time(), "step": step, "values": values})
                step += 1
            except Exception as exc:  # a metric is not worth a dead thread or a noisy loop
                if type(exc) not in self._warned:
                    self._warned.add(type(exc))
                    warnings.warn(f"tracker: a system metrics sample failed ({exc!r}); sampling continues",
                                  RuntimeWarning, stacklevel=1)
        if nvml is not None:
            try:
                nvml.nvmlShutdown()
            except Exception:
                pass


class _SamplerState:
    """The psutil side of sampling, with what rates need from the previous sample."""

    def __init__(self, psutil):
        self.psutil = psutil
        self.process = psutil.Process()
        self.children: list = []
        self.children_found_at = float("-inf")
        self.counters = self._read_counters()
        self.counters_at = time.monotonic()
        psutil.cpu_percent(None)  # the first call only sets the baseline the next one measures from
        self.process.cpu_percent(None)

    def sample(self) -> dict:
        psutil = self.psutil
        memory = psutil.virtual_memory()
        values = {
            "cpu_percent": psutil.cpu_percent(None),
            "process_cpu_percent": self.process.cpu_percent(None),
            "memory_percent": memory.percent,
            "memory_used_bytes": memory.used,
        }
        rss = self._process_rss()
        if rss is not None:
            values["process_rss_bytes"] = rss
        counters, now = self._read_counters(), time.monotonic()
        elapsed = now - self.counters_at
        for name, value in counters.items():
            before = self.counters.get(name)
            # A counter going backwards was reset or wrapped: skip it this time rather than lie.
            if before is not None and value >= before and elapsed > 0:
                values[name] = (value - before) / elapsed
        self.counters, self.counters_at = counters, now
        return values

    def _process_rss(self) -> int | None:
        try:
            total = self.process.memory_info().rss
        except Exception:
            return None
        if time.monotonic() - self.children_found_at >= CHILDREN_REFRESH_S:
            self.children_found_at = time.monotonic()
            try:
                self.children = self.process.children(recursive=True)
            except Exception:
                self.children = []
        alive = []
        for child in self.children:
            try:
                total += child.memory_info().rss
                alive.append(child)
            except Exception:  # the child exited (or is no longer ours to read)
                pass
        self.children = alive
        return total

    def _read_counters(self) -> dict:
        counters, cache = {}, {}
        for name, (function, attribute) in _RATE_COUNTERS.items():
            if function not in cache:
                try:
                    cache[function] = getattr(self.psutil, function)(nowrap=False)
                except Exception:  # no /proc/diskstats in a container, no network namespace...
                    cache[function] = None
            value = getattr(cache[function], attribute, None)
            if value is not None:
                counters[name] = value
        return counters


def sample_gpus(nvml) -> dict:
    """``gpu{i}_*`` values of every GPU NVML sees; ``nvml`` is the initialised ``pynvml`` module.

    A reading a GPU does not support (power on some boards) is left out, not guessed.
    """
    values = {}
    for index in range(nvml.nvmlDeviceGetCount()):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        prefix = f"gpu{index}_"
        try:
            values[prefix + "utilization_percent"] = nvml.nvmlDeviceGetUtilizationRates(handle).gpu
        except nvml.NVMLError:
            pass
        try:
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            values[prefix + "memory_used_bytes"] = memory.used
            values[prefix + "memory_percent"] = 100.0 * memory.used / memory.total if memory.total else 0.0
        except nvml.NVMLError:
            pass
        try:
            values[prefix + "temperature_c"] = nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
        except nvml.NVMLError:
            pass
        try:
            values[prefix + "power_w"] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
        except nvml.NVMLError:
            pass
    return values


def _gpu_values(nvml) -> dict:
    try:
        return sample_gpus(nvml)
    except Exception:  # a GPU lost mid-run (an Xid error) must not stop the CPU metrics
        return {}


def _init_nvml():
    """The initialised ``pynvml`` module, or None when there is no library or no driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml
    except Exception:
        return None

