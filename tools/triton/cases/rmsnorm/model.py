import torch
from torch import nn


class Model(nn.Module):
    """RMSNorm over the last dimension with a learned scale (as in LLaMA-style transformers)."""

    def __init__(self, hidden: int = 1024, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight
