"""Hidden tests of lab 6 (embeddings and recurrent nets): they run at grading and check more than the public ones.

Inputs come from `rng` (per submission); expected values are computed on the judge's side by the reference
pieces below, on models built from the same seed as the student's (tests/conftest.py)."""
import numpy as np
import pytest

from labs.testing import describe
import numtorch as nt


@pytest.mark.exercise("vocab")
@pytest.mark.points(0.5)
def test_encode_and_decode_random_text(student, shared, rng):
    string = "".join(rng.choice(shared.CHARS, size=60))
    ids, back = student.run("ids = encode(string)\nresult = [ids, decode(ids)]", string=string,
                            what="encode and decode of 60 random characters of the text",
                            hint="encode gives each character's index in chars; decode undoes it, in order.")
    expected = [shared.CHARS.index(ch) for ch in string]
    assert isinstance(ids, np.ndarray) and ids.dtype.kind in "iu", (
        f"encode should return an integer NumPy array, got {describe(ids)}. Hint: np.array([...], dtype=int).")
    assert ids.tolist() == expected, (
        f"encode should give each character's index in chars; for {string[:12]!r}... it gave "
        f"{ids.tolist()[:12]}... instead of {expected[:12]}... Hint: char_to_id[ch] for each ch.")
    assert back == string, f"decode(encode(s)) is not s for s = {string[:20]!r}... Hint: join chars[i] in order."


@pytest.mark.exercise("vocab")
@pytest.mark.points(0.5)
def test_decode_takes_lists_arrays_and_nothing(student, shared, rng):
    ids = rng.integers(0, len(shared.CHARS), size=5)
    got = student.run("result = [decode(ids.tolist()), decode(ids), decode([]), encode('')]", ids=ids,
                      what="decode of a list, an array and [], and encode('')",
                      hint="iterate over the ids (a list or an array) and join chars[i] into one string.")
    expected = "".join(shared.CHARS[i] for i in ids)
    assert got[:3] == [expected, expected, ""], (
        f"decode({ids.tolist()}) should be {expected!r} for a list and for an array, and decode([]) should be ''; "
        f"got {got[:3]!r}. Hint: iterate over the ids and join chars[i] into one string.")
    assert isinstance(got[3], np.ndarray) and got[3].shape == (0,) and got[3].dtype.kind in "iu", (
        f"encode('') should be an empty integer array, got {got[3]!r:.60}. Hint: np.array([...], dtype=int).")


@pytest.mark.exercise("one_hot")
@pytest.mark.points(0.5)
def test_one_hot_picks_embedding_rows(student, rng):
    size = int(rng.integers(5, 12))
    ids = rng.integers(0, size, size=7)
    rows = student.call("one_hot", ids, size, what=f"one_hot(7 ids, {size})",
                        hint="row k is zeros with a 1.0 in column ids[k]; repeated ids give repeated rows.")
    assert isinstance(rows, np.ndarray) and rows.shape == (7, size) and rows.dtype.kind == "f", (
        f"one_hot(7 ids, {size}) should be a float array of shape (7, {size}), got {type(rows).__name__} "
        f"{getattr(rows, 'dtype', '')} {getattr(rows, 'shape', '')}. Hint: np.zeros((len(ids), size)).")
    assert np.array_equal(rows, np.eye(size)[ids]), (
        f"one_hot({ids.tolist()}, {size}) has its 1s in the wrong places. Hint: row k has a single 1, in column "
        f"ids[k]; one_hot(ids, size) @ W must pick the rows W[ids].")


def step_losses(embed, cell, inputs, targets):
    """The cross-entropy of every step, the hidden state carried along."""
    hidden, losses = cell.init_hidden(len(inputs)), []
    for t in range(inputs.shape[1]):
        output, hidden = cell(embed(inputs[:, t]), hidden)
        losses.append(output.cross_entropy(targets[:, t]))
    return losses


