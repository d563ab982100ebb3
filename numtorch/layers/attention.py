"""Multi-head attention, written from primitives: projections, batched @, masked_fill and softmax."""

from numtorch import functional as F
from numtorch.errors import ShapeError
from numtorch.layers.base import Layer
from numtorch.layers.core import LinearLayer


class MultiHeadAttention(Layer):
    """Attention with num_heads heads on batch-first sequences: (N, T, embed_dim) -> (N, T, embed_dim).

    forward(query, key=None, value=None): self-attention when key and value are not given. Each head
    takes its slice of the projected queries, keys and values and computes
    softmax(q @ k^T / sqrt(d) + mask) @ v (F.scaled_dot_product_attention); the heads are put side by
    side again and projected by out_proj. causal=True lets position t attend only to positions <= t
    (a language model must not see the future). Returns the output only (PyTorch's
    nn.MultiheadAttention also returns the attention weights).
    """

    def __init__(self, embed_dim, num_heads, causal=False, bias=True):
        if embed_dim % num_heads:
            raise ShapeError(f"MultiHeadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}: "
                             f"each head gets embed_dim / num_heads features")
        self.embed_dim, self.num_heads, self.causal = embed_dim, num_heads, causal
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (LinearLayer(embed_dim, embed_dim, bias)
                                                                for _ in range(4))

    def forward(self, query, key=None, value=None):
        key = query if key is None else key
        value = key if value is None else value
        q, k, v = self._heads(self.q_proj(query)), self._heads(self.k_proj(key)), self._heads(self.v_proj(value))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        n, heads, t, d = attended.shape
        return self.out_proj(attended.transpose(1, 2).reshape(n, t, heads * d))

    def _heads(self, x):
        """(N, T, embed_dim) -> (N, num_heads, T, embed_dim / num_heads)."""
        n, t, e = x.shape
        return x.reshape(n, t, self.num_heads, e // self.num_heads).transpose(1, 2)

    def __repr__(self):
        return f"MultiHeadAttention({self.embed_dim}, num_heads={self.num_heads}, causal={self.causal})"
