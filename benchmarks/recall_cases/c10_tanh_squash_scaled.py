# Source: https://github.com/philtabor/Actor-Critic-Methods-Paper-To-Code/issues/7 (also
# cpnota/autonomous-learning-library#139): the SAC squash correction written on the *scaled* action,
# log(1 - (max_action * tanh(u))**2 + eps): for max_action > 1 the argument is negative, log is NaN.
# Even on the unscaled tanh, 1 - tanh(u)**2 is exactly 0 for |u| > 9 in float32.
import torch


def sample_action(mu, log_std, max_action):
    normal = torch.distributions.Normal(mu, log_std.exp())
    u = normal.rsample()
    action = torch.tanh(u) * max_action
    log_prob = normal.log_prob(u)
    log_prob = log_prob - torch.log(1 - action.pow(2) + 1e-6)  # expect: tanh-logdet
    return action, log_prob.sum(1, keepdim=True)
