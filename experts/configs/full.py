"""The built-in pool's recipe on a CPU: the defaults of experts/poe/settings.py, written to public/pools/cifar100.
WRN-16-4 oracle 60 epochs; teacher cache of 10 flip-averaged views; library 90 epochs; experts 25 epochs;
three joint tunings of 60 epochs (consolidation weights 0.1, 0.2, 0.2), the last two averaged."""
pool = 'public/pools/cifar100'
name = 'cifar100'