def reference_sequence_loss(embed, cell, inputs, targets):
    """The mean over the steps."""
    losses = step_losses(embed, cell, inputs, targets)
    return sum(losses[1:], losses[0]) / len(losses)


def sum_of_losses(embed, cell, inputs, targets):
    losses = step_losses(embed, cell, inputs, targets)
    return sum(losses[1:], losses[0])


def last_step_loss(embed, cell, inputs, targets):
    return step_losses(embed, cell, inputs, targets)[-1]


def fresh_hidden_loss(embed, cell, inputs, targets):
    hidden = cell.init_hidden(len(inputs))
    losses = [cell(embed(inputs[:, t]), hidden)[0].cross_entropy(targets[:, t]) for t in range(inputs.shape[1])]
    return sum(losses[1:], losses[0]) / len(losses)


UNROLL_HINT = ("start from cell.init_hidden(batch); at each step t call the cell on embed(inputs[:, t]) and the "
               "hidden state the previous call returned, score the output against targets[:, t] with "
               ".cross_entropy, and return the mean over the T steps as a Tensor.")
KNOWN_SLIPS = ((sum_of_losses, "the sum of the step losses: divide by the number of steps T"),
               (last_step_loss, "the loss of the last step only: score every step and average"),
               (fresh_hidden_loss, "every step started from a fresh hidden state: pass on the one the cell returned"))


def windows(student, shared, rng, batch, steps):
    """sequence_loss on a seeded random RNN in the student's process and the reference on the judge's side."""
    case = dict(vocab=7, dim=3, n_hidden=5, inputs=rng.integers(0, 7, (batch, steps)),
                targets=rng.integers(0, 7, (batch, steps)), seed=int(rng.integers(2 ** 31)))
    yours = student.run(shared.UNROLL, what=f"sequence_loss on {batch} windows of {steps} steps", hint=UNROLL_HINT,
                        **case)
    assert yours["type"] == "Tensor" and yours["size"] == 1, (
        f"sequence_loss should return a scalar nt.Tensor, got a {yours['type']} of size {yours['size']}. "
        f"Hint: {UNROLL_HINT}")
    return yours, case


@pytest.mark.exercise("unroll")
@pytest.mark.points(1)
def test_sequence_loss_is_the_mean_over_several_lengths(student, shared, rng):
    for steps in (int(rng.integers(2, 4)), int(rng.integers(5, 8))):
        yours, case = windows(student, shared, rng, batch=int(rng.integers(2, 5)) + steps, steps=steps)
        expected = shared.on_judge(shared.UNROLL, sequence_loss=reference_sequence_loss, **case)["loss"]
        if np.isclose(yours["loss"], expected, rtol=1e-6):
            continue
        slips = [why for slip, why in KNOWN_SLIPS
                 if np.isclose(yours["loss"], shared.on_judge(shared.UNROLL, sequence_loss=slip, **case)["loss"])]
        raise AssertionError(
            f"on windows of {steps} steps sequence_loss gave {yours['loss']:.5f} instead of {expected:.5f}"
            + (f": that is {slips[0]}" if slips else "") + f". Hint: {UNROLL_HINT}")


PARAMETERS = ["embed.weight", "cell.w_ih.weight", "cell.w_ih.bias", "cell.w_hh.weight", "cell.w_hh.bias",
              "cell.w_ho.weight", "cell.w_ho.bias"]


