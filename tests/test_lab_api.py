"""The lab test API in-process (notes/TEST_API.md): plain data, the `student` handle, `rng`, the messages."""
import json

import numpy as np
import pytest

import numtorch as nt
from labs.grading import plain, snippet
from labs.grading.runner import inputs_rng
from labs.testing import Student, StudentError, TensorData, close, expect

# --- plain data -----------------------------------------------------------------------------------------------


def test_plain_data_round_trips():
    t = nt.tensor([[1.0, 2.0]], requires_grad=True)
    (t * 3).sum().backward()
    t.name = "w"
    value = {"a": (1, 2.5, None, True), 3: [np.int64(4), np.float32(0.5), "\ud800 é"], "nan": float("nan"),
             "x": np.arange(6, dtype=np.int16).reshape(2, 3), "t": t}
    back = plain.round_trip(value)
    assert back["a"] == (1, 2.5, None, True) and back[3] == [4, 0.5, "\ud800 é"] and np.isnan(back["nan"])
    assert type(back[3][0]) is int and back["x"].dtype == np.int16 and np.array_equal(back["x"], value["x"])
    assert isinstance(back["t"], TensorData) and back["t"].shape == (1, 2) and back["t"].requires_grad
    assert np.array_equal(back["t"].grad, [[3.0, 3.0]]) and back["t"].name == "w" and back["t"].dtype == np.float64
    made = plain.round_trip({"t": back["t"]}, tensor=snippet.to_tensor)["t"]
    assert isinstance(made, nt.Tensor) and made.requires_grad and np.array_equal(made.grad.data, [[3.0, 3.0]])


class Sneaky:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value, kind", [
    (Sneaky(), "Sneaky"), ([1, {"k": Sneaky()}], "Sneaky (at result[1]['k'])"), (np.array([Sneaky()]), "object"),
    ({(1, 2): 3}, "dict key of type tuple"), (lambda: 0, "function"), (np.array(["a"]), "dtype <U1"),
    (type("MyList", (list,), {})(), "MyList"), (True.__class__, "type"),
])
def test_only_plain_data_is_encoded(value, kind):
    with pytest.raises(plain.NotPlainData) as refused:
        plain.encode(value)
    assert kind in str(refused.value)


def test_decoding_refuses_what_encode_cannot_make():
    nested = 1
    for _ in range(plain.MAX_DEPTH + 2):
        nested = {"list": [nested]}
    pickled = plain.encode(np.zeros(2))
    pickled["array"] = pickled["array"][:-4]
    import base64, io, pickle  # noqa: E401 (only this test builds a pickle)
    buffer = io.BytesIO()
    np.save(buffer, np.array([Sneaky()], dtype=object), allow_pickle=True)
    with_pickle = {"array": base64.b64encode(buffer.getvalue()).decode()}
    for tree in (nested, {"object": 1}, {"list": [1], "tuple": [2]}, pickled, with_pickle, [1, 2],
                 {"tensor": {"data": 1}}, {"array": base64.b64encode(pickle.dumps([1])).decode()}):
        with pytest.raises(plain.NotPlainData):
            plain.decode(json.loads(plain.dumps(tree)))


def test_size_limit(monkeypatch):
    monkeypatch.setattr(plain, "MAX_BYTES", 1000)
    with pytest.raises(plain.NotPlainData, match="more than"):
        plain.encode(np.zeros(200))
    with pytest.raises(plain.NotPlainData, match="more than"):
        plain.encode(["x" * 600, "y" * 600])


# --- the student handle, in-process ---------------------------------------------------------------------------

NOTEBOOK = '''
import numpy as np
import numtorch as nt
import random

def relu(x):
    return np.maximum(x, 0)

def stub(x):
    raise NotImplementedError()

def crash(x):
    return x.reshape(7)

def noisy():
    return np.random.rand(), random.random()

def encode(text):
    return [0]

def pipeline(text):
    return encode(text) + [1]

def backward_twice(t):
    (t * 2).sum().backward()
    return t.grad

class Foo:
    pass

captured_backward = nt.Tensor.backward
'''


@pytest.fixture
def student():
    namespace = {}
    exec(NOTEBOOK, namespace)
    return Student(snippet.in_process(namespace), np.random.default_rng(0))


def failure(fn, *args, **kwargs):
    with pytest.raises(StudentError) as raised:
        fn(*args, **kwargs)
    return str(raised.value)


