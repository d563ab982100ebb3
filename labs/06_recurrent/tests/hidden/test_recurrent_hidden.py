"""Hidden tests of lab 6 (embeddings and recurrent nets): they run at grading and check more than the public ones."""

import numpy as np
import pytest

from labs.testing import call, get
import numtorch as nt


@pytest.mark.exercise("vocab")
@pytest.mark.points(0.5)
def test_round_trip_of_the_whole_text(ns):
    text = get(ns, "text", "run the cell that loads the text.")
    ids = call(get(ns, "encode"), text, hint="encode every character of the string, in order.")
    chars = get(ns, "chars", "run the vocabulary cell.")
    assert ids.min() >= 0 and ids.max() < len(chars), (
        f"ids should lie between 0 and {len(chars) - 1}, got {ids.min()} to {ids.max()}. Hint: use char_to_id.")
    assert call(get(ns, "decode"), ids, hint="join chars[i] for every id.") == text, (
        "decode(encode(text)) is not the text. Hint: decode must undo encode, character by character, in order.")


@pytest.mark.exercise("vocab")
@pytest.mark.points(0.5)
def test_decode_takes_lists_and_arrays(ns):
    chars = get(ns, "chars", "run the vocabulary cell.")
    hint = "iterate over the ids (a list or an array) and join chars[i] into one string."
    assert call(get(ns, "decode"), [0, len(chars) - 1], hint=hint) == chars[0] + chars[-1], (
        f"decode([0, {len(chars) - 1}]) should be the first and the last character of chars. Hint: {hint}")
    assert call(get(ns, "decode"), np.array([1, 1, 0]), hint=hint) == chars[1] * 2 + chars[0], (
        f"decode(np.array([1, 1, 0])) is wrong. Hint: {hint}")
    assert call(get(ns, "decode"), [], hint=hint) == "", f"decode([]) should be the empty string. Hint: {hint}"


@pytest.mark.exercise("one_hot")
@pytest.mark.points(0.5)
def test_one_hot_picks_embedding_rows(ns):
    hint = "row k is zeros with a 1.0 in column ids[k]; repeated ids give repeated rows."
    ids = np.array([3, 1, 3, 0, 6])
    rows = call(get(ns, "one_hot"), ids, 9, hint=hint)
    assert rows.shape == (5, 9) and rows.dtype.kind == "f", (
        f"one_hot(ids of length 5, 9) should be a float array of shape (5, 9), got {rows.dtype} {rows.shape}. "
        f"Hint: {hint}")
    weight = np.random.RandomState(0).randn(9, 2)
    assert np.allclose(rows @ weight, weight[ids]), (
        f"one_hot(ids, 9) @ W should pick the rows W[ids]. Hint: {hint}")


class IdEmbedding(nt.layers.Layer):
    """A fake embedding: each id becomes a 1-vector holding the id itself."""

    def forward(self, ids):
        ids = np.asarray(ids, dtype=float)
        return nt.Tensor(ids.reshape(ids.shape + (1,)))


class RecordingCell(nt.layers.Layer):
    """A fake cell that checks the hidden state it gets is the one it returned last, and records its inputs.

    Its hidden state counts the steps; its logits at step t are LOGITS[t] (fixed)."""

    def __init__(self, logits):
        self.logits, self.seen, self.carried = logits, [], True

    def init_hidden(self, batch_size=1):
        return nt.Tensor(np.zeros((batch_size, 1)))

    def forward(self, x, hidden):
        step = len(self.seen)
        self.carried &= bool(np.all(hidden.data == step))
        self.seen.append(x.data.reshape(len(x.data), -1)[:, 0].astype(int))
        return self.logits[step], nt.Tensor(hidden.data + 1)


