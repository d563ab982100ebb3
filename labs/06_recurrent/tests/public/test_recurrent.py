"""Public tests of lab 6 (embeddings and recurrent nets): the check cells run these. Hidden tests run at grading."""

import numpy as np
import pytest

from labs.testing import call, get
import numtorch as nt


def vocabulary(ns):
    return get(ns, "chars", "run the vocabulary cell (exercise 1) first.")


@pytest.mark.exercise("vocab")
@pytest.mark.points(0.5)
def test_chars_and_char_to_id(ns):
    chars, text = vocabulary(ns), get(ns, "text", "run the cell that loads the text.")
    char_to_id = get(ns, "char_to_id", "define char_to_id in the vocabulary cell.")
    assert isinstance(chars, list) and len(chars) == len(set(chars)) and set(chars) == set(text), (
        "chars should be a list holding each character of the text exactly once. Hint: a set removes repeats; "
        "sorted(...) turns it into a sorted list.")
    assert chars == sorted(chars), "chars is not sorted. Hint: sorted(...) gives a sorted list."
    wrong = [ch for i, ch in enumerate(chars) if char_to_id.get(ch) != i]
    assert not wrong, (
        f"char_to_id should map each character to its index in chars; wrong for {wrong[:5]}. "
        f"Hint: enumerate(chars) gives (index, character) pairs.")


@pytest.mark.exercise("vocab")
@pytest.mark.points(0.5)
def test_encode_decode_round_trip(ns):
    line = "Beautiful is better than ugly."
    ids = call(get(ns, "encode"), line, hint="look each character up in char_to_id and return np.array(...).")
    assert isinstance(ids, np.ndarray) and ids.dtype.kind in "iu" and ids.shape == (len(line),), (
        f"encode({line!r}) should be an integer NumPy array of {len(line)} ids, got {ids!r:.80}. "
        f"Hint: np.array([...], dtype=int).")
    back = call(get(ns, "decode"), ids, hint="chars[i] for each id, joined into one string with ''.join(...).")
    assert back == line, f"decode(encode({line!r})) gave {back!r}. Hint: decode must undo encode."


@pytest.mark.exercise("one_hot")
@pytest.mark.points(0.5)
def test_one_hot_small(ns):
    rows = call(get(ns, "one_hot"), np.array([2, 0]), 4, hint="start from np.zeros((len(ids), size)) and set one 1 per row.")
    expected = [[0, 0, 1, 0], [1, 0, 0, 0]]
    assert isinstance(rows, np.ndarray) and rows.shape == (2, 4) and np.array_equal(rows, expected), (
        f"one_hot([2, 0], 4) should be {expected}, got {np.asarray(rows).tolist()}. Hint: row k has its 1 in "
        f"column ids[k].")


UNROLL_HINT = ("start from cell.init_hidden(batch); at each step t call the cell on embed(inputs[:, t]) and the "
               "previous hidden state, score the output against targets[:, t], and average over the steps.")


def tiny_rnn(seed, vocab=6, dim=3, hidden=4):
    np.random.seed(seed)
    return nt.layers.EmbeddingLayer(vocab, dim), nt.layers.RNNCell(dim, hidden, vocab, activation="tanh")


@pytest.mark.exercise("unroll")
@pytest.mark.points(1)
def test_sequence_loss_of_one_step(ns):
    embed, cell = tiny_rnn(10)
    inputs, targets = np.array([[1], [4]]), np.array([[2], [0]])
    loss = call(get(ns, "sequence_loss"), embed, cell, inputs, targets, hint=UNROLL_HINT)
    assert isinstance(loss, nt.Tensor) and loss.size == 1, (
        f"sequence_loss should return a scalar Tensor, got {loss!r:.80}. Hint: {UNROLL_HINT}")
    output, _ = cell(embed(inputs[:, 0]), cell.init_hidden(2))
    expected = output.cross_entropy(targets[:, 0]).item()
    assert np.isclose(loss.item(), expected), (
        f"for a single time step the loss should be the cross-entropy of that step, {expected:.5f}; got "
        f"{loss.item():.5f}. Hint: {UNROLL_HINT}")


@pytest.mark.exercise("unroll")
@pytest.mark.points(1)
def test_sequence_loss_carries_the_hidden_state(ns):
    embed, cell = tiny_rnn(11)
    inputs, targets = np.array([[1, 2, 3, 4], [5, 4, 3, 2]]), np.array([[2, 3, 4, 5], [4, 3, 2, 1]])
    call(get(ns, "sequence_loss"), embed, cell, inputs, targets, hint=UNROLL_HINT).backward()
    assert embed.weight.grad is not None and cell.w_ih.weight.grad is not None, (
        f"backward did not reach the embedding and the cell's weights. Hint: {UNROLL_HINT}")
    recurrent = cell.w_hh.weight.grad
    assert recurrent is not None and np.abs(recurrent.data).sum() > 0, (
        "the hidden-to-hidden weight got no gradient, so each step started from a fresh hidden state. Hint: pass "
        "the hidden state each call returns into the next call: output, hidden = cell(x, hidden).")


