import { defineConfig } from 'vite';
import pkg from './package.json' with { type: 'json' };

// The engine as an npm package (`npm run build:lib`, then `npm pack`): ESM for browsers and bundlers
// (index.js) and for Node (node.js). Dependencies stay imports; the app is built by vite.config.ts.
const external = [...Object.keys(pkg.dependencies), /^node:/];

export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'lib',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: { entry: { index: 'src/index.ts', node: 'src/node.ts' }, formats: ['es'] },
    rollupOptions: { external: (id) => external.some((e) => (typeof e === 'string' ? id === e || id.startsWith(`${e}/`) : e.test(id))) },
  },
});
