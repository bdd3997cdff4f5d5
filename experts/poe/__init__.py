"""Offline Pool-of-Experts builder: data, WideResNet, distillation losses, TF.js export."""
