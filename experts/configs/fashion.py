"""The second built-in pool: Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist), 28 x 28 grey, 10 classes,
3 experts grouped from the oracle's confusions. Sized for 2 CPU cores (about an hour): a WRN-16-2 oracle."""
pool = 'public/pools/fashion-mnist'
name = 'fashion-mnist'
data = '/usr/share/datasets/fashion-mnist'
classes = 'T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot'
tasks = 'auto:3'
oracle_widen = 2
oracle_epochs = 15
teacher_views = 4
library_epochs = 15
expert_epochs = 15
tune_consolidation = (0.1, 0.2)
tune_epochs = 8
