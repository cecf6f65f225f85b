"""Site size at scale: what 10,000 runs x 1,000 steps x 5 metrics with a 150-package environment take.

    python bench/bench_site_size.py [--runs 1000] [--index-runs 100] [--work DIR]
                                    [--output /tmp/bench_sections/site-size.md]

Synthetic finished runs (bench/synthetic_runs.py) with a realistic environment record: 150 real
packages with their versions, plus the project installed from its checkout and the tracker,
Python and platform, a few allowlisted variables, as tracker/capture/environment.py records them.
A sweep shares its environment; here it changes every RUNS_PER_ENVIRONMENT runs (a package
upgraded), so a site of 10,000 runs holds 20 distinct environments.

``tracker build --full`` builds --runs of them in a fresh process (wall and CPU time of its process
tree), then every file of the site is counted in bytes, as a host counts them, by what it is: a
run's page, its data file, its CSV download (only for runs whose page holds reduced series), its
other downloads (requirements, diff, environment files), the shared environment files, and what
grows with the number of runs as a whole (the index data, the manifest, the site marker); the
fixed part (assets, the index, compare and project pages) is counted apart. A second build of
--index-runs runs gives the index's growth per run, and 10,000 runs are projected as the per-run
sizes times 10,000 plus that growth; --runs 10000 measures them instead.

The run data options (how sitegen/run_data.py packs a run's columns) are measured on --option-runs
of the same runs, in this process: each option's bytes for values and times, the CPU time to make
them (time.process_time), and in headless Chromium the time to parse and unpack a run's data
(JSON.parse, then arrays of numbers), medians of OPTION_REPEATS.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from array import array
from pathlib import Path

import msgspec

from bench_cold_read import timed_build
from bench_site import BUILD_ENV, CHROMIUM
from common import REPO_ROOT, markdown_table, median, print_report, run_facts
from sitegen.load import load_source, read_run
from sitegen.run_data import packed_values, times_json
from synthetic_runs import write_runs

STEPS, METRICS = 1000, 5
PROJECTED_RUNS = 10_000
SIZE_TARGET_BYTES = 500 * 10**6  # issue 14: 10,000 runs within 500 MB, so media fit GitHub Pages' 1 GB
RUNS_PER_ENVIRONMENT = 500
PACKAGES = (
    "absl-py==2.5.1 aiohappyeyeballs==2.7.1 aiohttp==3.14.5 aiosignal==1.4.0 alembic==1.20.1 "
    "annotated-doc==0.0.7 annotated-types==0.8.0 antlr4-python3-runtime==4.9.3 anyio==4.16.0 "
    "attrs==26.1.0 blinker==1.9.0 cachetools==7.3.3 certifi==2026.10.19.post1 cffi==2.1.1 "
    "charset-normalizer==3.5.3 click==8.5.1 cloudpickle==3.1.3 colorlog==6.12.0 contourpy==1.3.3 "
    "cryptography==50.0.2 cuda-bindings==13.5.0 cuda-pathfinder==1.9.1 cuda-toolkit==13.0.3.0 "
    "cycler==0.12.1 databricks-sdk==0.162.0 distro==1.9.0 docker==7.2.0 fastapi==0.165.0 filelock==4.3.1 "
    "flask==3.1.3 flask-cors==6.0.5 fonttools==4.68.0 frozenlist==1.8.0 fsspec==2026.9.0 gitdb==4.0.12 "
    "gitpython==3.2.1 google-auth==2.63.0 googleapis-common-protos==1.76.0 graphene==3.4.3 "
    "graphql-core==3.2.14 graphql-relay==3.2.0 greenlet==3.5.6 grpcio==1.85.3 gunicorn==26.2.0 "
    "h11==0.16.0 h5py==3.16.0 hf-xet==1.8.0 httpcore==1.0.9 httpcore2==2.16.2 httpx==0.28.1 "
    "httpx2==2.16.2 huey==3.5.4 huggingface_hub==2.4.0 hydra-core==1.3.8 idna==3.20 "
    "importlib_metadata==9.1.0 iniconfig==2.3.1 itsdangerous==2.2.0 jinja2==3.1.6 joblib==1.6.0 "
    "jsonschema==4.26.0 jsonschema-specifications==2025.9.1 keras==3.15.1 kiwisolver==1.5.1 "
    "lightgbm==4.7.0 lightning==2.6.6 lightning-utilities==0.15.3 mako==1.4.3 markdown==3.11.3 "
    "markdown-it-py==4.3.0 markupsafe==3.0.4 matplotlib==3.11.2 mdurl==0.1.2 ml_dtypes==0.6.0 "
    "mlflow==3.17.2 mlflow-skinny==3.17.2 mlflow-tracing==3.17.2 mpmath==1.3.0 msgpack==1.2.4 "
    "msgspec==0.23.0 multidict==7.2.1 namex==0.1.0 narwhals==2.29.0 networkx==3.6.1 nh3==0.3.8 "
    "numpy==2.4.6 nvidia-cublas==13.1.1.3 nvidia-cuda-cupti==13.0.85 nvidia-cuda-nvrtc==13.0.88 "
    "nvidia-cuda-runtime==13.0.96 nvidia-cudnn-cu13==9.24.0.43 nvidia-cufft==12.0.0.61 "
    "nvidia-cufile==1.15.1.6 nvidia-curand==10.4.0.35 nvidia-cusolver==12.0.4.66 "
    "nvidia-cusparse==12.6.3.3 nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 "
    "nvidia-nvjitlink==13.5.37 nvidia-nvshmem-cu13==3.4.5 nvidia-nvtx==13.0.85 omegaconf==2.3.1 "
    "opentelemetry-api==1.45.2 opentelemetry-exporter-http-transport==0.66b2 "
    "opentelemetry-exporter-otlp-common==0.66b2 opentelemetry-exporter-otlp-proto-common==1.45.2 "
    "opentelemetry-exporter-otlp-proto-http==1.45.2 opentelemetry-proto==1.45.2 opentelemetry-sdk==1.45.2 "
    "opentelemetry-semantic-conventions==0.66b2 optree==0.20.0 optuna==5.0.0 orjson==3.13.0 "
    "packaging==26.4 pandas==3.1.1 pillow==13.0.0 pip==23.2.1 platformdirs==4.14.8 playwright==1.65.2 "
    "plotly==7.1.0 pluggy==1.7.0 prettytable==3.18.0 propcache==0.5.4 protobuf==7.36.2 psutil==7.2.2 "
    "pyarrow==25.0.1 pyasn1==0.6.5 pyasn1_modules==0.4.2 pycparser==3.12 pydantic==2.14.4 "
    "pydantic_core==2.50.5 pyflakes==4.1.0 pygments==2.21.0 pyparsing==3.3.3 pytest==9.2.0 "
    "python-dateutil==2.9.0.post0 python-dotenv==1.2.4 pytorch-lightning==2.6.6 pyyaml==6.0.4 ray==2.60.0 "
    "referencing==0.37.0 regex==2026.11.19 requests==2.34.2 rich==15.0.0 rpds-py==2026.9.1 "
    "safetensors==0.8.0 scikit-learn==1.9.1 scipy==1.17.1 setuptools==84.2.1 shellingham==1.5.4 "
)


def environment(variant: int) -> dict:
    """The environment record of the runs of one variant: the same 150 packages, one upgraded per variant."""
    packages = dict(line.split("==") for line in PACKAGES.split())
    assert len(packages) == 150, len(packages)
    packages["numpy"] = f"2.4.{6 + variant}"
    packages["mlproj"] = "0.3.0"  # the project being trained, from its checkout
    packages["serverless-ml-tracker"] = "0.1.0"
    return {"python": "3.11.7", "implementation": "CPython", "executable": "/home/ml/mlproj/.venv/bin/python",
            "platform": "Linux-6.8.0-49-generic-x86_64-with-glibc2.39", "os": "Linux", "machine": "x86_64",
            "hostname": "gpu-node-07", "user": "ml", "packages": packages,
            "package_sources": {"mlproj": {"kind": "editable", "url": "file:///home/ml/mlproj", "repo_path": "."}},
            "tracker_distribution": "serverless-ml-tracker", "index_urls": [],
            "env": {"CUDA_VISIBLE_DEVICES": "0", "OMP_NUM_THREADS": "8", "VIRTUAL_ENV": "/home/ml/mlproj/.venv"}}


def realistic_runs(work: Path, count: int) -> Path:
    """The runs folder for ``count`` runs, written once and reused."""
    folder = work / f"runs-env150-{count}x{STEPS}x{METRICS}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        for first in range(0, count, RUNS_PER_ENVIRONMENT):
            write_runs(str(folder), min(RUNS_PER_ENVIRONMENT, count - first), STEPS, METRICS, first=first,
                       environment=environment(first // RUNS_PER_ENVIRONMENT))
        marker.write_text("written by bench/bench_site_size.py\n")
    return folder


PER_RUN_PARTS = ("page HTML", "data file", "CSV download", "other downloads")
GROWING_PARTS = ("index data", "manifest and marker")


def part_of(relative: str) -> str:
    """What a site file is, by its place (docs/site.md's layout)."""
    parts = relative.split("/")
    if parts[0] == "runs" and len(parts) >= 3:
        if parts[2:] == ["index.html"]:
            return "page HTML"
        return "CSV download" if parts[-1].startswith("metrics.csv") else "other downloads"
    if parts[:2] == ["data", "runs"]:
        return "data file"
    if parts[0] == "environments":
        return "shared environment files"
    if relative == "data/index.js":
        return "index data"
    if relative in (".tracker-manifest.json", ".tracker-site"):
        return "manifest and marker"
    return "fixed (assets, index, compare, project pages)"


def site_parts(out: Path) -> dict[str, dict]:
    """{part: {bytes, files}} of every file of a built site."""
    parts: dict[str, dict] = {}
    for parent, _, names in os.walk(out):
        for name in names:
            path = os.path.join(parent, name)
            part = parts.setdefault(part_of(os.path.relpath(path, out).replace(os.sep, "/")), {"bytes": 0, "files": 0})
            part["bytes"] += os.path.getsize(path)
            part["files"] += 1
    return parts


def measure(work: Path, count: int) -> dict:
    runs = realistic_runs(work, count)
    out = work / f"site-size-{count}"
    shutil.rmtree(out, ignore_errors=True)
    wall, cpu = timed_build(runs, out, dict(BUILD_ENV, PYTHONPATH=str(REPO_ROOT)))
    return {"runs": count, "build_s": wall, "build_cpu_s": cpu, "parts": site_parts(out),
            "environments": -(-count // RUNS_PER_ENVIRONMENT)}


def projection(big: dict, small: dict) -> dict:
    """Bytes of a site of PROJECTED_RUNS runs from a build of ``big["runs"]``: the per-run parts
    times PROJECTED_RUNS, the growing parts at their measured growth per run (between the two
    builds), one set of shared environment files per environment, the fixed part once."""
    count, extra = big["runs"], PROJECTED_RUNS - big["runs"]
    parts = big["parts"]
    size = lambda name, of=parts: of.get(name, {}).get("bytes", 0)  # noqa: E731
    projected = {name: size(name) / count * PROJECTED_RUNS for name in PER_RUN_PARTS}
    for name in GROWING_PARTS:
        growth = (size(name) - size(name, small["parts"])) / (count - small["runs"])
        projected[name] = size(name) + growth * extra
    environments = -(-PROJECTED_RUNS // RUNS_PER_ENVIRONMENT)
    projected["shared environment files"] = size("shared environment files") / big["environments"] * environments
    projected["fixed (assets, index, compare, project pages)"] = size("fixed (assets, index, compare, project pages)")
    return projected


# --- run data options -------------------------------------------------------------------------

def text_values(values: list) -> str:
    """The data file's values before: each float as "%.10g" (one %-format of the column)."""
    return "[" + ("%.10g," * len(values))[:-1] % tuple(values) + "]"


def shortest_values(values: list) -> str:
    """Each float as its shortest round-trip text (msgspec writes repr's)."""
    return msgspec.json.encode(values).decode()


def float64_values(values: list) -> str:
    return '"' + base64.b64encode(array("d", values).tobytes()).decode() + '"'


def float32_values(values: list) -> str:
    return '"' + packed_values(values)[0] + '"'


def absolute_times(times: list, origin: float) -> str:
    """The time axis before: seconds since created to the millisecond, "%.3f" trimmed of its zeros."""
    text = re.sub("0+(?=,)", "", ("%.3f," * len(times)) % tuple(t - origin for t in times))
    return "[" + text.replace(".,", ".0,")[:-1] + "]"


VALUE_OPTIONS = {"text, %.10g (before)": text_values, "shortest float text (msgspec)": shortest_values,
                 "base64 float64": float64_values, "base64 float32 (chosen)": float32_values}
TIME_OPTIONS = {"seconds, %.3f (before)": absolute_times, "millisecond deltas (chosen)": times_json}
OPTION_REPEATS = 5
# In Chromium: parse a run's data text and unpack every column into an array of numbers.
DECODE_JS = """([texts, kind]) => {
  const unpack = (text, size) => {
    const binary = atob(text), bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const view = new DataView(bytes.buffer), out = new Array(bytes.length / size);
    for (let i = 0; i < out.length; i++) out[i] = size === 8 ? view.getFloat64(i * 8, true) : view.getFloat32(i * 4, true);
    return out;
  };
  const started = performance.now();
  let points = 0;
  for (const text of texts) {
    const data = JSON.parse(text);
    for (const values of data.values) {
      const column = kind === "f32" ? unpack(values, 4) : kind === "f64" ? unpack(values, 8) : values.map(Number);
      points += column.length;
    }
    for (const axis of data.times) {
      let total = 0;
      const seconds = kind === "deltas" ? axis.map((delta) => (total += delta) / 1000) : axis.map(Number);
      points += seconds.length;
    }
  }
  return [performance.now() - started, points];
}"""
DECODE_KINDS = {"text, %.10g (before)": "text", "shortest float text (msgspec)": "text", "base64 float64": "f64",
                "base64 float32 (chosen)": "f32", "seconds, %.3f (before)": "text", "millisecond deltas (chosen)": "deltas"}


def measure_options(runs: Path, count: int) -> dict:
    """{option: {bytes, encode_ms, decode_ms}} per run, values and times apart."""
    histories = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for folder in sorted(path for path in runs.iterdir() if path.is_dir())[:count]:
            run = load_source(read_run(str(folder))).run
            histories.append((run.created, [history.values for history in run.histories.values()],
                              list({tuple(history.times): history.times for history in run.histories.values()}.values())))
    results = {}
    for name, encode in [*VALUE_OPTIONS.items(), *TIME_OPTIONS.items()]:
        is_time = name in TIME_OPTIONS
        spent = []
        for _ in range(OPTION_REPEATS):
            started = time.process_time()
            texts = [[encode(axis, origin) for axis in axes] if is_time else [encode(column) for column in columns]
                     for origin, columns, axes in histories]
            spent.append(time.process_time() - started)
        results[name] = {"bytes": sum(len(text) for run in texts for text in run) / len(histories),
                         "encode_ms": median(spent) * 1000 / len(histories),
                         "texts": ['{"' + ("times" if is_time else "values") + '":[' + ",".join(run) + "]"
                                   + (',"values":[]}' if is_time else ',"times":[]}') for run in texts]}
    decode_in_chromium(results)
    return {name: {key: value for key, value in result.items() if key != "texts"} for name, result in results.items()}


def decode_in_chromium(results: dict) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto("about:blank")
        samples = {name: [] for name in results}
        for _ in range(OPTION_REPEATS):  # interleaved, so a busy moment hits every option alike
            for name, result in results.items():
                elapsed, _ = page.evaluate(DECODE_JS, [result["texts"], DECODE_KINDS[name]])
                samples[name].append(elapsed / len(result["texts"]))
        browser.close()
    for name, result in results.items():
        result["decode_ms"] = median(samples[name])


# --- report -----------------------------------------------------------------------------------

def mb(size: float) -> str:
    return f"{size / 1e6:,.1f}"


def kb(size: float) -> str:
    return f"{size / 1e3:,.1f}"


def render_report(results: dict) -> str:
    big, small = results["build"], results["index_build"]
    projected = projection(big, small)
    total = sum(projected.values())
    count = big["runs"]
    lines = [f"Measured on {results['date']} at commit {results['revision']} with `{results['command']}` on "
             f"{results['machine']}; load average {results['load_before']} before, {results['load_after']} after.",
             "",
             f"Synthetic finished runs of {STEPS:,} steps x {METRICS} metrics (bench/synthetic_runs.py) with a realistic "
             f"environment record of 152 packages (150 from an index, the project from its checkout and the "
             f"tracker; bench/bench_site_size.py), the environment changing every "
             f"{RUNS_PER_ENVIRONMENT} runs. {count:,} runs were built (`tracker build --full`, "
             f"{big['build_s']:.1f} s wall, {big['build_cpu_s']:.1f} s CPU of its process tree) and "
             f"{small['runs']:,} for the index's growth; {PROJECTED_RUNS:,} runs are projected as the per-run "
             f"parts x {PROJECTED_RUNS:,}, the index and manifest at their measured growth per run, "
             f"{-(-PROJECTED_RUNS // RUNS_PER_ENVIRONMENT)} shared environments and the fixed part once.",
             "",
             markdown_table(["Part", "Files", f"Bytes per run ({count:,} runs)", f"{count:,} runs, MB",
                             f"{PROJECTED_RUNS:,} runs, MB (projected)"],
                            [[name, f"{big['parts'].get(name, {}).get('files', 0):,}",
                              f"{big['parts'].get(name, {}).get('bytes', 0) / count:,.0f}",
                              mb(big["parts"].get(name, {}).get("bytes", 0)), mb(projected[name])]
                             for name in projected]
                            + [["**total**", f"{sum(part['files'] for part in big['parts'].values()):,}",
                                f"{sum(part['bytes'] for part in big['parts'].values()) / count:,.0f}",
                                mb(sum(part["bytes"] for part in big["parts"].values())), f"**{mb(total)}**"]]),
             "",
             f"Target: {PROJECTED_RUNS:,} runs within {SIZE_TARGET_BYTES // 10**6} MB: "
             f"{'met' if total <= SIZE_TARGET_BYTES else '**not met**'} ({mb(total)} MB). The CSV download of a run "
             "whose series fit its page is built in the browser (no file); only reduced runs have one.",
             "",
             "Run data options, per run (values: 5 series of 1,000 points; times: the one shared axis), over "
             f"{results['option_runs']} runs; encode is CPU in Python, decode is JSON.parse plus unpacking to "
             "arrays of numbers in headless Chromium:",
             "",
             markdown_table(["Column", "Option", "Bytes per run", "Encode ms per run", "Decode ms per run"],
                            [["times" if name in TIME_OPTIONS else "values", name, f"{option['bytes']:,.0f}",
                              f"{option['encode_ms']:.3f}", f"{option['decode_ms']:.3f}"]
                             for name, option in results["options"].items()])]
    return "\n".join(lines) + "\n"


HEADING = "## Site size"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs of the measured build (default 1000)")
    parser.add_argument("--index-runs", type=int, default=100, help="runs of the second build, for growth")
    parser.add_argument("--option-runs", type=int, default=20, help="runs the run data options are timed on")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-site-size",
                        help="where synthetic runs and sites go")
    parser.add_argument("--output", type=Path, help="write the Markdown section here too")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    print(f"{args.runs} runs ...", file=sys.stderr, flush=True)
    build = measure(args.work, args.runs)
    print(json.dumps(build), file=sys.stderr, flush=True)
    index_build = measure(args.work, args.index_runs)
    options = measure_options(realistic_runs(args.work, args.runs), args.option_runs)
    command = "python bench/bench_site_size.py" + "".join(
        f" {flag} {value}" for flag, value, default in (("--runs", args.runs, 1000), ("--index-runs", args.index_runs, 100),
                                                        ("--option-runs", args.option_runs, 20)) if value != default)
    results = {**run_facts(command, load_before), "build": build, "index_build": index_build, "options": options,
               "option_runs": args.option_runs}
    report = HEADING + "\n\n" + render_report(results)
    print_report(report, args.output)
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
