"""Shared by lab 6's public and hidden tests (shipped with the public ones): the text as the judge knows it,
stand-ins that let one exercise be tested without the student's other answers, and the snippets that build
the same small models in the student's process and on the judge's side (from the same np.random seed)."""
import codecs
import contextlib
import io
from types import SimpleNamespace

import numpy as np
import pytest

import numtorch as nt
from labs.testing import TensorData, not_floats, run_on_judge

with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the Zen of Python
    import this

TEXT = codecs.decode(this.s, "rot13")
CHARS = sorted(set(TEXT))

# A vocabulary of the 8 letters a..h put in place of the notebook's (replace=), so that sample and fit are
# graded whatever the student's answer to exercise 1.
STAND_IN_VOCAB = {
    "chars": "chars = list('abcdefgh')",
    "char_to_id": "char_to_id = {ch: ord(ch) - ord('a') for ch in 'abcdefgh'}",
    "vocab_size": "vocab_size = 8",
    "encode": "def encode(string):\n    return np.array([ord(ch) - ord('a') for ch in string], dtype=int)",
    "decode": "def decode(ids):\n    return ''.join(chr(ord('a') + int(i)) for i in ids)",
}

# Fake embedding and cells, defined in the student's process by the sample tests.
FAKES = """
class IdEmbedding(nt.layers.Layer):
    '''Each id becomes a 1-vector holding the id itself.'''
    def forward(self, ids):
        return nt.Tensor(np.asarray(ids, dtype=float).reshape(-1, 1))

class Logits(nt.layers.Layer):
    '''A cell whose output is always the same logits; counts its calls in its (h, c) state.'''
    def __init__(self, logits):
        self.logits = np.asarray(logits, dtype=float).reshape(1, -1)
    def init_hidden(self, batch_size=1):
        return nt.Tensor(np.zeros((batch_size, 1))), nt.Tensor(np.zeros((batch_size, 1)))
    def forward(self, x, hidden):
        h, c = hidden
        return nt.Tensor(self.logits), (h + 1, c)

class NextCharacter(Logits):
    '''Sure that the next id is its input's plus one.'''
    def __init__(self, size):
        self.size = size
    def forward(self, x, hidden):
        return nt.Tensor(self.peak(int(x.data[0, 0]) + 1)), hidden
    def peak(self, id):
        logits = np.full((1, self.size), -50.0)
        logits[0, id % self.size] = 50.0
        return logits

class Counter(NextCharacter):
    '''Sure that the next id is the number of calls so far (its state (h, c) counts them in h).'''
    def forward(self, x, hidden):
        h, c = hidden
        return nt.Tensor(self.peak(int(h.data[0, 0]) + 1)), (h + 1, c)
"""

# A stand-in loss (not the answer to exercise 3) and stand-in batches of ids 0..5, so fit is graded on its own.
STAND_IN_FIT = {
    "random_batch": ("def random_batch(batch_size=32, seq_len=16):\n"
                     "    ids = np.random.randint(0, 6, size=(batch_size, seq_len + 1))\n"
                     "    return ids[:, :-1], ids[:, 1:]"),
    "sequence_loss": ("def sequence_loss(embed, cell, inputs, targets):\n"
                      "    fit = ((embed(inputs[:, 0]) - targets[:, :1] / 6) ** 2).mean()\n"
                      "    return fit + sum(((p - 0.1) ** 2).mean() for p in cell.get_params())"),
}

# fit on a seeded tiny model (with the stand-ins): the losses, which parameters moved, and where they ended.
FIT = """
embed, cell = nt.layers.EmbeddingLayer(6, 3), nt.layers.RNNCell(3, 4, 6, activation="tanh")
params = embed.get_params() + cell.get_params()
before = [p.data.copy() for p in params]
losses = fit(embed, cell, steps, lr)
result = {"losses": losses, "moved": [bool(np.any(b != p.data)) for b, p in zip(before, params)],
          "params": [p.data for p in params]}
"""

# A seeded tanh RNNCell and embedding with every parameter random (biases too), run over `inputs`.
RNN = """
embed = nt.layers.EmbeddingLayer(vocab, dim)
cell = nt.layers.RNNCell(dim, n_hidden, vocab, activation="tanh")
params = embed.get_params() + cell.get_params()
for p in params:
    p.data[...] = np.random.randn(*p.shape)
"""

