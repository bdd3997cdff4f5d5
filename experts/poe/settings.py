"""Build settings. DEFAULTS is the built-in pool's recipe; a config file (experts/configs/NAME.py, plain
`key = value` lines) overrides some of them, and `--key=value` on the command line overrides both.
Unknown keys, wrong types and impossible combinations are refused with the setting's name."""
import ast
import runpy
import sys
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'
STAGES = ('oracle', 'teacher', 'library', 'experts', 'tune', 'average', 'export')
PRECISIONS = ('auto', 'bf16', 'fp32')

DEFAULTS = {
    # where
    'data': '',              # dataset folder: CIFAR-100 binary, an image folder (train/<class>/*.png) or IDX files;
                             # '' = $POE_DATA_DIR, else ../shared/datasets/cifar-100-binary (poe/datasets.py)
    'size': 0,               # square input size in pixels an image folder is resized to (0 = the images' own)
    'classes': '',           # class names, comma-separated, for data that names none (IDX files without classes.txt)
    'tasks': 'hierarchy',    # primitive tasks: the dataset's own grouping (CIFAR-100's superclasses), FILE.json
                             # ({"task": ["class", ...], ...}) or auto:K (K groups from the oracle's confusions)
    'out': '',               # build folder (stage outputs, checkpoints); '' = experts/checkpoints/<config>
    'pool': '',              # pool folder the export stage writes; '' = public/pools/<config>
    'name': '',              # pool name in pool.json; '' = the config's name
    'stages': 'all',         # comma-separated subset of oracle,teacher,library,experts,tune,average,export
    'n_train': 0,            # first n training images only (0 = all 45,000; for tests and smoke runs)
    'n_val': 0,              # first n validation images only (0 = all 5,000), for the figures after each epoch
    # machine: none of these changes what is computed, only where and how fast
    'device': 'cpu',         # cpu | cuda
    'precision': 'auto',     # auto (bf16 autocast only where the hardware has native bf16) | bf16 | fp32
    'data_on_device': False, # training images and teacher cache live on the device (a GPU), else each batch is copied there
    'stack_experts': False,  # the experts train as one grouped module (fast on a GPU), else one after another (fast on a CPU)
    # a run on a lent GPU
    'budget_s': 0.0,         # stop (exit status 3) before an epoch would pass this many seconds; 0 = no limit
    'plan_epochs': False,    # with budget_s: time a few steps of each stage, then choose the epochs that fill the budget
    'return_dir': '',        # pack the build folder into <= 15 MiB chunks here after every epoch (a device run's $OUT)
    'resume_from': '',       # unpack such chunks into the build folder before starting
    'oracle_from': '',       # an oracle.pt trained before: the oracle stage takes it instead of training
    'oracle': '',            # your own teacher instead of a WRN: package.module:factory, a function returning a torch
                             # module that maps normalised images to logits (importable from the repository root)
    'oracle_weights': '',    # with --oracle: its weights file (a state_dict, or a checkpoint holding one)
    'data_parts': '',        # folder of tools/split_data.py parts to rebuild the dataset from (on a device)
    # the recipe: oracle (labels) -> teacher cache -> library (KD) -> experts (CKD) -> joint tunings -> average
    'oracle_depth': 16,
    'oracle_widen': 4,
    'oracle_epochs': 60,
    'oracle_batch': 128,
    'oracle_lr': 0.1,
    'oracle_seed': 0,
    'teacher_views': 10,     # oracle logits stored for this many crops of every image, each averaged with its mirror
    'teacher_seed': 3,
    'library_epochs': 90,    # a WRN-16-1 student distilled from the cache; its conv1 + block1 + block2 are the library
    'library_batch': 128,
    'library_lr': 0.1,
    'library_seed': 1,
    'expert_width': 16,      # one expert per superclass: block3 + head at this width, CKD from the cache
    'expert_epochs': 25,
    'expert_batch': 256,
    'expert_lr': 0.1,
    'expert_seed': 2,
    'tune_consolidation': (0.1, 0.2, 0.2),  # one joint tuning of library + experts per weight, each from the last;
                             # the weight is that of KD from the oracle to all experts' logits side by side
    'tune_epochs': 60,
    'tune_batch': 256,
    'tune_lr': 0.05,
    'tune_seed': 3,
    'tune_average': 2,       # the pool averages the weights of the last this many tunings (0 or 1: the last one as it is)
    'temperature': 4.0,      # KD and CKD temperature
    'alpha': 0.3,            # weight of CKD's L1 logit-scale term
    'weight_decay': 5e-4,
}


class SettingsError(SystemExit):
    def __init__(self, msg):
        super().__init__(f'error: {msg}')


def config_path(name_or_path):
    p = Path(name_or_path)
    if p.suffix != '.py':
        p = CONFIGS / f'{name_or_path}.py'
    if not p.exists():
        known = ', '.join(sorted(c.stem for c in CONFIGS.glob('*.py')))
        raise SettingsError(f'no config {name_or_path} ({p}); known: {known}')
    return p


