"""Lab 6 (embeddings and recurrent nets): the wrong-answer table. Plausible wrong answers lose points in their
own exercise only; valid alternatives keep full marks (tests/answer_tables.py grades them in one batch)."""
import codecs
import this  # noqa: F401 (the text of the lab; importing it prints it once)
from pathlib import Path

import pytest

from answer_tables import (KEEPS, LOSES, answer, check_coverage, check_hidden_share, check_row, check_stated_points,
                           grade_table, graded_with)
import numtorch as nt
from labs.grading.lab import cell_role, load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "06_recurrent")

ENCODE = "return np.array([char_to_id[ch] for ch in string], dtype=int)"
DECODE = 'return "".join(chars[i] for i in ids)'
IDS = "{ch: i for i, ch in enumerate(chars)}"
ONE_HOT = "rows = np.zeros((len(ids), size))\n    rows[np.arange(len(ids)), ids] = 1.0"
UNROLL = """    batch, steps = inputs.shape
    hidden = cell.init_hidden(batch)
    total = 0
    for t in range(steps):
        output, hidden = cell(embed(inputs[:, t]), hidden)
        total = total + output.cross_entropy(targets[:, t])
    return total / steps"""
STEP = "        output, hidden = cell(embed(inputs[:, t]), hidden)\n"
ADAM = "    optimizer = nt.optimizers.AdamOptimizer(embed.get_params() + cell.get_params(), lr=lr)\n"
LOOP = "    for step in range(steps):\n"
BATCH = "        inputs, targets = random_batch()\n"
DRAW = "char_id = np.random.choice(len(probabilities), p=probabilities)"
FEED_BACK = "            output, hidden = cell(embed(np.array([char_id])), hidden)\n    return"
RETURNED = "return cell.w_ho(new_h), (new_h, new_c)"

