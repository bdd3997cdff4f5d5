/**
 * One page in one browser engine, driven the same way whatever drives it underneath: Playwright
 * (Chromium), Puppeteer over WebDriver BiDi (Firefox ESR) or classic WebDriver (WebKitGTK's
 * MiniBrowser). Only what the cross-engine suite needs, so each driver stays a small file.
 */
export const ENGINE_NAMES = ['chromium', 'firefox', 'webkit'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface UploadFile {
  name: string;
  buffer: Buffer;
}

export interface DownloadedFile {
  name: string;
  bytes: Buffer;
}

export interface EnginePage {
  readonly engine: EngineName;
  goto(url: string): Promise<void>;
  /** Runs fn(arg) in the page and returns its (awaited) result; fn's source travels, so it must not close over anything. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>>;
  /** Runs a script's source in the page as the driver does, past the page's Content-Security-Policy (for axe-core). */
  evaluateSource(source: string): Promise<void>;
  click(selector: string): Promise<void>;
  /** Replaces an input's text as typing would. */
  fill(selector: string, text: string): Promise<void>;
  setFiles(selector: string, files: UploadFile[]): Promise<void>;
  /** Clicks and returns the file the browser saved. */
  download(clickSelector: string): Promise<DownloadedFile>;
  setViewport(width: number, height: number): Promise<void>;
  screenshot(file: string): Promise<void>;
  close(): Promise<void>;
}

export interface EngineBrowser {
  readonly engine: EngineName;
  /** The browser's own name and version, e.g. "Firefox 153.0". */
  readonly version: string;
  /** A page in a fresh profile (its own IndexedDB, caches and service workers). */
  newPage(): Promise<EnginePage>;
  close(): Promise<void>;
}

/** The engines a run covers: E2E_ENGINES=chromium,firefox (all three by default). */
export function selectedEngines(env = process.env.E2E_ENGINES): EngineName[] {
  if (!env) return [...ENGINE_NAMES];
  const names = env.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(ENGINE_NAMES as readonly string[]).includes(n));
  if (bad.length) throw new Error(`E2E_ENGINES names unknown engines: ${bad.join(', ')} (known: ${ENGINE_NAMES.join(', ')})`);
  return names as EngineName[];
}
