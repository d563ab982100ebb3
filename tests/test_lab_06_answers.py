"""Lab 6 (embeddings and recurrent nets): the wrong-answer table. Plausible wrong answers lose points in their
own exercise only; valid alternatives keep full marks (tests/answer_table.py grades them in one batch)."""
import codecs
import this  # noqa: F401 (the text of the lab; importing it prints it once)
from pathlib import Path

import pytest

from answer_table import cell_sources, check_hidden_share, check_table, check_variant, grade_variants, valid, wrong
import numtorch as nt
from labs.grading.lab import load_lab

LAB = Path(__file__).parents[1] / "labs" / "06_recurrent"

UNROLL = """    batch, steps = inputs.shape
    hidden = cell.init_hidden(batch)
    total = 0
    for t in range(steps):
        output, hidden = cell(embed(inputs[:, t]), hidden)
        total = total + output.cross_entropy(targets[:, t])
    return total / steps"""
ADAM = "    optimizer = nt.optimizers.AdamOptimizer(embed.get_params() + cell.get_params(), lr=lr)\n"
LOOP = "    for step in range(steps):\n"
BATCH = "        inputs, targets = random_batch()\n"

VARIANTS = [
    wrong("vocab", "encode returns a list", ("vocab", "return np.array([char_to_id[ch] for ch in string], dtype=int)",
                                             "return [char_to_id[ch] for ch in string]")),
    wrong("vocab", "chars not sorted", ("vocab", "chars = sorted(set(text))", "chars = list(set(text))")),
    wrong("vocab", "decode returns a list", ("vocab", 'return "".join(chars[i] for i in ids)', "return [chars[i] for i in ids]")),
    wrong("vocab", "ids counted from 1", ("vocab", "{ch: i for i, ch in enumerate(chars)}", "{ch: i + 1 for i, ch in enumerate(chars)}")),
    valid("vocab", "dict(zip(...)), np.fromiter and map",
          ("vocab", "chars = sorted(set(text))", "chars = sorted(list(set(text)))"),
          ("vocab", "{ch: i for i, ch in enumerate(chars)}", "dict(zip(chars, range(len(chars))))"),
          ("vocab", "return np.array([char_to_id[ch] for ch in string], dtype=int)",
           "return np.fromiter((char_to_id[ch] for ch in string), dtype=int, count=len(string))"),
          ("vocab", 'return "".join(chars[i] for i in ids)', 'return "".join(map(chars.__getitem__, ids))')),

    wrong("one_hot", "whole columns set", ("one_hot", "rows[np.arange(len(ids)), ids] = 1.0", "rows[:, ids] = 1.0")),
    wrong("one_hot", "transposed", ("one_hot", "rows = np.zeros((len(ids), size))\n    rows[np.arange(len(ids)), ids] = 1.0",
                                    "rows = np.zeros((size, len(ids)))\n    rows[ids, np.arange(len(ids))] = 1.0")),
    wrong("one_hot", "an integer array", ("one_hot", "np.zeros((len(ids), size))", "np.zeros((len(ids), size), dtype=int)")),
    valid("one_hot", "rows of the identity", ("one_hot", "rows = np.zeros((len(ids), size))\n    rows[np.arange(len(ids)), ids] = 1.0\n    return rows",
                                              "return np.eye(size)[ids]")),

    wrong("unroll", "the sum over the steps", ("unroll", "return total / steps", "return total"), says="the sum of the step losses"),
    wrong("unroll", "the last step only", ("unroll", "        total = total + output.cross_entropy(targets[:, t])\n    return total / steps",
                                           "    return output.cross_entropy(targets[:, -1])"), says="the last step only"),
    wrong("unroll", "the hidden state re-wrapped (backprop through time cut)",
          ("unroll", "        output, hidden = cell(embed(inputs[:, t]), hidden)\n",
           "        output, hidden = cell(embed(inputs[:, t]), hidden)\n        hidden = nt.Tensor(hidden.data, autograd=True)\n"),
          says="flow back through the hidden state"),
    wrong("unroll", "a fresh hidden state every step",
          ("unroll", "cell(embed(inputs[:, t]), hidden)", "cell(embed(inputs[:, t]), cell.init_hidden(batch))")),
    wrong("unroll", "returns a float", ("unroll", "return total / steps", "return (total / steps).item()"), says="scalar nt.Tensor"),
    valid("unroll", "a list of step losses, sum() / len()",
          ("unroll", UNROLL, "    hidden = cell.init_hidden(len(inputs))\n    losses = []\n"
                             "    for t in range(inputs.shape[1]):\n"
                             "        output, hidden = cell(embed(inputs[:, t]), hidden)\n"
                             "        losses.append(output.cross_entropy(targets[:, t]))\n"
                             "    return sum(losses) / len(losses)")),

    wrong("fit", "a new Adam every step", ("fit", ADAM + "    losses = []\n" + LOOP, "    losses = []\n" + LOOP + "    " + ADAM)),
    wrong("fit", "ignores lr", ("fit", "cell.get_params(), lr=lr)", "cell.get_params(), lr=0.01)")),
    wrong("fit", "one batch for every step", ("fit", LOOP + BATCH, BATCH.replace("        ", "    ") + LOOP)),
    wrong("fit", "trains only the cell", ("fit", "embed.get_params() + cell.get_params()", "cell.get_params()")),
    valid("fit", "zero_grad before backward, float(loss.data), a while loop",
          ("fit", LOOP, "    step = 0\n    while step < steps:\n        step += 1\n"),
          ("fit", "losses.append(loss.item())\n        loss.backward()",
           "losses.append(float(loss.data))\n        optimizer.zero_grad()\n        loss.backward()")),

    wrong("sample", "always the most likely character", ("sample", "char_id = np.random.choice(len(probabilities), p=probabilities)",
                                                         "char_id = int(np.argmax(probabilities))")),
    wrong("sample", "ignores the temperature", ("sample", "(output / temperature)", "output")),
    wrong("sample", "multiplies by the temperature", ("sample", "(output / temperature)", "(output * temperature)")),
    wrong("sample", "returns the start too", ("sample", "return decode(generated)", "return start + decode(generated)")),
    wrong("sample", "a fresh hidden state for every new character",
          ("sample", "            output, hidden = cell(embed(np.array([char_id])), hidden)\n    return",
           "            output, hidden = cell(embed(np.array([char_id])), cell.init_hidden(1))\n    return")),
    valid("sample", "softmax in NumPy, a multinomial draw",
          ("sample", "probabilities = (output / temperature).softmax(dim=1).data[0]",
           "logits = output.data[0] / temperature\n"
           "            probabilities = np.exp(logits - logits.max())\n"
           "            probabilities = probabilities / probabilities.sum()"),
          ("sample", "char_id = np.random.choice(len(probabilities), p=probabilities)",
           "char_id = int(np.argmax(np.random.multinomial(1, probabilities)))")),

    wrong("lstm", "h' from the old cell state", ("lstm", "new_h = show * new_c.tanh()", "new_h = show * c.tanh()")),
    wrong("lstm", "the pair in the wrong order", ("lstm", "return cell.w_ho(new_h), (new_h, new_c)", "return cell.w_ho(new_h), (new_c, new_h)")),
    wrong("lstm", "a sigmoid candidate", ("lstm", "candidate = (cell.xc(x) + cell.hc(h)).tanh()", "candidate = (cell.xc(x) + cell.hc(h)).sigmoid()")),
    wrong("lstm", "calls the cell", ("lstm", "    forget = (cell.xf(x)", "    return cell(x, hidden)\n    forget = (cell.xf(x)"),
          says="off-limits"),
    valid("lstm", "sigmoid written out, gates in another order",
          ("lstm", "forget = (cell.xf(x) + cell.hf(h)).sigmoid()", "forget = 1 / (1 + (-(cell.hf(h) + cell.xf(x))).exp())")),
]

