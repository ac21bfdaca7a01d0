import {fileURLToPath} from 'node:url';
import {defineConfig} from 'vitest/config';

// The Node suite: runtime-independent contract tests plus Node-only tests, all against the real
// runtime fetch and the fault server (started once in global-setup, on 127.0.0.1).
export default defineConfig({
	root: fileURLToPath(new URL('..', import.meta.url)),
	resolve: {alias: {'#platform': fileURLToPath(new URL('../src/platform/node.ts', import.meta.url))}},
	test: {
		include: ['test/contract/**/*.test.ts', 'test/node/**/*.test.ts'],
		globalSetup: ['test/support/global-setup.ts'],
		pool: 'forks',
		// Generous: a busy 2-core machine runs the suite several times slower (tests that need more say so).
		testTimeout: 60_000,
		hookTimeout: 60_000,
		// Timing tests assert windows; running files side by side on 2 cores keeps them honest.
		fileParallelism: true,
		maxWorkers: 2,
		reporters: ['default'],
	},
});
