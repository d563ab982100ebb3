"""Temporary bridge: the lab tests run inside the submission's kernel (to be replaced by the judge).

The `student` handle here answers in the kernel's own namespace, exactly as under labs.check; each test's
start and result is streamed to a report file the grader reads.
"""
import json

from labs.grading import runner, snippet


def grade(root, report, skip=(), seed=0, submission=None):
    """Grader's last cell: run every test against the notebook's namespace, streaming events to `report`."""
    from IPython import get_ipython

    def write(event):
        with open(report, "a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\n")

    _, _, errors = runner.run(root, snippet.in_process(get_ipython().user_ns), skip=skip, seed=seed,
                              submission=submission, before_test=lambda test_id: write({"event": "start", "id": test_id}),
                              on_result=lambda result: write(dict(result, event="result")))
    for error in errors:
        write({"event": "error", "message": error})
