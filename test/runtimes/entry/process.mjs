// Runs one bundled test file in Bun or Deno (started by test/runtimes/run.mjs, one process per file):
//
//   bun  test/runtimes/entry/process.mjs <plan.json>
//   deno run -A test/runtimes/entry/process.mjs <plan.json>
//
// plan.json: {bundle, file, provide, testTimeout, grep, results}. The file's result (an entry of
// vitest's JSON report) is written to `results`; each test's outcome is printed as it ends.
import {readFileSync, writeFileSync} from 'node:fs';
import {pathToFileURL} from 'node:url';

const argv = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const plan = JSON.parse(readFileSync(argv[0], 'utf8'));
globalThis.__surefetchProvide = plan.provide;

const mark = {passed: '✓', failed: '✗', skipped: '↓', todo: '↓'};
const module = await import(pathToFileURL(plan.bundle).href);
const result = await module.__run({
	file: plan.file,
	testTimeout: plan.testTimeout,
	grep: plan.grep,
	onResult(r) {
		console.log(`  ${mark[r.status]} ${r.fullName} ${r.duration}ms`);
		for (const message of r.failureMessages) console.log(message.replace(/^/gm, '      '));
	},
});
writeFileSync(plan.results, JSON.stringify(result));
// Whatever the file left behind (a stalled request's socket) must not keep the process alive: the
// driver has the result, and it checks leaks with tests of its own, not by waiting here.
if (globalThis.Deno) globalThis.Deno.exit(0);
else process.exit(0);
