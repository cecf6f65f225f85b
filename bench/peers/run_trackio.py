"""trackio, local only: ``trackio.init(project=...)``, ``trackio.log(values)``, ``trackio.finish()``.

Its SQLite database goes to TRACKIO_DIR in the temporary folder, and the Hugging Face Hub is
kept offline so no call reaches the network. Its defaults are kept, including the CPU metrics
it samples in the background when psutil is installed.
"""
import os

import harness


def start(folder, variant):
    os.environ["TRACKIO_DIR"] = os.path.join(folder, "trackio")
    os.environ["HF_HOME"] = os.path.join(folder, "hf")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import trackio

    trackio.init(project="bench", name="x")
    return trackio


def log(trackio, values, step):
    trackio.log(values)


def finish(trackio):
    trackio.finish()


if __name__ == "__main__":
    harness.measure(start, log, finish)
