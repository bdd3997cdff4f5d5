import { defineConfig, mergeConfig } from 'vitest/config';
import unit from './vitest.config.ts';

/** The unit tests minus the slow files (each 10-20 s: they spawn the CLI, train custom classes, run ONNX Runtime or pack the package). */
const SLOW_UNIT_TESTS = [
  'test/unit/cli.test.ts',
  'test/unit/customCli.test.ts',
  'test/unit/customClass.test.ts',
  'test/unit/onnxExport.test.ts',
  'test/unit/exportModel.test.ts',
  'test/unit/package.test.ts',
];

export default mergeConfig(unit, defineConfig({ test: { exclude: SLOW_UNIT_TESTS } }));
