// For the *.host.test.ts files: the package packed as `npm publish` would ship it, with its two
// dependencies packed from node_modules (offline), and installed into a fresh directory the way a
// package manager lays them out.
import {execFileSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdirSync, mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

export interface Packed {name: string; version: string; tarball: string; manifest: Record<string, unknown>; integrity: string; shasum: string}

/** `npm pack` of the repository (dist/ as built; no scripts) and of ky and abort-controller-x from node_modules. */
export function packAll(root: string): Packed[] {
	const dest = mkdtempSync(join(tmpdir(), 'surefetch-packs-'));
	return [root, join(root, 'node_modules', 'ky'), join(root, 'node_modules', 'abort-controller-x')].map((dir) => {
		const out = execFileSync('npm', ['pack', dir, '--ignore-scripts', '--json', '--pack-destination', dest], {cwd: dest, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'], env: {...process.env, npm_config_loglevel: 'error', npm_config_offline: 'true'}});
		const [packed] = JSON.parse(out) as Array<{filename: string}>;
		const tarball = join(dest, packed!.filename);
		const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
		const bytes = readFileSync(tarball);
		return {
			name: String(manifest.name), version: String(manifest.version), tarball, manifest,
			integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
			shasum: createHash('sha1').update(bytes).digest('hex'),
		};
	});
}

/** A fresh directory with node_modules/<name> extracted from each tarball. */
export function installAll(packs: Packed[]): string {
	const dir = mkdtempSync(join(tmpdir(), 'surefetch-app-'));
	for (const pack of packs) {
		const target = join(dir, 'node_modules', pack.name);
		mkdirSync(target, {recursive: true});
		execFileSync('tar', ['xzf', pack.tarball, '-C', target, '--strip-components=1'], {timeout: 60_000});
	}
	return dir;
}
