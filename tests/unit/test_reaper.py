"""The runner's reaper waits for adopted orphans and never takes its own children's exit status.

The reaper waits for any child of its process, so it runs in a process of its own here, a child
subreaper as the runner is, never inside pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import ctypes, json, os, threading
    import psutil
    from sessions.services.reaper import Reaper

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER, as the runner
    reaper = Reaper()
    reaper.start()
    codes = []

    def churn(count):
        for n in range(count):
            # Each leaves an orphan that ends about when its parent does.
            done = reaper.run(["sh", "-c", f"(sleep 0.00{n % 3} &); exit {n % 7 + 1}"])
            codes.append((n % 7 + 1, done.returncode))
            child = reaper.popen(["sh", "-c", "exit 5"])  # ends before Popen has returned
            codes.append((5, child.wait()))
            reaper.release(child)

    threads = [threading.Thread(target=churn, args=(60,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    left = [p.status() for p in psutil.Process().children()]
    for _ in range(100):
        if not left:
            break
        threading.Event().wait(0.05)
        left = [p.status() for p in psutil.Process().children()]
    print(json.dumps({"codes": codes, "reaped": reaper.reaped, "left": left}))
    """
)


def test_orphans_are_reaped_and_every_own_exit_code_is_kept() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=100, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["codes"]) == 360
    assert [got for _, got in result["codes"]] == [want for want, _ in result["codes"]]
    assert result["reaped"] >= 100, result["reaped"]  # the orphans, each waited for
    assert result["left"] == []
