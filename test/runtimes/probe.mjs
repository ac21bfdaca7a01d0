#!/usr/bin/env node
// Rewrites the classification tables: runs test/runtimes/cases/probe.test.ts in each runtime with no
// table to hold to, keeps the rows it gives (test/runtimes/probe/<runtime>.json), then writes the
// README's runtimes × faults table from them (test/runtimes/probe/readme.mjs).
//
//   node test/runtimes/probe.mjs                     every runtime: node bun deno workerd firefox chromium
//   node test/runtimes/probe.mjs deno firefox        these only (the README table is rewritten from all files)
//
// The Node column is the pinned Node 24 of test/support/ensure-node.mjs. Run it after a runtime's
// pin changes or a table in src/classify.ts or src/platform/ does; commit the JSON files and README.md.
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {writeReadmeTable} from './probe/readme.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ALL = ['node', 'bun', 'deno', 'workerd', 'firefox', 'chromium'];
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ALL;

function nodeBinary() {
	const result = spawnSync(process.execPath, [join(root, 'test', 'support', 'ensure-node.mjs'), '24'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']});
	if (result.status !== 0) throw new Error('Node 24 could not be installed (test/support/ensure-node.mjs)');
	return result.stdout.trim();
}

let failed = false;
for (const runtime of wanted) {
	if (!ALL.includes(runtime)) throw new Error(`unknown runtime ${runtime}: ${ALL.join(', ')}`);
	const driver = runtime === 'node' ? nodeBinary() : process.execPath;
	const report = join('test-output', `probe-${runtime}.json`);
	const run = spawnSync(driver, [join(root, 'test', 'runtimes', 'run.mjs'), runtime, '--files', 'cases/probe.test.ts', '--report', report], {cwd: root, stdio: 'inherit', env: {...process.env, SUREFETCH_PROBE_WRITE: '1'}, timeout: 15 * 60_000});
	const artifactsFile = join(root, 'test-output', 'runtimes', runtime, 'artifacts.json');
	const {version, artifacts} = existsSync(artifactsFile) ? JSON.parse(readFileSync(artifactsFile, 'utf8')) : {artifacts: {}};
	const rows = Object.values(artifacts)[0]?.probe;
	if (run.status !== 0 || !rows) {
		console.error(`✗ ${runtime}: the probe did not run (exit ${run.status ?? run.signal})`);
		failed = true;
		continue;
	}
	writeFileSync(join(root, 'test', 'runtimes', 'probe', `${runtime}.json`), `${JSON.stringify({runtime, version, rows}, null, '\t')}\n`);
	console.log(`✓ ${runtime}: test/runtimes/probe/${runtime}.json (${rows.length} faults, ${version})`);
}
writeReadmeTable();
console.log('✓ README.md: the runtimes × faults table');
if (failed) process.exitCode = 1;
