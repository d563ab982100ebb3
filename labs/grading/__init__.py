"""The lab grader: read a lab folder, release it, restore and run submissions in a sandbox, judge, report.

Modules, in the order a submission meets them: `lab` (the lab folder), `release` (student and autograder
copies), `restore` (the submission's cells put back in the lab's order), `grade` (every submission, `-j N`
at a time, each in a judge process), `judge` (one submission: its cells in the sandbox, then the tests),
`sandbox` and `student_process` (the student's process and the channel to it), `worker` (what runs in
that process), `snippet` and `plain` (the test API's student side and its plain-data codec), `runner`
(pytest with the `student` and `rng` fixtures, shared with `labs.check`), `report` (results.json,
feedback.md, grades.csv), `validate`.
"""
