"""Every Python snippet of the README runs, in order, and shows what the README says it shows."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def readme_snippets():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_snippets_run_and_agree_with_their_comments(capsys):
    ns = {}
    for snippet in readme_snippets():
        exec(compile(snippet, str(README), "exec"), ns)
    assert ns["loss"].item() < 1e-3, "the quickstart must learn"
    assert capsys.readouterr().out.startswith("Epoch 99: ")
    np.testing.assert_allclose(ns["x"].grad.data, [3.0, 12.0])  # the Cube example (x reused later)
    assert [name for name, _ in ns["net"].named_parameters()] == [
        "hidden.weight", "hidden.bias", "out.weight", "out.bias"]


def test_readme_names_the_two_commands_and_ci_calls_the_test_one():
    text = README.read_text()
    assert "make lab" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
