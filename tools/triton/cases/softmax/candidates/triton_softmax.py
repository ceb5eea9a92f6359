"""Triton softmax: one program per row, the whole row in registers (n_cols <= 65536).
Needs triton and a GPU (or TRITON_INTERPRET=1 with the small shapes).
Written for triton 3.x; not run on tuneloop's CI (no GPU there)."""
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def softmax_kernel(out_ptr, in_ptr, in_row_stride, out_row_stride, n_cols, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * in_row_stride + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    numerator = tl.exp(x)
    denominator = tl.sum(numerator, axis=0)
    tl.store(out_ptr + row * out_row_stride + cols, numerator / denominator, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dim not in (-1, x.dim() - 1):
            raise ValueError("this kernel normalizes the last dimension only")
        rows = x.reshape(-1, x.shape[-1])
        if rows.stride(-1) != 1:
            rows = rows.contiguous()
        out = torch.empty_like(rows)
        n_rows, n_cols = rows.shape
        block = triton.next_power_of_2(n_cols)
        num_warps = 4 if block <= 2048 else 8 if block <= 8192 else 16
        softmax_kernel[(n_rows,)](out, rows, rows.stride(0), out.stride(0), n_cols, BLOCK_SIZE=block, num_warps=num_warps)
        return out.reshape(x.shape)
