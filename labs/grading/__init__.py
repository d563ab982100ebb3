"""The lab grader: read a lab folder, release it, restore and run submissions in a kernel, report grades.

Modules, in the order a submission meets them: `lab` (the lab folder), `release` (student and autograder
copies), `restore` (the submission's cells put back in the lab's order), `kernel` (a Jupyter kernel with
timeouts and restarts), `runner` (the pytest run inside the kernel, shared with `labs.check`), `grade`
(one submission, many in parallel), `names` (safe results folders, the roster), `report` (results.json,
feedback.md, graded.ipynb, grades.csv), `summary` (a class's results per exercise), `validate`.
"""
