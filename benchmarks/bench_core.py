"""Core speed and memory: numtorch against the same computation in raw NumPy, PyTorch CPU and MyGrad.

    python benchmarks/bench_core.py [--quick]

Every ratio is measured in this one run (best of several rounds in which the contenders take turns), so
machine noise affects all contenders alike. Targets (issues 2, 12): small MLP step <= 1.5x raw NumPy, large
MLP step <= 1.1x, per-op cost of a 200-op chain <= PyTorch CPU's, no memory growth over 10 000 small-MLP
iterations.
"""

import argparse
import gc
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numtorch as nt  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None
try:
    import mygrad
except ImportError:
    mygrad = None

LR = 0.01


def best_times(contenders, number, repeat):
    """{name: best mean seconds per call} over `repeat` rounds of `number` calls each; the contenders take
    turns within every round, so a busy moment of a shared machine slows them alike."""
    for fn in contenders.values():
        fn()
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeat):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / number)
    return best


def init_weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((a, b)) * np.sqrt(1.0 / a), np.zeros(b)) for a, b in zip(sizes, sizes[1:])]


def mlp_data(sizes, batch, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, sizes[0])), rng.standard_normal((batch, sizes[-1]))


# ---- one training step (forward + backward + SGD update), four ways ----------------------------
def numpy_step(weights, x, y):
    """The hand-written reference: tanh hidden layers, linear output, mean squared error, SGD."""
    acts = [x]
    h = x
    for i, (w, b) in enumerate(weights):
        h = h @ w + b
        if i < len(weights) - 1:
            h = np.tanh(h)
        acts.append(h)
    diff = h - y
    g = diff * (2.0 / diff.size)
    for i in range(len(weights) - 1, -1, -1):
        w, b = weights[i]
        a = acts[i]
        gw, gb = a.T @ g, g.sum(axis=0)
        if i > 0:
            g = (g @ w.T) * (1 - a * a)
        w -= LR * gw
        b -= LR * gb
    return (diff * diff).mean()


def numtorch_model(weights):
    layers = []
    for i, (w, b) in enumerate(weights):
        lin = nt.layers.LinearLayer(*w.shape)
        lin.weight.data[...] = w
        lin.bias.data[...] = b
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(nt.layers.Tanh())
    model = nt.layers.SequentialLayer(layers)
    return model, nt.layers.MSELoss(), nt.optimizers.SGDOptimizer(model.get_params(), lr=LR)


def numtorch_step(model, criterion, optimizer, x, y):
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def torch_parts(weights):
    params = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)) for w, b in weights]
    return params, torch.optim.SGD([p for pair in params for p in pair], lr=LR)


