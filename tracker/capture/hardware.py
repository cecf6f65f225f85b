"""The machine a run ran on: CPU, memory and NVIDIA GPUs."""
from __future__ import annotations

import os
import platform

CPUINFO_PATH = "/proc/cpuinfo"


def capture_hardware() -> dict:
    """CPU model and counts, total memory, and the GPUs NVML can see (``gpu_note`` says why none)."""
    record = {"cpu_model": _cpu_model(), "cpu_count_logical": os.cpu_count(), "cpu_count_physical": None,
              "memory_total_bytes": None}
    try:
        import psutil

        record["cpu_count_logical"] = psutil.cpu_count(logical=True)
        record["cpu_count_physical"] = psutil.cpu_count(logical=False)
        record["memory_total_bytes"] = psutil.virtual_memory().total
    except Exception as exc:  # psutil missing or unsupported here: keep what os gives
        record["memory_note"] = f"psutil unavailable: {exc}"
    gpus, note = _nvidia_gpus()
    record["gpus"] = gpus
    if note:
        record["gpu_note"] = note
    return record


def _cpu_model() -> str | None:
    try:
        with open(CPUINFO_PATH, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _nvidia_gpus() -> tuple[list[dict], str | None]:
    """(GPUs, None) or ([], why there are none)."""
    try:
        import pynvml
    except ImportError:
        return [], "nvidia-ml-py not installed (pip install 'tracker[gpu]')"
    try:
        pynvml.nvmlInit()
    except Exception as exc:
        return [], f"no NVIDIA driver available: {exc}"
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cuda = pynvml.nvmlSystemGetCudaDriverVersion()  # e.g. 12020 for CUDA 12.2
        cuda_version = f"{cuda // 1000}.{cuda % 1000 // 10}" if cuda else None
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            gpus.append({
                "index": index,
                "name": _text(pynvml.nvmlDeviceGetName(handle)),
                "memory_total_bytes": int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                "driver_version": driver,
                "cuda_version": cuda_version,
            })
        return gpus, None if gpus else "no NVIDIA GPU found"
    except Exception as exc:
        return [], f"NVML query failed: {exc}"
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _text(value) -> str:
    # Older nvidia-ml-py releases return bytes, newer ones str.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
