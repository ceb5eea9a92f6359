"""Triton RMSNorm: one program per row, strided input, fp32 accumulation.
Written for triton 3.x; not run on tuneloop's CI (no GPU there)."""
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def rmsnorm_kernel(x_ptr, w_ptr, out_ptr, x_row_stride, x_col_stride, out_row_stride, n_cols, eps, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * x_row_stride + cols * x_col_stride, mask=mask, other=0.0).to(tl.float32)
    mean_square = tl.sum(x * x, axis=0) / n_cols
    inv_rms = 1.0 / tl.sqrt(mean_square + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(out_ptr + row * out_row_stride + cols, x * inv_rms * w, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, hidden: int = 1024, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x if x.dim() == 2 else x.reshape(-1, x.shape[-1])
        n_rows, n_cols = rows.shape
        out = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
        block = triton.next_power_of_2(n_cols)
        rmsnorm_kernel[(n_rows,)](rows, self.weight, out, rows.stride(0), rows.stride(1), out.stride(0), n_cols, self.eps,
                                  BLOCK_SIZE=block, num_warps=4 if block <= 2048 else 8)
        return out.reshape(x.shape)
