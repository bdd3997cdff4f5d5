import type { BrowserContext, Page } from 'playwright-core';

/**
 * Counts how often each React component renders, by name, through the hook React offers developer
 * tools (it must exist before React loads, hence an init script). After each commit a component has
 * rendered when its fiber performed work and is not the very fiber the previous commit held (an
 * untouched fiber keeps its old flags).
 */
function installRenderCounter() {
  const PERFORMED_WORK = 1;
  const counts: Record<string, number> = {};
  let lastTree = new WeakSet<object>();
  type Fiber = { type: unknown; flags: number; child: Fiber | null; sibling: Fiber | null };
  (window as unknown as { __renderCounts: Record<string, number> }).__renderCounts = counts;
  (window as unknown as { __REACT_DEVTOOLS_GLOBAL_HOOK__: object }).__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true,
    isDisabled: false,
    renderers: new Map(),
    inject: () => 1,
    checkDCE: () => undefined,
    onScheduleFiberRoot: () => undefined,
    onCommitFiberUnmount: () => undefined,
    onPostCommitFiberRoot: () => undefined,
    onCommitFiberRoot: (_id: number, root: { current: Fiber }) => {
      const tree = new WeakSet<object>();
      const stack: Fiber[] = [root.current];
      while (stack.length) {
        const f = stack.pop()!;
        tree.add(f);
        if (typeof f.type === 'function' && f.type.name && f.flags & PERFORMED_WORK && !lastTree.has(f))
          counts[f.type.name] = (counts[f.type.name] ?? 0) + 1;
        if (f.sibling) stack.push(f.sibling);
        if (f.child) stack.push(f.child);
      }
      lastTree = tree;
    },
  };
}

export async function countRenders(context: BrowserContext): Promise<void> {
  await context.addInitScript(installRenderCounter);
}

export function renderCounts(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => ({ ...(window as unknown as { __renderCounts: Record<string, number> }).__renderCounts }));
}

export function resetRenderCounts(page: Page): Promise<void> {
  return page.evaluate(() => {
    const c = (window as unknown as { __renderCounts: Record<string, number> }).__renderCounts;
    for (const k of Object.keys(c)) delete c[k];
  });
}
