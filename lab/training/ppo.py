"""PPO for batched worlds: one process, every copy of the world stepped together, large minibatches, torch.

CleanRL's continuous-action PPO (Huang et al. 2022, "The 37 implementation details of PPO"), written for a batch of
N copies: a Gaussian actor with a state-independent log standard deviation and a separate critic (orthogonal
initialisation), observations normalised by running statistics and rewards scaled by the running deviation of the
discounted return (as stable-baselines3's VecNormalize), generalised advantage estimation with the value of the
last observation bootstrapped when an episode is cut at the horizon, clipped surrogate and value losses, advantage
normalisation per minibatch, gradient clipping. While a rollout is collected only the actor's mean is computed per
step; the log-probabilities and values of the whole rollout are computed at its end in one batch (the networks do
not change within a rollout, so they are the same numbers, for one call instead of sixty-four), and the reward
program computes a step's rewards in its sandbox, on the other core, while the next actions are computed (the
numbers are the same as stepping and waiting: nothing the next actions depend on comes from the rewards).

Why not rsl-rl-lib (5.5, what Isaac Lab and mjlab train with): it brings tensordict, GitPython, onnx and onnxscript
into the lock, and its runner wants a torch VecEnv of TensorDict observations with its own logging and checkpoints,
while the lab's batch is numpy (the reward programs are numpy, in their sandbox) and its policies are exported as
plain arrays. Not measured against it head to head; measured here, the physics and the reward program take most of
a step and the update about a quarter (halfcheetah, timed per part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from lab.policy import NumpyPolicy
from lab.training.config import PPOSettings


class _SigmoidTanh(torch.autograd.Function):
    """tanh(x) as 2 sigmoid(2x) - 1, with tanh's own backward from the output."""

    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor) -> torch.Tensor:
        outputs = torch.sigmoid(inputs * 2).mul_(2).sub_(1)
        ctx.save_for_backward(outputs)
        return outputs

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (outputs,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, outputs)


SIGMOID_TANH_FROM = 32_768
"""From this many entries, Tanh goes through the sigmoid; below, torch's own tanh (see Tanh)."""


