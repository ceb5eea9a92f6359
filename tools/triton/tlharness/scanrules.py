"""What the static scan (scan.py) looks for: module and call names cheats need, the attributes
that reach frames and namespaces, and each flag's severity and wording."""

THREAD_MODULES = {"threading", "_thread", "concurrent", "multiprocessing", "asyncio"}
PROCESS_MODULES = {"subprocess", "pty"}
NETWORK_MODULES = {"socket", "urllib", "http", "requests", "ssl"}
FILE_MODULES = {"pickle", "marshal", "shelve", "glob", "pathlib", "shutil", "tempfile", "io"}
DYNAMIC_MODULES = {"importlib", "runpy", "imp", "ctypes", "cffi"}
FILE_CALLS = {"torch.load", "torch.from_file", "numpy.load", "numpy.fromfile", "numpy.loadtxt", "numpy.memmap",
              "os.listdir", "os.scandir", "os.walk", "os.open", "os.read"}
PROCESS_CALLS = {"os.system", "os.popen", "os.fork", "os.forkpty", "os.execv", "os.execve", "os.execvp", "os.spawnv", "os.posix_spawn", "os.kill"}
FRAME_CALLS = {"sys._getframe", "inspect.currentframe", "inspect.stack", "inspect.getouterframes", "inspect.trace",
               "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile", "threading.settrace"}
# Attributes that reach frames, code, closures or namespaces: how a candidate walks up to its
# caller's data (e.__traceback__.tb_frame.f_back) or rewires a function without assigning to it.
FRAME_ATTRS = {"__traceback__", "tb_frame", "tb_next", "f_back", "f_locals", "f_globals", "f_builtins", "f_code", "gi_frame",
               "cr_frame", "ag_frame", "__closure__", "cell_contents", "__globals__", "__code__", "__defaults__", "__kwdefaults__"}
NAMESPACE_ATTRS = {"__dict__", "__subclasses__", "__mro__", "__bases__", "__base__", "__getattribute__", "__reduce_ex__"}
DYNAMIC_LOOKUPS = {"vars", "globals", "locals", "getattr", "setattr", "delattr", "hasattr"}
HARNESS_MODULES = {"tlharness", "harness"}
STREAM_ATTRS = {"Stream", "stream", "set_stream", "ExternalStream", "StreamContext"}
TIMER_NAMES = {"perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns", "process_time",
               "elapsed_time", "do_bench", "do_bench_cudagraph", "synchronize", "Event", "Timer", "record"}
RNG_NAMES = {"rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm", "bernoulli",
             "multinomial", "normal", "normal_", "uniform_", "random", "random_", "seed", "manual_seed", "shuffle", "choice"}
RNG_BASES = ("torch.", "numpy.", "random.", "triton.language.")
# High-level torch ops: a candidate calling the same one as the reference is falling back to it.
HIGH_LEVEL_OPS = {
    "softmax", "log_softmax", "layer_norm", "rms_norm", "group_norm", "batch_norm", "instance_norm", "normalize",
    "linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "scaled_dot_product_attention", "multi_head_attention_forward", "gelu", "silu", "mish", "softplus", "elu", "selu",
    "matmul", "mm", "bmm", "addmm", "baddbmm", "einsum", "cross_entropy", "nll_loss", "embedding", "max_pool2d",
    "avg_pool2d", "adaptive_avg_pool2d", "interpolate", "cumsum", "cumprod", "topk", "sort", "LayerNorm", "Linear",
    "Softmax", "GELU", "SiLU", "RMSNorm", "Conv2d", "MultiheadAttention",
}

WATCHED_NAMES = (TIMER_NAMES | THREAD_MODULES | PROCESS_MODULES | NETWORK_MODULES | FILE_MODULES | DYNAMIC_MODULES | HARNESS_MODULES
                 | {c.split(".")[-1] for c in FILE_CALLS | PROCESS_CALLS | FRAME_CALLS} | FRAME_ATTRS | NAMESPACE_ATTRS | DYNAMIC_LOOKUPS
                 | {"open", "exec", "eval", "compile", "__import__", "modules", "sys", "os", "gc", "inspect", "builtins", "__builtins__",
                    "import_module", "expected", "tuneloop", "Popen", "system", "getframe", "_getframe"})

SEVERITY = {
    "reference_import": "suspicious", "dynamic_code": "suspicious", "threads": "suspicious", "processes": "suspicious",
    "network": "suspicious", "file_access": "suspicious", "frame_introspection": "suspicious", "streams": "suspicious",
    "monkeypatch": "suspicious", "timer_patch": "suspicious", "builtins_access": "suspicious", "dynamic_lookup": "suspicious",
    "obfuscated_name": "suspicious", "harness_access": "suspicious",
    "randomness": "warning", "reduced_precision": "warning", "reference_op_fallback": "warning", "global_settings": "warning",
}
DESCRIPTIONS = {
    "reference_import": "refers to the case's reference module or class",
    "dynamic_code": "runs code built at run time (exec/eval/compile/__import__/importlib/ctypes)",
    "threads": "uses threads or other concurrency (work the timer may not wait for)",
    "processes": "starts processes",
    "network": "uses the network",
    "file_access": "reads files (the reference's outputs are files)",
    "frame_introspection": "inspects stack frames, the heap or tracing hooks (the caller's data)",
    "streams": "creates or switches CUDA streams (work the timer may not wait for)",
    "monkeypatch": "assigns attributes of imported modules (patching)",
    "timer_patch": "replaces a timing function",
    "builtins_access": "touches __builtins__",
    "dynamic_lookup": "looks names up at run time (vars/globals/getattr with a computed name, __dict__, __subclasses__): a way around this scan",
    "obfuscated_name": "builds a watched name out of pieces",
    "harness_access": "refers to tuneloop's harness modules",
    "randomness": "draws random numbers (results may differ run to run)",
    "reduced_precision": "casts to float16/bfloat16 while the reference's outputs are float32/float64",
    "reference_op_fallback": "calls the same high-level torch op as the reference (any speedup is not the kernel's)",
    "global_settings": "changes process-wide torch settings (they apply to the baseline too)",
}
