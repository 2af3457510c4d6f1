"""The crash test script (benchmarks/crash_ledger.py) works: a tiny run passes, and its checker
does notice an acknowledged transfer that is not in the books."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "benchmarks" / "crash_ledger.py"


def test_a_tiny_crash_run_passes_and_its_checker_can_fail(tmp_path):
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "2", "--workers", "2", "--round-seconds",
         "2.5", "--min-seconds", "1.5", "--seed", "7", "--keep",
         "--json", str(tmp_path / "result.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
    )
    kept = re.search(r"^kept (.+)$", run.stdout, re.MULTILINE)
    try:
        assert run.returncode == 0, run.stdout + run.stderr
        result = json.loads((tmp_path / "result.json").read_text())
        assert result["kills"] == 4
        assert result["acknowledged"] > 0
        assert result["ledger_verify_ok"] is True
        assert result["problems"] == []
        assert kept, run.stdout
        work = Path(kept.group(1))
        # Forge one acknowledgement the books never saw: the checker must report it.
        with open(work / "worker-0.log", "a") as log:
            log.write("forged-id\t1\t100\n")
        check = subprocess.run(
            [sys.executable, str(SCRIPT), "--check", "--database-url",
             f"sqlite:///{work / 'crash.sqlite3'}", "--var-dir", str(work), "--log", str(work)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )
        assert check.returncode == 0, check.stderr
        problems = json.loads(check.stdout.strip().splitlines()[-1])["problems"]
        assert problems == ["acknowledged but not stored: forged-id"]
    finally:
        if kept:
            shutil.rmtree(kept.group(1), ignore_errors=True)
