// Bundled type declarations of the engine package (npm run build:lib): one .d.ts per entry.
module.exports = {
  compilationOptions: { preferredConfigPath: './tsconfig.json' },
  entries: [
    { filePath: './src/index.ts', outFile: './lib/index.d.ts', noCheck: true, output: { noBanner: true } },
    { filePath: './src/node.ts', outFile: './lib/node.d.ts', noCheck: true, output: { noBanner: true } },
  ],
};