@pytest.mark.exercise("unroll")
@pytest.mark.points(1)
def test_gradients_flow_back_through_time(student, shared, rng):
    steps = int(rng.integers(4, 7))
    yours, case = windows(student, shared, rng, batch=3, steps=steps)
    expected = shared.on_judge(shared.UNROLL, sequence_loss=reference_sequence_loss, **case)
    assert np.isclose(yours["loss"], expected["loss"], rtol=1e-6), (
        f"on a {steps}-step window the loss is {yours['loss']:.5f}, not {expected['loss']:.5f}, so its gradients "
        f"cannot be right either: make the loss right first (the other sequence_loss test says how). "
        f"Hint: {UNROLL_HINT}")
    wrong = [name for name, got, want in zip(PARAMETERS, yours["grads"], expected["grads"])
             if not np.allclose(got, want, rtol=1e-5, atol=1e-8)]
    assert not wrong, (
        f"after backward() on a {steps}-step window the gradients of {', '.join(wrong)} differ from backpropagation "
        f"through the whole unrolled graph. Hint: the gradient must flow back through the hidden state: pass on "
        f"the very tensor the cell returned (no nt.Tensor(hidden.data), no fresh init_hidden inside the loop, "
        f"no .data); {UNROLL_HINT}")


FIT_HINT = ("make one AdamOptimizer, before the loop, over embed.get_params() + cell.get_params() with learning "
            "rate lr; at each of the `steps` steps call random_batch() once, compute sequence_loss(embed, cell, "
            "inputs, targets), append loss.item(), then backward and step.")

REFERENCE_FIT = """
def fit(embed, cell, steps, lr=0.01):
    optimizer = nt.optimizers.AdamOptimizer(embed.get_params() + cell.get_params(), lr=lr)
    losses = []
    for _ in range(steps):
        inputs, targets = random_batch()
        loss = sequence_loss(embed, cell, inputs, targets)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
"""


@pytest.mark.exercise("fit")
@pytest.mark.points(1)
def test_fit_follows_the_reference_training_loop(student, shared, rng, floats):
    steps, lr, seed = int(rng.integers(6, 10)), float(rng.uniform(0.02, 0.1)), int(rng.integers(2 ** 31))
    yours = student.run(shared.FIT, steps=steps, lr=lr, seed=seed, replace=shared.STAND_IN_FIT,
                        what=f"fit(embed, cell, steps={steps}, lr={lr:.3f})", hint=FIT_HINT)
    stand_ins = "\n".join(shared.STAND_IN_FIT.values())
    expected = shared.on_judge(stand_ins + REFERENCE_FIT + shared.FIT, steps=steps, lr=lr, seed=seed)
    losses = yours["losses"]
    assert not floats(losses, steps), (
        f"fit(..., steps={steps}) should return a list of {steps} losses (floats), got {floats(losses, steps)}. "
        f"Hint: {FIT_HINT}")
    bad = [k for k, (a, b) in enumerate(zip(losses, expected["losses"])) if not np.isclose(a, b, rtol=1e-6)]
    assert not bad, (
        f"with the same seed, batches and loss, fit's loss at step {bad[0] + 1} is {losses[bad[0]]:.6f}, the "
        f"reference loop's {expected['losses'][bad[0]]:.6f}: the training differs from there on. Hint: {FIT_HINT}")
    assert all(np.allclose(a, b) for a, b in zip(yours["params"], expected["params"])), (
        f"fit's parameters after {steps} steps differ from the reference loop's. Hint: {FIT_HINT}")


SAMPLE_HINT = ("divide the last output by the temperature, softmax(dim=1), and draw each character with "
               "np.random.choice(vocab_size, p=probabilities); never take the most likely one (argmax).")


@pytest.mark.exercise("sample")
@pytest.mark.points(0.5)
def test_sample_draws_with_the_temperature(student, shared, rng):
    logits = rng.permutation([2.0, 1.0, 0.0, -1.0, -3.0, -3.0, -3.0, -3.0])
    temperature = float(rng.uniform(0.4, 0.6) if rng.random() < 0.5 else rng.uniform(2.0, 3.0))
    text = student.run(shared.FAKES + "result = sample(IdEmbedding(), Logits(logits), 'a', 5000, temperature)",
                       logits=logits, temperature=temperature, replace=shared.STAND_IN_VOCAB,
                       what=f"sample(..., 'a', 5000, temperature={temperature:.2f}) from fixed logits",
                       hint=SAMPLE_HINT)
    assert isinstance(text, str) and len(text) == 5000, (
        f"sample(..., 5000, ...) should return a string of the 5000 new characters, got {text!r:.40}. "
        f"Hint: {SAMPLE_HINT}")
    scaled = np.exp(logits / temperature)
    expected = scaled / scaled.sum()
    found = np.array([text.count(ch) for ch in "abcdefgh"]) / len(text)
    assert np.abs(found - expected).max() < 0.04, (
        f"from fixed logits {logits.tolist()} at temperature {temperature:.2f}, the letters a..h should come out "
        f"with frequencies {expected.round(3).tolist()}, got {found.round(3).tolist()}. Hint: {SAMPLE_HINT}")


