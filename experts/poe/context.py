"""What every stage of a build shares: the settings, the build folder, device and number format, the data, the
teacher cache, the time budget and the packing of the folder for a device run."""
import json
import math
import os
import time

import torch

from . import checkpoint, data, datasets, evaluate, grouping, loop, runtime, settings, teacher, transport
from .experts import PAD
from .teacher import Images

# The settings each stage's output depends on: a checkpoint resumes, and a finished output is reused, only under the same.
RECIPE = {
    'oracle': ('oracle_depth', 'oracle_widen', 'oracle_epochs', 'oracle_batch', 'oracle_lr', 'oracle_seed', 'weight_decay', 'n_train', 'size'),
    'teacher': ('teacher_views', 'teacher_seed', 'n_train'),
    'library': ('library_epochs', 'library_batch', 'library_lr', 'library_seed', 'temperature', 'weight_decay', 'n_train'),
    'experts': ('tasks', 'expert_width', 'expert_epochs', 'expert_batch', 'expert_lr', 'expert_seed', 'temperature', 'alpha', 'weight_decay', 'n_train'),
    'tune': ('tune_epochs', 'tune_batch', 'tune_lr', 'tune_seed', 'temperature', 'alpha', 'weight_decay', 'n_train'),
    'average': ('tune_average', 'tune_consolidation'),
}


class Build:
    def __init__(self, cfg, config='full'):
        self.cfg, self.config = cfg, config
        self.out = runtime.repo_path(cfg['out'] or f'experts/checkpoints/{config}')
        self.device = runtime.setup(cfg['device'])
        self.precision = runtime.resolve_precision(cfg['precision'], self.device)[0]
        if self.device.type == 'cuda':
            torch.backends.cudnn.benchmark = True
        self.t0 = time.time()
        self._cache = None
        self.load_data()

    def load_data(self):
        try:
            ds = datasets.open_dataset(self.cfg['data'] or None, self.cfg['size'], self.cfg['classes'])
        except (data.DataMissing, ValueError) as e:
            raise SystemExit(f'error: {e}')
        if self.cfg['size'] and ds.size != self.cfg['size']:
            raise SystemExit(f'error: --size={self.cfg["size"]}: {ds.root} holds {ds.kind} images of {ds.size} pixels, which it does not resize')
        self.dataset, self.class_names, self.stats = ds, ds.class_names, (ds.mean, ds.std)
        self._tasks = None if self.cfg['tasks'].startswith('auto:') else tasks_of(ds, self.cfg['tasks'])
        x, y = ds.train
        xv, yv = ds.val
        if self.cfg['n_train']:
            x, y = x[:self.cfg['n_train']], y[:self.cfg['n_train']]
        if self.cfg['n_val']:
            xv, yv = xv[:self.cfg['n_val']], yv[:self.cfg['n_val']]
        on = self.cfg['data_on_device']
        self.images = Images(x, self.device, on, self.stats)
        self.y = torch.as_tensor(y).to(self.device if on else 'cpu')
        self.xv, self.yv = torch.as_tensor(xv).to(self.device if on else 'cpu'), yv
        for note in ds.notes:
            runtime.log(f'{ds.kind} data at {ds.root}: {note}')

    @property
    def tasks(self):
        """{task: class indices}. With --tasks=auto:K they are formed from the oracle's confusions on the validation
        split once the oracle exists, and kept in OUT/tasks.json."""
        if self._tasks is None:
            self._tasks = self.auto_tasks()
        return self._tasks

    def auto_tasks(self):
        path = self.out / 'tasks.json'
        if path.exists():
            saved = json.loads(path.read_text())
            if saved['spec'] == self.cfg['tasks']:
                return {t: list(c) for t, c in saved['tasks'].items()}
        try:
            k = int(self.cfg['tasks'].split(':', 1)[1])
        except ValueError:
            raise SystemExit(f'error: --tasks={self.cfg["tasks"]}: auto:K takes a number of tasks (for example auto:20)')
        oracle, _ = evaluate.load_oracle(self.path('oracle'), self.device)
        probs = torch.softmax(runtime.predict(oracle, self.xv, self.device, stats=self.stats), 1).numpy()
        c = grouping.confusion(probs, self.yv, len(self.class_names))
        tasks = grouping.balanced_groups(c, k, self.class_names)
        share = grouping.cross_expert_share(c, tasks)
        runtime.log(f'tasks: {k} groups from the oracle\'s confusions on {len(self.yv)} validation images; '
                    f'{100 * share:.1f} % of its confusion falls between groups')
        if runtime.is_main():
            path.write_text(json.dumps({'spec': self.cfg['tasks'], 'crossExpertShare': share, 'tasks': tasks}, indent=1) + '\n')
        return tasks

    def arch(self):
        """What every model of the build takes: input channels and size."""
        return {'in_channels': self.dataset.channels, 'size': self.dataset.size}

    # settings and files
    def recipe(self, stage, **extra):
        return {**{k: self.cfg[k] for k in RECIPE[stage]}, **extra}

    def path(self, output):
        return self.out / f'{output}.pt'

    def load(self, output):
        """An earlier stage's output, or a clear error naming the stage that makes it."""
        ck = checkpoint.load(self.path(output))
        if ck is None:
            stage = 'tune' if output.startswith('tune-') else output
            raise SystemExit(f'error: {self.path(output)} not found: the {stage} stage makes it (run it first, or leave --stages out)')
        return ck

    def machine(self):
        return torch.cuda.get_device_name(self.device) if self.device.type == 'cuda' else f'{os.cpu_count()} CPU cores'

    def compact(self):
        """A device run brings its files back slowly: checkpoints keep momentum in bf16, the oracle fp16 weights."""
        return bool(self.cfg['return_dir'])

    def pack(self):
        if self.cfg['return_dir'] and runtime.is_main():
            # the cache is rebuilt in seconds on a GPU; an oracle given by --oracle_from is on this side already
            skip = {'teacher_cache.pt'} | ({'oracle.pt'} if self.cfg['oracle_from'] else set())
            transport.pack(self.out, self.cfg['return_dir'], skip)

    # time
    def time_left(self):
        return self.cfg['budget_s'] - (time.time() - self.t0) if self.cfg['budget_s'] else math.inf

    def train(self, job):
        return loop.run(job, len(self.images), self.out, self.time_left, self.pack, self.compact())

    def autocast(self):
        return runtime.autocast(self.device, self.cfg['precision'])

    # what the distillation stages learn from
    def cache(self):
        if self._cache is None:
            self._cache = teacher.load(self.path('teacher_cache'), self.path('oracle'), len(self.images))
            if self.cfg['data_on_device']:
                self._cache.to(self.device)
        return self._cache

    def columns(self):
        """The oracle's columns of each expert's classes (experts x most classes, padded), which of them are real,
        and each expert's class count."""
        width = max(len(c) for c in self.tasks.values())
        cols = torch.tensor([c + [0] * (width - len(c)) for c in self.tasks.values()], device=self.device)
        mask = torch.tensor([[i < len(c) for i in range(width)] for c in self.tasks.values()], device=self.device)
        return cols, mask, mask.sum(1).float()

    def teacher_columns(self, z, cols, mask):
        """The oracle's logits z (batch x classes) at each expert's classes, padded like ExpertLoop's output."""
        return torch.where(mask, z[:, cols], torch.full((), PAD, device=z.device))

    # validation
    def val_top1(self, model):
        return float((runtime.predict(model, self.xv, self.device, stats=self.stats).argmax(1).numpy() == self.yv).mean())

    @torch.no_grad()
    def val_expert_logits(self, library, group, batch=500):
        """{task: numpy logits} of the experts (one module, (batch, experts, classes)) on the validation images."""
        feats = runtime.predict(library, self.xv, self.device, stats=self.stats)
        z = torch.cat([group(feats[s:s + batch].to(self.device).contiguous(memory_format=torch.channels_last)).float().cpu()
                       for s in range(0, len(feats), batch)])
        return {t: z[:, i, :len(c)].numpy() for i, (t, c) in enumerate(self.tasks.items())}

    def val_metrics(self, library, group):
        return evaluate.stage_metrics(self.val_expert_logits(library, group), self.tasks, self.yv)

    def tunings(self):
        return settings.tunings(self.cfg)


