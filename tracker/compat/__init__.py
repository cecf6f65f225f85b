"""Drop-in APIs for scripts written for MLflow or W&B: change the import line, keep the calls.

``import tracker.compat.mlflow as mlflow`` and ``import tracker.compat.wandb as wandb`` are thin
adapters over tracker's public API (see docs/integrations.md). Neither imports MLflow or W&B.
"""
