import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {playwright} from '@vitest/browser-playwright';
import {defineConfig} from 'vitest/config';

// The browser suite: the same contract tests as in Node, plus browser-only ones, in a real
// Chromium driven by Playwright. Chromium comes from the system (Debian's package), never from a
// download: CHROMIUM_PATH, or /usr/bin/chromium.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
	throw new Error(`No Chromium at ${executablePath}. Install one (Debian/Ubuntu: \`apt-get install -y chromium\`) or set CHROMIUM_PATH to a Chromium or Chrome binary. The browser suite is part of \`npm test\` and is never skipped.`);
}

export default defineConfig({
	root: fileURLToPath(new URL('..', import.meta.url)),
	resolve: {alias: {'#platform': fileURLToPath(new URL('../src/platform/default.ts', import.meta.url))}},
	test: {
		include: ['test/contract/**/*.test.ts', 'test/browser/**/*.test.ts'],
		globalSetup: ['test/support/global-setup.ts'],
		// Generous: a busy 2-core machine runs the suite several times slower (tests that need more say so).
		testTimeout: 60_000,
		hookTimeout: 60_000,
		// One file at a time: Chromium allows 6 connections per host, and stalled requests hold them.
		fileParallelism: false,
		browser: {
			enabled: true,
			headless: true,
			screenshotFailures: false,
			provider: playwright({
				launchOptions: {
					executablePath,
					args: [
						'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
						'--disable-background-networking', '--disable-component-update', '--disable-sync',
					], // Playwright gives every launch a fresh, empty profile of its own.
				},
			}),
			instances: [{browser: 'chromium'}],
		},
	},
});
