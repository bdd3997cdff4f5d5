/** Tiny --flag value parser that rejects unknown flags with a clear message. */
export function parseArgs<T extends Record<string, string | boolean>>(argv: string[], defaults: T, usage: string): T {
  const out: Record<string, string | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(usage);
      process.exit(0);
    }
    if (!a.startsWith('--')) fatal(`unexpected argument "${a}"`, usage);
    const [key, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (!(key in defaults)) fatal(`unknown option --${key}`, usage);
    if (typeof defaults[key] === 'boolean') out[key] = inline === undefined ? true : inline !== 'false';
    else {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) fatal(`--${key} needs a value`, usage);
      out[key] = v;
    }
  }
  return out as T;
}

export function fatal(message: string, usage?: string): never {
  console.error(`error: ${message}`);
  if (usage) console.error(`\n${usage}`);
  process.exit(2);
}
