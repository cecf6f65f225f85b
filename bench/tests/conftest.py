"""The benchmark modules are scripts in bench/, not a package: put that folder on the path."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
