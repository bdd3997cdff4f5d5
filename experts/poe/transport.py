"""Moving a build between this machine and a lent GPU, whose calls carry at most 64 MiB of working tree and bring
back at most 8 files of 16 MiB: the training set split into parts (tools/split_data.py) and joined there, and the
build folder packed into chunks after every epoch and unpacked here."""
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

CHUNK_BYTES = 15 * 2 ** 20


def pack(folder, return_dir, skip=()):
    """The build folder as build.tar.NN chunks of at most 15 MiB in return_dir (replacing earlier ones); files
    named in skip (relative paths) stay out."""
    folder, buf = Path(folder), io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        for p in sorted(folder.rglob('*')):
            rel = p.relative_to(folder).as_posix()
            if p.is_file() and not p.name.endswith('.tmp') and rel not in skip:
                tar.add(p, arcname=rel)
    blob = buf.getvalue()
    ret = Path(return_dir)
    ret.mkdir(parents=True, exist_ok=True)
    for old in ret.glob('build.tar.*'):
        old.unlink()
    for i in range(0, len(blob), CHUNK_BYTES):
        (ret / f'build.tar.{i // CHUNK_BYTES:02d}').write_bytes(blob[i:i + CHUNK_BYTES])


def unpack(chunks_dir, folder):
    parts = sorted(Path(chunks_dir).glob('build.tar.*'))
    if not parts:
        raise SystemExit(f'error: no build.tar.* chunks in {chunks_dir}')
    Path(folder).mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(b''.join(p.read_bytes() for p in parts))) as tar:
        tar.extractall(folder, filter='data') if sys.version_info >= (3, 12) else tar.extractall(folder)
    print(f'unpacked {len(parts)} chunks into {folder}', flush=True)


def join_parts(parts_dir, out):
    """Rebuilds the dataset folder from parts; says which part is missing or which file is damaged."""
    parts_dir, out = Path(parts_dir), Path(out)
    manifest = json.loads((parts_dir / 'parts.json').read_text())
    missing = [p['name'] for p in manifest['parts'] if not (parts_dir / p['name']).exists()]
    if missing:
        raise SystemExit(f'error: dataset parts missing in {parts_dir}: {", ".join(missing)} (carry them in earlier calls)')
    blob = b''.join((parts_dir / p['name']).read_bytes() for p in manifest['parts'])
    out.mkdir(parents=True, exist_ok=True)
    at = 0
    for f in manifest['files']:
        content = blob[at:at + f['bytes']]
        at += f['bytes']
        if hashlib.sha256(content).hexdigest() != f['sha256']:
            raise SystemExit(f'error: {f["name"]} rebuilt from the parts in {parts_dir} has the wrong checksum')
        (out / f['name']).write_bytes(content)
    return out
