"""Lab 7 (generalization), hidden tests: other sizes and seeds, the whole training run against a reference,
and the test accuracy on a held-out split drawn per submission. Downstream exercises run with the reference
versions of the exercises before them (`replace=`), so one bug costs one exercise."""
import numpy as np
import pytest

from labs.testing import close

REFERENCE = {
    "minibatches": '''
def minibatches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]
''',
    "dropout": '''
def dropout(x, p, training):
    if not training or p == 0:
        return x
    return x * ((np.random.random(x.shape) >= p) / (1 - p))
''',
    "sgd_step": '''
def sgd_step(params, lr, weight_decay):
    for p in params:
        p.data -= lr * (p.grad.data + weight_decay * p.data)
        p.grad = None
''',
}
REFERENCE_FIT = {"fit": '''
def fit(model, x_train, y_train, x_val, y_val, epochs, lr, weight_decay, patience, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    criterion = nt.layers.CrossEntropyLoss()
    params = list(model.parameters())
    history = {"train_acc": [], "val_acc": [], "best_epoch": 0}
    best, best_params, waited = -1.0, None, 0
    for epoch in range(epochs):
        model.training = True
        for batch in minibatches(len(y_train), batch_size, rng):
            loss = criterion(model(nt.tensor(x_train[batch])), y_train[batch])
            loss.backward()
            sgd_step(params, lr, weight_decay)
        history["train_acc"].append(accuracy(model, x_train, y_train))
        history["val_acc"].append(accuracy(model, x_val, y_val))
        if history["val_acc"][-1] > best:
            best, history["best_epoch"], waited = history["val_acc"][-1], epoch, 0
            best_params = [p.data.copy() for p in params]
        else:
            waited += 1
            if waited >= patience:
                break
    for p, saved in zip(params, best_params):
        p.data[...] = saved
    return history
'''}
TRAIN = """
model = MLP(hidden=hidden, p=p)
history = fit(model, images[train], labels[train], images[val], labels[val], epochs=epochs, lr=lr,
              weight_decay=weight_decay, patience=patience, batch_size=batch_size, seed=fit_seed)
result = {"history": history, "train": accuracy(model, images[train], labels[train]),
          "val": accuracy(model, images[val], labels[val]), "test": accuracy(model, images[test], labels[test])}
"""
FIT_HINT = ("shuffle with rng = np.random.default_rng(seed) through minibatches, one sgd_step per batch, "
            "accuracies after every epoch (train on the training set, validation on the validation set), a strictly "
            "better validation accuracy saves the parameters, stop after `patience` epochs without one, and restore the "
            "best parameters at the end.")


@pytest.mark.exercise("split")
@pytest.mark.points(1)
def test_split_other_sizes(student, rng):
    for _ in range(4):
        n, seed = int(rng.integers(20, 2000)), int(rng.integers(10_000))
        got = student.call("split_indices", n, seed, hint="cut np.random.default_rng(seed).permutation(n) 60/20/rest.")
        order = np.random.default_rng(seed).permutation(n)
        a, b = int(0.6 * n), int(0.6 * n) + int(0.2 * n)
        expected = [order[:a], order[a:b], order[b:]]
        sizes = [len(p) for p in got]
        assert sizes == [len(e) for e in expected], (
            f"split_indices({n}, seed) gives sizes {sizes}, not {[len(e) for e in expected]}. Hint: int(0.6 * n) for "
            f"training, int(0.2 * n) for validation, every remaining index for the test set.")
        assert all(np.array_equal(g, e) for g, e in zip(got, expected)), (
            f"split_indices({n}, seed) is not the shuffled order cut in three. Hint: use np.random.default_rng(seed)"
            f".permutation(n), not np.arange, np.random.permutation or a new seed.")


@pytest.mark.exercise("batches")
@pytest.mark.points(1)
def test_batches_two_epochs(student, rng):
    n, size, seed = int(rng.integers(30, 500)), int(rng.integers(3, 64)), int(rng.integers(10_000))
    got = student.run("""
        r = np.random.default_rng(shuffle_seed)
        result = [minibatches(n, size, r), minibatches(n, size, r)]
    """, n=n, size=size, shuffle_seed=seed, what=f"minibatches({n}, {size}, rng), two epochs",
                      hint="draw rng.permutation(n) on every call and slice it; keep the last short batch.")
    r = np.random.default_rng(seed)
    for epoch, batches in enumerate(got):
        order = r.permutation(n)
        expected = [order[s:s + size] for s in range(0, n, size)]
        assert [len(b) for b in batches] == [len(e) for e in expected], (
            f"minibatches({n}, {size}, rng) gives {len(batches)} batches, expected {len(expected)} (the last one "
            f"{len(expected[-1])} long). Hint: range(0, n, batch_size) keeps the shorter last batch.")
        assert all(np.array_equal(b, e) for b, e in zip(batches, expected)), (
            f"epoch {epoch}: the batches are not this epoch's rng.permutation(n). Hint: call rng.permutation(n) on every "
            f"call, so that each epoch has its own order.")


