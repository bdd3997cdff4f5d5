"""The whole pool on one GPU within a time budget: oracle -> library -> 20 CKD experts -> joint tuning.

The training images live on the GPU and are augmented there (random crop with 4-pixel padding and
horizontal flip as one gather), under bf16 autocast (where the GPU has it) and channels_last. Every
stage checkpoints each epoch into --out and resumes from it. When the next epoch would overrun
--budget_s, the run stops with exit status 3 after its last checkpoint: rerun to go on. With
--return_dir, the build folder is also packed into chunks of at most 15 MiB there after every epoch
(a device run's $OUT brings back at most 8 files of 16 MiB), and --resume_from unpacks such chunks.
After the oracle, its logits for --teacher_views augmented views of every image stay on the GPU for the
distillation stages (cache_teacher.py's idea; the first H100 run spent most of those stages in the
oracle), and the 20 experts train as one grouped ExpertStack.

  python3 experts/build_pool_gpu.py --out=/tmp/build --return_dir=$OUT --budget_s=480       # on the GPU
  /usr/bin/python3 experts/build_pool_gpu.py --device=cpu --tiny --out=/tmp/gpu-tiny         # the same code, tiny, on a CPU
  /usr/bin/python3 experts/build_pool_gpu.py --finish --out=DIR                              # here: test-set metrics
  /usr/bin/python3 experts/build_pool.py --out=DIR                                           # here: export the pool

--oracle_from=PATH starts from an oracle trained before (a CPU build's oracle.pt, carried to the device): the oracle
stage is skipped, the planned budget goes to the distillation stages alone, and the oracle stays out of the returned
chunks (this side has it; --finish with the same --oracle_from puts it back).

The build folder holds what the CPU stages write (oracle.pt, library.pt, experts/*.pt, and tuned/ as
tune_library.py writes it; oracle.pt's weights in fp16), so build_pool.py skips to the
export and results.py reads it. Test images are not needed on the GPU:
--finish adds the test-set figures on this machine.
"""
import io
import json
import math
import os
import shutil
import sys
import tarfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from poe import config, data, train
from poe.expert_stack import ExpertStack, stack_ckd_loss
from poe.wrn import Expert, Library, WideResNet, count_params

DEFAULTS = {
    'out': '/tmp/poe-gpu-build',
    'data': '',               # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
    'data_parts': '',         # folder of split_data.py parts to rebuild the dataset from (for a device run)
    'device': 'cuda',
    'precision': 'auto',
    'budget_s': 0.0,          # stop (status 3) before the next epoch would pass this many seconds; 0 = no limit
    'auto_epochs': False,     # with budget_s: time a few steps of each stage, then choose epochs that fill the budget
    'return_dir': '',         # pack the build folder into <= 15 MiB chunks here after every epoch
    'resume_from': '',        # unpack chunks from a previous --return_dir before starting
    'oracle_from': '',        # an oracle.pt trained before: skip the oracle stage, give its budget to the others
    'oracle_depth': 40,
    'oracle_widen': 4,
    'oracle_epochs': 100,
    'oracle_batch': 256,
    'oracle_lr': 0.2,
    'library_epochs': 60,
    'library_batch': 256,
    'library_lr': 0.2,
    'expert_epochs': 40,
    'expert_batch': 256,
    'expert_lr': 0.1,
    'expert_width': 16,
    'tune_epochs': 30,        # joint tuning of library and experts (tune_library.py's stage) into OUT/tuned; 0 skips it
    'tune_batch': 256,
    'tune_lr': 0.05,
    'tune_consolidation': 0.1,  # tune_library.py --consolidation
    'tune_consolidation_query': 0,  # tune_library.py --consolidation_query: 0 all experts, N >= 2 a random query of 2..N per image
    'temperature': 4.0,
    'alpha': 0.3,
    'teacher_flip': True,     # teacher logits averaged over the image and its mirror
    'teacher_views': 10,      # after the oracle, its logits for K augmented views of every image, kept on the GPU for the
                              # later stages (cache_teacher.py's idea); 0 = the oracle runs in every step
    'weight_decay': 5e-4,
    'n_train': 0,
    'seed': 0,
}
TINY = {'oracle_depth': 10, 'oracle_widen': 1, 'oracle_epochs': 2, 'library_epochs': 1, 'expert_epochs': 1, 'tune_epochs': 1,
        'oracle_batch': 64, 'library_batch': 64, 'expert_batch': 64, 'tune_batch': 64, 'n_train': 512,
        'teacher_views': 2}
