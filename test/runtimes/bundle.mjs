// Bundles test files for a runtime where vitest cannot run: each file becomes one ES module that
// holds the test file, test/runtimes/harness.ts in place of 'vitest', and exports `__run` (the
// harness's run). The tests import surefetch from the source (`../../src/index.js`) for vitest; here
// that import is the built package, resolved as a user of that runtime gets it:
//
//   bun, deno   left as `import … from 'surefetch'` (with `ky`): the runtime itself resolves the
//               package's exports map (Bun with the `bun` then `node` conditions, Deno with `deno`
//               then `node`: both get dist/node/);
//   workerd     bundled by esbuild with the conditions workerd, worker, browser (dist/);
//   firefox     bundled by esbuild with the condition browser (dist/).
//   node, chromium (the probe's columns) as bun and firefox.

import {build} from 'esbuild';
import {mkdirSync} from 'node:fs';
import {basename, dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const harness = fileURLToPath(new URL('./harness.ts', import.meta.url));

/** How each runtime gets the package. */
export const TARGETS = {
	bun: {external: true},
	deno: {external: true},
	workerd: {external: false, conditions: ['workerd', 'worker', 'browser'], mainFields: ['browser', 'module', 'main']},
	firefox: {external: false, conditions: ['browser'], mainFields: ['browser', 'module', 'main']},
	// For the probe's Node and Chromium columns (vitest runs the suite there in `npm test`).
	node: {external: true, packages: 'external', platform: 'node'},
	chromium: {external: false, conditions: ['browser'], mainFields: ['browser', 'module', 'main']},
};

/** `test/contract/x.test.ts` -> `contract--x.test.mjs` (unique and readable). */
export const bundleName = (file) => `${relative(join(root, 'test'), join(root, file)).replaceAll('/', '--').replace(/\.ts$/, '')}.mjs`;

/**
 * Bundles `files` (repository paths) for `runtime` into `outdir`; returns [{file, bundle}] with
 * absolute bundle paths. Throws with esbuild's messages when a file does not build.
 */
export async function bundleTests(runtime, files, outdir) {
	const target = TARGETS[runtime];
	if (!target) throw new Error(`no bundle target for runtime "${runtime}"`);
	mkdirSync(outdir, {recursive: true});
	const packagePlugin = {
		name: 'surefetch-as-a-package',
		setup(b) {
			// The tests' `../../src/index.js` (and any deeper `src/index`) is the package.
			b.onResolve({filter: /(^|\/)src\/index(\.js|\.ts)?$/}, async (args) => {
				if (!args.importer.startsWith(join(root, 'test'))) return undefined;
				if (target.external) return {path: 'surefetch', external: true};
				return b.resolve('surefetch', {kind: args.kind, resolveDir: root});
			});
			b.onResolve({filter: /^vitest$/}, () => ({path: harness}));
			// The repository's package.json says `sideEffects: false`, which is true of the package but
			// not of a test file (its describe() calls are its point): keep every file of test/.
			b.onResolve({filter: /^\.\.?\//}, async (args) => {
				if (args.pluginData?.again || !(args.importer.startsWith(join(root, 'test')) || args.importer === '<stdin>' || args.importer.endsWith('.entry.js'))) return undefined;
				const resolved = await b.resolve(args.path, {kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: {again: true}});
				if (resolved.errors.length > 0 || !resolved.path.startsWith(join(root, 'test'))) return resolved.errors.length > 0 ? {errors: resolved.errors} : undefined;
				return {path: resolved.path, sideEffects: true};
			});
			// Any other import of the sources would test something the package does not ship.
			b.onResolve({filter: /\/src\//}, (args) => {
				if (!args.importer.startsWith(join(root, 'test'))) return undefined;
				return {errors: [{text: `${relative(root, args.importer)} imports ${args.path}: only the public entry (src/index.js) can run against the built package`}]};
			});
		},
	};
	const out = [];
	for (const file of files) {
		const bundle = join(outdir, bundleName(file));
		await build({
			stdin: {
				// The file's own exports too (a workerd case serves requests with its `__request`).
				contents: `export {run as __run} from ${JSON.stringify(harness)};\nexport * from ${JSON.stringify(`./${basename(file)}`)};\n`,
				resolveDir: dirname(join(root, file)),
				sourcefile: `${basename(file)}.entry.js`,
				loader: 'js',
			},
			outfile: bundle,
			bundle: true,
			format: 'esm',
			platform: target.platform ?? 'neutral',
			...(target.packages ? {packages: target.packages} : {}),
			target: 'es2022',
			conditions: target.conditions ?? [],
			mainFields: target.mainFields ?? ['module', 'main'],
			external: target.external ? ['surefetch', 'ky', 'node:*'] : [],
			plugins: [packagePlugin],
			sourcemap: 'inline',
			logLevel: 'silent',
			legalComments: 'none',
			define: {'process.env.NODE_ENV': '"test"'},
		});
		out.push({file, bundle});
	}
	return out;
}
