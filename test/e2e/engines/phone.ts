import type { EnginePage } from '../../../harness/engines';

export interface PhoneLayout {
  width: number;
  /** Page width beyond the viewport: > 0 means sideways scrolling. */
  overflow: number;
  /** The right-hand stack sits under the class picker. */
  oneColumn: boolean;
}

/**
 * The app laid out 390 CSS px wide. Chromium and Firefox resize their viewport; WebKitGTK's
 * MiniBrowser window cannot be narrower than its toolbar (447 px), so there the same page is
 * loaded in a 390 px iframe, which lays it out exactly as a 390 px viewport would.
 */
export async function phoneLayout(p: EnginePage, url: string): Promise<PhoneLayout> {
  const inFrame = p.engine === 'webkit';
  if (!inFrame) {
    await p.setViewport(390, 844);
    await p.goto(url);
  }
  return p.evaluate(async ({ url, inFrame }) => {
    let doc = document;
    if (inFrame) {
      const frame = document.createElement('iframe');
      frame.style.cssText = 'position:fixed;top:0;left:0;width:390px;height:844px;border:0;z-index:99999;background:#fff';
      frame.src = url;
      document.body.append(frame);
      await new Promise((r) => frame.addEventListener('load', r, { once: true }));
      doc = frame.contentDocument!;
    }
    const end = Date.now() + 60_000;
    while (!doc.querySelector('section.pool[data-status="ready"]') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const root = doc.documentElement;
    const a = doc.querySelector('section.picker')!.getBoundingClientRect();
    const b = doc.querySelector('.stack')!.getBoundingClientRect();
    return { width: root.clientWidth, overflow: root.scrollWidth - root.clientWidth, oneColumn: b.top >= a.bottom - 1 };
  }, { url, inFrame });
}
