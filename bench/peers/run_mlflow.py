"""MLflow: ``mlflow.log_metrics(values, step=i)`` inside ``mlflow.start_run()``.

``--store default`` uses whatever MLflow picks with MLFLOW_TRACKING_URI unset (in MLflow 3,
``sqlite:///mlflow.db`` in the working directory); ``--store file`` uses the file store in the
temporary folder. Telemetry is switched off so nothing tries the network.
"""
import os
import sys

import harness

STORE = sys.argv.pop(sys.argv.index("--store") + 1) if "--store" in sys.argv else "default"
if "--store" in sys.argv:
    sys.argv.remove("--store")


def start(folder):
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    import mlflow

    if STORE == "file":
        mlflow.set_tracking_uri("file:" + os.path.join(folder, "mlruns"))
    mlflow.set_experiment("bench")
    return mlflow.start_run(run_name="x")


def log(run, values, step):
    import mlflow

    mlflow.log_metrics(values, step=step)


def finish(run):
    import mlflow

    mlflow.end_run()


if __name__ == "__main__":
    harness.measure(start, log, finish)
