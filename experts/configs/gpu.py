"""The recipe's stages on one lent GPU within a time budget (docs/GPU_BUILD.md): data and teacher cache on the
GPU, the experts stacked, epochs planned to fill the budget, the build folder packed into $OUT after every epoch.
A bigger oracle than the CPU can afford. The export runs back here, where the test images are:
  /usr/bin/python3 experts/build.py gpu --out=DIR --device=cpu --data_on_device=False --stages=export"""
import os as _os

pool = 'public/pools/gpu'
name = 'cifar100-gpu'
stages = 'oracle,teacher,library,experts,tune,average'
device = 'cuda'
data_on_device = True
stack_experts = True
budget_s = 480.0
plan_epochs = True
return_dir = _os.environ.get('OUT', '')
oracle_depth = 40
oracle_batch = 256
oracle_lr = 0.2
library_batch = 256
library_lr = 0.2