def torch_step(params, opt, x, y):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = torch.tanh(h)
    loss = ((h - y) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def mygrad_step(params, x, y):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = mygrad.tanh(h)
    loss = mygrad.mean((h - y) ** 2)
    loss.backward()
    for w, b in params:
        w.data -= LR * w.grad
        b.data -= LR * b.grad
    return loss


def bench_mlp(sizes, batch, number, repeat):
    weights = init_weights(sizes)
    x, y = mlp_data(sizes, batch)
    ref = [(w.copy(), b.copy()) for w, b in weights]
    model, criterion, optimizer = numtorch_model(weights)
    xt, yt = nt.Tensor(x), nt.Tensor(y)
    contenders = {"raw NumPy": lambda: numpy_step(ref, x, y),
                  "numtorch": lambda: numtorch_step(model, criterion, optimizer, xt, yt)}
    if torch is not None:
        params, opt = torch_parts(weights)
        tx, ty = torch.tensor(x), torch.tensor(y)
        contenders["PyTorch CPU (1 thread)"] = lambda: torch_step(params, opt, tx, ty)
    if mygrad is not None:
        mparams = [(mygrad.tensor(w.copy()), mygrad.tensor(b.copy())) for w, b in weights]
        contenders["MyGrad"] = lambda: mygrad_step(mparams, x, y)
    return best_times(contenders, number, repeat)


def check_same_step(sizes, batch):
    """numtorch and the raw NumPy step compute the same loss and update (so the race is fair)."""
    weights = init_weights(sizes)
    x, y = mlp_data(sizes, batch)
    ref = [(w.copy(), b.copy()) for w, b in weights]
    model, criterion, optimizer = numtorch_model(weights)
    for _ in range(3):
        a = numpy_step(ref, x, y)
        b = numtorch_step(model, criterion, optimizer, nt.Tensor(x), nt.Tensor(y))
        assert np.isclose(a, b.item()), (a, b.item())
    assert np.allclose(ref[0][0], model.layers[0].weight.data)


# ---- a chain of small-tensor ops --------------------------------------------------------------
def chain_numtorch(n):
    x = nt.Tensor(np.full(4, 0.5), autograd=True)
    h = x
    for i in range(n // 2):
        h = (h * 0.9 + 0.1) if i % 2 else (h.tanh() * 1.0)
    h.sum().backward()
    return x.grad


def chain_torch(n):
    x = torch.full((4,), 0.5, dtype=torch.float64, requires_grad=True)
    h = x
    for i in range(n // 2):
        h = (h * 0.9 + 0.1) if i % 2 else (torch.tanh(h) * 1.0)
    h.sum().backward()
    return x.grad


def chain_mygrad(n):
    x = mygrad.tensor(np.full(4, 0.5))
    h = x
    for i in range(n // 2):
        h = (h * 0.9 + 0.1) if i % 2 else (mygrad.tanh(h) * 1.0)
    mygrad.sum(h).backward()
    return x.grad


def bench_chain(n, number, repeat):
    contenders = {"numtorch": lambda: chain_numtorch(n)}
    if torch is not None:
        assert np.allclose(chain_torch(n).numpy(), chain_numtorch(n).data)
        contenders["PyTorch CPU (1 thread)"] = lambda: chain_torch(n)
    if mygrad is not None:
        contenders["MyGrad"] = lambda: chain_mygrad(n)
    return {name: t / n for name, t in best_times(contenders, number, repeat).items()}


# ---- memory -----------------------------------------------------------------------------------
def bench_memory(iterations):
    """tracemalloc current/peak after the first 1000 iterations and at the end: no growth allowed."""
    weights = init_weights([64, 128, 10])
    x, y = mlp_data([64, 128, 10], 32)
    model, criterion, optimizer = numtorch_model(weights)
    xt, yt = nt.Tensor(x), nt.Tensor(y)
    gc.collect()
    tracemalloc.start()
    marks = {}
    for i in range(1, iterations + 1):
        numtorch_step(model, criterion, optimizer, xt, yt)
        if i in (1000, iterations):
            marks[i] = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return marks


def report_ratio(title, times, base, target=None):
    print(f"\n{title}")
    for name, t in times.items():
        ratio = t / times[base]
        print(f"  {name:24s} {t * 1e6:10.1f} us   {ratio:5.2f}x {base}")
    if target is not None:
        ratio = times["numtorch"] / times[base]
        print(f"  -> numtorch / {base} = {ratio:.2f}x (target <= {target}x): {'MET' if ratio <= target else 'MISSED'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, noisier figures)")
    args = parser.parse_args(argv)
    scale = 0.2 if args.quick else 1.0
    rep = 3 if args.quick else 7
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'not installed'}; "
          f"mygrad {mygrad.__version__ if mygrad else 'not installed'}")
    check_same_step([64, 128, 10], 32)

    small = bench_mlp([64, 128, 10], 32, int(500 * scale) or 1, rep)
    report_ratio("MLP 64-128-10, batch 32, tanh, MSE, one SGD step", small, "raw NumPy", 1.5)
    large = bench_mlp([784, 512, 512, 10], 128, int(30 * scale) or 1, rep)
    report_ratio("MLP 784-512-512-10, batch 128, one SGD step", large, "raw NumPy", 1.1)

    chain = bench_chain(200, int(200 * scale) or 1, rep)
    print("\nChain of 200 small-tensor ops + backward, cost per op")
    for name, t in chain.items():
        print(f"  {name:24s} {t * 1e6:8.2f} us/op")
    if "PyTorch CPU (1 thread)" in chain:
        ratio = chain["numtorch"] / chain["PyTorch CPU (1 thread)"]
        print(f"  -> numtorch / PyTorch = {ratio:.2f}x (target <= 1x): {'MET' if ratio <= 1 else 'MISSED'}")

    iterations = 2000 if args.quick else 10000
    marks = bench_memory(iterations)
    (c1, p1), (c2, p2) = marks[1000], marks[iterations]
    print(f"\nMemory, {iterations} small-MLP iterations (tracemalloc)")
    print(f"  after 1000: current {c1 / 1024:.0f} KiB, peak {p1 / 1024:.0f} KiB")
    print(f"  after {iterations}: current {c2 / 1024:.0f} KiB, peak {p2 / 1024:.0f} KiB")
    print(f"  -> growth {(c2 - c1) / 1024:+.1f} KiB: {'NONE' if c2 - c1 < 64 * 1024 else 'GROWING'}")


if __name__ == "__main__":
    main()
