"""A TensorFlow/Keras binary classifier with a custom training step.

The model ends in a sigmoid and the loss is taken on its output: Keras then clips probabilities to
[1e-7, 1 - 1e-7], so a confidently wrong example contributes a constant 16.1 and no gradient at all
— "if you increase your learning rate and the loss gets stuck, you are probably computing
cross-entropy using probabilities".
"""

import tensorflow as tf


class Classifier(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = tf.keras.layers.Dense(64, activation="relu")
        self.out = tf.keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))


model = Classifier()
optimizer = tf.keras.optimizers.Adam(1e-3)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x)
        loss = tf.reduce_mean(tf.keras.losses.binary_crossentropy(y, tf.sigmoid(logits)))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


def log_likelihood(logits, y):
    p = tf.sigmoid(logits)
    return y * tf.math.log(p) + (1.0 - y) * tf.math.log(1.0 - p)
