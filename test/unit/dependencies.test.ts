import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>; devDependencies: Record<string, string>;
};
const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'DEPENDENCIES.md'), 'utf8');

/** Packages the app's and the engine's sources import (the bench page in src/bench aside): what reaches users. */
function shippedPackages(): string[] {
  const found = new Set<string>();
  const src = path.join(REPO_ROOT, 'src');
  for (const f of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (!/\.tsx?$/.test(f) || f.startsWith(`bench${path.sep}`)) continue;
    for (const { fileName: spec } of ts.preProcessFile(readFileSync(path.join(src, f), 'utf8')).importedFiles)
      if (!spec.startsWith('.') && !spec.startsWith('node:')) found.add(spec.match(/^(@[^/]+\/[^/]+|[^/]+)/)![1]);
  }
  return [...found].sort();
}

describe('dependencies that reach users', () => {
  const shipped = shippedPackages();
  it.each([...new Set([...Object.keys(pkg.dependencies), ...shipped])])('%s is pinned to an exact version and listed in docs/DEPENDENCIES.md with it', (name) => {
    const version = pkg.dependencies[name] ?? pkg.devDependencies[name];
    expect(version, `${name} is imported but not in package.json`).toMatch(/^\d+\.\d+\.\d+$/);
    const row = doc.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${name}\``));
    expect(row, `no row for ${name}`).toBeDefined();
    expect(row).toContain(`| ${version} |`);
  });
  it('the engine package depends only on what its sources import, and they stay few', () => {
    expect(shipped).toEqual(expect.arrayContaining(Object.keys(pkg.dependencies)));
    expect(shipped.length).toBeLessThanOrEqual(12);
  });
});