def read_config(path):
    """The settings a config file assigns (its public names), each checked like a command-line override."""
    values = {k: v for k, v in runpy.run_path(str(path)).items() if not k.startswith('_')}
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise SettingsError(f'{path.name} sets unknown setting{"s" if len(unknown) > 1 else ""} {", ".join(unknown)}')
    return {k: _typed(k, v) for k, v in values.items()}


def resolve(argv):
    """(settings, config name) from [CONFIG] [--key=value ...]; prints the settings and exits on --help."""
    args = list(argv)
    config = args.pop(0) if args and not args[0].startswith('-') else 'full'
    path = config_path(config)
    cfg = {**DEFAULTS, **read_config(path)}
    for arg in args:
        if arg in ('-h', '--help'):
            print_help(cfg, path)
            sys.exit(0)
        if not arg.startswith('--'):
            raise SettingsError(f'unexpected argument {arg!r}: the config comes first, then settings as --key=value')
        key, eq, value = arg[2:].partition('=')
        key = key.replace('-', '_')
        if key not in DEFAULTS:
            raise SettingsError(f'unknown setting --{key}; known: {", ".join(DEFAULTS)}')
        if not eq and not isinstance(DEFAULTS[key], bool):
            raise SettingsError(f'--{key} needs a value (--{key}=...)')
        cfg[key] = _typed(key, _parse(value) if eq else True)
    check(cfg)
    return cfg, path.stem


def print_help(cfg, path):
    print(f'experts/build.py [CONFIG] [--key=value ...]: build a pool. Config: {path}\n\nSettings (the recipe\'s defaults are '
          f'the built-in pool\'s; see experts/poe/settings.py for what each means):')
    for k, v in cfg.items():
        print(f'  --{k}={_show(v)}' + ('' if v == DEFAULTS[k] else f'    (default {_show(DEFAULTS[k])})'))


def _show(v):
    return ','.join(map(str, v)) if isinstance(v, tuple) else str(v)


def _parse(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {'true': True, 'false': False}.get(text.lower(), text)


def _typed(key, v):
    default = DEFAULTS[key]
    if isinstance(default, tuple):
        items = v if isinstance(v, (tuple, list)) else (v,)
        if not items or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items):
            raise SettingsError(f'--{key} expects numbers separated by commas (for example 0.1,0.2), got {v!r}')
        return tuple(float(x) for x in items)
    if isinstance(default, str):
        return str(v)
    if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if type(v) is not type(default):
        raise SettingsError(f'--{key} expects a {type(default).__name__}, got {v!r}')
    return v


def check(cfg):
    """Impossible combinations, each named."""
    if cfg['precision'] not in PRECISIONS:
        raise SettingsError(f'--precision={cfg["precision"]}: expected one of {", ".join(PRECISIONS)}')
    unknown = [s for s in stages(cfg) if s not in STAGES]
    if unknown:
        raise SettingsError(f'--stages: unknown stage {", ".join(unknown)}; the stages are {",".join(STAGES)} (or all)')
    if (cfg['oracle_depth'] - 4) % 6:
        raise SettingsError(f'--oracle_depth={cfg["oracle_depth"]}: a WideResNet is 6n+4 layers deep (10, 16, 22, 28, 40)')
    positive = [k for k in cfg if k.endswith(('_epochs', '_batch', '_width', '_widen', '_views')) and not isinstance(cfg[k], bool) and cfg[k] < 1]
    if positive:
        raise SettingsError(f'--{positive[0]}={cfg[positive[0]]}: must be at least 1')
    if any(w < 0 for w in cfg['tune_consolidation']):
        raise SettingsError(f'--tune_consolidation={_show(cfg["tune_consolidation"])}: a consolidation weight cannot be negative')
    if cfg['tune_average'] < 0:
        raise SettingsError(f'--tune_average={cfg["tune_average"]}: the number of last tunings to average, 0 or more')
    if bool(cfg['oracle']) != bool(cfg['oracle_weights']):
        raise SettingsError('--oracle=package.module:factory and --oracle_weights=FILE go together')
    if cfg['oracle'] and cfg['oracle_from']:
        raise SettingsError('--oracle and --oracle_from both name the teacher: give one')
    if cfg['oracle'] and ':' not in cfg['oracle']:
        raise SettingsError(f'--oracle={cfg["oracle"]}: expected package.module:factory')
    if cfg['plan_epochs'] and not cfg['budget_s']:
        raise SettingsError('--plan_epochs chooses epochs to fill --budget_s: give a budget too')


def stages(cfg):
    return list(STAGES) if cfg['stages'] == 'all' else [s for s in cfg['stages'].split(',') if s]


def tunings(cfg):
    """The joint tuning runs, in order: (run number from 1, consolidation weight)."""
    return list(enumerate(cfg['tune_consolidation'], 1))


def averaged(cfg):
    """The runs whose weights the pool averages: the last tune_average of them (none where fewer than two)."""
    runs = [r for r, _ in tunings(cfg)][-cfg['tune_average']:] if cfg['tune_average'] else []
    return runs if len(runs) >= 2 else []
