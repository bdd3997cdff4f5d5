"""Settings as a dict of defaults, overridden from the command line as --key=value (unknown keys rejected)."""
import ast
import sys


def parse(defaults, argv=None, doc=''):
    cfg = dict(defaults)
    argv = sys.argv[1:] if argv is None else argv
    for arg in argv:
        if arg in ('-h', '--help'):
            print(doc.strip() + '\n\nSettings (override with --key=value):')
            for k, v in defaults.items():
                print(f'  --{k}={v!r}')
            sys.exit(0)
        if not arg.startswith('--'):
            sys.exit(f'error: unexpected argument {arg!r}; settings are given as --key=value')
        key, eq, value = arg[2:].partition('=')
        key = key.replace('-', '_')
        if key not in defaults:
            sys.exit(f'error: unknown setting --{key}; known: {", ".join(defaults)}')
        if not eq:
            if isinstance(defaults[key], bool):
                value = 'True'
            else:
                sys.exit(f'error: --{key} needs a value (--{key}=...)')
        cfg[key] = _coerce(value, defaults[key], key)
    return cfg


def _coerce(value, default, key):
    if isinstance(default, str) or default is None:
        return value
    try:
        v = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        if isinstance(default, bool) and value.lower() in ('true', 'false'):
            return value.lower() == 'true'
        sys.exit(f'error: --{key}={value} is not a valid {type(default).__name__}')
    if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if type(v) is not type(default):
        sys.exit(f'error: --{key} expects a {type(default).__name__}, got {value!r}')
    return v
