#!/usr/bin/env node
// Make sure a pinned runtime is available for the runtime suites and print its absolute path.
//
//   node test/runtimes/ensure.mjs bun       -> /…/node_modules/.cache/surefetch-runtimes/bun-1.4.5/bun
//   node test/runtimes/ensure.mjs deno      -> /…/node_modules/.cache/surefetch-runtimes/deno-2.9.6/deno
//   node test/runtimes/ensure.mjs workerd   -> /…/node_modules/.cache/surefetch-runtimes/workerd-1.20261117.1/workerd
//   node test/runtimes/ensure.mjs firefox   -> /usr/bin/firefox-esr (FIREFOX_PATH overrides; never downloaded)
//
// Bun, Deno and workerd are the official Linux x64 builds that their makers publish on npm, taken
// with `npm pack <name>@<exact version>` (as test/support/ensure-node.mjs takes Node), so the only
// network access is the npm registry. Firefox is Debian's `firefox-esr` (.ci/run installs it).
// stdout carries the path and nothing else; progress and errors go to stderr. Idempotent: a cached
// binary that reports the pinned version is used as it is.
//
// Also importable: `import {ensureRuntime} from './ensure.mjs'; const bin = ensureRuntime('bun');`

import {execFileSync} from 'node:child_process';
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

/** Runtime -> npm package, exact version, the binary's path in the package, and how it reports its version. Change the pins here. */
export const RUNTIMES = Object.freeze({
	bun: {pkg: '@oven/bun-linux-x64', version: '1.4.5', path: 'package/bin/bun', versionArgs: ['--version'], reports: (v) => v.trim() === '1.4.5'},
	deno: {pkg: '@deno/linux-x64-glibc', version: '2.9.6', path: 'package/deno', versionArgs: ['--version'], reports: (v) => v.startsWith('deno 2.9.6 ')},
	// workerd's npm version 1.YYYYMMDD.N is the build of the date it prints.
	workerd: {pkg: '@cloudflare/workerd-linux-64', version: '1.20261117.1', path: 'package/bin/workerd', versionArgs: ['--version'], reports: (v) => v.trim() === 'workerd 2026-11-17'},
});

/** The Firefox the suite drives: Debian's ESR line. */
export const FIREFOX = Object.freeze({path: '/usr/bin/firefox-esr', line: 'esr'});

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheRoot = join(repoRoot, 'node_modules', '.cache', 'surefetch-runtimes');

/** How to get a runtime by hand, for the error a missing one gives. */
export function howToGet(name) {
	if (name === 'firefox') {
		return 'Install Firefox ESR (Debian/Ubuntu: `apt-get install -y firefox-esr`; .ci/run does it) or set FIREFOX_PATH to a Firefox binary.';
	}
	if (name === 'chromium') return 'Install Chromium (`apt-get install -y chromium`) or set CHROMIUM_PATH.';
	if (name === 'node') return 'The Node running the driver is the one tested.';
	const pin = RUNTIMES[name];
	return `It comes from the npm registry: \`npm pack ${pin.pkg}@${pin.version}\` (Linux x64 only); test/runtimes/ensure.mjs does that into ${join('node_modules', '.cache', 'surefetch-runtimes')}. ` +
		`Elsewhere, install ${name} ${pin.version} yourself and set SUREFETCH_${name.toUpperCase()}_PATH to its binary.`;
}

