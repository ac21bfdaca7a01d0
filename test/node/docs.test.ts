// The documentation a newcomer reads points at things that exist: in every Markdown file of the
// repository, every relative link (and its #section), and every file or folder path it names
// (`test/fault-server/server.js`, `demo.js`, SPEC.md...), resolved from the file's folder or from
// the repository root.
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const markdown = execFileSync('git', ['ls-files', '*.md'], {cwd: root, encoding: 'utf8'}).split('\n').filter(Boolean);

/** Names that look like files and are not (an option, a runtime). */
const NOT_FILES = new Set(['Node.js', 'decode.json', 'image.png']); // image.png: the file a README example writes
/** Made by a build or a test run, or installed: not in a clean checkout. */
const GENERATED = /^(dist|test-output|node_modules)(\/|$)/;

/** GitHub's anchor for a heading. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/<[^>]+>/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

function anchorsOf(file: string): Set<string> {
	const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
	return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)));
}

/** Every dead reference of one Markdown file (its text: `text`), as `what: why`. */
function deadReferences(file: string, text = readFileSync(join(root, file), 'utf8')): string[] {
	const dir = dirname(file);
	const dead: string[] = [];
	const exists = (path: string) => [join(root, dir, path), join(root, path)].some((full) => existsSync(full));
	// Links: [text](target), relative ones only.
	for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
		if (/^[a-z][a-z+.-]*:/i.test(target!)) continue; // https:, mailto:
		const [path, anchor] = target!.split('#') as [string, string | undefined];
		const file2 = path === '' ? file : relative(root, join(root, dir, path));
		if (path !== '' && !existsSync(join(root, file2))) {
			dead.push(`link (${target}): ${file2} does not exist`);
			continue;
		}
		if (anchor && file2.endsWith('.md') && !anchorsOf(file2).has(anchor)) dead.push(`link (${target}): ${file2} has no section #${anchor}`);
	}
	// Paths named in the text: a name with a file extension, or a `folder/` in backticks.
	// A bench result quotes the subject of the commit it measured ("proxy.ts: ..."): a quotation, not a reference.
	const prose = text.replace(/\]\([^)]*\)/g, '](…)').replace(/\b[a-z]+:\/\/\S+/g, '').replace(/(at commit [\da-f]{7,40} \([^,]*, )"[^\n]*?"\)/g, '$1"…")');
	const named = new Set<string>();
	for (const [, path] of prose.matchAll(/(?<![\w/.:@-])((?:\.{1,2}\/)?\w[\w./-]*\.(?:md|js|mjs|cjs|ts|json|css|html|sh|pem|svg|png))(?![\w(/-])/g)) named.add(path!);
	for (const [, path] of prose.matchAll(/`((?:\.{1,2}\/)?\w[\w./-]*\/)`/g)) named.add(path!);
	for (const path of named) {
		if (NOT_FILES.has(path) || GENERATED.test(relative(root, join(root, dir, path))) || GENERATED.test(path)) continue;
		if (!exists(path)) dead.push(`${path}: neither ${join(dir, path)} nor ${path} exists`);
	}
	return dead;
}

describe('documentation', () => {
	it('the check finds what is dead and passes what is not', () => {
		expect(markdown).toEqual(expect.arrayContaining(['README.md', 'playground/README.md']));
		const sample = [
			'Run `demo.js` or test/fault-server/server.js; see [the README](../README.md#charset) and `test/fault-server/`.',
			'Gone: SPEC.md, `missing.js`, [a link](nope.md), [a section](../README.md#no-such-section), `test/nowhere/`.',
			'Not files: Node.js, `decode.json`, `response.json()`, dist/index.js, https://example.com/a.js, /config.json.',
		].join('\n');
		expect(deadReferences('playground/README.md', sample).map((d) => d.split(/:|\)/)[0])).toEqual([
			'link (nope.md', 'link (../README.md#no-such-section', 'SPEC.md', 'missing.js', 'test/nowhere/',
		]);
		expect(slug('`surefetch/node`: a Node transport with a pool')).toBe('surefetchnode-a-node-transport-with-a-pool');
	});

	for (const file of markdown) {
		it(`${file}: every relative link and every path it names exists`, () => {
			expect(deadReferences(file)).toEqual([]);
		});
	}
});
