import torch
from torch import nn


class Model(nn.Module):
    """Softmax over one dimension (default: the last): one read, one write per element once fused."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=self.dim)
