"""What the CPU can do fast: the one place precision defaults ask about hardware."""

from __future__ import annotations


def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bfloat16 natively (AVX512-BF16 or AMX, e.g. Sapphire Rapids).

    There, bf16 matmuls run through oneDNN at about twice the fp32 rate (measured here: bf16
    autocast training 1.28x the tokens per CPU-second of fp32 at the same loss, bf16 weights
    2x the summaries per second). Elsewhere bf16 is emulated and slower than fp32.
    """
    try:
        import torch.cpu as tcpu

        return bool(tcpu._is_avx512_bf16_supported() or tcpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):  # older torch: no probe, assume no
        return False


def cpu_has_vnni() -> bool:
    """True when this CPU's int8 dot products accumulate in 32 bits (AVX512-VNNI / AVX-VNNI).

    Then int8 activations can use their full 8 bits: AVX2's multiply-add (no VNNI) saturates a
    16-bit intermediate, which is why torch quantizes activations to 7 bits by default.
    """
    try:
        import torch.cpu as tcpu

        return bool(tcpu._is_vnni_supported())
    except (AttributeError, RuntimeError):  # older torch: no probe, assume no
        return False


def cpu_model() -> str:
    """The CPU's model name, printed next to every benchmark figure."""
    import platform
    from pathlib import Path

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
