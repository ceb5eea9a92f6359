"""Triton GEMM with bias and exact GELU fused into the epilogue (fp32 accumulate, IEEE fp32 dot).
Written for triton 3.x (tl.dot's input_precision, tl.math.erf); not run on tuneloop's CI."""
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def linear_bias_gelu_kernel(a_ptr, w_ptr, bias_ptr, c_ptr, M, N, K,
                            stride_am, stride_ak, stride_wn, stride_wk, stride_cm, stride_cn,
                            BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        k = k0 + offs_k
        a = tl.load(a_ptr + offs_m[:, None] * stride_am + k[None, :] * stride_ak,
                    mask=(offs_m[:, None] < M) & (k[None, :] < K), other=0.0)
        # W is [N, K] (nn.Linear layout); load the [BLOCK_K, BLOCK_N] tile of W^T.
        b = tl.load(w_ptr + k[:, None] * stride_wk + offs_n[None, :] * stride_wn,
                    mask=(k[:, None] < K) & (offs_n[None, :] < N), other=0.0)
        acc += tl.dot(a, b, input_precision="ieee")
    bias = tl.load(bias_ptr + offs_n, mask=offs_n < N, other=0.0)
    acc = acc + bias[None, :]
    out = 0.5 * acc * (1.0 + tl.math.erf(acc * 0.7071067811865476))
    tl.store(c_ptr + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn, out,
             mask=(offs_m[:, None] < M) & (offs_n[None, :] < N))


class ModelNew(nn.Module):
    def __init__(self, in_features: int = 512, out_features: int = 512):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x.reshape(-1, x.shape[-1])
        w, bias = self.linear.weight, self.linear.bias
        M, K = a.shape
        N = w.shape[0]
        c = torch.empty((M, N), dtype=torch.float32, device=x.device)
        grid = (triton.cdiv(M, 64), triton.cdiv(N, 64))
        linear_bias_gelu_kernel[grid](a, w, bias, c, M, N, K,
                                      a.stride(0), a.stride(1), w.stride(0), w.stride(1), c.stride(0), c.stride(1),
                                      BLOCK_M=64, BLOCK_N=64, BLOCK_K=32, num_warps=4, num_stages=3)
        return c.reshape(*x.shape[:-1], N)
