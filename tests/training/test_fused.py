"""The fused engine (lib.training.fused): N seeds at once equal N separate runs of
lib.training.train.

Why the long equivalence test runs in float64: fp32 training of these ReLU/SELU networks is
chaotic at the level of floating-point order. lib.training.train alone, run once with 1 and
once with 2 threads, gives per-iteration losses that agree to 1e-7 for the first few steps and
then drift apart by 1e-4 to 1e-2 within 10-20 steps (an activation within rounding noise of a
kink flips, Adam turns the changed gradient into a full-size step). So a tight comparison
over dozens of steps is only possible with less rounding noise: both engines run the same
code with float64 parameters and inputs (the loss is still taken in fp32, as always), where
they agree to fp32 rounding over the whole run. The production fp32 kernels (grouped
convolutions, contiguous and channels_last) are checked step by step in fp32.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lib.core.arms import run_config
from lib.model import data as data_module
from lib.model.wide import fuse, unfuse
from lib.training import fused as fused_module
from lib.training.fused import check_configs, train_fused
from lib.training.train import initial_model, train

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


class Float64Data(data_module.FashionMNIST):
    """Fashion-MNIST normalised to float64 (CPU only)."""

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        return ((images.double() / 255.0 - self.mean) / self.std).unsqueeze(1)

    def to(self, device):
        assert torch.device(device).type == "cpu"
        return self


def with_test_subset(data, n: int, cls=data_module.FashionMNIST):
    """The same data with only the first ``n`` test images (a faster evaluation)."""
    return cls(
        train_images=data.train_images,
        train_labels=data.train_labels,
        test_images=data.test_images[:n],
        test_labels=data.test_labels[:n],
        mean=data.mean,
        std=data.std,
        source=data.source,
        sha256=data.sha256,
    )


@pytest.fixture
def float64():
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize(
    "arm, batch_size, train_subset, test_images",
    [
        ("resnet34", 16, 192, 300),  # 7x7 stem, zero-pad shortcut, ReLU: 2 x 12 steps
        ("improved", 8, 96, 100),  # Inception stem, projection, SELU, LR decay: 2 x 12 steps
    ],
)
def test_fused_equals_separate_runs(fmnist, float64, arm, batch_size, train_subset, test_images):
    data = with_test_subset(fmnist, test_images, Float64Data)
    configs = [
        run_config(
            arm,
            "smoke",
            seed,
            epochs=2,
            batch_size=batch_size,
            train_subset=train_subset,
            precision="fp32",
            device="cpu",
        )
        for seed in (0, 1)
    ]
    separate = [train(config, data, progress=False) for config in configs]
    fused = train_fused(configs, data, progress=False)

    assert len(fused) == 2
    for one, many in zip(separate, fused, strict=True):
        assert many["status"] == one["status"] == "complete"
        assert many["engine"] == "fused" and one["engine"] == "single"
        assert many["seeds_at_once"] == 2
        assert set(many) - set(one) == {"seeds_at_once"}
        assert (many["seed"], many["config"], many["result_key"]) == (
            one["seed"],
            one["config"],
            one["result_key"],
        )
        assert (
            len(many["iteration_losses"])
            == len(one["iteration_losses"])
            == 2 * (train_subset // batch_size)
        )
        torch.testing.assert_close(
            torch.tensor(many["iteration_losses"]),
            torch.tensor(one["iteration_losses"]),
            rtol=1e-6,
            atol=0,
        )
        for a, b in zip(one["epochs"], many["epochs"], strict=True):
            assert a["epoch"] == b["epoch"] and a["lr"] == b["lr"]
            assert abs(a["test_accuracy"] - b["test_accuracy"]) <= 100.0 / test_images
            for key in ("train_loss", "test_loss"):
                assert b[key] == pytest.approx(a[key], rel=1e-6)
        assert many["final_test_accuracy"] == many["epochs"][-1]["test_accuracy"]
    # the two seeds really are different runs
    assert fused[0]["iteration_losses"] != fused[1]["iteration_losses"]


def _inputs(n: int, batch: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, n, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (n, batch), generator=generator)
    return x, labels


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("arm", ["resnet34", "improved"])
def test_fp32_step_per_model(arm, channels_last):
    """One training-mode forward/backward in fp32 with the production kernels, against the
    separate models in the same layout: logits, every gradient and every BatchNorm running
    statistic are each model's own.

    Gradients are compared by relative norm per tensor: an activation within rounding noise
    of ReLU's or SELU's kink changes single gradient entries by up to a few 1e-3 of the
    tensor's norm (the separate model alone, contiguous vs channels_last, does the same).
    """
    layout = torch.channels_last if channels_last else torch.contiguous_format
    configs = [run_config(arm, "smoke", seed, precision="fp32") for seed in (0, 1)]
    models = [initial_model(c).to(memory_format=layout) for c in configs]
    wide = fuse([initial_model(c) for c in configs], configs[0]).to(memory_format=layout)
    x, labels = _inputs(2, 8)

    logits = wide(x.contiguous(memory_format=layout))  # [N, B, K]
    assert logits.shape == (2, 8, 10)
    losses = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none")
    losses.view(2, -1).mean(1).sum().backward()
    for n, model in enumerate(models):
        out = model(x[:, n : n + 1].contiguous(memory_format=layout))
        F.cross_entropy(out, labels[n]).backward()
        torch.testing.assert_close(logits[n], out, rtol=1e-4, atol=1e-5)

    grads = {name: p.grad for name, p in wide.named_parameters()}
    for n, model in enumerate(models):
        for name, p in model.named_parameters():
            error = (grads[name].chunk(2)[n] - p.grad).norm() / p.grad.norm()
            assert error < 1e-2, f"model {n} {name}: relative gradient error {error:.1e}"
    # BatchNorm running statistics: per model (and the two models' differ)
    inside = unfuse(wide, configs[0], 2)
    for n, model in enumerate(models):
        for (name, mine), theirs in zip(model.named_buffers(), inside[n].buffers(), strict=True):
            torch.testing.assert_close(theirs, mine, rtol=1e-5, atol=1e-6, msg=name)
    stem_bn = next(name for name, _ in models[0].named_buffers() if "running_mean" in name)
    assert not torch.allclose(
        inside[0].get_buffer(stem_bn), inside[1].get_buffer(stem_bn), atol=1e-3
    )


def test_a_diverging_model_does_not_touch_the_others():
    configs = [run_config("improved", "smoke", seed, precision="fp32") for seed in (0, 1)]
    x, labels = _inputs(2, 4)

    def forward_backward(poison: bool):
        wide = fuse([initial_model(c) for c in configs], configs[0])
        if poison:
            with torch.no_grad():
                for p in wide.parameters():
                    p.chunk(2)[0].fill_(float("nan"))  # model 0 is ruined
        logits = wide(x)
        losses = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none")
        losses.view(2, -1).mean(1).sum().backward()  # the engine's loss: NaN
        return logits.detach(), [p.grad.chunk(2)[1] for p in wide.parameters()]

    clean_logits, clean_grads = forward_backward(poison=False)
    logits, grads = forward_backward(poison=True)
    assert torch.isnan(logits[0]).all()
    torch.testing.assert_close(logits[1], clean_logits[1], rtol=0, atol=0)
    for grad, clean in zip(grads, clean_grads, strict=True):
        torch.testing.assert_close(grad, clean, rtol=0, atol=0)


def test_non_finite_loss_fails_every_record(fmnist):
    data = with_test_subset(fmnist, 100)
    configs = [
        run_config(
            "resnet34", "smoke", seed, lr=float("inf"), batch_size=16, train_subset=64,
            precision="fp32", device="cpu",
        )
        for seed in (0, 1)
    ]  # fmt: skip
    fused = train_fused(configs, data, progress=False)
    single = train(configs[0], data, progress=False)
    assert [r["status"] for r in fused] == ["failed", "failed"]
    assert [r["seed"] for r in fused] == [0, 1]
    for record in fused:
        assert record["reason"] == single["reason"]
        assert "non-finite training loss" in record["reason"]
        assert record["epochs"] == [] and record["final_test_accuracy"] is None
        assert len(record["iteration_losses"]) == len(single["iteration_losses"]) == 4


def test_configs_must_differ_only_in_seed():
    base = run_config("resnet34", "smoke", 0)
    check_configs([base, base.replace(seed=1)])
    with pytest.raises(ValueError, match="differ only in seed"):
        check_configs([base, run_config("resnet34_selu", "smoke", 1)])
    with pytest.raises(ValueError, match="epochs"):
        check_configs([base, base.replace(seed=1, epochs=3)])
    with pytest.raises(ValueError, match="distinct seeds"):
        check_configs([base, base])
    with pytest.raises(ValueError):
        check_configs([])


def test_compile_failure_falls_back_to_eager(fmnist, monkeypatch):
    data = with_test_subset(fmnist, 100)
    configs = [
        run_config(
            "resnet34", "smoke", seed, epochs=1, batch_size=16, train_subset=48,
            precision="fp32", device="cpu",
        )
        for seed in (0, 1)
    ]  # fmt: skip
    eager = train_fused(configs, data, progress=False, compile=False)

    def broken_compile(model, **kwargs):
        def compiled(*args):
            raise RuntimeError("no compiler here")

        return compiled

    monkeypatch.setattr(fused_module.torch, "compile", broken_compile)
    with pytest.warns(UserWarning, match="torch.compile failed"):
        fallback = train_fused(configs, data, progress=False, compile=True)
    for a, b in zip(eager, fallback, strict=True):
        assert b["status"] == "complete"
        assert a["iteration_losses"] == b["iteration_losses"]
