"""The run's media methods: one per kind (``log_image``, ``log_table``...) and the evaluation charts.

Each builds its media object and hands it to ``Run.log_media``, so they share its rules: the
object copies its data at the call, the writer thread encodes it, ``step`` defaults to the run's
current step. The media modules are imported by the method that needs one, so that a script
that never logs media never loads them (nor NumPy, which the evaluation charts use).
"""
from __future__ import annotations


class RunMediaMethods:
    """Mixed into ``tracker.Run``; every method ends in ``self.log_media(key, obj, step)``."""

    def log_image(self, key: str, x, caption: str | None = None, step: int | None = None) -> None:
        """Log an image: a NumPy array (HxW, HxWx3 or HxWx4; uint8 or float 0-1), a PIL image or
        the path of a PNG, JPEG, WebP or GIF file (see ``tracker.Image``)."""
        from .media.image import Image

        self.log_media(key, Image(x, caption=caption), step=step)

    def log_table(self, key: str, rows=None, columns=None, dataframe=None, step: int | None = None) -> None:
        """Log a table: ``rows`` of cells with their ``columns``, or a pandas ``dataframe`` (see ``tracker.Table``)."""
        from .media.table import Table

        self.log_media(key, Table(rows=rows, columns=columns, dataframe=dataframe), step=step)

    def log_figure(self, key: str, fig, step: int | None = None) -> None:
        """Log a plotly figure (kept interactive) or a matplotlib figure (as SVG)."""
        from .media.figure import Figure

        self.log_media(key, Figure(fig), step=step)

    def log_histogram(self, key: str, values=None, counts=None, edges=None, bins: int = 64,
                      step: int | None = None) -> None:
        """Log a distribution: ``values`` binned into ``bins`` bins, or ``counts`` over ``edges``."""
        from .media.histogram import Histogram

        self.log_media(key, Histogram(values=values, counts=counts, edges=edges, bins=bins), step=step)

    def log_text(self, key: str, text: str, step: int | None = None) -> None:
        """Log a piece of text (a generated sample, a prompt and its answer), shown as text."""
        from .media.text import Text

        self.log_media(key, Text(text), step=step)

    def log_audio(self, key: str, data, sample_rate: int | None = None, caption: str | None = None,
                  step: int | None = None) -> None:
        """Log a sound: an array of samples with its ``sample_rate``, or a WAV, MP3, Ogg or FLAC file."""
        from .media.audio import Audio

        self.log_media(key, Audio(data, sample_rate=sample_rate, caption=caption), step=step)

    def log_video(self, key: str, path, caption: str | None = None, step: int | None = None) -> None:
        """Log an MP4, WebM or GIF file, stored as given (read by the writer: keep it in place until finish())."""
        from .media.video import Video

        self.log_media(key, Video(path, caption=caption), step=step)

    # -- evaluation charts: computed with NumPy on the writer thread, equal to scikit-learn's numbers --

    def log_confusion_matrix(self, key: str, y_true, y_pred, labels=None, step: int | None = None) -> None:
        """Log the confusion matrix of ``y_true`` against ``y_pred`` (rows: true class), classes in
        ``labels`` order (default: every class seen, sorted); its accuracy goes into the record."""
        from .media.charts import ConfusionMatrix

        self.log_media(key, ConfusionMatrix(y_true, y_pred, labels=labels), step=step)

    def log_roc_curve(self, key: str, y_true, y_score, labels=None, step: int | None = None) -> None:
        """Log ROC curves with their AUC: binary scores of shape (samples,) or (samples, 2), or one
        column per class (one vs the rest, the mean AUC in the record), columns in ``labels`` order."""
        from .media.charts import RocCurve

        self.log_media(key, RocCurve(y_true, y_score, labels=labels), step=step)

    def log_pr_curve(self, key: str, y_true, y_score, labels=None, step: int | None = None) -> None:
        """Log precision-recall curves with their average precision, as ``log_roc_curve`` takes scores."""
        from .media.charts import PrCurve

        self.log_media(key, PrCurve(y_true, y_score, labels=labels), step=step)

    def log_feature_importance(self, key: str, names, values, step: int | None = None) -> None:
        """Log one bar per feature, largest magnitude first (the 1,000 largest kept)."""
        from .media.charts import FeatureImportance

        self.log_media(key, FeatureImportance(names, values), step=step)
