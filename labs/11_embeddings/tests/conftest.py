"""Shared by lab 11's public and hidden tests (shipped with the public ones): the judge's loss and neighbours."""
import numpy as np
import pytest

import numtorch as nt


def sgns(u, v, n):
    """The judge's negative-sampling loss on its own tensors (mean over the batch)."""
    B, D = u.shape
    positive = (u * v).sum(dim=1).sigmoid().log()
    negative = (-(n * u.reshape(B, 1, D)).sum(dim=2)).sigmoid().log().sum(dim=1)
    return -(positive + negative).mean()


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
        tu, tv, tn = (nt.tensor(a, requires_grad=True) for a in (u, v, n))
        loss = sgns(tu, tv, tn)
        loss.backward()
        assert got["size"] == 1, f"sgns_loss returned {got['size']} numbers, not one. Hint: {hint}"
        assert np.isclose(got["loss"], loss.item(), atol=1e-6), (
            f"sgns_loss gives {got['loss']:.6f}, expected {loss.item():.6f}. Hint: {hint}")
        for name, g, e in [("u", got["du"], tu.grad.data), ("v", got["dv"], tv.grad.data), ("n", got["dn"], tn.grad.data)]:
            assert np.allclose(g, e, atol=1e-6), f"the gradient of sgns_loss for {name} is wrong. Hint: {hint}"

    return check
