// A small stand-in for 'vitest' where vitest itself cannot run (Bun, Deno, workerd, a Firefox page
// driven over WebDriver BiDi). The contract test files are bundled by esbuild with 'vitest' pointing
// here: describe/it/test, the hooks, inject() and vi.fn/vi.spyOn, and `expect` from @vitest/expect
// (Jest's matchers as a chai plugin, the same code vitest's own expect is made of). Each bundle holds
// its own copy, so each test file collects its own tests; `__run()` (exported by every bundle, see
// bundle.mjs) runs them one at a time, each under a time limit, and returns the file's results in
// the shape of an entry of vitest's JSON report.
//
// What vitest does that this does not: concurrency, snapshots, expect.poll, fake timers, mocking of
// modules. A contract test that reaches for one of those fails here loudly (nothing is skipped).

import {
	ASYMMETRIC_MATCHERS_OBJECT, chai, ChaiStyleAssertions, customMatchers, getState, GLOBAL_EXPECT,
	JestAsymmetricMatchers, JestChaiExpect, JestExtend, setState,
} from '@vitest/expect';
import {clearAllMocks, fn, resetAllMocks, restoreAllMocks, spyOn} from '@vitest/spy';
import {printDiffOrStringify} from '@vitest/utils/diff';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

type Hook = () => unknown;
type TestFn = (context: TestContext) => unknown;
interface TestOptions {timeout?: number}
interface Test {kind: 'test'; name: string; fn?: TestFn; timeout?: number; mode: 'run' | 'skip' | 'todo'; suite: Suite}
interface Suite {
	kind: 'suite'; name: string; parent?: Suite; children: Array<Test | Suite>; mode: 'run' | 'skip';
	beforeAll: Hook[]; afterAll: Hook[]; beforeEach: Hook[]; afterEach: Hook[];
}
interface TestContext {
	expect: typeof expect;
	task: {name: string};
	skip(note?: string): never;
	onTestFinished(fn: Hook): void;
	signal: AbortSignal;
}

/** One entry of vitest's JSON report (`testResults[i].assertionResults[j]`). */
export interface AssertionResult {
	ancestorTitles: string[];
	title: string;
	fullName: string;
	status: 'passed' | 'failed' | 'skipped' | 'todo';
	duration: number;
	failureMessages: string[];
	meta: Record<string, never>;
}
/** One entry of vitest's JSON report (`testResults[i]`). */
export interface FileResult {
	name: string;
	status: 'passed' | 'failed';
	message: string;
	startTime: number;
	endTime: number;
	assertionResults: AssertionResult[];
	/** Data a test left for the driver on `globalThis.__surefetchArtifacts` (the probe's rows). */
	artifacts?: Record<string, unknown>;
}
export interface RunOptions {
	/** The file's name in the report (a repository path). */
	file: string;
	/** Per test and per hook, ms (vitest's testTimeout; a test's own third argument wins). */
	testTimeout?: number;
	/** Only tests whose full name contains this. */
	grep?: string;
	/** Called after each test (progress output). */
	onResult?: (result: AssertionResult) => void;
}

const root: Suite = newSuite('', undefined, 'run');
let current = root;
let collecting = true;

function newSuite(name: string, parent: Suite | undefined, mode: Suite['mode']): Suite {
	return {kind: 'suite', name, parent, children: [], mode, beforeAll: [], afterAll: [], beforeEach: [], afterEach: []};
}

function addSuite(name: string, body: () => unknown, mode: Suite['mode']) {
	if (!collecting) throw new Error(`describe('${name}') called while tests run`);
	const suite = newSuite(String(name), current, current.mode === 'skip' ? 'skip' : mode);
	current.children.push(suite);
	const parent = current;
	current = suite;
	try {
		const result = body();
		if (result && typeof (result as Promise<unknown>).then === 'function') throw new Error(`describe('${name}'): an async describe body is not supported here`);
	} finally {
		current = parent;
	}
}

function addTest(name: string, a?: TestFn | TestOptions | number, b?: TestFn | TestOptions | number, mode: Test['mode'] = 'run') {
	if (!collecting) throw new Error(`it('${name}') called while tests run`);
	const fnArg = [a, b].find((x): x is TestFn => typeof x === 'function');
	const timeoutArg = [a, b].find((x) => typeof x === 'number') as number | undefined;
	const optionsArg = [a, b].find((x): x is TestOptions => typeof x === 'object' && x !== null);
	if (mode === 'run' && !fnArg) mode = 'todo';
	current.children.push({kind: 'test', name: String(name), fn: fnArg, timeout: timeoutArg ?? optionsArg?.timeout, mode: current.mode === 'skip' && mode === 'run' ? 'skip' : mode, suite: current});
}

