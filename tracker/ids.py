"""Run ids: time-ordered plus random, so folders from many machines merge by plain copying."""
import secrets
import time

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
RANDOM_CHARS = 8  # 36**8 ≈ 2.8e12 ids per second: collisions are not a practical concern


def random_suffix(length: int = RANDOM_CHARS) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_run_id(now: float | None = None) -> str:
    """An id like ``20261123-094237-k3x9a2bq``: UTC start time, then random characters."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{random_suffix()}"
