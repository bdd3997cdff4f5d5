// The engine's shape: sub-folders with no import circle, and coded errors only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers';

const ML = path.join(REPO_ROOT, 'src', 'ml');
const sources = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.tsx?$/.test(f) && !f.includes('generated'))
  .map((f) => path.join(dir, f));

/** Relative imports of each file (type-only ones included), resolved to files under `dir`. */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of sources(dir)) {
    const deps: string[] = [];
    for (const { fileName } of ts.preProcessFile(readFileSync(f, 'utf8')).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = path.resolve(path.dirname(f), fileName);
      const hit = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find(existsSync);
      if (hit?.startsWith(dir)) deps.push(path.relative(dir, hit));
    }
    graph.set(path.relative(dir, f), deps);
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan): the import circles. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const part: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        part.push(w);
      } while (w !== v);
      if (part.length > 1) found.push(part.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the engine\'s layout', () => {
  it('src/ml has no import circle, type-only imports included', () => {
    const graph = importGraph(ML);
    expect(graph.size).toBeGreaterThan(40);
    expect(circles(graph)).toEqual([]);
  });

  it('finds a circle when there is one (the check itself)', () => {
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('keeps src/ml in sub-folders that name its parts, with only the two public classes and shared basics on top', () => {
    const top = readdirSync(ML, { withFileTypes: true });
    expect(top.filter((e) => e.isDirectory()).map((e) => e.name).sort()).toEqual(['custom', 'export', 'graph', 'pool', 'run', 'share', 'util']);
    expect(top.filter((e) => e.isFile()).map((e) => e.name).sort()).toEqual(['constants.ts', 'errors.ts', 'pool.ts', 'taskModel.ts']);
  });

  it('throws only coded errors (PoeError) from the engine\'s sources', () => {
    const engine = [ML, path.join(REPO_ROOT, 'src', 'io'), path.join(REPO_ROOT, 'src', 'node')].flatMap(sources);
    const plain = engine.filter((f) => /throw new (Type|Range)?Error\(/.test(readFileSync(f, 'utf8'))).map((f) => path.relative(REPO_ROOT, f));
    expect(plain).toEqual([]);
  });
});