/** Absolute path of the runtime's binary, downloading it when needed. Throws with a message saying how to get it. */
export function ensureRuntime(name) {
	if (name === 'firefox') return ensureFirefox();
	if (name === 'node') return process.execPath;
	if (name === 'chromium') {
		const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
		if (!existsSync(path)) throw new Error(`no Chromium at ${path}: \`apt-get install -y chromium\` or set CHROMIUM_PATH`);
		return path;
	}
	const pin = RUNTIMES[name];
	if (!pin) throw new Error(`unknown runtime "${name}": ${[...Object.keys(RUNTIMES), 'firefox'].join(', ')}`);
	const override = process.env[`SUREFETCH_${name.toUpperCase()}_PATH`];
	if (override) {
		if (!reports(override, pin)) throw new Error(`SUREFETCH_${name.toUpperCase()}_PATH=${override} does not report ${name} ${pin.version}`);
		return override;
	}
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		throw new Error(`the pinned ${name} binary is the Linux x64 build (this machine is ${process.platform}-${process.arch}). ${howToGet(name)}`);
	}
	const dir = join(cacheRoot, `${name}-${pin.version}`);
	const bin = join(dir, name);
	if (reports(bin, pin)) return bin;

	mkdirSync(dir, {recursive: true});
	const work = mkdtempSync(join(tmpdir(), `surefetch-${name}-`));
	try {
		process.stderr.write(`ensure-runtime: downloading ${pin.pkg}@${pin.version} from the npm registry…\n`);
		let out;
		try {
			out = execFileSync('npm', ['pack', `${pin.pkg}@${pin.version}`, '--pack-destination', work], {
				cwd: work, encoding: 'utf8', timeout: 10 * 60_000,
				env: {...process.env, npm_config_loglevel: 'error'},
				stdio: ['ignore', 'pipe', 'inherit'],
			});
		} catch (error) {
			throw new Error(`npm pack ${pin.pkg}@${pin.version} failed (${error.message.split('\n')[0]}). ${howToGet(name)}`);
		}
		const tarball = join(work, out.trim().split('\n').pop().trim());
		execFileSync('tar', ['xzf', tarball, '-C', work, pin.path], {stdio: ['ignore', 'ignore', 'inherit']});
		// Copy next to the final path, then rename: two runs at once never see half a binary.
		const partial = join(dir, `${name}.partial-${process.pid}`);
		copyFileSync(join(work, pin.path), partial);
		chmodSync(partial, 0o755);
		renameSync(partial, bin);
	} finally {
		rmSync(work, {recursive: true, force: true});
	}
	if (!reports(bin, pin)) throw new Error(`downloaded ${bin} but it does not report ${name} ${pin.version}. ${howToGet(name)}`);
	return bin;
}

function ensureFirefox() {
	const path = process.env.FIREFOX_PATH || FIREFOX.path;
	if (!existsSync(path)) throw new Error(`no Firefox at ${path}. ${howToGet('firefox')} The Firefox suite is part of \`npm test\` and is never skipped.`);
	let version;
	try {
		version = execFileSync(path, ['--version'], {encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore']}).trim();
	} catch (error) {
		throw new Error(`${path} --version failed (${error.message.split('\n')[0]}). ${howToGet('firefox')}`);
	}
	if (!/Firefox \d+/.test(version)) throw new Error(`${path} --version printed "${version}", not a Firefox. ${howToGet('firefox')}`);
	return path;
}

/** The runtime's version as it prints it (for reports). */
export function versionOf(name, bin) {
	if (name === 'node' && bin === process.execPath) return `node ${process.version}`;
	const args = RUNTIMES[name]?.versionArgs ?? ['--version'];
	return execFileSync(bin, args, {encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore']}).split('\n')[0].trim();
}

function reports(bin, pin) {
	if (!existsSync(bin)) return false;
	try {
		return pin.reports(execFileSync(bin, pin.versionArgs, {encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'], env: {...process.env, DENO_NO_UPDATE_CHECK: '1'}}));
	} catch {
		return false;
	}
}

// CLI entry point (skipped when imported).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
	try {
		if (!process.argv[2]) throw new Error('usage: node test/runtimes/ensure.mjs <bun|deno|workerd|firefox>');
		process.stdout.write(`${ensureRuntime(process.argv[2])}\n`);
	} catch (error) {
		process.stderr.write(`ensure-runtime: ${error.message}\n`);
		process.exitCode = 1;
	}
}
