"""Public tests of lab 6 (embeddings and recurrent nets): the check cells run these. Hidden tests run at grading.

Models are built from the same np.random seed in the student's process and on the judge's side (tests/conftest.py);
fit and sample run with a stand-in vocabulary (and fit with a stand-in loss), so each is graded on its own."""
import numpy as np
import pytest

from labs.testing import describe

VOCAB_HINT = "chars = sorted(set(text)) gives a sorted list; enumerate(chars) gives (index, character) pairs."


@pytest.mark.exercise("vocab")
@pytest.mark.points(0.5)
def test_chars_and_char_to_id(student, shared):
    got = student.run("result = {'type': type(chars).__name__, 'chars': list(chars), 'char_to_id': char_to_id}",
                      what="chars and char_to_id", hint=VOCAB_HINT)
    chars, char_to_id = got["chars"], got["char_to_id"]
    assert got["type"] == "list" and chars == shared.CHARS, (
        f"chars should be the sorted list of the {len(shared.CHARS)} different characters of the text; got a "
        f"{got['type']} of {len(chars)} starting {chars[:5]}. Hint: {VOCAB_HINT}")
    assert isinstance(char_to_id, dict), (
        f"char_to_id should be a dict, got {type(char_to_id).__name__}. Hint: {VOCAB_HINT}")
    wrong = [ch for i, ch in enumerate(shared.CHARS) if char_to_id.get(ch) != i]
    assert not wrong and len(char_to_id) == len(chars), (
        f"char_to_id should map each character to its index in chars; wrong for {wrong[:5]}. Hint: {VOCAB_HINT}")


@pytest.mark.exercise("vocab")
@pytest.mark.points(0.5)
def test_encode_decode_round_trip(student):
    line = "Beautiful is better than ugly."
    ids, back = student.run("ids = encode(line)\nresult = [ids, decode(ids)]", line=line,
                            what=f"decode(encode({line!r}))",
                            hint="encode looks each character up in char_to_id; decode joins chars[i] for each id.")
    assert isinstance(ids, np.ndarray) and ids.dtype.kind in "iu" and ids.shape == (len(line),), (
        f"encode({line!r}) should be an integer NumPy array of {len(line)} ids, got {describe(ids)}. "
        f"Hint: np.array([...], dtype=int).")
    assert back == line, f"decode(encode({line!r})) gave {back!r}. Hint: decode must undo encode, in order."


@pytest.mark.exercise("one_hot")
@pytest.mark.points(0.5)
def test_one_hot_small(student):
    rows = student.call("one_hot", np.array([2, 0]), 4, what="one_hot([2, 0], 4)",
                        hint="start from np.zeros((len(ids), size)) and set one 1 per row.")
    expected = [[0, 0, 1, 0], [1, 0, 0, 0]]
    assert isinstance(rows, np.ndarray) and rows.shape == (2, 4) and np.array_equal(rows, expected), (
        f"one_hot([2, 0], 4) should be the array {expected}, got {np.asarray(rows).tolist()}. Hint: row k has its 1 "
        f"in column ids[k].")


UNROLL_HINT = ("start from cell.init_hidden(batch); at each step t call the cell on embed(inputs[:, t]) and the "
               "previous hidden state, score the output against targets[:, t], and average over the steps.")


def unroll(student, shared, rng, batch, steps):
    """sequence_loss on a seeded random RNN and windows from `rng`: (yours, inputs as for the judge)."""
    inputs = dict(vocab=6, dim=3, n_hidden=4, inputs=rng.integers(0, 6, (batch, steps)),
                  targets=rng.integers(0, 6, (batch, steps)))
    seed = int(rng.integers(2 ** 31))
    yours = student.run(shared.UNROLL, seed=seed, what=f"sequence_loss on {batch} windows of {steps} steps",
                        hint=UNROLL_HINT, **inputs)
    assert yours["type"] == "Tensor" and yours["size"] == 1, (
        f"sequence_loss should return a scalar nt.Tensor (so that backward() works), got a {yours['type']} of size "
        f"{yours['size']}. Hint: keep the loss a Tensor: no .item() or .data; {UNROLL_HINT}")
    return yours, dict(inputs, seed=seed)


def one_step_loss(embed, cell, inputs, targets):
    """The loss of a one-step window: the cross-entropy of the cell's first output."""
    output, _ = cell(embed(inputs[:, 0]), cell.init_hidden(len(inputs)))
    return output.cross_entropy(targets[:, 0])


@pytest.mark.exercise("unroll")
@pytest.mark.points(0.5)
def test_sequence_loss_of_one_step(student, shared, rng):
    yours, inputs = unroll(student, shared, rng, batch=2, steps=1)
    expected = shared.on_judge(shared.UNROLL, sequence_loss=one_step_loss, **inputs)
    assert np.isclose(yours["loss"], expected["loss"]), (
        f"for a single time step the loss should be the cross-entropy of that step, {expected['loss']:.5f}; got "
        f"{yours['loss']:.5f}. Hint: {UNROLL_HINT}")


