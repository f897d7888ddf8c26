import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from btvqvae.nn.stft import istft, n_frames, n_freqs, stft


@settings(max_examples=60, deadline=None)
@given(length=st.integers(1, 600), channels=st.integers(1, 4), batch=st.integers(1, 3),
       n_fft=st.sampled_from([4, 8, 16]), seed=st.integers(0, 2**31 - 1))
def test_stft_round_trip_restores_series_of_any_length(length, channels, batch, n_fft, seed):
    x = torch.randn(batch, channels, length, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(seed))
    u = stft(x, n_fft)
    assert u.shape == (batch, 2 * channels, n_freqs(n_fft), n_frames(length, n_fft))
    x_back = istft(u, n_fft, length)
    assert x_back.shape == x.shape
    np.testing.assert_allclose(x_back.numpy(), x.numpy(), atol=1e-10, rtol=1e-10)


def test_stft_interleaves_real_and_imaginary_parts_per_channel():
    x = torch.randn(2, 3, 40, dtype=torch.float64)
    u = stft(x, 8)
    for c in range(3):
        spec = torch.stft(x[:, c], 8, hop_length=2, window=torch.ones(8, dtype=x.dtype),
                          center=True, pad_mode="constant", return_complex=True)
        torch.testing.assert_close(u[:, 2 * c], spec.real)
        torch.testing.assert_close(u[:, 2 * c + 1], spec.imag)


def test_stft_round_trip_in_float32_within_float_tolerance():
    x = torch.randn(4, 2, 151)
    np.testing.assert_allclose(istft(stft(x, 8), 8, 151).numpy(), x.numpy(), atol=1e-5)
