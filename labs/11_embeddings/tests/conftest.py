"""Shared by lab 11's public and hidden tests (shipped with the public ones): the judge's loss and its
gradients, written with NumPy and the derivative of log σ (your answer is written with tensor operations)."""
import numpy as np
import pytest


def log_sigmoid(z):
    """log σ(z) = -log(1 + e^-z), stable for large |z|."""
    return -np.logaddexp(0.0, -z)


def sgns_reference(u, v, n):
    """(loss, du, dv, dn) of the mean negative-sampling loss, with d log σ(z)/dz = σ(-z)."""
    B = len(u)
    pos, neg = np.sum(u * v, axis=1), -np.einsum("bkd,bd->bk", n, u)
    loss = -np.mean(log_sigmoid(pos) + log_sigmoid(neg).sum(axis=1))
    g_pos, g_neg = -np.exp(log_sigmoid(-pos)) / B, np.exp(log_sigmoid(-neg)) / B  # d loss / d pos, d loss / d(u·n)
    du = g_pos[:, None] * v + np.einsum("bk,bkd->bd", g_neg, n)
    return loss, du, g_pos[:, None] * u, g_neg[:, :, None] * u[:, None, :]


@pytest.fixture
def check_loss(student):
    """Compare the student's sgns_loss and its gradients with the judge's on arrays u, v, n."""

    def check(u, v, n, hint):
        got = student.run("""
            tu, tv, tn = (nt.tensor(a, requires_grad=True) for a in (u, v, n))
            loss = sgns_loss(tu, tv, tn)
            loss.backward()
            result = {"loss": float(loss.data.reshape(-1)[0]), "size": int(loss.data.size),
                      "du": tu.grad.data, "dv": tv.grad.data, "dn": tn.grad.data}
        """, u=u, v=v, n=n, what=f"sgns_loss on a batch of {u.shape[0]} with {n.shape[1]} negatives", hint=hint)
        loss, du, dv, dn = sgns_reference(u, v, n)
        assert got["size"] == 1, f"sgns_loss returned {got['size']} numbers, not one. Hint: {hint}"
        assert np.isclose(got["loss"], loss, atol=1e-6), f"sgns_loss gives {got['loss']:.6f}, expected {loss:.6f}. Hint: {hint}"
        for name, g, e in [("u", got["du"], du), ("v", got["dv"], dv), ("n", got["dn"], dn)]:
            assert np.allclose(g, e, atol=1e-6), f"the gradient of sgns_loss for {name} is wrong. Hint: {hint}"

    return check
