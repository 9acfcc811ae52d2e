"""The TensorFlow 1.x MNIST softmax tutorial, as thousands of research repositories copied it.

`-tf.reduce_sum(y_ * tf.log(y_conv))` trains for a while, then a confident wrong prediction makes a
probability exactly 0 and the loss NaN. Here the softmax is logged through a local name.
"""

import tensorflow as tf


def model(x, W, b):
    logits = tf.matmul(x, W) + b
    y_conv = tf.nn.softmax(logits)
    log_probs = tf.log(y_conv)
    return log_probs


def batch_norm(x, gamma, beta, eps=1e-3):
    mean = tf.reduce_mean(x, axis=0)
    var = tf.reduce_mean(tf.square(x), axis=0) - tf.square(tf.reduce_mean(x, axis=0))
    return gamma * (x - mean) / tf.sqrt(var + eps) + beta


def log_partition(scores):
    return tf.log(tf.reduce_sum(tf.exp(scores), reduction_indices=[1]))