@pytest.mark.exercise("unroll")
@pytest.mark.points(0.5)
def test_sequence_loss_carries_the_hidden_state(student, shared, rng):
    yours, _ = unroll(student, shared, rng, batch=3, steps=4)
    names = ["embed.weight", "w_ih.weight", "w_ih.bias", "w_hh.weight", "w_hh.bias", "w_ho.weight", "w_ho.bias"]
    missing = [name for name, grad in zip(names, yours["grads"]) if not np.abs(grad).sum() > 0]
    assert not missing, (
        f"after backward() these parameters have no gradient: {', '.join(missing)}. Hint: pass the hidden state "
        f"each call returns into the next call (output, hidden = cell(x, hidden)), so that w_hh is used from the "
        f"second step on; {UNROLL_HINT}")


FIT_HINT = ("one AdamOptimizer over embed.get_params() + cell.get_params() with learning rate lr; each step: "
            "random_batch(), sequence_loss(...), loss.item() appended, backward, step.")

@pytest.mark.exercise("fit")
@pytest.mark.points(0.5)
def test_fit_trains_embedding_and_cell(student, shared, floats):
    got = student.run(shared.FIT, steps=40, lr=0.05, replace=shared.STAND_IN_FIT,
                      what="fit(embed, cell, steps=40, lr=0.05)", hint=FIT_HINT)
    losses = got["losses"]
    assert not floats(losses, 40), (
        f"fit(..., steps=40) should return a list of 40 floats (one loss per step), got {floats(losses, 40)}. "
        f"Hint: {FIT_HINT}")
    assert all(got["moved"]), (
        f"fit changed {sum(got['moved'])} of the {len(got['moved'])} parameters; the embedding and every cell "
        f"weight should move. Hint: {FIT_HINT}")
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), (
        f"on a stand-in loss that Adam with lr 0.05 brings down quickly, fit's losses went from "
        f"{np.mean(losses[:5]):.3f} to {np.mean(losses[-5:]):.3f}. Hint: {FIT_HINT}")


@pytest.mark.exercise("fit")
@pytest.mark.points(0.5)
def test_fit_uses_the_learning_rate(student, shared):
    got = student.run(shared.FIT, steps=3, lr=0.0, replace=shared.STAND_IN_FIT,
                      what="fit(embed, cell, steps=3, lr=0.0)", hint=FIT_HINT)
    assert not any(got["moved"]), (
        f"with lr=0.0 fit should not change any parameter, but it changed {sum(got['moved'])}. Hint: pass lr to "
        f"the optimizer: {FIT_HINT}")


SAMPLE_HINT = ("feed every character of start, then repeat n_chars times: probabilities from the last output, "
               "np.random.choice, feed the chosen id back in; return decode(...) of the new ids.")


@pytest.mark.exercise("sample")
@pytest.mark.points(0.5)
def test_sample_from_an_rnn(student, shared):
    text = student.run("""
        embed, rnn = nt.layers.EmbeddingLayer(8, 3), nt.layers.RNNCell(3, 5, 8, activation="tanh")
        result = sample(embed, rnn, "badge", 30, 0.8)
    """, replace=shared.STAND_IN_VOCAB, what="sample(embed, rnn, 'badge', 30, 0.8)", hint=SAMPLE_HINT)
    assert isinstance(text, str) and len(text) == 30 and set(text) <= set("abcdefgh"), (
        f"with the vocabulary a..h, sample(..., 'badge', 30, 0.8) should return a string of 30 of its letters, "
        f"got {text!r:.80}. Hint: {SAMPLE_HINT}")


@pytest.mark.exercise("sample")
@pytest.mark.points(0.5)
def test_sample_feeds_start_and_its_own_output(student, shared):
    text = student.run(shared.FAKES + "result = sample(IdEmbedding(), NextCharacter(8), 'ab', 4, 1.0)",
                       replace=shared.STAND_IN_VOCAB, what="sample(..., 'ab', 4, 1.0) from a model that counts",
                       hint=SAMPLE_HINT)
    assert text == "cdef", (
        f"with the vocabulary a..h and a model sure that the next letter is the one after its input, sampling 4 "
        f"characters after 'ab' should give 'cdef', got {text!r:.40}. Hint: {SAMPLE_HINT}")


LSTM_HINT = ("follow the table: f, i, o from sigmoids, g from tanh, c' = f * c + i * g, h' = o * tanh(c'); "
             "return (cell.w_ho(h'), (h', c')). Calling the cell itself (cell(x, hidden)) is off-limits here.")
@pytest.mark.exercise("lstm")
@pytest.mark.points(0.5)
def test_lstm_step_returns_output_and_pair(run_lstm, make_lstm_case, rng):
    run_lstm(make_lstm_case(rng, batch=3, n_in=4, n_hidden=5, n_out=6), LSTM_HINT)


@pytest.mark.exercise("lstm")
@pytest.mark.points(0.5)
def test_lstm_step_matches_the_cell(run_lstm, make_lstm_case, rng):
    yours, expected = run_lstm(make_lstm_case(rng, batch=3, n_in=4, n_hidden=5, n_out=6), LSTM_HINT)
    for name, label in (("c", "c'"), ("h", "h'"), ("output", "output")):
        difference = np.abs(yours[name].data - expected[name].data).max()
        assert difference < 1e-6, (
            f"lstm_step's {label} differs from LSTMCell's (max difference {difference:.3g}). Hint: {LSTM_HINT}")
