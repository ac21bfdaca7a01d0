import {defineConfig} from 'tsup';

export default defineConfig({
	entry: {index: 'src/index.ts', node: 'src/node/index.ts'},
	format: ['esm'],
	dts: true,
	sourcemap: true,
	clean: true,
	target: 'es2022',
	platform: 'neutral',
	// ky and abort-controller-x stay dependencies: bundlers dedupe them with the app's copy.
	external: ['ky', 'abort-controller-x', 'undici'],
	treeshake: true,
	// Shared modules become one chunk, so both entries see the same classes (DeadlineReason identity).
	splitting: true,
});
