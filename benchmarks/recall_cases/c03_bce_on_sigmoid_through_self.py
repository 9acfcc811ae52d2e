# Source: https://github.com/harryhan618/SCNN_Pytorch/issues/35 and pytorch/pytorch#24933:
# a model whose forward ends in a sigmoid, trained with nn.BCELoss held on self; once logits pass
# about 17 the sigmoid rounds to 1.0, the loss is clipped at 100 and the gradient vanishes.
import torch
import torch.nn as nn


class LaneNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(64, 1, 1)
        self.bce_loss = nn.BCELoss()

    def forward(self, features, target):
        prob = torch.sigmoid(self.head(features))
        loss = self.bce_loss(prob, target)  # expect: NUM203
        return prob, loss