def test_run_and_call(student):
    x = np.array([-1.0, 2.0])
    assert np.array_equal(student.call("relu", x), [0.0, 2.0])
    out = student.run("""
        t = nt.tensor(x, requires_grad=True)
        y = (relu(t.data) * t).sum()
        result = {"shape": t.shape, "tracks": y.requires_grad, "k": k}
    """, x=x, k=(1, "a"))
    assert out == {"shape": (2,), "tracks": True, "k": (1, "a")}
    assert student.run("x = 1") is None
    assert student.defines("relu") and not student.defines("softmax")
    t = TensorData(np.ones(3), requires_grad=True)
    assert np.array_equal(student.call("backward_twice", t).data, [2.0, 2.0, 2.0])


def test_seed_makes_student_randomness_reproducible(student):
    assert student.call("noisy", seed=3) == student.call("noisy", seed=3) != student.call("noisy", seed=4)


def test_messages_name_the_call_the_error_and_the_hint(student):
    assert failure(student.call, "stub", np.zeros((2, 3, 4))) == (
        "stub(an array of shape (2, 3, 4)): stub is not written yet (it still raises NotImplementedError). "
        "Hint: replace `raise NotImplementedError()` with your code.")
    assert failure(student.call, "stub", 1, hint="add one.", what="`inc`").endswith("your code; add one.")
    assert failure(student.call, "crash", (2, 3), hint="reshape to (6,).") == (
        "crash((2, 3)) raised AttributeError: 'tuple' object has no attribute 'reshape'. Hint: reshape to (6,).")
    assert "Hint: call it the same way in a scratch cell" in failure(student.run, "result = crash(1)")
    assert failure(student.call, "softmax", 1) == (
        "your notebook defines no `softmax`. Hint: run the cell that defines it (and every cell above it) "
        "without errors, and check its name.")
    assert failure(student.run, "result = Foo()", what="Foo()") == (
        "Foo() returned a Foo, expected numbers, arrays, strings or tensors. Hint: return the value itself "
        "(a number, an array or a tensor), not an object that holds it.")
    assert "result = [Foo()] returned a Foo (in result[0])" in failure(student.run, "result = [Foo()]")
    assert "raised SystemExit: bye" in failure(student.run, "import sys; sys.exit('bye')")


def test_unavailable_swaps_the_code_of_every_reference(student):
    t = TensorData(np.ones(2), requires_grad=True)
    message = failure(student.call, "backward_twice", t, unavailable=["numtorch.Tensor.backward"])
    assert "raised NotImplementedError: numtorch.Tensor.backward is off-limits in this exercise: write it yourself" in message
    message = failure(student.run, "result = captured_backward(nt.tensor([1.0], requires_grad=True))",
                      unavailable=["numtorch.Tensor.backward"])
    assert "off-limits" in message
    assert np.array_equal(student.call("backward_twice", t).data, [2.0, 2.0])  # put back


def test_replace_puts_reference_code_in_the_notebook_then_restores(student):
    assert student.call("pipeline", "ab") == [0, 1]
    got = student.call("pipeline", "ab", replace={"encode": "def encode(text):\n    return [ord(c) for c in text]"})
    assert got == [97, 98, 1]
    assert student.call("pipeline", "ab") == [0, 1]


def test_rng_public_is_reproducible_hidden_depends_on_the_submission():
    draw = lambda *args: inputs_rng(*args).integers(10**9)  # noqa: E731
    public = "tests/public/test_a.py::test_x"
    hidden = "tests/hidden/test_a.py::test_x"
    assert draw(1, public, "s1") == draw(1, public, "s2") == draw(1, public) != draw(2, public)
    assert draw(1, hidden, "s1") == draw(1, hidden, "s1") != draw(1, hidden, "s2")
    assert draw(1, public) != draw(1, "tests/public/test_a.py::test_y")


def test_expect_and_close():
    expect(np.array([1.0, 2.0]), np.array([1.0, 2.00001]), "f(x)")
    expect(TensorData(np.zeros(2)), np.zeros(2), "f(x)")
    expect({"shape": (2, 3), "n": 1}, {"shape": (2, 3), "n": 1.00001}, "g")
    with pytest.raises(AssertionError, match=r"^f\(x\) gave an array of shape \(7,\) \(shape \(7,\), expected "
                                             r"\(2,\)\), expected \[0.0, 0.0\]. Hint: keep the shape$"):
        expect(np.zeros(7), np.zeros(2), "f(x)", hint="keep the shape")
    with pytest.raises(AssertionError, match="gave True, expected 1"):
        expect(True, 1, "h")
    with pytest.raises(AssertionError):
        expect([1, 2], (1, 2), "tuple or list")
    assert close(TensorData(np.array([0.5])), 0.5) and not close("0.5x", 0.5) and not close(None, 0)
