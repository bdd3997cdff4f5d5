import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataDir } from '../../cli/lib/cifar';
import { DEFAULT_POOL_DIR, REPO_ROOT } from './helpers';

// The engine as another project gets it: `npm pack`, installed from the tarball into an empty folder.
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);

describe('the npm package (npm pack, installed elsewhere)', () => {
  let dir: string;
  let tarball: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'poe-consumer-'));
    tarball = path.join(dir, run('npm', ['pack', '--silent', '--pack-destination', dir], REPO_ROOT).trim().split('\n').pop()!);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], dir);
  }, 600_000);

  it('ships the engine, its types and its guide, not the app', () => {
    const files = run('tar', ['tzf', tarball], dir).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['lib/index.js', 'lib/node.js', 'lib/index.d.ts', 'lib/node.d.ts', 'docs/ENGINE.md', 'package.json']));
    expect(files.filter((f) => /^(src|public|test|experts|cli)\//.test(f))).toEqual([]);
    const installed = readdirSync(path.join(dir, 'node_modules'));
    expect(installed).not.toContain('react');
    expect(installed).not.toContain('zustand');
  });

  it('the Node example gives the CLI’s top-1 on the CIFAR-100 test images of people + vehicles_1', () => {
    const example = path.join(dir, 'node-evaluate.mjs');
    cpSync(path.join(REPO_ROOT, 'docs', 'examples', 'node-evaluate.mjs'), example);
    const mine = JSON.parse(run('node', [example, DEFAULT_POOL_DIR, path.join(dataDir(), 'test.bin.gz')], dir));
    const cli = JSON.parse(run(bin('tsx'), ['cli/evaluate.ts', '--query', 'people,vehicles_1', '--json'], REPO_ROOT));
    expect(mine.images).toBe(1000);
    expect(mine.images).toBe(cli.results[0].images);
    expect(mine.top1).toBe(cli.meanTop1);
  }, 300_000);

  it('trains, uses, saves and loads a custom class through the package (docs/examples/node-custom-class.mjs)', () => {
    const example = path.join(dir, 'node-custom-class.mjs');
    cpSync(path.join(REPO_ROOT, 'docs', 'examples', 'node-custom-class.mjs'), example);
    expect(JSON.parse(run('node', [example, DEFAULT_POOL_DIR], dir))).toEqual({ top: 'stripes', afterLoad: 'stripes', classes: ['stripes (12 images)'] });
  }, 300_000);

  it('type-checks: browsers and bundlers get index.d.ts, Node gets node.d.ts with useNodeBackend', () => {
    writeFileSync(path.join(dir, 'web.ts'), [
      "import { openPool, type Prediction } from 'poe-studio';",
      "const pool = await openPool('/pools/cifar100/', { onStatus: (s) => console.log(s.phase) });",
      "const model = pool.consolidate(['people']);",
      'const top: Prediction[] = await model.classify({ data: new Uint8Array(3072), width: 32, height: 32 });',
      '// @ts-expect-error labels are strings',
      'const wrong: number[] = model.labels;',
      "const spec = await pool.customClasses.train('mine', new Uint8Array(10 * 3072), { onProgress: (f: number) => console.log(f) });",
      "const saved: string = pool.customClasses.toJSON();",
      'console.log(spec.id, saved, pool.customClasses.list()[0].usable);',
      '// @ts-expect-error the TF.js models behind a pool are not part of the API',
      'console.log(pool.loaded);',
      "// @ts-expect-error Node only",
      "import { useNodeBackend } from 'poe-studio';",
      'console.log(top, wrong, useNodeBackend);',
    ].join('\n'));
    writeFileSync(path.join(dir, 'node.ts'), [
      "import { openPool, useNodeBackend } from 'poe-studio';",
      "await useNodeBackend('wasm');",
      "const report = await (await openPool('pools/cifar100')).consolidate(['people']).evaluate(new Uint8Array(3072), [2]);",
      'const top1: number = report.top1;',
      'console.log(top1);',
    ].join('\n'));
    const tsconfig = (resolution: string, file: string) => JSON.stringify({
      compilerOptions: { target: 'ES2022', module: resolution === 'bundler' ? 'ESNext' : 'NodeNext', moduleResolution: resolution, strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2023', 'DOM'], types: [] },
      files: [file],
    });
    writeFileSync(path.join(dir, 'tsconfig.web.json'), tsconfig('bundler', 'web.ts'));
    writeFileSync(path.join(dir, 'tsconfig.node.json'), tsconfig('NodeNext', 'node.ts'));
    for (const p of ['tsconfig.web.json', 'tsconfig.node.json']) expect(() => run(bin('tsc'), ['-p', p], dir)).not.toThrow();
  }, 120_000);

  it('bundles for the browser with Vite, from the browser entry (no Node modules)', () => {
    const web = path.join(dir, 'web');
    cpSync(path.join(REPO_ROOT, 'docs', 'examples', 'web'), web, { recursive: true });
    run(bin('vite'), ['build', web, '--outDir', path.join(dir, 'web-dist'), '--logLevel', 'error'], dir);
    const js = readdirSync(path.join(dir, 'web-dist', 'assets')).filter((f) => f.endsWith('.js'));
    const code = js.map((f) => readFileSync(path.join(dir, 'web-dist', 'assets', f), 'utf8')).join('\n');
    expect(code).toContain('consolidate');
    expect(code).not.toMatch(/node:fs|node:module/);
  }, 300_000);
});
