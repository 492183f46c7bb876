"""The lab's PPO update (lab.training.ppo): its flat parameters train exactly as the textbook per-layer update, and
its tanh (through the sigmoid on large batches) is torch's."""

import numpy as np
import pytest
import torch
from torch import nn

from lab.training.config import PPOSettings
from lab.training.ppo import SIGMOID_TANH_FROM, ActorCritic, BatchedPPO, Rollout, Tanh, ppo_loss


def _minibatch(size: int, observations: int, actions: int, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {"obs": torch.randn(size, observations, generator=generator),
            "act": torch.randn(size, actions, generator=generator),
            "logp": torch.randn(size, generator=generator) - 5.0,
            "adv": torch.randn(size, generator=generator),
            "ret": torch.randn(size, generator=generator)}


def test_the_flat_update_is_the_per_layer_adam_update_with_clipped_gradients() -> None:
    settings = PPOSettings(max_grad_norm=0.1)  # small enough that every step is clipped
    learner = BatchedPPO(17, -np.ones(6), np.ones(6), settings, seed=3)
    torch.manual_seed(3)
    reference = ActorCritic(17, 6, settings.net_arch, settings.activation, settings.log_std_init)
    optimizer = torch.optim.Adam(reference.parameters(), lr=settings.learning_rate, eps=1e-5)
    for step in range(4):
        batch = _minibatch(64, 17, 6, seed=step)
        learner._gradient_step(batch)
        optimizer.zero_grad()
        ppo_loss(reference, batch, settings).backward()
        nn.utils.clip_grad_norm_(reference.parameters(), settings.max_grad_norm)
        optimizer.step()
    for (name, trained), expected in zip(learner.model.named_parameters(), reference.parameters(), strict=True):
        assert torch.allclose(trained, expected, atol=1e-6), name
        assert not torch.equal(trained, expected.new_zeros(expected.shape)), name


def test_every_layer_trains_through_the_flat_parameters() -> None:
    learner = BatchedPPO(5, -np.ones(2), np.ones(2), PPOSettings(), seed=0)
    before = {name: tensor.detach().clone() for name, tensor in learner.model.named_parameters()}
    learner._gradient_step(_minibatch(32, 5, 2, seed=0))
    flat = learner.flat_parameters
    for name, tensor in learner.model.named_parameters():
        assert tensor.untyped_storage().data_ptr() == flat.untyped_storage().data_ptr(), name
        assert tensor.grad is not None and tensor.grad.abs().sum() > 0, name
        assert tensor.grad.untyped_storage().data_ptr() == learner._gradient.untyped_storage().data_ptr(), name
        assert not torch.equal(tensor, before[name]), name


def test_the_tanh_is_torch_tanh_in_value_and_gradient_on_small_and_large_batches() -> None:
    for rows in (64, SIGMOID_TANH_FROM // 64 + 1):
        inputs = (torch.randn(rows, 64, generator=torch.Generator().manual_seed(rows)) * 3).requires_grad_()
        expected_inputs = inputs.detach().clone().requires_grad_()
        ours, expected = Tanh()(inputs), torch.tanh(expected_inputs)
        (ours * torch.arange(64)).sum().backward()
        (expected * torch.arange(64)).sum().backward()
        assert torch.allclose(ours, expected, atol=3e-7), rows
        assert inputs.grad is not None and expected_inputs.grad is not None
        assert torch.allclose(inputs.grad, expected_inputs.grad, atol=3e-5), rows


def test_an_update_refuses_gradients_cut_loose_from_the_flat_ones() -> None:
    learner = BatchedPPO(5, -np.ones(2), np.ones(2), PPOSettings(n_epochs=1), seed=0)
    learner.model.zero_grad()  # sets every layer's gradient to None: the next backward would not reach the optimiser
    rollout = Rollout(torch.zeros(4, 2, 5), torch.zeros(4, 2, 2), torch.zeros(4, 2), torch.zeros(4, 2),
                      torch.ones(4, 2), torch.zeros(4, 2))
    with pytest.raises(RuntimeError, match="no longer views"):
        learner._update(rollout, torch.zeros(2))
