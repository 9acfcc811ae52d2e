"""REINFORCE with a softmax policy in JAX."""

import jax
import jax.numpy as jnp


def policy_logits(params, obs):
    hidden = jnp.tanh(obs @ params["w1"] + params["b1"])
    return hidden @ params["w2"] + params["b2"]


def reinforce_loss(params, obs, actions, returns):
    logits = policy_logits(params, obs)
    log_pi = jnp.log(jax.nn.softmax(logits, axis=-1))
    chosen = jnp.take_along_axis(log_pi, actions[:, None], axis=-1)[:, 0]
    return -jnp.mean(chosen * returns)


def value_normalizer(returns):
    var = jnp.mean(returns ** 2) - jnp.mean(returns) ** 2
    return (returns - jnp.mean(returns)) / jnp.sqrt(var + 1e-8)


def entropy_bonus(logits):
    # Stable: log_softmax, no finding.
    log_pi = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.sum(jnp.exp(log_pi) * log_pi, axis=-1).mean()
