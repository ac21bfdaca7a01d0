import {fileURLToPath} from 'node:url';
import {defineConfig, type Options} from 'tsup';

// Two builds of the same source, told apart by `#platform` (src/platform/): the default one for
// browsers and workers holds no Node-only code; the `node` one (Node, Bun, Deno) adds the Node error
// table and the Buffer fast path, and carries `surefetch/node`, sharing one chunk with its index
// so both see the same classes (DeadlineReason identity).
const platform = (name: 'default' | 'node'): Options['esbuildOptions'] => (options) => {
	options.alias = {'#platform': fileURLToPath(new URL(`./src/platform/${name}.ts`, import.meta.url))};
};

const common: Options = {
	format: ['esm'],
	dts: true,
	sourcemap: true,
	target: 'es2022',
	// ky and abort-controller-x stay dependencies: bundlers dedupe them with the app's copy.
	external: ['ky', 'abort-controller-x', 'undici', '@opentelemetry/api'],
	treeshake: true,
	splitting: true,
};

export default defineConfig([
	{...common, entry: {index: 'src/index.ts', otel: 'src/otel.ts'}, outDir: 'dist', clean: true, platform: 'neutral', esbuildOptions: platform('default')},
	{...common, entry: {index: 'src/index.ts', node: 'src/node/index.ts', otel: 'src/otel.ts', cli: 'src/cli.ts'}, outDir: 'dist/node', platform: 'node', esbuildOptions: platform('node')},
]);
