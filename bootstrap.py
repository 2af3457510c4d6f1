#!/usr/bin/env python3
"""Set up OneCard from nothing but python3, then serve it or test it.

    python3 bootstrap.py serve   # venv + install + migrate + demo data + production server
    python3 bootstrap.py test    # venv + install + checks + the whole test suite

The virtual environment lives in ./.venv and is (re)installed whenever pyproject.toml changes.
Everything after the sub-command is passed on (to `onecard serve` or to pytest).
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".onecard-installed"


def run(*args, **kwargs):
    """Run a command from the project root; stop this script with its exit code on failure."""
    result = subprocess.run([str(a) for a in args], cwd=ROOT, **kwargs)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_environment():
    """Create .venv and install the project (with test tools) unless already current."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not PYTHON.exists():
        print("Creating virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing OneCard and its dependencies ...", flush=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools", "wheel")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def main(argv):
    if not argv or argv[0] not in {"serve", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    if command == "serve":
        run(BIN / "onecard", "up", *rest)
        return 0
    run(PYTHON, "-m", "ruff", "check", ".")
    run(PYTHON, "manage.py", "compilemessages_py")
    run(PYTHON, "manage.py", "check")
    run(PYTHON, "manage.py", "makemigrations", "--check", "--dry-run")
    result = subprocess.run([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)
    # pytest exits 5 when a selection collects no tests: that is not a failure of the suite.
    return 0 if result.returncode == 5 else result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