CHUNK_BYTES = 15 * 2 ** 20


class BudgetSpent(Exception):
    pass


def gpu_augment(xb, gen):
    """Random crop (4-pixel zero padding) and horizontal flip of a uint8 N x 3 x 32 x 32 batch, as one gather."""
    n, dev = len(xb), xb.device
    dx = torch.randint(0, 9, (n,), device=dev, generator=gen)
    dy = torch.randint(0, 9, (n,), device=dev, generator=gen)
    flip = torch.rand(n, device=dev, generator=gen) < 0.5
    return gpu_crop(xb, dx, dy, flip)


def gpu_crop(xb, dx, dy, flip):
    """The 32 x 32 crop at offsets (dx, dy) of each zero-padded image, mirrored where flip."""
    n, dev = len(xb), xb.device
    dx, dy = dx.long(), dy.long()
    padded = F.pad(xb, (4, 4, 4, 4))
    ar = torch.arange(32, device=dev)
    rows = dy[:, None] + ar
    cols = torch.where(flip[:, None], dx[:, None] + 31 - ar, dx[:, None] + ar)
    return padded[torch.arange(n, device=dev)[:, None, None, None], torch.arange(3, device=dev)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def normalize(xb):
    mean = torch.tensor(data.MEAN, device=xb.device).view(1, 3, 1, 1)
    std = torch.tensor(data.STD, device=xb.device).view(1, 3, 1, 1)
    return ((xb.float() / 255 - mean) / std).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def predict(model, x, batch=1000):
    return torch.cat([model(normalize(x[s:s + batch])).float() for s in range(0, len(x), batch)])


@torch.no_grad()
def stack_logits(stack, feats, batch=500):
    """images x experts x classes, in batches: the stack repeats its input once per expert."""
    return torch.cat([stack(feats[s:s + batch].contiguous(memory_format=torch.channels_last)).float() for s in range(0, len(feats), batch)])


class Build:
    def __init__(self, cfg):
        self.cfg = cfg
        self.out = Path(cfg['out'])
        self.t0 = time.time()
        self.device, _ = train.setup(cfg['seed'], cfg['device'])
        self.precision = train.resolve_precision(cfg['precision'], self.device)[0]
        if self.device.type == 'cuda':
            torch.backends.cudnn.benchmark = True
        src = cfg['data'] or None
        x, y, _ = data.load_split('train', src)
        if cfg['n_train']:
            x, y = x[:cfg['n_train']], y[:cfg['n_train']]
        xv, yv, cv = data.load_split('val', src)
        self.x, self.y = torch.as_tensor(x, device=self.device), torch.as_tensor(y, device=self.device)
        self.xv, self.yv = torch.as_tensor(xv, device=self.device), torch.as_tensor(yv, device=self.device)
        self.fine_names, self.coarse_names = data.label_names(src)
        self.groups = data.superclasses(yv, cv)

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == 'bf16')

    def left(self):
        return self.cfg['budget_s'] - (time.time() - self.t0) if self.cfg['budget_s'] else math.inf

    def epochs(self, name, modules, opt, epochs, batch, lr, step, evaluate, stage_cfg, augment=None):
        """Epoch loop on GPU-resident data with per-epoch checkpoints, resume and the time budget. step gets
        augment(indices, generator) (default: the augmented images) and the indices."""
        augment = augment or (lambda idx, g: gpu_augment(self.x[idx], g))
        ckpt_path = self.out / f'{name}.ckpt'
        gen = torch.Generator(device=self.device)
        gen.manual_seed(self.cfg['seed'])
        start, history, wall = 0, [], 0.0
        ck = train.load_checkpoint(ckpt_path)
        if ck is not None:
            if ck['cfg'] != stage_cfg:
                raise SystemExit(f'error: {ckpt_path} was made with other settings; delete it or use another --out')
            for k, m in modules.items():
                m.load_state_dict(ck['modules'][k])
            opt.load_state_dict(_momentum_to(ck['opt'], torch.float32))
            gen.set_state(ck['gen'])
            start, history, wall = ck['epoch'], ck['history'], ck['wall_s']
            print(f'[{name}] resuming after epoch {start}/{epochs}', flush=True)
        n = len(self.x)
        spe = math.ceil(n / batch)
        last = None
        for epoch in range(start, epochs):
            if last is not None and last * 1.1 > self.left():
                raise BudgetSpent(f'[{name}] stopping before epoch {epoch + 1}/{epochs}: {self.left():.0f} s of the budget left, an epoch takes {last:.0f} s')
            t0 = time.time()
            for m in modules.values():
                m.train()
            perm = torch.randperm(n, device=self.device, generator=gen)
            total = torch.zeros((), device=self.device)
            for i in range(spe):
                for g in opt.param_groups:
                    g['lr'] = train.lr_at(epoch * spe + i, epochs * spe, lr, 'onecycle')
                idx = perm[i * batch:(i + 1) * batch]
                total += step(augment(idx, gen), idx).detach()
            for m in modules.values():
                m.eval()
            metrics = {'epoch': epoch + 1, 'loss': float(total) / spe, **evaluate()}
            last = time.time() - t0
            wall += last
            history.append(metrics)
            print(f'[{name}] epoch {epoch + 1}/{epochs} {last:.1f}s: ' + json.dumps(metrics), flush=True)
            train.save_checkpoint(ckpt_path, cfg=stage_cfg, epoch=epoch + 1, history=history, wall_s=wall, gen=gen.get_state(),
                                  opt=_momentum_to(opt.state_dict(), torch.bfloat16), modules={k: m.state_dict() for k, m in modules.items()})
            self.pack()
        return history, wall

    def pack(self):
        """The build folder as <= 15 MiB chunks in --return_dir (a stage's checkpoint goes once its .pt exists)."""
        if not self.cfg['return_dir']:
            return
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w') as tar:
            for p in sorted(self.out.rglob('*')):
                if p.is_file() and not p.name.endswith('.tmp') and not (self.cfg['oracle_from'] and p == self.out / 'oracle.pt'):
                    tar.add(p, arcname=p.relative_to(self.out).as_posix())
        blob = buf.getvalue()
        ret = Path(self.cfg['return_dir'])
        ret.mkdir(parents=True, exist_ok=True)
        for old in ret.glob('build.tar.*'):
            old.unlink()
        for i in range(0, len(blob), CHUNK_BYTES):
            (ret / f'build.tar.{i // CHUNK_BYTES:02d}').write_bytes(blob[i:i + CHUNK_BYTES])

    def stage_cfg(self, *keys):
        return {k: self.cfg[k] for k in ('n_train', 'seed', 'precision', *keys)}

    def oracle(self):
        c = self.cfg
        model = WideResNet(c['oracle_depth'], c['oracle_widen'], 100).to(self.device).to(memory_format=torch.channels_last)
        print(f'oracle WRN-{c["oracle_depth"]}-{c["oracle_widen"]}: {count_params(model):,} parameters, {len(self.x)} images', flush=True)
        opt = train.sgd(model.parameters(), {**c, 'lr': c['oracle_lr']})

        def step(xb, idx):
            with self.autocast():
                loss = F.cross_entropy(model(normalize(xb)), self.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss

        scfg = self.stage_cfg('oracle_depth', 'oracle_widen', 'oracle_epochs', 'oracle_batch', 'oracle_lr', 'weight_decay')
        history, wall = self.epochs('oracle', {'model': model}, opt, c['oracle_epochs'], c['oracle_batch'], c['oracle_lr'],
                                    step, lambda: {'val_top1': self.top1(model)}, scfg)
        # fp16 weights (loading casts them back): half the bytes a device run must return, at about 0.2 MB/s
        torch.save({'state_dict': {k: v.half() if v.is_floating_point() else v for k, v in _cpu(model.state_dict()).items()},
                    'weights_dtype': 'float16', 'cfg': {**scfg, 'epochs': c['oracle_epochs']},
                    'arch': {'depth': c['oracle_depth'], 'widen': c['oracle_widen']}, 'history': history,
                    'metrics': {'val_top1': history[-1]['val_top1'], 'test_top1': None, 'wall_s': wall, 'params': count_params(model),
                                'precision': self.precision, 'device': torch.cuda.get_device_name() if self.device.type == 'cuda' else 'cpu'}},
                   self.out / 'oracle.pt')

    def load_oracle(self):
        ck = torch.load(self.out / 'oracle.pt', map_location='cpu')
        m = WideResNet(ck['arch']['depth'], ck['arch']['widen'], 100)
        m.load_state_dict(ck['state_dict'])
        return m.to(self.device).to(memory_format=torch.channels_last).eval()

    def teacher_batches(self, oracle):
        """augment for the distillation stages: (normalized augmented images, the oracle's float logits for them),
        from the cached views (teacher_views > 0) or the oracle run on the batch."""
        c = self.cfg
        if not c['teacher_views']:
            def online(idx, gen):
                x = normalize(gpu_augment(self.x[idx], gen))
                with torch.no_grad(), self.autocast():
                    return x, train.teacher_logits(oracle, x, c['teacher_flip']).float()
            return online
        cache = self.teacher_cache(oracle)

        def cached(idx, gen):
            v = torch.randint(0, c['teacher_views'], (len(idx),), device=self.device, generator=gen)
            # a flip-averaged view's logits fit either side of it
            flip = torch.rand(len(idx), device=self.device, generator=gen) < 0.5 if c['teacher_flip'] else cache['flip'][idx, v]
            x = normalize(gpu_crop(self.x[idx], cache['dx'][idx, v], cache['dy'][idx, v], flip))
            return x, cache['logits'][idx, v].float()
        return cached

    def teacher_cache(self, oracle):
        """The oracle's logits for teacher_views augmented views of every training image (fp16, on the device), built
        once per process from a fixed seed, so a resumed run rebuilds the same views."""
        if getattr(self, '_cache', None) is None:
            c, n, k = self.cfg, len(self.x), self.cfg['teacher_views']
            gen = torch.Generator(device=self.device)
            gen.manual_seed(c['seed'] + 1)
            dx = torch.randint(0, 9, (n, k), device=self.device, generator=gen, dtype=torch.uint8)
            dy = torch.randint(0, 9, (n, k), device=self.device, generator=gen, dtype=torch.uint8)
            flip = torch.rand(n, k, device=self.device, generator=gen) < 0.5
            if c['teacher_flip']:  # the logits average both sides of each crop: no stored side
                flip = torch.zeros_like(flip)
            logits = torch.empty(n, k, 100, dtype=torch.float16, device=self.device)
            t0 = time.time()
            with torch.no_grad(), self.autocast():
                for v in range(k):
                    for s in range(0, n, 1000):
                        x = normalize(gpu_crop(self.x[s:s + 1000], dx[s:s + 1000, v], dy[s:s + 1000, v], flip[s:s + 1000, v]))
                        logits[s:s + 1000, v] = train.teacher_logits(oracle, x, c['teacher_flip']).half()
            sync(self.device)
            print(f'[teacher cache] {k} views of {n} images in {time.time() - t0:.1f}s', flush=True)
            self._cache = {'dx': dx, 'dy': dy, 'flip': flip, 'logits': logits}
        return self._cache

    def top1(self, model):
        return float((predict(model, self.xv).argmax(1) == self.yv).float().mean())

    def library(self):
        c = self.cfg
        oracle = self.load_oracle()
        student = WideResNet(16, 1, 100).to(self.device).to(memory_format=torch.channels_last)
        opt = train.sgd(student.parameters(), {**c, 'lr': c['library_lr']})

        def step(batch, idx):
            x, teacher = batch
            with self.autocast():
                loss = train.kd_loss(student(x).float(), teacher, c['temperature'])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss

        scfg = self.stage_cfg('library_epochs', 'library_batch', 'library_lr', 'temperature', 'teacher_flip', 'teacher_views', 'weight_decay')
        history, wall = self.epochs('library', {'student': student}, opt, c['library_epochs'], c['library_batch'], c['library_lr'],
                                    step, lambda: {'val_top1': self.top1(student)}, scfg, self.teacher_batches(oracle))
        lib = Library(16, 1)
        lib.load_state_dict({k: v for k, v in _cpu(student.state_dict()).items() if k.split('.')[0] in ('conv1', 'block1', 'block2')})
        torch.save({'state_dict': lib.state_dict(), 'student_state_dict': _cpu(student.state_dict()), 'cfg': {**scfg, 'epochs': c['library_epochs']},
                    'history': history, 'metrics': {'precision': self.precision, 'student_test_top1': None,
                                                    'student_val_top1': history[-1]['val_top1'], 'wall_s': wall, 'params': count_params(lib)}},
                   self.out / 'library.pt')

    def experts(self):
        c = self.cfg
        oracle = self.load_oracle()
        library = Library(16, 1)
        library.load_state_dict(torch.load(self.out / 'library.pt', map_location='cpu')['state_dict'])
        library = library.to(self.device).to(memory_format=torch.channels_last).eval()
        tasks = self.coarse_names
        classes = dict(zip(tasks, self.groups))
        stack = ExpertStack.from_experts([Expert(library.out_channels, c['expert_width'], len(classes[t])) for t in tasks])
        stack = stack.to(self.device).to(memory_format=torch.channels_last)
        cols = torch.tensor([classes[t] for t in tasks], device=self.device)  # experts x classes
        opt = train.sgd(stack.parameters(), {**c, 'lr': c['expert_lr']})

        def step(batch, idx):
            x, z_o = batch
            with self.autocast():
                with torch.no_grad():
                    feats = library(x)
                loss = stack_ckd_loss(stack(feats).float(), z_o[:, cols], c['temperature'], c['alpha'])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss / len(tasks)

        feats_val = predict(library, self.xv)

        def evaluate():
            accs = self.task_top1(stack_logits(stack, feats_val), cols, tasks)
            return {'val_task_top1_mean': sum(accs.values()) / len(accs), 'val_task_top1': accs}

        scfg = self.stage_cfg('expert_epochs', 'expert_batch', 'expert_lr', 'expert_width', 'temperature', 'alpha', 'teacher_flip', 'teacher_views', 'weight_decay')
        history, wall = self.epochs('experts', {'experts': stack}, opt, c['expert_epochs'], c['expert_batch'], c['expert_lr'], step, evaluate, scfg,
                                    self.teacher_batches(oracle))
        (self.out / 'experts').mkdir(exist_ok=True)
        for t, state in zip(tasks, stack.expert_states()):
            torch.save({'state_dict': _cpu(state), 'classes': classes[t], 'class_names': [self.fine_names[k] for k in classes[t]],
                        'cfg': {**scfg, 'epochs': c['expert_epochs']},
                        'metrics': {'precision': self.precision, 'val_task_top1': history[-1]['val_task_top1'][t], 'wall_s': wall,
                                    'params': count_params(Expert(library.out_channels, c['expert_width'], len(classes[t])))}},
                       self.out / 'experts' / f'{t}.pt')

    def task_top1(self, z, cols, tasks):
        """Each expert's top-1 among its own classes on the validation images of its task; z is images x experts x classes."""
        accs = {}
        for i, t in enumerate(tasks):
            mask = torch.isin(self.yv, cols[i])
            accs[t] = float((cols[i][z[mask, i].argmax(1)] == self.yv[mask]).float().mean())
        return accs

    def tune(self):
        """tune_library.py's stage on the GPU: library and experts trained jointly on the 20 CKD losses
        plus the consolidation term, written to OUT/tuned in tune_library.py's layout (oracle.pt comes with --finish)."""
        from tune_library import consolidation_loss, random_queries
        import numpy as np
        c = self.cfg
        if c['tune_consolidation_query'] == 1 or c['tune_consolidation_query'] < 0:
            raise SystemExit('error: --tune_consolidation_query takes 0 (all experts) or a largest query size of at least 2')
        gen = np.random.default_rng(c['seed'])
        oracle = self.load_oracle()
        lib_ck = torch.load(self.out / 'library.pt', map_location='cpu')
        library = Library(16, 1)
        library.load_state_dict(lib_ck['state_dict'])
        library = library.to(self.device).to(memory_format=torch.channels_last)
        saved = {p.stem: torch.load(p, map_location='cpu') for p in sorted((self.out / 'experts').glob('*.pt'))}
        tasks = list(saved)
        members = []
        for s in saved.values():
            e = Expert(library.out_channels, c['expert_width'], len(s['classes']))
            e.load_state_dict(s['state_dict'])
            members.append(e)
        stack = ExpertStack.from_experts(members).to(self.device).to(memory_format=torch.channels_last)
        cols = torch.tensor([s['classes'] for s in saved.values()], device=self.device)  # experts x classes
        cols_of = dict(zip(tasks, cols))
        task_of_class = torch.zeros(100, dtype=torch.long, device=self.device)
        for i, cl in enumerate(cols):
            task_of_class[cl] = i
        modules = {'library': library, 'experts': stack}
        opt = train.sgd([p for m in modules.values() for p in m.parameters()], {**c, 'lr': c['tune_lr']})

        def step(batch, idx):
            x, z_o = batch
            with self.autocast():
                z_e = stack(library(x)).float()
                loss = stack_ckd_loss(z_e, z_o[:, cols], c['temperature'], c['alpha'])
                if c['tune_consolidation']:
                    queries = random_queries(task_of_class[self.y[idx]], len(tasks), c['tune_consolidation_query'], gen) \
                        if c['tune_consolidation_query'] else None
                    z_by_task = {t: z_e[:, i] for i, t in enumerate(tasks)}
                    loss = loss + c['tune_consolidation'] * len(tasks) * consolidation_loss(z_by_task, z_o, cols_of, c['temperature'], queries)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss / len(tasks)

        def evaluate():
            z = stack_logits(stack, predict(library, self.xv))
            accs = self.task_top1(z, cols, tasks)
            pred = cols.flatten()[z.flatten(1).argmax(1)]
            return {'val_task_top1_mean': sum(accs.values()) / len(accs), 'val_all_top1': float((pred == self.yv).float().mean()),
                    'val_task_top1': accs}

        scfg = self.stage_cfg('tune_epochs', 'tune_batch', 'tune_lr', 'tune_consolidation', 'tune_consolidation_query', 'temperature', 'alpha', 'teacher_flip',
                               'teacher_views', 'weight_decay')
        history, wall = self.epochs('tune', modules, opt, c['tune_epochs'], c['tune_batch'], c['tune_lr'], step, evaluate, scfg,
                                    self.teacher_batches(oracle))
        tuned = self.out / 'tuned'
        (tuned / 'experts').mkdir(parents=True, exist_ok=True)
        tune_cfg = {**scfg, 'epochs': c['tune_epochs'], 'consolidation': c['tune_consolidation'],
                    'consolidation_query': c['tune_consolidation_query'], 'lr': c['tune_lr']}
        torch.save({**lib_ck, 'state_dict': _cpu(library.state_dict()), 'tune_cfg': tune_cfg, 'tune_history': history,
                    'metrics': {**lib_ck['metrics'], 'tune_wall_s': wall}}, tuned / 'library.pt')
        for t, state in zip(tasks, stack.expert_states()):
            s = saved[t]
            torch.save({**s, 'state_dict': _cpu(state), 'tune_cfg': tune_cfg,
                        'metrics': {**s['metrics'], 'val_task_top1': history[-1]['val_task_top1'][t], 'tune_wall_s': wall}},
                       tuned / 'experts' / f'{t}.pt')

    def plan_epochs(self):
        """Epochs per stage that fill the budget (after the teacher cache: oracle 55 %, library 13 %, experts 8 %, joint
        tuning 12 %, the rest spare), from a few timed steps of each stage on untrained models; kept in plan.json so a
        resumed run agrees."""
        path = self.out / 'plan.json'
        if path.exists():
            plan = json.loads(path.read_text())
        else:
            c = self.cfg
            spe = {k: math.ceil(len(self.x) / c[f'{k}_batch']) for k in ('oracle', 'library', 'expert', 'tune')}
            trained = (self.out / 'oracle.pt').exists()
            oracle = self.load_oracle() if trained else \
                WideResNet(c['oracle_depth'], c['oracle_widen'], 100).to(self.device).to(memory_format=torch.channels_last)
            student = WideResNet(16, 1, 100).to(self.device).to(memory_format=torch.channels_last)
            experts = ExpertStack.from_experts([Expert(32, c['expert_width'], 5) for _ in self.coarse_names])
            experts = experts.to(self.device).to(memory_format=torch.channels_last)
            cols = torch.arange(5 * len(self.coarse_names), device=self.device).view(-1, 5) % 100
            lib = Library(16, 1).to(self.device).to(memory_format=torch.channels_last).eval()

            def timed(fn, batch, steps=12):
                for i in range(steps + 3):
                    if i == 3:
                        sync(self.device)
                        t0 = time.time()
                    fn(normalize(gpu_augment(self.x[:batch], None)))
                sync(self.device)
                return (time.time() - t0) / steps

            def oracle_step(x):
                with self.autocast():
                    F.cross_entropy(oracle(x), self.y[:len(x)]).backward()

            def teacher(x):  # with the cache, a step only looks its logits up
                if c['teacher_views']:
                    return torch.randn(len(x), 100, device=self.device)
                with torch.no_grad():
                    return train.teacher_logits(oracle, x, c['teacher_flip']).float()

            def library_step(x):
                with self.autocast():
                    t = teacher(x)
                    train.kd_loss(student(x).float(), t.float(), 4.0).backward()

            def expert_step(x):
                with self.autocast():
                    z = teacher(x)
                    with torch.no_grad():
                        f = lib(x)
                    stack_ckd_loss(experts(f).float(), z[:, cols], 4.0, 0.3).backward()

            lib_train = Library(16, 1).to(self.device).to(memory_format=torch.channels_last)

            def tune_step(x):
                with self.autocast():
                    z = teacher(x)
                    f = lib_train(x)
                    stack_ckd_loss(experts(f).float(), z[:, cols], 4.0, 0.3).backward()

            def val_s(model):  # each epoch ends on the validation split (timed after a warm-up: cudnn's autotuning)
                predict(model.eval(), self.xv[:1000])
                sync(self.device)
                t0 = time.time()
                predict(model.eval(), self.xv)
                sync(self.device)
                return time.time() - t0

            epoch_s = {'library': timed(library_step, c['library_batch']) * spe['library'],
                       'expert': timed(expert_step, c['expert_batch']) * spe['expert']}
            if not trained:
                epoch_s['oracle'] = timed(oracle_step, c['oracle_batch']) * spe['oracle'] + val_s(oracle)
            if c['tune_epochs']:
                epoch_s['tune'] = timed(tune_step, c['tune_batch']) * spe['tune']

            student_val = val_s(student)
            for k in epoch_s:
                if k != 'oracle':
                    epoch_s[k] += student_val
            cache_s = 0.0
            if c['teacher_views']:
                def inference(x):
                    with torch.no_grad(), self.autocast():
                        train.teacher_logits(oracle, x, c['teacher_flip'])
                cache_s = timed(inference, 1000) * math.ceil(len(self.x) / 1000) * c['teacher_views']
            left = self.left() - cache_s * 1.15
            share = {'oracle': 0.55, 'library': 0.13, 'expert': 0.08, 'tune': 0.12} if c['tune_epochs'] else {'oracle': 0.65, 'library': 0.15, 'expert': 0.1}
            cap = {'oracle': 200, 'library': 100, 'expert': 100, 'tune': 60}
            if trained:
                # no oracle to train: on the CPU the joint tuning, not the library, decided (EXPERIMENTS.md 21), so most goes there
                share = {'library': 0.25, 'expert': 0.1, 'tune': 0.53} if c['tune_epochs'] else {'library': 0.6, 'expert': 0.28}
                cap = {'library': 200, 'expert': 100, 'tune': 300}
            plan = {f'{k}_epochs': max(1, min(cap[k], int(left * share[k] / (epoch_s[k] * 1.15)))) for k in share}
            plan['epoch_seconds'], plan['teacher_cache_seconds'] = {k: epoch_s[k] for k in share}, cache_s
            path.write_text(json.dumps(plan, indent=1))
            del oracle, student, experts, lib, lib_train
        for k in ('oracle_epochs', 'library_epochs', 'expert_epochs', 'tune_epochs'):
            if k in plan:
                self.cfg[k] = plan[k]
        print(f'plan: {json.dumps(plan)}', flush=True)

    def run(self):
        if self.cfg['auto_epochs'] and self.cfg['budget_s']:
            self.plan_epochs()
        stages = (('oracle', 'oracle.pt'), ('library', 'library.pt'), ('experts', 'experts/people.pt'))
        for stage, done in stages + ((('tune', 'tuned/experts/people.pt'),) if self.cfg['tune_epochs'] else ()):
            if (self.out / done).exists():
                print(f'== {stage}: done already ({done})', flush=True)
                continue
            print(f'== {stage} ({self.left():.0f} s of the budget left)', flush=True)
            getattr(self, stage)()
            (self.out / f'{stage}.ckpt').unlink(missing_ok=True)
            self.pack()
        print(f'== build complete in {self.out} ({time.time() - self.t0:.0f} s in this run)', flush=True)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def _cpu(state):
    return {k: v.detach().cpu() for k, v in state.items()}


def _momentum_to(opt_state, dtype):
    """SGD momentum buffers in bf16 inside checkpoints: a WRN-40-4 checkpoint then fits the 64 MiB a device run returns.
    A copy: opt.state_dict() shares its per-parameter dicts with the live optimizer, whose buffers must stay fp32
    (CUDA's foreach SGD refuses a bf16 buffer beside fp32 parameters)."""
    state = {}
    for k, s in opt_state['state'].items():
        s = dict(s)
        if s.get('momentum_buffer') is not None:
            s['momentum_buffer'] = s['momentum_buffer'].to(dtype)
        state[k] = s
    return {**opt_state, 'state': state}


def unpack(chunks_dir, out):
    parts = sorted(Path(chunks_dir).glob('build.tar.*'))
    if not parts:
        raise SystemExit(f'error: no build.tar.* chunks in {chunks_dir}')
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(b''.join(p.read_bytes() for p in parts))) as tar:
        tar.extractall(out, filter='data') if sys.version_info >= (3, 12) else tar.extractall(out)
    print(f'unpacked {len(parts)} chunks into {out}', flush=True)


