"""MLflow: ``mlflow.log_metrics(values, step=i)`` inside ``mlflow.start_run()``.

``--variant default`` uses whatever MLflow picks with MLFLOW_TRACKING_URI unset (in MLflow 3,
``sqlite:///mlflow.db`` in the working directory); ``--variant file`` uses the file store in
the temporary folder, which MLflow 3 allows only with MLFLOW_ALLOW_FILE_STORE=true.
Telemetry is switched off so nothing tries the network.
"""
import os

import harness


def start(folder, variant):
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    import mlflow

    if variant == "file":
        # MLflow 3 refuses the file store unless asked; the file store is what MLflow 2 used.
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        mlflow.set_tracking_uri("file:" + os.path.join(folder, "mlruns"))
    elif variant != "default":
        raise SystemExit(f"unknown --variant {variant!r}; available: default, file")
    mlflow.set_experiment("bench")
    mlflow.start_run(run_name="x")
    return mlflow


def log(mlflow, values, step):
    mlflow.log_metrics(values, step=step)


def finish(mlflow):
    mlflow.end_run()


if __name__ == "__main__":
    harness.measure(start, log, finish)