@pytest.mark.exercise("fit")
@pytest.mark.points(1)
def test_rnn_learned(ns):
    losses = get(ns, "rnn_losses", "run the cell that trains the RNN with your fit.")
    assert len(losses) == 200 and all(isinstance(v, float) for v in losses), (
        f"rnn_losses should hold 200 floats (one per step), got {len(losses)}. Hint: append loss.item() each step.")
    start, end = np.mean(losses[:5]), np.mean(losses[-10:])
    assert start - end > 2.0, (
        f"the loss only went from {start:.3f} to {end:.3f} (averaged over the first 5 and the last 10 steps); "
        f"it should drop by more than 2. Hint: one AdamOptimizer over embed.get_params() + cell.get_params(), and "
        f"a backward and a step for every batch.")


class IdEmbedding(nt.layers.Layer):
    """A fake embedding: each id becomes a 1-vector holding the id itself."""

    def forward(self, ids):
        return nt.Tensor(np.asarray(ids, dtype=float).reshape(-1, 1))


class NextCharacter(nt.layers.Layer):
    """A fake cell that is sure the next character is the one after its input in the vocabulary."""

    def __init__(self, vocab_size):
        self.vocab_size = vocab_size

    def init_hidden(self, batch_size=1):
        return nt.Tensor(np.zeros((batch_size, 1)))

    def forward(self, x, hidden):
        ids = x.data[:, 0].astype(int)
        logits = np.full((len(ids), self.vocab_size), -50.0)
        logits[np.arange(len(ids)), (ids + 1) % self.vocab_size] = 50.0
        return nt.Tensor(logits), hidden


SAMPLE_HINT = ("feed every character of start, then repeat n_chars times: probabilities from the last output, "
               "np.random.choice, feed the chosen id back in; return decode(...) of the new ids.")


@pytest.mark.exercise("sample")
@pytest.mark.points(0.5)
def test_sample_from_an_rnn(ns):
    chars = vocabulary(ns)
    np.random.seed(15)
    embed, rnn = nt.layers.EmbeddingLayer(len(chars), 3), nt.layers.RNNCell(3, 5, len(chars), activation="tanh")
    text = call(get(ns, "sample"), embed, rnn, "Beautiful is ", 30, 0.8, hint=SAMPLE_HINT)
    assert isinstance(text, str) and len(text) == 30 and set(text) <= set(chars), (
        f"sample(..., 'Beautiful is ', 30, 0.8) should return a string of 30 characters of the vocabulary, got "
        f"{text!r:.80}. Hint: {SAMPLE_HINT}")


@pytest.mark.exercise("sample")
@pytest.mark.points(0.5)
def test_sample_feeds_start_and_its_own_output(ns):
    chars = vocabulary(ns)
    after_b = "".join(chars[(chars.index("b") + k) % len(chars)] for k in (1, 2, 3, 4))
    text = call(get(ns, "sample"), IdEmbedding(), NextCharacter(len(chars)), "ab", 4, 1.0, hint=SAMPLE_HINT)
    assert text == after_b, (
        f"with a model that always predicts the next character of the vocabulary, sampling 4 characters after "
        f"'ab' should give {after_b!r}, got {text!r}. Hint: {SAMPLE_HINT}")


LSTM_HINT = ("follow the table: f, i, o from sigmoids, g from tanh, c' = f * c + i * g, h' = o * tanh(c'); "
             "return (cell.w_ho(h'), (h', c')).")


def lstm_case(seed, batch=3, n_in=4, n_hidden=5, n_out=6):
    np.random.seed(seed)
    cell = nt.layers.LSTMCell(n_in, n_hidden, n_out)
    x = nt.Tensor(np.random.randn(batch, n_in), autograd=True)
    h, c = (nt.Tensor(np.random.randn(batch, n_hidden), autograd=True) for _ in range(2))
    return cell, x, (h, c)


@pytest.mark.exercise("lstm")
@pytest.mark.points(0.5)
def test_lstm_step_returns_output_and_pair(ns):
    cell, x, hidden = lstm_case(20)
    result = call(get(ns, "lstm_step"), cell, x, hidden, hint=LSTM_HINT)
    ok = (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], tuple) and len(result[1]) == 2)
    assert ok, f"lstm_step should return (output, (h, c)), got {type(result).__name__}. Hint: {LSTM_HINT}"
    output, (h, c) = result
    assert (output.shape, h.shape, c.shape) == ((3, 6), (3, 5), (3, 5)), (
        f"shapes: output {output.shape}, h {h.shape}, c {c.shape}; expected (3, 6), (3, 5), (3, 5). Hint: {LSTM_HINT}")


@pytest.mark.exercise("lstm")
@pytest.mark.points(1)
def test_lstm_step_matches_the_cell(ns):
    cell, x, hidden = lstm_case(21)
    output, (h, c) = call(get(ns, "lstm_step"), cell, x, hidden, hint=LSTM_HINT)
    want_output, (want_h, want_c) = cell(x, hidden)
    for name, yours, want in (("c'", c, want_c), ("h'", h, want_h), ("output", output, want_output)):
        assert np.allclose(yours.data, want.data), (
            f"lstm_step's {name} differs from LSTMCell's (max difference {np.abs(yours.data - want.data).max():.3g}). "
            f"Hint: {LSTM_HINT}")
