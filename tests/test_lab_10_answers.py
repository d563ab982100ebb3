"""Lab 10 (convolution): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

import pytest

from answer_table import check_hidden_share, check_table, check_variant, grade_variants, valid, wrong
from labs.grading.lab import load_lab

LAB = Path(__file__).parents[1] / "labs" / "10_convolution"

VARIANTS = [
    wrong("loops", "a flipped filter (true convolution)", ("loops", "* w[f])", "* w[f, :, ::-1, ::-1])")),
    wrong("loops", "one input channel only", ("loops", "np.sum(xp[n, :, i:i + kh, j:j + kw] * w[f])", "np.sum(xp[n, 0, i:i + kh, j:j + kw] * w[f, 0])")),
    wrong("loops", "padding on every axis", ("loops", "xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
                                             "xp = np.pad(x, padding)")),
    valid("loops", "einsum over the window",
          ("loops", "np.sum(xp[n, :, i:i + kh, j:j + kw] * w[f])", "np.einsum('cuv,cuv->', xp[n, :, i:i + kh, j:j + kw], w[f])")),

    wrong("im2col", "columns in (u, v, c) order", ("im2col", "return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * H * W, C * kh * kw)",
                                                   "return cols.transpose(0, 4, 5, 2, 3, 1).reshape(N * H * W, C * kh * kw)")),
    wrong("im2col", "rows in (i, j, n) order", ("im2col", "return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * H * W, C * kh * kw)",
                                                "return cols.transpose(4, 5, 0, 1, 2, 3).reshape(N * H * W, C * kh * kw)")),
    wrong("im2col", "reshaped without the transpose", ("im2col", "return out.reshape(x.shape[0], H, W, F).transpose(0, 3, 1, 2)",
                                                       "return out.reshape(x.shape[0], F, H, W)")),
    valid("im2col", "sliding_window_view",
          ("im2col", """    cols = np.empty((N, C, kh, kw, H, W))
    for u in range(kh):
        for v in range(kw):
            cols[:, :, u, v] = xp[:, :, u:u + H, v:v + W]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * H * W, C * kh * kw)""",
           """    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * H * W, C * kh * kw)""")),

    wrong("backward", "col2im overwrites overlapping windows", ("op", "dxp[:, :, u:u + H, v:v + W] += d[:, :, u, v]", "dxp[:, :, u:u + H, v:v + W] = d[:, :, u, v]")),
    wrong("backward", "the bias gradient of one position", ("op", "return dx, dw, g.sum(axis=0)", "return dx, dw, g[0]")),
    wrong("backward", "padding left on the input gradient", ("op", "return dxp[:, :, padding:padding + H0, padding:padding + W0]", "return dxp[:, :, :H0, :W0]")),
    valid("backward", "dW with einsum", ("op", "dw = (g.T @ cols).reshape(w.shape)", "dw = np.einsum('rf,rk->fk', g, cols).reshape(w.shape)")),

    wrong("pool", "gradient spread over the block", ("pool", "np.put_along_axis(blocks, arg[..., None], grad[..., None], axis=-1)",
                                                     "blocks[...] = grad[..., None] / 4")),
    wrong("pool", "the mean instead of the max", ("pool", "return np.take_along_axis(blocks, arg[..., None], axis=-1)[..., 0]", "return blocks.mean(axis=-1)")),
    valid("pool", "the maximum by max()", ("pool", "return np.take_along_axis(blocks, arg[..., None], axis=-1)[..., 0]", "return blocks.max(axis=-1)")),

    wrong("cnn", "no ReLU", ("cnn", "Conv2d.apply(x, self.w, self.b, padding=1).relu()", "Conv2d.apply(x, self.w, self.b, padding=1)")),
    wrong("cnn", "no padding", ("cnn", "padding=1).relu()", "padding=0).relu()")),
    wrong("cnn", "filters at scale 1", ("cnn", "np.random.randn(16, 1, 3, 3) * np.sqrt(2 / 9)", "np.random.randn(16, 1, 3, 3)")),
    valid("cnn", "flatten with the batch size from x", ("cnn", "return self.out(h.reshape(h.shape[0], -1))", "return self.out(h.reshape(x.shape[0], 256))")),
]
INDEPENDENT = [["loops", "im2col", "backward", "pool", "cnn"]]


def test_hidden_tests_carry_half_the_points():
    check_hidden_share(LAB)


def test_every_exercise_has_its_rows():
    check_table(VARIANTS, load_lab(LAB).exercises())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_variants(LAB, VARIANTS, tmp_path_factory.mktemp("lab10_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.id)
def test_variant(graded, variant):
    check_variant(LAB, graded, variant)