@pytest.mark.exercise("unroll")
@pytest.mark.points(1)
def test_sequence_loss_reads_each_step_in_order(ns):
    hint = ("step t must embed inputs[:, t], get the hidden state returned by step t - 1, and be scored against "
            "targets[:, t]; the loss is the mean over the steps.")
    rng = np.random.RandomState(12)
    inputs, targets = rng.randint(0, 5, (3, 4)), rng.randint(0, 5, (3, 4))
    logits = [nt.Tensor(rng.randn(3, 5), autograd=True) for _ in range(4)]
    cell = RecordingCell(logits)
    loss = call(get(ns, "sequence_loss"), IdEmbedding(), cell, inputs, targets, hint=hint)
    assert len(cell.seen) == 4, f"the cell ran {len(cell.seen)} times for 4 time steps. Hint: {hint}"
    assert all(np.array_equal(seen, inputs[:, t]) for t, seen in enumerate(cell.seen)), (
        f"the cell did not read inputs[:, 0], inputs[:, 1], ... in order. Hint: {hint}")
    assert cell.carried, f"some step got a hidden state other than the one the previous step returned. Hint: {hint}"
    per_step = [logits[t].cross_entropy(targets[:, t]).item() for t in range(4)]
    assert np.isclose(loss.item(), np.mean(per_step)), (
        f"with these outputs the loss should be the mean of the per-step losses, {np.mean(per_step):.5f} "
        f"(their sum is {np.sum(per_step):.5f}); got {loss.item():.5f}. Hint: {hint}")


FIT_HINT = ("one AdamOptimizer over embed.get_params() + cell.get_params() with learning rate lr; each step a "
            "random_batch(), the sequence_loss, loss.item() appended, backward, step.")


def tiny_model(ns, seed):
    np.random.seed(seed)
    vocab_size = len(get(ns, "chars", "run the vocabulary cell."))
    return nt.layers.EmbeddingLayer(vocab_size, 3), nt.layers.RNNCell(3, 4, vocab_size, activation="tanh")


def snapshot(*layers):
    return [p.data.copy() for layer in layers for p in layer.parameters()]


@pytest.mark.exercise("fit")
@pytest.mark.points(0.5)
def test_fit_updates_embedding_and_cell_with_the_given_rate(ns):
    embed, cell = tiny_model(ns, 13)
    before = snapshot(embed, cell)
    losses = call(get(ns, "fit"), embed, cell, 3, 0.05, hint=FIT_HINT)
    assert len(losses) == 3 and all(isinstance(v, float) for v in losses), (
        f"fit(..., steps=3) should return 3 floats, got {losses!r:.80}. Hint: {FIT_HINT}")
    moved = [not np.allclose(b, a) for b, a in zip(before, snapshot(embed, cell))]
    assert moved[0] and all(moved[1:]), (
        f"fit changed {sum(moved)} of the {len(moved)} parameters; the embedding and every cell weight should move. "
        f"Hint: {FIT_HINT}")
    embed, cell = tiny_model(ns, 13)
    before = snapshot(embed, cell)
    call(get(ns, "fit"), embed, cell, 2, 0.0, hint=FIT_HINT)
    assert all(np.allclose(b, a) for b, a in zip(before, snapshot(embed, cell))), (
        f"with lr=0.0 fit should not change any parameter. Hint: pass lr to the optimizer: {FIT_HINT}")


@pytest.mark.exercise("fit")
@pytest.mark.points(0.5)
def test_trained_rnn_predicts_the_text(ns):
    embed, rnn = get(ns, "rnn_embed", "run the RNN training cell."), get(ns, "rnn", "run the RNN training cell.")
    ids = call(get(ns, "encode"), get(ns, "text", "run the text cell.")[:401], hint="encode must work first.")
    with nt.no_grad():
        loss = call(get(ns, "sequence_loss"), embed, rnn, ids[None, :-1], ids[None, 1:], hint="sequence_loss must work first.")
    assert loss.item() < 1.5, (
        f"the trained RNN's loss on the first 400 characters is {loss.item():.3f}; after 200 steps it should be "
        f"below 1.5. Hint: {FIT_HINT}")


class FixedLogits(nt.layers.Layer):
    """A fake cell whose output is always the logits [2, 1, 0, 0, ...]."""

    def __init__(self, vocab_size):
        self.logits = np.zeros((1, vocab_size))
        self.logits[0, :2] = [2.0, 1.0]

    def init_hidden(self, batch_size=1):
        return nt.Tensor(np.zeros((batch_size, 1)))

    def forward(self, x, hidden):
        return nt.Tensor(self.logits), hidden