@pytest.mark.exercise("dropout")
@pytest.mark.points(2)
def test_dropout_statistics_and_gradient(student, rng):
    for p in (float(rng.choice([0.1, 0.25])), float(rng.choice([0.6, 0.75]))):
        x = rng.uniform(0.5, 2.0, size=(100, 200))
        got = student.run("""
            t = nt.tensor(x, requires_grad=True)
            out = dropout(t, p, True)
            (out * weights).sum().backward()
            off = dropout(nt.tensor(x), p, False)
            zero_p = dropout(nt.tensor(x), 0.0, True)
            result = {"out": out.data, "grad": t.grad.data, "off": off.data, "zero_p": zero_p.data}
        """, x=x, p=p, weights=np.full(x.shape, 3.0), what=f"dropout(x, {p}, training)",
                          hint="mask = np.random.random(x.shape) >= p; return x * mask / (1 - p) while training, x otherwise.",
                          unavailable=("numtorch.functional.dropout",))
        out, grad = got["out"], got["grad"]
        dropped = float(np.mean(out == 0))
        assert abs(dropped - p) < 0.03, f"dropout with p = {p} dropped {dropped:.1%} of the units. Hint: drop a unit with probability p."
        kept = out != 0
        assert np.allclose(out[kept], x[kept] / (1 - p)), (
            f"with p = {p} the kept units are not x / (1 - p). Hint: inverted dropout scales by 1 / (1 - p), not by p or 1 - p.")
        assert np.allclose(grad, 3.0 * kept / (1 - p)), (
            f"the gradient of dropout with p = {p} is wrong. Hint: multiply x by the mask as a tensor operation, so the "
            f"gradient is the mask / (1 - p) times the incoming gradient.")
        assert np.array_equal(got["off"], x), "dropout with training=False changed x. Hint: at evaluation return x unchanged."
        assert np.array_equal(got["zero_p"], x), "dropout with p = 0 changed x. Hint: p = 0 keeps every unit as it is."


@pytest.mark.exercise("decay")
@pytest.mark.points(1)
def test_decay_trajectory(student, rng):
    w0, target = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    lr, wd = float(rng.uniform(0.05, 0.3)), float(rng.uniform(0.01, 0.5))
    got = student.run("""
        w = nt.tensor(w0, requires_grad=True)
        for _ in range(4):
            ((w - target) ** 2).sum().backward()
            sgd_step([w], lr, wd)
        result = {"w": w.data, "grad": None if w.grad is None else w.grad.data}
    """, w0=w0, target=target, lr=lr, wd=wd, what="four sgd_step calls with weight decay",
                      hint="p.data -= lr * (p.grad.data + weight_decay * p.data); then p.grad = None, so the next "
                           "backward starts from zero.", unavailable=("numtorch.optimizers.Optimizer.step",))
    w = w0.copy()
    for _ in range(4):
        w = w - lr * (2 * (w - target) + wd * w)
    assert got["grad"] is None, "after sgd_step the gradient is still there. Hint: set p.grad = None."
    assert np.allclose(got["w"], w), (
        f"four steps with lr {lr:.3g} and weight decay {wd:.3g} end at {np.round(got['w'], 4).tolist()}, expected "
        f"{np.round(w, 4).tolist()}. Hint: the decay term is + weight_decay * p.data inside the gradient, times lr.")


def run_fit(student, rng, replace, sizes=(1200, 250), **settings):
    """Train the lab's MLP with fit on a split of the digits drawn from rng; accuracies on its three parts."""
    order = rng.permutation(1797)
    train, val, test = order[:sizes[0]], order[sizes[0]:sum(sizes)], order[sum(sizes):]
    inputs = dict(train=train, val=val, test=test, hidden=128, p=0.2, epochs=40, lr=0.2, weight_decay=1e-4,
                  patience=8, batch_size=32, fit_seed=int(rng.integers(1000)))
    inputs.update(settings)
    return student.run(TRAIN, what="fit(...) on a held-out split", hint=FIT_HINT, seed=1234,
                       replace=replace, **inputs)


@pytest.mark.exercise("fit")
@pytest.mark.points(2)
def test_fit_matches_the_reference_run(student, rng):
    # a small network on 300 images with patience 2: validation accuracy stalls and early stopping ends the run
    settings = dict(sizes=(300, 200), epochs=30, lr=float(rng.choice([0.3, 0.6])), patience=2, hidden=16, p=0.0,
                    weight_decay=float(rng.choice([0.0, 1e-3])))
    state = rng.bit_generator.state
    got = run_fit(student, rng, REFERENCE, **settings)
    rng.bit_generator.state = state
    expected = run_fit(student, rng, {**REFERENCE, **REFERENCE_FIT}, **settings)
    for key in ("val_acc", "train_acc"):
        g, e = got["history"][key], expected["history"][key]
        assert len(g) == len(e) and np.allclose(g, e), (
            f"with {settings} your fit's {key} is {np.round(g, 3).tolist()}, the reference run's "
            f"{np.round(e, 3).tolist()} (same data, seed and start). Hint: {FIT_HINT}")
    assert got["history"]["best_epoch"] == expected["history"]["best_epoch"], (
        f"best_epoch is {got['history']['best_epoch']}, the reference says {expected['history']['best_epoch']}. Hint: {FIT_HINT}")
    assert close(got["val"], expected["val"]) and close(got["train"], expected["train"]), (
        f"after fit the model's validation accuracy is {got['val']:.3f}, the best epoch's was {expected['val']:.3f}. "
        f"Hint: put the best parameters back at the end (p.data[...] = saved).")


@pytest.mark.exercise("fit")
@pytest.mark.points(1)
def test_fit_reaches_95_percent_on_held_out_digits(student, rng):
    state = rng.bit_generator.state
    got = run_fit(student, rng, REFERENCE)
    rng.bit_generator.state = state
    reference = run_fit(student, rng, {**REFERENCE, **REFERENCE_FIT})
    bar = min(0.95, reference["test"] - 0.01)  # 95%, unless this split is a hard one for the reference too
    assert got["test"] >= bar, (
        f"trained with your fit, the network gets {got['test']:.1%} of {1797 - 1450} held-out digits right, below "
        f"{bar:.1%} (the reference fit gets {reference['test']:.1%}). Hint: {FIT_HINT}")
