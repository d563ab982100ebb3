"""The figures the texts of labs 07-12 state, recomputed (a number in a lab's text is a claim a student checks)."""
import codecs
import this
from pathlib import Path

import numpy as np

from labs.grading.lab import load_lab

LABS = Path(__file__).parents[1] / "labs"


def text(lab):
    return " ".join(cell.source for cell in load_lab(LABS / lab).notebook.cells)


def parameters(*shapes):
    return sum(int(np.prod(shape)) for shape in shapes)


def test_lab_07_digits_and_splits():
    digits = np.load(LABS / "07_generalization" / "digits.npz")
    assert digits["images"].shape == (1797, 8, 8) and digits["labels"].shape == (1797,)
    assert "1,797 handwritten digits" in text("07_generalization")
    assert int(0.6 * 1797) == 1078 and "1,078 training images" in text("07_generalization")
    assert np.array_equal(np.load(LABS / "10_convolution" / "digits.npz")["images"], digits["images"])


def test_lab_10_weight_counts():
    cnn = parameters((16, 1, 3, 3), (16,), (256, 10), (10,))
    mlp = parameters((64, 64), (64,), (64, 10), (10,))
    assert (cnn, mlp) == (2730, 4810)
    assert "has 2,730 weights" in text("10_convolution") and "(4,810 weights)" in text("10_convolution")


def test_lab_11_corpus():
    corpus = (LABS / "11_embeddings" / "corpus.txt").read_text()
    assert len(corpus.splitlines()) == 4000 and "4,000 short sentences" in text("11_embeddings")


def test_lab_12_parameters_and_text():
    zen = codecs.decode(this.s, "rot13")
    vocab, channels = len(set(zen)), 32
    count = parameters((vocab, channels), *[(channels, channels)] * 4, (channels, 4 * channels), (4 * channels,),
                       (4 * channels, channels), (channels,), (channels, vocab), (vocab,))
    assert count == 15373 and "15,373 parameters" in text("12_attention")