# fit and sample are graded with stand-ins for vocab and unroll, so they are never packed with those.
INDEPENDENT = [["vocab", "one_hot", "unroll", "lstm"], ["fit", "sample"]]


def test_hidden_tests_carry_half_the_points():
    check_hidden_share(LAB)


def test_every_exercise_has_its_rows():
    check_table(VARIANTS, load_lab(LAB).exercises())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_variants(LAB, VARIANTS, tmp_path_factory.mktemp("lab06_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.id)
def test_variant(graded, variant):
    check_variant(LAB, graded, variant)


def test_the_figures_the_text_states():
    cells = cell_sources(LAB)
    text = codecs.decode(this.s, "rot13")
    vocab_size = len(set(text))

    def parameters(*layers):
        return sum(p.data.size for layer in layers for p in layer.get_params())

    assert "RNNCell(8, 64, vocab_size" in cells["train-rnn"] and "LSTMCell(8, 48, vocab_size)" in cells["train-lstm"]
    rnn = parameters(nt.layers.EmbeddingLayer(vocab_size, 8), nt.layers.RNNCell(8, 64, vocab_size))
    lstm = parameters(nt.layers.EmbeddingLayer(vocab_size, 8), nt.layers.LSTMCell(8, 48, vocab_size))
    assert f"a text of {len(text)} characters, {rnn:,} parameters in the RNN and {lstm:,} in the LSTM" in cells["intro"]
    assert "\\text{output} = h'\\,W_{ho} + b_{ho}" in cells["rnn-md"]  # the biases are part of the cell