class Tanh(nn.Module):
    """The hyperbolic tangent, computed through the sigmoid on large inputs: the CPU torch build's tanh kernel took
    207 us on a 1024 x 64 batch against 31 us for sigmoid (measured here), a quarter of a gradient step. On small
    inputs the Python autograd function's own cost is larger than the kernel's: forward and backward of a 64 x 64
    batch took 109 us with torch.tanh against 211 us through the sigmoid, 256 x 64 166 against 239, 1024 x 64 364
    against 298 (best of 3 rounds of 500, one thread), so below SIGMOID_TANH_FROM entries torch's tanh is used. The
    two agree within 2e-7 (gradient 4e-7); exported policies name it Tanh."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.numel() < SIGMOID_TANH_FROM:
            return torch.tanh(inputs)
        return _SigmoidTanh.apply(inputs)


ACTIVATION_MODULES: dict[str, type[nn.Module]] = {"tanh": Tanh, "relu": nn.ReLU, "elu": nn.ELU}
CLIP_OBS = 10.0
CLIP_REWARD = 10.0
EPSILON = 1e-8
HALF_LOG_2PI = 0.5 * float(np.log(2 * np.pi))
MINIBATCHES = 4
"""Each epoch takes at least this many gradient steps: a minibatch is at most this fraction of a rollout."""
THREADED_MINIBATCH = 512
"""From this minibatch size, the update runs on `update_threads` torch threads (the simulation's threads are idle
then): measured on halfcheetah's 1024-sample minibatches, 2 threads trained 15k -> 18k steps/s on 2 cores; on
64-sample minibatches a second thread was slower (1.4 -> 1.7 ms a gradient step)."""


class BatchedSteps(Protocol):
    """What PPO steps: N copies that reset themselves (lab.rewards.wrapper.RewardedBatch)."""

    num_envs: int

    def reset(self) -> np.ndarray: ...

    def begin_step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...

    def end_step(self) -> np.ndarray: ...


class RunningMeanStd:
    """Mean and variance of a stream of batches (Chan et al.'s parallel update, as stable-baselines3 keeps them)."""

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.mean = np.zeros(shape)
        self.var = np.ones(shape)
        self.count = 1e-4

    def update(self, batch: np.ndarray) -> None:
        batch_mean, batch_var, batch_count = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + np.square(delta) * self.count * batch_count / total
        self.var = m2 / total
        self.count = total


def _layer(inputs: int, outputs: int, gain: float) -> nn.Linear:
    layer = nn.Linear(inputs, outputs)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def _mlp(inputs: int, hidden: list[int], outputs: int, activation: str, last_gain: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [_layer(inputs, width, float(np.sqrt(2))), ACTIVATION_MODULES[activation]()]
        inputs = width
    layers.append(_layer(inputs, outputs, last_gain))
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """A Gaussian actor (mean from an MLP, log standard deviation a free parameter) and a value MLP."""

    def __init__(self, observations: int, actions: int, hidden: list[int], activation: str,
                 log_std_init: float) -> None:
        super().__init__()
        self.actor = _mlp(observations, hidden, actions, activation, 0.01)
        self.critic = _mlp(observations, hidden, 1, activation, 1.0)
        self.log_std = nn.Parameter(torch.full((actions,), float(log_std_init)))

    def value(self, observations: torch.Tensor) -> torch.Tensor:
        return self.critic(observations).squeeze(-1)

    def log_prob(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log pi(actions | observations), summed over the action's entries: the diagonal Gaussian's density written
        out from the log standard deviation (torch's Normal takes the log of the expanded scale at every call, ~15%
        of a gradient step here)."""
        scaled = (actions - self.actor(observations)) * torch.exp(-self.log_std)
        return -0.5 * torch.square(scaled).sum(-1) - (self.log_std.sum() + self.log_std.numel() * HALF_LOG_2PI)

    def entropy(self) -> torch.Tensor:
        """The Gaussian's entropy, the same at every observation (its deviation does not depend on it)."""
        return self.log_std.sum() + self.log_std.numel() * (0.5 + HALF_LOG_2PI)


def ppo_loss(model: ActorCritic, batch: dict[str, torch.Tensor], settings: PPOSettings) -> torch.Tensor:
    """PPO's loss on a minibatch (`obs`, `act`, `logp`, `adv`, `ret`): the clipped surrogate on advantages
    normalised within the minibatch, plus the weighted value loss, minus the weighted entropy."""
    log_prob = model.log_prob(batch["obs"], batch["act"])
    ratio = (log_prob - batch["logp"]).exp()
    advantages = batch["adv"]
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    policy_loss = torch.max(-advantages * ratio,
                            -advantages * ratio.clamp(1 - settings.clip_range, 1 + settings.clip_range)).mean()
    value_loss = 0.5 * torch.square(model.value(batch["obs"]) - batch["ret"]).mean()
    return policy_loss + settings.vf_coef * value_loss - settings.ent_coef * model.entropy()


def _flatten_parameters(model: nn.Module) -> tuple[nn.Parameter, torch.Tensor]:
    """Every parameter of `model` made a view into one flat tensor, and its gradient a view into one flat gradient;
    returns the flat parameter and the flat gradient (its `.grad`). Backpropagation adds into the views in place,
    so the optimiser and the gradient clipping work on one tensor: one norm instead of one per layer, one Adam
    kernel launch with fewer per-tensor conversions (the update step of 64-sample minibatches, mostly per-call
    overhead, ran ~10-15% faster here). The model keeps its layers, names and state dict. What would cut the views
    loose (`optimizer.zero_grad()` or `model.zero_grad()`, which set gradients to None; `model.to(...)`;
    `load_state_dict(assign=True)`) must not be called on it afterwards: `BatchedPPO._update` checks the views."""
    tensors = list(model.parameters())
    flat = nn.Parameter(torch.cat([tensor.detach().reshape(-1) for tensor in tensors]))
    gradient = flat.grad = torch.zeros_like(flat)
    offset = 0
    for tensor in tensors:
        size = tensor.numel()
        tensor.data = flat.data[offset:offset + size].view_as(tensor)
        tensor.grad = gradient[offset:offset + size].view_as(tensor)
        offset += size
    return flat, gradient


class FlatAdam:
    """Adam (Kingma and Ba 2015, torch's defaults otherwise) on one flat parameter, through the same fused kernel
    `torch.optim.Adam(fused=True)` runs. Not torch.optim.Adam itself: building any torch optimiser imports
    torch._dynamo, 1.9-2.4 s of every training process's start here (measured), for nothing this loop uses. A
    hand-written Adam in tensor operations took 62 us a step on 10k parameters against the kernel's 10-11 us."""

    def __init__(self, parameter: torch.Tensor, learning_rate: float, eps: float,
                 betas: tuple[float, float] = (0.9, 0.999)) -> None:
        self.parameter = parameter
        self.learning_rate, self.eps, self.betas = learning_rate, eps, betas
        self.exp_avg = torch.zeros_like(parameter, memory_format=torch.preserve_format)
        self.exp_avg_sq = torch.zeros_like(parameter, memory_format=torch.preserve_format)
        self.steps = torch.zeros((), dtype=torch.float32, device=parameter.device)

    @torch.no_grad()
    def step(self, gradient: torch.Tensor) -> None:
        self.steps += 1  # the kernel takes the count of steps including this one, as torch.optim.Adam passes it
        torch._fused_adam_([self.parameter], [gradient], [self.exp_avg], [self.exp_avg_sq], [], [self.steps],
                           lr=self.learning_rate, beta1=self.betas[0], beta2=self.betas[1], weight_decay=0.0,
                           eps=self.eps, amsgrad=False, maximize=False)

    def state_dict(self) -> dict[str, Any]:
        return {"exp_avg": self.exp_avg, "exp_avg_sq": self.exp_avg_sq, "steps": self.steps,
                "learning_rate": self.learning_rate, "eps": self.eps, "betas": self.betas}


@dataclass
class Rollout:
    """One iteration's steps of every copy, (T, N, ...)."""

    observations: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor


@dataclass
class _BegunStep:
    """A step whose rewards the sandbox is still computing: what it needs stored once they come."""

    observations: torch.Tensor
    actions: torch.Tensor
    dones: np.ndarray
    cut: np.ndarray
    tail: np.ndarray | None


class BatchedPPO:
    """PPO over N copies of a world; see the module doc. `learn` trains, `export` gives the deterministic actor."""

    def __init__(self, observation_size: int, action_low: np.ndarray, action_high: np.ndarray,
                 settings: PPOSettings, *, seed: int, device: str = "cpu", normalize: bool = True,
                 update_threads: int | None = None) -> None:
        """`update_threads`: torch threads for the update of large minibatches (the caller's count otherwise)."""
        self.settings = settings
        self.update_threads = update_threads
        self.device = torch.device(device)
        self.normalize = normalize
        self.action_low = np.asarray(action_low, dtype=np.float32)
        self.action_high = np.asarray(action_high, dtype=np.float32)
        torch.manual_seed(seed)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.model = ActorCritic(observation_size, len(self.action_low), settings.net_arch, settings.activation,
                                 settings.log_std_init).to(self.device)
        self.flat_parameters, self._gradient = _flatten_parameters(self.model)
        # One fused kernel for the whole Adam step: the per-tensor loop was ~15% of a gradient step here.
        self.optimizer = FlatAdam(self.flat_parameters, settings.learning_rate, eps=1e-5)
        self.obs_rms = RunningMeanStd((observation_size,))
        self.return_rms = RunningMeanStd()
        self.num_timesteps = 0

    def normalized(self, observations: np.ndarray, update: bool = False) -> np.ndarray:
        """Observations as the networks see them (VecNormalize's rule); `update` feeds the running statistics."""
        if not self.normalize:
            return np.asarray(observations, dtype=np.float32)
        if update:
            self.obs_rms.update(observations)
        scaled = (observations - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + EPSILON)
        return np.clip(scaled, -CLIP_OBS, CLIP_OBS).astype(np.float32)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, device=self.device)

    def learn(self, env: BatchedSteps, total_steps: int, on_step: Callable[[int], bool] | None = None) -> None:
        """Train for `total_steps` steps of all copies together (rounded up to whole iterations); `on_step` is
        called with the step count after every batched step and stops training by returning False."""
        settings, n = self.settings, env.num_envs
        horizon = settings.n_steps
        returns = np.zeros(n)
        observations = env.reset()
        low, high = self.action_low, self.action_high
        while self.num_timesteps < total_steps:
            buffers: dict[str, list[torch.Tensor]] = {k: [] for k in ("obs", "act", "reward", "done")}
            pending: _BegunStep | None = None
            for _ in range(horizon):
                statistics = vars(self.obs_rms).copy()
                seen_tensor = self._tensor(self.normalized(observations, update=True))
                with torch.no_grad():
                    mean = self.model.actor(seen_tensor)
                    noise = torch.randn(mean.shape, generator=self.generator, device=self.device)
                    actions = mean + self.model.log_std.exp() * noise
                # The previous step's rewards were computed in the sandbox while these actions were.
                if pending is not None and not self._end_step(env, pending, returns, buffers, on_step):
                    vars(self.obs_rms).update(statistics)  # stopped: these observations were never acted on
                    return
                sent = np.clip(actions.cpu().numpy(), low, high)
                observations, terminated, truncated, final = env.begin_step(sent)
                dones = terminated | truncated
                cut = np.flatnonzero(truncated & ~terminated)
                tail = None
                if len(cut):
                    with torch.no_grad():
                        tail = self.model.value(self._tensor(self.normalized(final[cut]))).cpu().numpy()
                pending = _BegunStep(seen_tensor, actions, dones, cut, tail)
            if pending is not None and not self._end_step(env, pending, returns, buffers, on_step):
                return
            with torch.no_grad():
                last_value = self.model.value(self._tensor(self.normalized(observations)))
                seen_all, acted = torch.stack(buffers["obs"]), torch.stack(buffers["act"])
                log_probs = self.model.log_prob(seen_all, acted)
                values = self.model.value(seen_all)
            rollout = Rollout(seen_all, acted, log_probs, values, torch.stack(buffers["reward"]),
                              torch.stack(buffers["done"]))
            threads = torch.get_num_threads()
            if self.update_threads is not None and self._minibatch(rollout.rewards.numel()) >= THREADED_MINIBATCH:
                torch.set_num_threads(self.update_threads)
            try:
                self._update(rollout, last_value)
            finally:
                torch.set_num_threads(threads)

    def _end_step(self, env: BatchedSteps, begun: _BegunStep, returns: np.ndarray,
                  buffers: dict[str, list[torch.Tensor]], on_step: Callable[[int], bool] | None) -> bool:
        """Take a begun step's rewards, scale them (and bootstrap a cut episode), store the step; False to stop."""
        rewards = np.asarray(env.end_step(), dtype=np.float64)
        if self.normalize:
            returns *= self.settings.gamma
            returns += rewards
            self.return_rms.update(returns)
            rewards = np.clip(rewards / np.sqrt(self.return_rms.var + EPSILON), -CLIP_REWARD, CLIP_REWARD)
            returns[begun.dones] = 0.0
        if begun.tail is not None:
            rewards = rewards.copy()
            rewards[begun.cut] += self.settings.gamma * begun.tail
        for key, item in (("obs", begun.observations), ("act", begun.actions),
                          ("reward", self._tensor(rewards.astype(np.float32))),
                          ("done", self._tensor(begun.dones.astype(np.float32)))):
            buffers[key].append(item)
        self.num_timesteps += env.num_envs
        return on_step is None or on_step(self.num_timesteps)

    def _update(self, rollout: Rollout, last_value: torch.Tensor) -> None:
        settings = self.settings
        gradient = self.model.log_std.grad
        if (self.flat_parameters.grad is not self._gradient or gradient is None
                or gradient.untyped_storage().data_ptr() != self._gradient.untyped_storage().data_ptr()):
            raise RuntimeError("the model's gradients are no longer views into its flat gradient: something reset "
                               "or moved them (see _flatten_parameters); the update would not train it")
        steps = rollout.rewards.shape[0]
        advantages = torch.zeros_like(rollout.rewards)
        running = torch.zeros_like(last_value)
        next_value = last_value
        for t in reversed(range(steps)):
            alive = 1.0 - rollout.dones[t]
            delta = rollout.rewards[t] + settings.gamma * next_value * alive - rollout.values[t]
            running = delta + settings.gamma * settings.gae_lambda * alive * running
            advantages[t] = running
            next_value = rollout.values[t]
        returns = advantages + rollout.values
        flat = {"obs": rollout.observations.flatten(0, 1), "act": rollout.actions.flatten(0, 1),
                "logp": rollout.log_probs.flatten(), "adv": advantages.flatten(), "ret": returns.flatten(),
                "value": rollout.values.flatten()}
        size = flat["adv"].shape[0]
        minibatch = self._minibatch(size)
        for _ in range(settings.n_epochs):
            order = torch.randperm(size, generator=self.generator, device=self.device)
            for start in range(0, size - minibatch + 1, minibatch):
                index = order[start:start + minibatch]
                self._gradient_step({k: v[index] for k, v in flat.items()})

    def _minibatch(self, rollout_size: int) -> int:
        return min(self.settings.batch_size, max(1, rollout_size // MINIBATCHES))

    def _gradient_step(self, batch: dict[str, torch.Tensor]) -> None:
        loss = ppo_loss(self.model, batch, self.settings)
        self._gradient.zero_()  # in place: the layers' gradients are views into it (never set to None)
        loss.backward()
        nn.utils.clip_grad_norm_([self.flat_parameters], self.settings.max_grad_norm)
        self.optimizer.step(self._gradient)

    def export(self) -> NumpyPolicy:
        """The deterministic actor with its normalisation, as plain arrays (and the log standard deviation, so
        that sampled actions can be drawn as in training)."""
        weights, biases, activations = [], [], []
        for module in self.model.actor:
            if isinstance(module, nn.Linear):
                weights.append(module.weight.detach().cpu().numpy().astype(np.float32))
                biases.append(module.bias.detach().cpu().numpy().astype(np.float32))
            else:
                activations.append(type(module).__name__)
        mean, var = (self.obs_rms.mean, self.obs_rms.var) if self.normalize else (None, None)
        return NumpyPolicy(weights, biases, activations, False, self.action_low, self.action_high, mean, var,
                           CLIP_OBS, EPSILON, log_std=self.model.log_std.detach().cpu().numpy().astype(np.float32))

    def checkpoint(self) -> dict[str, Any]:
        """Everything needed to go on training: networks, optimiser, running statistics, step count."""
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "obs_rms": vars(self.obs_rms), "return_rms": vars(self.return_rms),
                "num_timesteps": self.num_timesteps, "settings": self.settings.model_dump()}
