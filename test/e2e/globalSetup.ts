import type { TestProject } from 'vitest/node';
import { startPreview } from '../../harness/previewServer';

const PORT = Number(process.env.E2E_PORT ?? 4179);

/** Builds the app and serves the production build, as a user would get it, for every e2e test file. */
export default async function setup(project: TestProject) {
  const preview = await startPreview(PORT);
  project.provide('baseUrl', preview.url);
  return () => preview.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
