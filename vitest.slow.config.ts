import { defineConfig, mergeConfig } from 'vitest/config';
import unit from './vitest.config.ts';

/** The thorough variants kept out of npm test (minutes each); `npm run test:slow`. */
export default mergeConfig(unit, defineConfig({ test: { include: ['test/slow/**/*.test.ts'] } }));
