import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

const TOUCH_TARGET_PX = 44;

/** Width of the page beyond the viewport: > 0 means sideways scrolling. */
export function horizontalOverflow(p: Page): Promise<number> {
  return p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Visible controls smaller than min x min px; a checkbox or radio counts by its label, which takes the tap. */
export function smallTargets(p: Page, min = TOUCH_TARGET_PX): Promise<string[]> {
  return p.evaluate((minPx) => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('button, select, input, a[href], summary, [tabindex]:not([tabindex="-1"])')) {
      const target = el.matches('input[type="checkbox"], input[type="radio"], input[type="file"]') ? (el.closest('label') ?? el) : el;
      const r = target.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not displayed
      if (r.width < minPx - 0.5 || r.height < minPx - 0.5)
        out.push(`${el.tagName.toLowerCase()}${el.getAttribute('aria-label') ? `[${el.getAttribute('aria-label')}]` : ''} "${(target.textContent ?? '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return out;
  }, min);
}

/** "one": the right-hand stack sits under the class picker; "two": beside it. */
export function columnLayout(p: Page): Promise<'one' | 'two' | 'other'> {
  return p.evaluate(() => {
    const a = document.querySelector('section.picker')!.getBoundingClientRect();
    const b = document.querySelector('.stack')!.getBoundingClientRect();
    if (b.top >= a.bottom - 1) return 'one';
    if (b.left >= a.right - 1 && Math.abs(b.top - a.top) < 2) return 'two';
    return 'other';
  });
}

/** Serious and critical axe-core violations on the page as it is now, one line each. */
export async function seriousA11yViolations(p: Page, rules?: string[]): Promise<string[]> {
  const builder = new AxeBuilder({ page: p });
  const r = await (rules ? builder.withRules(rules) : builder).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(' | ')}`);
}