# sequence_loss over one batch of windows: the loss and every parameter's gradient.
UNROLL = RNN + """
loss = sequence_loss(embed, cell, inputs, targets)
result = {"type": type(loss).__name__, "size": int(np.size(getattr(loss, "data", loss)))}
if isinstance(loss, nt.Tensor) and loss.data.size == 1:
    loss.backward()
    result["loss"] = loss.item()
    result["grads"] = [np.zeros(p.shape) if p.grad is None else p.grad.data for p in params]
"""

# One LSTM step of a seeded LSTMCell (every parameter random) and the gradients of a random mix of its results.
LSTM_STEP = """
cell = nt.layers.LSTMCell(n_in, n_hidden, n_out)
for p in cell.get_params():
    p.data[...] = np.random.randn(*p.shape) * 0.5
x, h, c = (nt.tensor(a, requires_grad=True) for a in (x0, h0, c0))
output, (new_h, new_c) = lstm_step(cell, x, (h, c))
result = {"output": output, "h": new_h, "c": new_c}
if all(isinstance(t, nt.Tensor) and t.shape == u.shape for t, u in zip((output, new_h, new_c), upstream)):
    ((output * upstream[0]).sum() + (new_h * upstream[1]).sum() + (new_c * upstream[2]).sum()).backward()
    result["grads"] = [np.zeros(t.shape) if t.grad is None else t.grad.data for t in [x, h, c] + cell.get_params()]
"""


@pytest.fixture
def shared():
    """The pieces above, as attributes (a test file cannot import its conftest)."""
    return SimpleNamespace(TEXT=TEXT, CHARS=CHARS, STAND_IN_VOCAB=STAND_IN_VOCAB, STAND_IN_FIT=STAND_IN_FIT, FIT=FIT,
                           FAKES=FAKES, RNN=RNN, UNROLL=UNROLL, LSTM_STEP=LSTM_STEP, on_judge=run_on_judge)


@pytest.fixture
def floats():
    """floats(value, length): None for a list of `length` floats, else what `value` is instead."""
    return not_floats


LSTM_OFF = ("numtorch.layers.recurrent.LSTMCell.forward",)


def lstm_case(rng, batch, n_in, n_hidden, n_out):
    """The inputs of the LSTM_STEP snippet, drawn from rng."""
    return dict(n_in=n_in, n_hidden=n_hidden, n_out=n_out, x0=rng.normal(size=(batch, n_in)),
                h0=rng.normal(size=(batch, n_hidden)), c0=rng.normal(size=(batch, n_hidden)),
                upstream=[rng.normal(size=(batch, n)) for n in (n_out, n_hidden, n_hidden)],
                seed=int(rng.integers(2 ** 31)))


def library_step(cell, x, hidden):
    return cell(x, hidden)


@pytest.fixture
def run_lstm(student):
    """run_lstm(case, hint) -> (yours, expected): lstm_step in the student's process (LSTMCell.forward off-limits)
    and the library's LSTMCell on the judge's side, on the same case (lstm_case); fails unless the student's
    step returns (output, (h', c')) as tensors of the cell's shapes."""

    def run(case, hint):
        yours = student.run(LSTM_STEP, what="lstm_step(cell, x, (h, c))", hint=hint, unavailable=LSTM_OFF, **case)
        expected = run_on_judge(LSTM_STEP, lstm_step=library_step, **case)
        for name in ("output", "h", "c"):
            got, want = yours[name], expected[name]
            assert isinstance(got, TensorData), f"lstm_step's {name} is a {type(got).__name__}, not a Tensor. Hint: {hint}"
            assert got.shape == want.shape, (
                f"lstm_step's {name} has shape {got.shape}, expected {want.shape}: return (output, (h', c')) in that "
                f"order. Hint: {hint}")
        return yours, expected

    return run


@pytest.fixture
def make_lstm_case():
    """make_lstm_case(rng, batch, n_in, n_hidden, n_out): the inputs of one lstm_step check."""
    return lstm_case
