"""Lab 10 (convolution): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

from answer_tables import KEEPS, LOSES, answer, table_tests
from labs.grading.lab import load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "10_convolution")

ROWS = [
    answer(LAB, "loops", "a flipped filter (true convolution)", LOSES, ("* w[f])", "* w[f, :, ::-1, ::-1])")),
    answer(LAB, "loops", "one input channel only", LOSES, ("np.sum(xp[n, :, i:i + kh, j:j + kw] * w[f])", "np.sum(xp[n, 0, i:i + kh, j:j + kw] * w[f, 0])")),
    answer(LAB, "loops", "padding on every axis", LOSES, ("xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
                                             "xp = np.pad(x, padding)")),
    answer(LAB, "loops", "einsum over the window", KEEPS,
          ("np.sum(xp[n, :, i:i + kh, j:j + kw] * w[f])", "np.einsum('cuv,cuv->', xp[n, :, i:i + kh, j:j + kw], w[f])")),

    answer(LAB, "im2col", "columns in (u, v, c) order", LOSES, ("return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * H * W, C * kh * kw)",
                                                   "return cols.transpose(0, 4, 5, 2, 3, 1).reshape(N * H * W, C * kh * kw)")),
    answer(LAB, "im2col", "rows in (i, j, n) order", LOSES, ("return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * H * W, C * kh * kw)",
                                                "return cols.transpose(4, 5, 0, 1, 2, 3).reshape(N * H * W, C * kh * kw)")),
    answer(LAB, "im2col", "reshaped without the transpose", LOSES, ("return out.reshape(x.shape[0], H, W, F).transpose(0, 3, 1, 2)",
                                                       "return out.reshape(x.shape[0], F, H, W)")),
    answer(LAB, "im2col", "sliding_window_view", KEEPS,
          ("""    cols = np.empty((N, C, kh, kw, H, W))
    for u in range(kh):
        for v in range(kw):
            cols[:, :, u, v] = xp[:, :, u:u + H, v:v + W]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * H * W, C * kh * kw)""",
           """    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * H * W, C * kh * kw)""")),

    answer(LAB, "op", "col2im overwrites overlapping windows", LOSES, ("dxp[:, :, u:u + H, v:v + W] += d[:, :, u, v]", "dxp[:, :, u:u + H, v:v + W] = d[:, :, u, v]")),
    answer(LAB, "op", "the bias gradient of one position", LOSES, ("return dx, dw, g.sum(axis=0)", "return dx, dw, g[0]")),
    answer(LAB, "op", "padding left on the input gradient", LOSES, ("return dxp[:, :, padding:padding + H0, padding:padding + W0]", "return dxp[:, :, :H0, :W0]")),
    answer(LAB, "op", "dW with einsum", KEEPS, ("dw = (g.T @ cols).reshape(w.shape)", "dw = np.einsum('rf,rk->fk', g, cols).reshape(w.shape)")),

    answer(LAB, "pool", "gradient spread over the block", LOSES, ("np.put_along_axis(blocks, arg[..., None], grad[..., None], axis=-1)",
                                                     "blocks[...] = grad[..., None] / 4")),
    answer(LAB, "pool", "the mean instead of the max", LOSES, ("return np.take_along_axis(blocks, arg[..., None], axis=-1)[..., 0]", "return blocks.mean(axis=-1)")),
    answer(LAB, "pool", "the maximum by max()", KEEPS, ("return np.take_along_axis(blocks, arg[..., None], axis=-1)[..., 0]", "return blocks.max(axis=-1)")),

    answer(LAB, "cnn", "no ReLU", LOSES, ("Conv2d.apply(x, self.w, self.b, padding=1).relu()", "Conv2d.apply(x, self.w, self.b, padding=1)")),
    answer(LAB, "cnn", "no padding", LOSES, ("padding=1).relu()", "padding=0).relu()")),
    answer(LAB, "cnn", "filters at scale 1", LOSES, ("np.random.randn(16, 1, 3, 3) * np.sqrt(2 / 9)", "np.random.randn(16, 1, 3, 3)")),
    answer(LAB, "cnn", "flatten with the batch size from x", KEEPS, ("return self.out(h.reshape(h.shape[0], -1))", "return self.out(h.reshape(x.shape[0], 256))")),
]
INDEPENDENT = [LAB.exercises()]  # every test of this lab uses stand-ins for the other exercises

(test_every_exercise_has_wrong_answers_and_a_valid_alternative,
 test_the_points_the_text_states_and_hidden_tests_carry_half, grades, test_answer) = table_tests(LAB, ROWS, INDEPENDENT)