const unsupported = (what: string) => () => {
	throw new Error(`${what} is not supported by the runtime harness (test/runtimes/harness.ts)`);
};

type ItFn = ((name: string, a?: TestFn | TestOptions | number, b?: TestFn | TestOptions | number) => void) & {
	skip: (name: string, a?: unknown, b?: unknown) => void;
	todo: (name: string) => void;
	only: () => never;
	each: () => never;
	concurrent: () => never;
	skipIf: (condition: unknown) => (name: string, a?: TestFn | TestOptions | number, b?: TestFn | TestOptions | number) => void;
	runIf: (condition: unknown) => (name: string, a?: TestFn | TestOptions | number, b?: TestFn | TestOptions | number) => void;
};

export const it: ItFn = Object.assign((name: string, a?: TestFn | TestOptions | number, b?: TestFn | TestOptions | number) => addTest(name, a, b), {
	skip: (name: string) => addTest(name, undefined, undefined, 'skip'),
	todo: (name: string) => addTest(name, undefined, undefined, 'todo'),
	only: unsupported('it.only'),
	each: unsupported('it.each'),
	concurrent: unsupported('it.concurrent'),
	skipIf: (condition: unknown) => (name: string, a?: TestFn | TestOptions | number, b?: TestFn | TestOptions | number) => addTest(name, a, b, condition ? 'skip' : 'run'),
	runIf: (condition: unknown) => (name: string, a?: TestFn | TestOptions | number, b?: TestFn | TestOptions | number) => addTest(name, a, b, condition ? 'run' : 'skip'),
});
export const test = it;
export const describe = Object.assign((name: string, body: () => unknown) => addSuite(name, body, 'run'), {
	skip: (name: string, body: () => unknown) => addSuite(name, body, 'skip'),
	only: unsupported('describe.only'),
	each: unsupported('describe.each'),
	concurrent: unsupported('describe.concurrent'),
});
export const suite = describe;
export const beforeAll = (hook: Hook) => void current.beforeAll.push(hook);
export const afterAll = (hook: Hook) => void current.afterAll.push(hook);
export const beforeEach = (hook: Hook) => void current.beforeEach.push(hook);
export const afterEach = (hook: Hook) => void current.afterEach.push(hook);

/** What the driver provides, as vitest's `project.provide()` does (set on globalThis before the bundles load). */
export function inject(key: string): any {
	const provided = (globalThis as {__surefetchProvide?: Record<string, unknown>}).__surefetchProvide;
	if (!provided || !(key in provided)) throw new Error(`inject('${key}'): nothing provided under that key (the driver sets globalThis.__surefetchProvide)`);
	return provided[key];
}

export const vi = {
	fn, spyOn, restoreAllMocks, clearAllMocks, resetAllMocks,
	useFakeTimers: unsupported('vi.useFakeTimers'),
	mock: unsupported('vi.mock'),
};

// The expect of vitest, without its runner: a fresh assertion state per test.
interface RunningTest {promises?: Array<Promise<unknown>>}
let running: RunningTest | undefined;
function createExpect() {
	const expect = ((value: unknown, message?: string) => {
		const {assertionCalls} = getState(expect);
		setState({assertionCalls: assertionCalls + 1}, expect);
		const assertion = chai.expect(value, message) as Chai.Assertion & {withTest?: (test: unknown) => Chai.Assertion};
		return running && assertion.withTest ? assertion.withTest(running) : assertion;
	}) as any;
	Object.assign(expect, chai.expect);
	Object.assign(expect, (globalThis as any)[ASYMMETRIC_MATCHERS_OBJECT]);
	expect.getState = () => getState(expect);
	expect.setState = (state: object) => setState(state, expect);
	setState({assertionCalls: 0, isExpectingAssertions: false, isExpectingAssertionsError: null, expectedAssertionsNumber: null, expectedAssertionsNumberErrorGen: null}, expect);
	expect.extend = (matchers: object) => (chai.expect as any).extend(expect, matchers);
	expect.soft = unsupported('expect.soft');
	expect.poll = unsupported('expect.poll');
	expect.unreachable = (message?: string) => chai.assert.fail(`expected${message ? ` "${message}" ` : ' '}not to be reached`);
	expect.assertions = (expected: number) => expect.setState({expectedAssertionsNumber: expected, expectedAssertionsNumberErrorGen: () => new Error(`expected number of assertions to be ${expected}, but got ${expect.getState().assertionCalls}`)});
	expect.hasAssertions = () => expect.setState({isExpectingAssertions: true, isExpectingAssertionsError: new Error('expected any number of assertion, but got none')});
	expect.extend(customMatchers);
	return expect;
}
export const expect: any = createExpect();
Object.defineProperty(globalThis, GLOBAL_EXPECT, {value: expect, writable: true, configurable: true});