def adopt_oracle(src, out, full_precision=False):
    """Copy an oracle trained before into the build folder (fp16 weights on the device, as its own oracle stage saves
    them; full precision for --finish), once it is known to load as the WRN its checkpoint names."""
    dst = out / 'oracle.pt'
    if dst.exists() and not full_precision:
        return
    try:
        ck = torch.load(src, map_location='cpu')
        model = WideResNet(ck['arch']['depth'], ck['arch']['widen'], 100)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['state_dict'].items()})
    except FileNotFoundError:
        raise SystemExit(f'error: --oracle_from={src}: no such file')
    except Exception as e:  # a torn file, another format, other shapes
        raise SystemExit(f'error: --oracle_from={src} is not an oracle checkpoint (state_dict and arch of a WideResNet): {e}')
    if not full_precision:
        ck = {**ck, 'state_dict': {k: v.half() if v.is_floating_point() else v for k, v in ck['state_dict'].items()},
              'weights_dtype': 'float16'}
    out.mkdir(parents=True, exist_ok=True)
    torch.save(ck, dst)
    print(f'oracle WRN-{ck["arch"]["depth"]}-{ck["arch"]["widen"]} taken from {src}', flush=True)


def finish(out, data_dir):
    """Test-set figures for a build made elsewhere (the GPU run has no test images), in this machine's torch."""
    from poe.oracle import load_oracle
    device, _ = train.setup(0, 'cpu')
    xt, yt, _ = data.load_split('test', data_dir)
    oracle, ck = load_oracle(out, device)
    ck['metrics']['test_top1'] = float((train.predict(oracle, xt, device).argmax(1).numpy() == yt).mean())
    torch.save(ck, out / 'oracle.pt')
    lib = torch.load(out / 'library.pt', map_location='cpu')
    student = WideResNet(16, 1, 100)
    student.load_state_dict(lib['student_state_dict'])
    lib['metrics']['student_test_top1'] = float((train.predict(student.eval(), xt, device).argmax(1).numpy() == yt).mean())
    torch.save(lib, out / 'library.pt')
    tuned = out / 'tuned'
    if (tuned / 'library.pt').exists():  # the tuned build carries the oracle and the test figures like tune_library.py's
        shutil.copy2(out / 'oracle.pt', tuned / 'oracle.pt')
        t = torch.load(tuned / 'library.pt', map_location='cpu')
        t['metrics']['student_test_top1'] = lib['metrics']['student_test_top1']
        torch.save(t, tuned / 'library.pt')
    print(f'oracle test top-1 {ck["metrics"]["test_top1"]:.4f}, library student {lib["metrics"]["student_test_top1"]:.4f}', flush=True)


def main(argv):
    tiny = '--tiny' in argv
    fin = '--finish' in argv
    argv = [a for a in argv if a not in ('--tiny', '--finish')]
    cfg = config.parse({**DEFAULTS, **(TINY if tiny else {})}, argv, __doc__)
    out = Path(cfg['out'])
    if fin:
        if cfg['oracle_from']:
            adopt_oracle(Path(cfg['oracle_from']), out, full_precision=True)
        return finish(out, cfg['data'] or None)
    if cfg['data_parts']:
        from split_data import join_parts
        cfg['data'] = str(join_parts(Path(cfg['data_parts']), out.parent / (out.name + '-data')))
    if cfg['resume_from']:
        unpack(cfg['resume_from'], out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg['oracle_from']:
        adopt_oracle(Path(cfg['oracle_from']), out)
    try:
        Build(cfg).run()
    except BudgetSpent as e:
        print(str(e) + '; rerun the same command (with --resume_from) to go on', flush=True)
        sys.exit(3)


if __name__ == '__main__':
    main(sys.argv[1:])
