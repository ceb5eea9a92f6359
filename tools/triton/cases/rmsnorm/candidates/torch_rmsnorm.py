"""Pure PyTorch RMSNorm through the vector norm: ||x|| / sqrt(n) is the root mean square."""
import math

import torch
from torch import nn


class ModelNew(nn.Module):
    def __init__(self, hidden: int = 1024, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rms = torch.linalg.vector_norm(x, dim=-1, keepdim=True) / math.sqrt(x.shape[-1])
        return x / torch.sqrt(rms * rms + self.eps) * self.weight
