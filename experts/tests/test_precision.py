import pytest
import torch

from poe import runtime
from poe.runtime import choose_precision, cpu_flags
from poe.wrn import WideResNet


def test_auto_picks_bf16_only_on_cpus_with_native_bf16():
    assert choose_precision('auto', 'cpu', flags={'avx2', 'avx512f', 'avx512_bf16'})[0] == 'bf16'
    assert choose_precision('auto', 'cpu', flags={'avx2', 'amx_bf16', 'amx_tile'})[0] == 'bf16'
    chosen, why = choose_precision('auto', 'cpu', flags={'avx2', 'fma', 'avx512f'})  # AVX-512 without bf16: emulated
    assert chosen == 'fp32' and 'no native bf16' in why


def test_auto_on_a_gpu_follows_its_bf16_support():
    assert choose_precision('auto', 'cuda', cuda_bf16=True)[0] == 'bf16'
    assert choose_precision('auto', 'cuda', cuda_bf16=False)[0] == 'fp32'


def test_an_explicit_precision_is_kept_whatever_the_hardware():
    assert choose_precision('bf16', 'cpu', flags=set()) == ('bf16', '--precision=bf16 asked for')
    assert choose_precision('fp32', 'cpu', flags={'avx512_bf16'})[0] == 'fp32'
    with pytest.raises(SystemExit, match='expected one of auto, bf16, fp32'):
        choose_precision('fp16', 'cpu')


def test_cpu_flags_reads_the_flags_line(tmp_path):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nflags\t\t: fpu sse avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu sse avx2 avx512_bf16\n')
    assert cpu_flags(info) == {'fpu', 'sse', 'avx2', 'avx512_bf16'}
    assert cpu_flags(tmp_path / 'missing') == set()


def test_fp32_inference_on_a_cpu_runs_a_onednn_copy_with_the_same_logits():
    torch.manual_seed(0)
    model = WideResNet(10, 2, 100).eval()
    x = torch.randn(8, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    fast = runtime.inference_model(model, torch.device('cpu'), 'fp32')
    assert fast is not model or not torch.backends.mkldnn.is_available()
    with torch.no_grad():
        assert torch.allclose(fast(x), model(x), atol=1e-4)
        assert torch.allclose(fast(torch.flip(x, dims=[3])), model(torch.flip(x, dims=[3])), atol=1e-4)
    assert runtime.inference_model(model, torch.device('cpu'), 'bf16') is model  # autocast needs the plain module
