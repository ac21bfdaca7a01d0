import {fileURLToPath} from 'node:url';
import {defineConfig} from 'vitest/config';

// The contract suite over the Node transport of `surefetch/node` (npm undici's dispatcher).
export default defineConfig({
	root: fileURLToPath(new URL('..', import.meta.url)),
	resolve: {alias: {'#platform': fileURLToPath(new URL('../src/platform/node.ts', import.meta.url))}},
	test: {
		include: ['test/contract/**/*.test.ts'],
		globalSetup: ['test/support/global-setup.ts'],
		setupFiles: ['test/support/use-node-transport.ts'],
		pool: 'forks',
		// Generous: a busy 2-core machine runs the suite several times slower (tests that need more say so).
		testTimeout: 60_000,
		hookTimeout: 60_000,
		maxWorkers: 2,
	},
});
