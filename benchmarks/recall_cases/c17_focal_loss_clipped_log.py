# Source: https://github.com/fudannlp16/focal-loss/issues/4 (also mkocabas/focal-loss-keras#17):
# a focal loss on sigmoid probabilities, with the logs clipped at 1e-8; the clip avoids log(0) but
# flattens the loss and its gradient where the sigmoid saturates. From the logits, log_sigmoid is exact.
import tensorflow as tf


def focal_loss(labels, logits, gamma=2.0, alpha=0.25):
    y_pred = tf.nn.sigmoid(logits)
    pos = -labels * (1 - alpha) * ((1 - y_pred) ** gamma) * tf.log(tf.clip_by_value(y_pred, 1e-8, 1.0))  # expect: clipped-log
    neg = -(1 - labels) * alpha * (y_pred ** gamma) * tf.log(tf.clip_by_value(1.0 - y_pred, 1e-8, 1.0))  # expect: clipped-log
    return tf.reduce_sum(pos + neg)