@pytest.mark.exercise("sample")
@pytest.mark.points(0.5)
def test_sample_carries_a_pair_state(student, shared, rng):
    start = "".join(rng.choice(list("abcdefgh"), size=int(rng.integers(2, 6))))
    got = student.run(shared.FAKES + (
        "counted = sample(IdEmbedding(), Counter(8), start, 5, 1.0)\n"
        "embed, lstm = nt.layers.EmbeddingLayer(8, 3), nt.layers.LSTMCell(3, 4, 8)\n"
        "result = [counted, sample(embed, lstm, start, 25, 1.0)]"), start=start, replace=shared.STAND_IN_VOCAB,
        what=f"sample(..., {start!r}, ...) from cells with a (h, c) state",
                      hint="treat the hidden state as opaque: take it from cell.init_hidden(1) and pass on what the "
                           "cell returns, so a pair (h, c) works too.")
    expected = "".join("abcdefgh"[(len(start) + k) % 8] for k in range(5))
    assert got[0] == expected, (
        f"with a model whose state counts its calls and that predicts the letter of that count, sampling 5 "
        f"characters after {start!r} should give {expected!r}, got {got[0]!r:.20}. Hint: start from "
        f"cell.init_hidden(1) once, feed every character of start, and pass the state each call returns into the "
        f"next call, for the start characters and the new ones alike.")
    assert isinstance(got[1], str) and len(got[1]) == 25 and set(got[1]) <= set("abcdefgh"), (
        f"sampling 25 characters from an LSTMCell gave {got[1]!r:.40}. Hint: pass the (h, c) pair along unchanged.")


LSTM_HINT = ("build c' and h' from the four gates with the cell's own layers (cell.xf, cell.hf, ...), and return "
             "(cell.w_ho(h'), (h', c')); calling the cell itself (cell(x, hidden)) is off-limits here.")


def other_sizes(rng, make_lstm_case):
    """An lstm_step case at batch and layer sizes drawn from rng."""
    return make_lstm_case(rng, *(int(n) for n in rng.integers(2, 7, size=4)))


@pytest.mark.exercise("lstm")
@pytest.mark.points(1)
def test_lstm_step_values_at_other_sizes(run_lstm, make_lstm_case, rng):
    yours, expected = run_lstm(other_sizes(rng, make_lstm_case), LSTM_HINT)
    for name, label in (("c", "c'"), ("h", "h'"), ("output", "output")):
        difference = np.abs(yours[name].data - expected[name].data).max()
        assert difference < 1e-6, (
            f"lstm_step's {label} differs from the LSTM's (max difference {difference:.3g}). Hint: {LSTM_HINT}")


@pytest.mark.exercise("lstm")
@pytest.mark.points(1)
def test_lstm_step_gradients_match_the_cell(run_lstm, make_lstm_case, rng):
    yours, expected = run_lstm(other_sizes(rng, make_lstm_case), LSTM_HINT)
    names = ["x", "h", "c"] + [name for name, _ in nt.layers.LSTMCell(1, 1, 1).named_parameters()]
    wrong = [name for name, got, want in zip(names, yours["grads"], expected["grads"])
             if not np.allclose(got, want, atol=1e-7)]
    assert not wrong, f"the gradients with respect to {', '.join(wrong)} differ from the LSTM's. Hint: {LSTM_HINT}"
