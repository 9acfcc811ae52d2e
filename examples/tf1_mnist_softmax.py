"""The TensorFlow 1.x MNIST softmax tutorial, as thousands of research repositories copied it.

`-tf.reduce_sum(y_ * tf.log(y_conv))` trains for a while, then a confident prediction makes a
probability exactly 0, `0 * log(0)` is NaN, and so is the loss.
"""

import tensorflow as tf


def loss(x, y_, W, b):
    y_conv = tf.nn.softmax(tf.matmul(x, W) + b)
    cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))
    return cross_entropy


def log_probs(x, W, b):
    logits = tf.matmul(x, W) + b
    y_conv = tf.nn.softmax(logits)
    return tf.log(y_conv)


def batch_norm(x, gamma, beta, eps=1e-3):
    mean = tf.reduce_mean(x, axis=0)
    var = tf.reduce_mean(tf.square(x), axis=0) - tf.square(tf.reduce_mean(x, axis=0))
    return gamma * (x - mean) / tf.sqrt(var + eps) + beta


def log_partition(scores):
    return tf.log(tf.reduce_sum(tf.exp(scores), reduction_indices=[1]))
