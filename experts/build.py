"""Build a pool: oracle -> teacher cache -> library -> experts -> joint tunings -> their average -> export.

  /usr/bin/python3 experts/build.py quick                 # a rough pool in minutes on 2 cores (public/pools/quick)
  /usr/bin/python3 experts/build.py full                  # the built-in pool's recipe on a CPU (about 16 h on 2 cores)
  python3 experts/build.py gpu --data_parts=/tmp/gd ...   # the same stages on a lent GPU, in a time budget (docs/GPU_BUILD.md)

CONFIG is a name in experts/configs/ or a path to such a file (default: full); --key=value overrides any
setting (--help lists them). A finished stage is skipped, an interrupted one resumes from its last epoch.
Under torchrun the oracle, teacher and library stages run in several processes; rerun without it for the rest.
"""
import sys

from poe import pipeline, settings

if __name__ == '__main__':
    cfg, config = settings.resolve(sys.argv[1:])
    pipeline.run(cfg, config)
