"""Every stage of the recipe, short: a rough pool in minutes on 2 CPU cores, for trying the builder and the app."""
pool = 'public/pools/quick'
name = 'cifar100-quick'
n_train = 10000
oracle_widen = 2
oracle_epochs = 4
teacher_views = 2
library_epochs = 4
expert_epochs = 4
tune_epochs = 2
