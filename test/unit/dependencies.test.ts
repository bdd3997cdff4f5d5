import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'DEPENDENCIES.md'), 'utf8');

describe('production dependencies', () => {
  it.each(Object.entries(pkg.dependencies))('%s is pinned to an exact version and listed in docs/DEPENDENCIES.md with it', (name, version) => {
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const row = doc.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${name}\``));
    expect(row, `no row for ${name}`).toBeDefined();
    expect(row).toContain(`| ${version} |`);
  });
  it('stay few', () => {
    expect(Object.keys(pkg.dependencies).length).toBeLessThanOrEqual(10);
  });
});