ROWS = [
    answer(LAB, "vocab", "encode returns a list", LOSES, (ENCODE, "return [char_to_id[ch] for ch in string]")),
    answer(LAB, "vocab", "chars not sorted", LOSES, ("chars = sorted(set(text))", "chars = list(set(text))")),
    answer(LAB, "vocab", "decode returns a list", LOSES, (DECODE, "return [chars[i] for i in ids]")),
    answer(LAB, "vocab", "ids counted from 1", LOSES, (IDS, "{ch: i + 1 for i, ch in enumerate(chars)}")),
    answer(LAB, "vocab", "dict(zip(...)), np.fromiter and map", KEEPS,
           ("chars = sorted(set(text))", "chars = sorted(list(set(text)))"),
           (IDS, "dict(zip(chars, range(len(chars))))"),
           (ENCODE, "return np.fromiter((char_to_id[ch] for ch in string), dtype=int, count=len(string))"),
           (DECODE, 'return "".join(map(chars.__getitem__, ids))')),

    answer(LAB, "one_hot", "whole columns set", LOSES, ("rows[np.arange(len(ids)), ids] = 1.0", "rows[:, ids] = 1.0")),
    answer(LAB, "one_hot", "transposed", LOSES,
           (ONE_HOT, "rows = np.zeros((size, len(ids)))\n    rows[ids, np.arange(len(ids))] = 1.0")),
    answer(LAB, "one_hot", "an integer array", LOSES,
           ("np.zeros((len(ids), size))", "np.zeros((len(ids), size), dtype=int)")),
    answer(LAB, "one_hot", "rows of the identity", KEEPS, (ONE_HOT + "\n    return rows", "return np.eye(size)[ids]")),

    answer(LAB, "unroll", "the sum over the steps", LOSES, ("return total / steps", "return total"),
           says="the sum of the step losses"),
    answer(LAB, "unroll", "the last step only", LOSES,
           ("        total = total + output.cross_entropy(targets[:, t])\n    return total / steps",
            "    return output.cross_entropy(targets[:, -1])"), says="the last step only"),
    answer(LAB, "unroll", "the hidden state re-wrapped (backprop through time cut)", LOSES,
           (STEP, STEP + "        hidden = nt.Tensor(hidden.data, autograd=True)\n"),
           says="flow back through the hidden state"),
    answer(LAB, "unroll", "a fresh hidden state every step", LOSES,
           ("cell(embed(inputs[:, t]), hidden)", "cell(embed(inputs[:, t]), cell.init_hidden(batch))"),
           says="fresh hidden state"),
    answer(LAB, "unroll", "returns a float", LOSES, ("return total / steps", "return (total / steps).item()"),
           says="scalar nt.Tensor"),
    answer(LAB, "unroll", "a list of step losses, sum() / len()", KEEPS,
           (UNROLL, "    hidden = cell.init_hidden(len(inputs))\n    losses = []\n"
                    "    for t in range(inputs.shape[1]):\n"
                    "        output, hidden = cell(embed(inputs[:, t]), hidden)\n"
                    "        losses.append(output.cross_entropy(targets[:, t]))\n"
                    "    return sum(losses) / len(losses)")),

    answer(LAB, "fit", "a new Adam every step", LOSES,
           (ADAM + "    losses = []\n" + LOOP, "    losses = []\n" + LOOP + "    " + ADAM)),
    answer(LAB, "fit", "ignores lr", LOSES, ("cell.get_params(), lr=lr)", "cell.get_params(), lr=0.01)")),
    answer(LAB, "fit", "one batch for every step", LOSES, (LOOP + BATCH, BATCH[4:] + LOOP)),
    answer(LAB, "fit", "trains only the cell", LOSES, ("embed.get_params() + cell.get_params()", "cell.get_params()")),
    answer(LAB, "fit", "zero_grad before backward, float(loss.data), a while loop", KEEPS,
           (LOOP, "    step = 0\n    while step < steps:\n        step += 1\n"),
           ("losses.append(loss.item())\n        loss.backward()",
            "losses.append(float(loss.data))\n        optimizer.zero_grad()\n        loss.backward()")),

    answer(LAB, "sample", "always the most likely character", LOSES, (DRAW, "char_id = int(np.argmax(probabilities))")),
    answer(LAB, "sample", "ignores the temperature", LOSES, ("(output / temperature)", "output")),
    answer(LAB, "sample", "multiplies by the temperature", LOSES, ("(output / temperature)", "(output * temperature)")),
    answer(LAB, "sample", "reads only the last character of start", LOSES,
           ("for char_id in encode(start):", "for char_id in encode(start[-1:]):")),
    answer(LAB, "sample", "returns the start too", LOSES,
           ("return decode(generated)", "return start + decode(generated)")),
    answer(LAB, "sample", "a fresh hidden state for every new character", LOSES,
           (FEED_BACK, FEED_BACK.replace("), hidden)", "), cell.init_hidden(1))"))),
    answer(LAB, "sample", "softmax in NumPy, a multinomial draw", KEEPS,
           ("probabilities = (output / temperature).softmax(dim=1).data[0]",
            "logits = output.data[0] / temperature\n"
            "            probabilities = np.exp(logits - logits.max())\n"
            "            probabilities = probabilities / probabilities.sum()"),
           (DRAW, "char_id = int(np.argmax(np.random.multinomial(1, probabilities)))")),

    answer(LAB, "lstm", "h' from the old cell state", LOSES,
           ("new_h = show * new_c.tanh()", "new_h = show * c.tanh()")),
    answer(LAB, "lstm", "the pair in the wrong order", LOSES, (RETURNED, "return cell.w_ho(new_h), (new_c, new_h)")),
    answer(LAB, "lstm", "a sigmoid candidate", LOSES,
           ("candidate = (cell.xc(x) + cell.hc(h)).tanh()", "candidate = (cell.xc(x) + cell.hc(h)).sigmoid()")),
    answer(LAB, "lstm", "calls the cell", LOSES,
           ("    forget = (cell.xf(x)", "    return cell(x, hidden)\n    forget = (cell.xf(x)"), says="off-limits"),
    answer(LAB, "lstm", "sigmoid written out, gates in another order", KEEPS,
           ("forget = (cell.xf(x) + cell.hf(h)).sigmoid()", "forget = 1 / (1 + (-(cell.hf(h) + cell.xf(x))).exp())")),
]

# fit and sample are graded with stand-ins for vocab and unroll, so they are never packed with those.
INDEPENDENT = [["vocab", "one_hot", "unroll", "lstm"], ["fit", "sample"]]


def test_every_exercise_has_wrong_answers_and_a_valid_alternative():
    check_coverage(LAB, ROWS)


def test_the_points_the_text_states_and_hidden_tests_carry_half():
    check_stated_points(LAB)
    check_hidden_share(LAB)


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    return grade_table(LAB, ROWS, tmp_path_factory.mktemp("lab06_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_answer(grades, row):
    check_row(LAB, row, grades[row.label], graded_with(ROWS, INDEPENDENT, row))


def test_the_figures_the_text_states():
    cells = {cell_role(cell)[0]: cell.source for cell in LAB.notebook.cells}
    text = codecs.decode(this.s, "rot13")
    vocab_size = len(set(text))

    def parameters(*layers):
        return sum(p.data.size for layer in layers for p in layer.get_params())

    assert "RNNCell(8, 64, vocab_size" in cells["train-rnn"] and "LSTMCell(8, 48, vocab_size)" in cells["train-lstm"]
    rnn = parameters(nt.layers.EmbeddingLayer(vocab_size, 8), nt.layers.RNNCell(8, 64, vocab_size))
    lstm = parameters(nt.layers.EmbeddingLayer(vocab_size, 8), nt.layers.LSTMCell(8, 48, vocab_size))
    assert f"a text of {len(text)} characters, {rnn:,} parameters in the RNN and {lstm:,} in the LSTM" in cells["intro"]
    assert "\\text{output} = h'\\,W_{ho} + b_{ho}" in cells["rnn-md"]  # the biases are part of the cell