class SkipSignal extends Error {}

/** Rejects after `ms` unless the work settles first; the timer is cleared either way. */
async function limited<T>(work: () => T | Promise<T>, ms: number, what: string): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		return await Promise.race([
			Promise.resolve().then(work),
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error(`${what} timed out in ${ms}ms`)), ms);
			}),
		]);
	} finally {
		clearTimeout(timer);
	}
}

function describeError(error: unknown): string {
	if (!(error instanceof Error)) return `thrown: ${safeString(error)}`;
	let text = `${error.name}: ${error.message}`;
	const {expected, actual, showDiff} = error as {expected?: unknown; actual?: unknown; showDiff?: boolean};
	if (showDiff !== false && ('expected' in error || 'actual' in error)) {
		try {
			const diff = printDiffOrStringify(actual, expected);
			if (diff) text += `\n${diff}`;
		} catch {
			// a value the differ cannot print: the message says enough
		}
	}
	if (error.stack) text += `\n${error.stack.split('\n').filter((line) => /^\s+at |@/.test(line)).slice(0, 8).join('\n')}`;
	if (error.cause !== undefined) text += `\ncause: ${error.cause instanceof Error ? `${error.cause.name}: ${error.cause.message}` : safeString(error.cause)}`;
	return text.replace(/\x1b\[[0-9;]*m/g, ''); // the differ's colours
}

function safeString(value: unknown): string {
	try {
		return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
	} catch {
		return String(value);
	}
}

// Errors nobody awaited fail the file, as in vitest (a raw runtime error escaping surefetch would
// show up here). Listeners are added while a file runs and removed after.
function watchUnhandled(record: (error: unknown) => void): () => void {
	const g = globalThis as any;
	const onEvent = (event: any) => {
		event.preventDefault?.();
		record(event.reason ?? event.error);
	};
	const onProcess = (reason: unknown) => record(reason);
	const hasProcessEvents = typeof g.process?.on === 'function' && !g.Deno;
	if (hasProcessEvents) g.process.on('unhandledRejection', onProcess);
	else if (typeof g.addEventListener === 'function') g.addEventListener('unhandledrejection', onEvent);
	return () => {
		if (hasProcessEvents) g.process.off('unhandledRejection', onProcess);
		else if (typeof g.removeEventListener === 'function') g.removeEventListener('unhandledrejection', onEvent);
	};
}

const titles = (suite: Suite): string[] => (suite.parent ? [...titles(suite.parent), suite.name] : []);

/** Runs every collected test of this file, one at a time. */
export async function run(options: RunOptions): Promise<FileResult> {
	collecting = false;
	const startTime = Date.now();
	const timeout = options.testTimeout ?? 30_000;
	const results: AssertionResult[] = [];
	const unhandled: unknown[] = [];
	const stopWatching = watchUnhandled((error) => unhandled.push(error));
	const fileErrors: string[] = [];
	const selected = (t: Test) => !options.grep || [...titles(t.suite), t.name].join(' ').includes(options.grep);
	const hasSelected = (s: Suite): boolean => s.children.some((c) => (c.kind === 'test' ? selected(c) : hasSelected(c)));

	const report = (t: Test, status: AssertionResult['status'], duration: number, failureMessages: string[]) => {
		const ancestorTitles = titles(t.suite);
		const result: AssertionResult = {ancestorTitles, title: t.name, fullName: [...ancestorTitles, t.name].join(' '), status, duration: Math.round(duration), failureMessages, meta: {}};
		results.push(result);
		options.onResult?.(result);
	};
	const eachHooks = (suite: Suite | undefined, which: 'beforeEach' | 'afterEach'): Hook[] => {
		const chain: Suite[] = [];
		for (let s = suite; s; s = s.parent) chain.unshift(s);
		const hooks = chain.flatMap((s) => s[which]);
		return which === 'afterEach' ? hooks.reverse() : hooks;
	};

	async function runTest(t: Test, inherited: string | undefined) {
		if (t.mode !== 'run') return report(t, t.mode === 'todo' ? 'todo' : 'skipped', 0, []);
		if (inherited) return report(t, 'failed', 0, [inherited]);
		const started = performance.now();
		const failures: string[] = [];
		const finished: Hook[] = [];
		const controller = new AbortController();
		const state: RunningTest = {};
		const unhandledBefore = unhandled.length;
		setState({assertionCalls: 0, isExpectingAssertions: false, isExpectingAssertionsError: null, expectedAssertionsNumber: null, expectedAssertionsNumberErrorGen: null, currentTestName: t.name}, expect);
		let skipped = false;
		const context: TestContext = {
			expect,
			task: {name: t.name},
			skip: (note?: string) => {
				throw new SkipSignal(note ?? 'skipped');
			},
			onTestFinished: (hook) => void finished.push(hook),
			signal: controller.signal,
		};
		running = state;
		try {
			for (const hook of eachHooks(t.suite, 'beforeEach')) await limited(hook, timeout, 'beforeEach hook');
			await limited(async () => {
				await t.fn!(context);
				// Assertions on promises the test did not await: wait for them, as vitest's runner does.
				while (state.promises && state.promises.length > 0) await Promise.all(state.promises.splice(0));
			}, t.timeout ?? timeout, 'test');
			const {expectedAssertionsNumber, expectedAssertionsNumberErrorGen, isExpectingAssertions, isExpectingAssertionsError, assertionCalls} = getState(expect) as any;
			if (expectedAssertionsNumber !== null && expectedAssertionsNumber !== assertionCalls) throw expectedAssertionsNumberErrorGen();
			if (isExpectingAssertions && assertionCalls === 0) throw isExpectingAssertionsError;
		} catch (error) {
			if (error instanceof SkipSignal) skipped = true;
			else failures.push(describeError(error));
		} finally {
			running = undefined;
			controller.abort(new Error('the test has finished'));
		}
		for (const hook of [...finished.reverse(), ...eachHooks(t.suite, 'afterEach')]) {
			try {
				await limited(hook, timeout, 'afterEach hook');
			} catch (error) {
				failures.push(describeError(error));
			}
		}
		// An error nobody handled while this test ran belongs to it (vitest fails the run for it).
		await new Promise((resolve) => setTimeout(resolve, 0));
		for (const error of unhandled.splice(unhandledBefore)) failures.push(`Unhandled rejection during this test: ${describeError(error)}`);
		report(t, failures.length > 0 ? 'failed' : skipped ? 'skipped' : 'passed', performance.now() - started, failures);
	}

	async function runSuite(suite: Suite, inherited: string | undefined) {
		if (!hasSelected(suite)) return;
		let failure = inherited;
		const runs = suite.mode === 'run' && !inherited;
		if (runs) {
			for (const hook of suite.beforeAll) {
				try {
					await limited(hook, timeout, 'beforeAll hook');
				} catch (error) {
					failure = `beforeAll failed: ${describeError(error)}`;
					break;
				}
			}
		}
		for (const child of suite.children) {
			if (child.kind === 'suite') await runSuite(child, failure);
			else if (selected(child)) await runTest(child, failure);
		}
		if (runs) {
			for (const hook of suite.afterAll) {
				try {
					await limited(hook, timeout, 'afterAll hook');
				} catch (error) {
					fileErrors.push(`afterAll failed: ${describeError(error)}`);
				}
			}
		}
	}

	try {
		await runSuite(root, undefined);
		restoreAllMocks();
	} catch (error) {
		fileErrors.push(describeError(error));
	} finally {
		await new Promise((resolve) => setTimeout(resolve, 0));
		for (const error of unhandled.splice(0)) fileErrors.push(`Unhandled rejection after the tests: ${describeError(error)}`);
		stopWatching();
	}
	if (results.length === 0 && fileErrors.length === 0) fileErrors.push('no test was collected from this file');
	const failed = fileErrors.length > 0 || results.some((r) => r.status === 'failed');
	const artifacts = (globalThis as {__surefetchArtifacts?: Record<string, unknown>}).__surefetchArtifacts;
	return {name: options.file, status: failed ? 'failed' : 'passed', message: fileErrors.join('\n'), startTime, endTime: Date.now(), assertionResults: results, ...(artifacts ? {artifacts} : {})};
}
