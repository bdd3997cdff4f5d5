"""Build a pool: oracle -> teacher cache -> library -> experts -> joint tunings -> their average -> export.

  /usr/bin/python3 experts/build.py quick                 # 6.5 min on 2 bf16 cores: oracle ~15 %, a 2-superclass query ~31 %
  /usr/bin/python3 experts/build.py full                  # the built-in pool, ~12 h on 2 bf16 cores: oracle 73.9 %,
                                                          # six-superclass queries 80.7 (n=2) to 74.0 % (n=6)
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