def tasks_of(ds, spec):
    """The primitive tasks, {name: class indices}: the dataset's own grouping (hierarchy) or a JSON file mapping
    task names to class names."""
    if spec == 'hierarchy':
        if not ds.groups:
            raise SystemExit(f'error: {ds.root} has no grouping of its classes of its own: give --tasks=FILE.json, '
                             f'{{"task": ["class", ...], ...}} over its classes ({", ".join(ds.class_names[:6])}, ...)')
        return {t: list(map(int, c)) for t, c in ds.groups.items()}
    path = runtime.repo_path(spec)
    try:
        groups = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f'error: --tasks={spec}: not a readable JSON file of {{"task": ["class", ...]}} ({e})')
    if not isinstance(groups, dict) or not groups or not all(isinstance(v, list) and v for v in groups.values()):
        raise SystemExit(f'error: --tasks={spec}: expected {{"task": ["class", ...], ...}} with at least one class per task')
    unknown = [c for v in groups.values() for c in v if c not in ds.class_names]
    if unknown:
        raise SystemExit(f'error: --tasks={spec}: unknown class {", ".join(map(str, unknown))}; the classes are {", ".join(ds.class_names)}')
    seen = {}
    for t, v in groups.items():
        for c in v:
            if c in seen:
                raise SystemExit(f'error: --tasks={spec}: class {c} is in both {seen[c]} and {t}')
            seen[c] = t
    return {t: [ds.class_names.index(c) for c in v] for t, v in groups.items()}