@pytest.mark.exercise("sample")
@pytest.mark.points(0.5)
def test_sample_temperature(ns):
    hint = ("divide the output by the temperature before softmax(dim=1), and draw each character with "
            "np.random.choice(..., p=probabilities).")
    chars = get(ns, "chars", "run the vocabulary cell.")
    cell = FixedLogits(len(chars))
    cold = call(get(ns, "sample"), IdEmbedding(), cell, "a", 200, 0.05, hint=hint)
    hot = call(get(ns, "sample"), IdEmbedding(), cell, "a", 200, 100.0, hint=hint)
    assert cold.count(chars[0]) >= 195, (
        f"at temperature 0.05 almost every character should be the favourite {chars[0]!r}; got "
        f"{cold.count(chars[0])} of 200. Hint: {hint}")
    assert len(set(hot)) >= 20, (
        f"at temperature 100 the choice is nearly uniform over {len(chars)} characters, but only {len(set(hot))} "
        f"different ones came out of 200. Hint: {hint}")


@pytest.mark.exercise("sample")
@pytest.mark.points(0.5)
def test_sample_works_with_an_lstm(ns):
    hint = ("treat the hidden state as opaque: take it from cell.init_hidden(1) and pass on what the cell returns, "
            "so a pair (h, c) works too; wrap the loop in nt.no_grad().")
    chars = get(ns, "chars", "run the vocabulary cell.")
    np.random.seed(14)
    embed, lstm = nt.layers.EmbeddingLayer(len(chars), 3), nt.layers.LSTMCell(3, 4, len(chars))
    text = call(get(ns, "sample"), embed, lstm, "Now is ", 25, 1.0, hint=hint)
    assert isinstance(text, str) and len(text) == 25 and set(text) <= set(chars), (
        f"sampling 25 characters from an LSTM gave {text!r:.60}. Hint: {hint}")


LSTM_HINT = ("build c' and h' from the four gates with the cell's own layers (cell.xf, cell.hf, ...), and return "
             "(cell.w_ho(h'), (h', c')).")


@pytest.mark.exercise("lstm")
@pytest.mark.points(1)
def test_lstm_step_gradients_match_the_cell(ns):
    def case():
        np.random.seed(22)
        cell = nt.layers.LSTMCell(3, 4, 2)
        x = nt.Tensor(np.random.randn(2, 3), autograd=True)
        h, c = (nt.Tensor(np.random.randn(2, 4), autograd=True) for _ in range(2))
        return cell, x, h, c

    grads = []
    for step in (lambda cell, x, hidden: call(get(ns, "lstm_step"), cell, x, hidden, hint=LSTM_HINT),
                 lambda cell, x, hidden: cell(x, hidden)):
        cell, x, h, c = case()
        output, (new_h, new_c) = step(cell, x, (h, c))
        (output.sum() + new_h.sum() * 2 + new_c.sum() * 3).backward()
        grads.append([None if t.grad is None else t.grad.data for t in [x, h, c] + cell.get_params()])
    names = ["x", "h", "c"] + [name for name, _ in nt.layers.LSTMCell(3, 4, 2).named_parameters()]
    for name, yours, want in zip(names, *grads):
        assert yours is not None and np.allclose(yours, want), (
            f"the gradient with respect to {name} differs from LSTMCell's. Hint: {LSTM_HINT}")


@pytest.mark.exercise("lstm")
@pytest.mark.points(0.5)
def test_lstm_step_is_written_out(ns, monkeypatch):
    def forbidden(self, *args):
        raise RuntimeError("lstm_step must compute the step itself, not call the LSTMCell")

    monkeypatch.setattr(nt.layers.LSTMCell, "forward", forbidden)
    np.random.seed(23)
    cell = nt.layers.LSTMCell(2, 3, 2)
    hidden = cell.init_hidden(1)
    output, (h, c) = call(get(ns, "lstm_step"), cell, nt.Tensor([[1.0, -1.0]]), hidden, hint=LSTM_HINT)
    assert np.all(np.abs(h.data) < 1) and output.shape == (1, 2), (
        f"h' = o * tanh(c') must lie between -1 and 1, got {h.data}. Hint: {LSTM_HINT}")
