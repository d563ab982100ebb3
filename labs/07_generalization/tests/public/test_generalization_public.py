"""Lab 7 (generalization), public tests: the check cells run these; hidden tests try other sizes and seeds."""
import numpy as np
import pytest

from labs.testing import close


@pytest.mark.exercise("split")
@pytest.mark.points(1)
def test_split_ten(student):
    got = student.call("split_indices", 10, 3, hint="shuffle with np.random.default_rng(seed).permutation(n), then cut 60/20/rest.")
    order = np.random.default_rng(3).permutation(10)
    assert isinstance(got, (list, tuple)) and len(got) == 3, "split_indices should return three index arrays. Hint: return train, val, test."
    sizes = [len(part) for part in got]
    assert sizes == [6, 2, 2], f"split_indices(10, 3) gives parts of sizes {sizes}, not [6, 2, 2]. Hint: int(0.6 * n), int(0.2 * n), the rest."
    assert np.array_equal(np.concatenate(got), order), (
        f"split_indices(10, 3) gives {[np.asarray(p).tolist() for p in got]}. Hint: cut np.random.default_rng(seed)"
        f".permutation(n) in order: first train, then val, then test.")


@pytest.mark.exercise("batches")
@pytest.mark.points(1)
def test_batches_of_ten(student):
    got = student.run("result = minibatches(10, 4, np.random.default_rng(5))", what="minibatches(10, 4, rng)",
                      hint="cut rng.permutation(n) into pieces of batch_size; keep the short last piece.")
    assert isinstance(got, list), f"minibatches returned a {type(got).__name__}. Hint: return a list of index arrays."
    assert [len(b) for b in got] == [4, 4, 2], (
        f"minibatches(10, 4, rng) gives batches of sizes {[len(b) for b in got]}, not [4, 4, 2]. Hint: keep the last, "
        f"shorter batch.")
    assert np.array_equal(np.concatenate(got), np.random.default_rng(5).permutation(10)), (
        "the batches are not rng.permutation(n) in order. Hint: draw order = rng.permutation(n) once, then slice it.")


@pytest.mark.exercise("dropout")
@pytest.mark.points(1)
def test_dropout_half(student):
    got = student.run("""
        x = nt.tensor(np.ones(4000), requires_grad=True)
        on = dropout(x, 0.5, True)
        off = dropout(x, 0.5, False)
        result = {"on": on.data, "off": off.data}
    """, what="dropout(ones(4000), 0.5, training)", hint="x * (np.random.random(x.shape) >= p) / (1 - p) while training; x otherwise.")
    on = got["on"]
    zeros = float(np.mean(on == 0))
    assert 0.45 < zeros < 0.55, f"dropout with p = 0.5 zeroed {zeros:.0%} of the units. Hint: keep a unit when np.random.random() >= p."
    assert np.allclose(on[on != 0], 2.0), (
        f"dropout with p = 0.5 gives kept ones the values {np.unique(on[on != 0])[:4].tolist()}, not 2. Hint: divide the "
        f"kept units by 1 - p (inverted dropout).")
    assert np.array_equal(got["off"], np.ones(4000)), "dropout with training=False changed x. Hint: return x unchanged when not training."


@pytest.mark.exercise("decay")
@pytest.mark.points(1)
def test_one_decay_step(student):
    got = student.run("""
        w = nt.tensor([1.0, -2.0], requires_grad=True)
        (w * w).sum().backward()
        sgd_step([w], 0.1, 0.5)
        result = {"w": w.data, "grad": None if w.grad is None else w.grad.data}
    """, what="sgd_step([w], lr=0.1, weight_decay=0.5)", hint="p.data -= lr * (p.grad.data + weight_decay * p.data), then p.grad = None.")
    assert np.allclose(got["w"], [0.75, -1.5]), (
        f"one step from w = [1, -2] (grad [2, -4]) with lr 0.1 and weight decay 0.5 gives {got['w'].tolist()}, not "
        f"[0.75, -1.5]. Hint: p.data -= lr * (p.grad.data + weight_decay * p.data).")
    assert got["grad"] is None, "after sgd_step the gradient is still there. Hint: set p.grad = None for every parameter."


# Simple stand-ins for exercises 2 and 4 (one unshuffled batch, plain SGD), so that this check of fit does not
# depend on your minibatches and sgd_step.
STAND_INS = {
    "minibatches": "def minibatches(n, batch_size, rng):\n    return [np.arange(n)]\n",
    "sgd_step": "def sgd_step(params, lr, weight_decay):\n    for p in params:\n        p.data = p.data - lr * p.grad.data\n"
                "        p.grad = None\n",
}


@pytest.mark.exercise("fit")
@pytest.mark.points(1)
def test_fit_runs(student):
    got = student.run("""
        model = MLP(hidden=16)
        history = fit(model, images[:300], labels[:300], images[300:400], labels[300:400],
                      epochs=3, lr=0.1, weight_decay=0.0, patience=5)
        result = {"history": history, "val": accuracy(model, images[300:400], labels[300:400])}
    """, what="fit(...) for 3 epochs on 300 images", hint="follow the steps of exercise 5 one by one.", replace=STAND_INS)
    history = got["history"]
    assert isinstance(history, dict) and {"train_acc", "val_acc", "best_epoch"} <= set(history), (
        f"fit returned {type(history).__name__} without the keys train_acc, val_acc and best_epoch. Hint: return the "
        f"dict described in the exercise.")
    assert len(history["val_acc"]) == 3 and len(history["train_acc"]) == 3, (
        f"3 epochs gave {len(history['val_acc'])} validation accuracies. Hint: append one per epoch.")
    assert history["best_epoch"] == int(np.argmax(history["val_acc"])), (
        f"best_epoch is {history['best_epoch']}, but the best validation accuracy {max(history['val_acc']):.3f} came at "
        f"epoch {int(np.argmax(history['val_acc']))}. Hint: count epochs from 0 and only a strictly higher accuracy counts.")
    assert close(got["val"], history["val_acc"][history["best_epoch"]]), (
        "after fit the model is not at its best epoch. Hint: copy the best parameters back with p.data[...] = saved.")
