// Readers: bytes -> charset -> text -> JSON (-> schema). The bytes were usually read inside the
// attempt; a reader that comes late (after the response arrived) reads the watched body here.
// ky's `parseJson` is used by `.json()` and for HttpError.body, as in ky.

import {BodyTooLarge, readWhole} from './body.js';
import {CharsetFailure, decodeBytes, isJsonMediaType, parseContentType, resolveCharset, snippetOf, type ResolvedCharset} from './charset.js';
import type {SignalNode} from './deadlines.js';
import {DecodeError, isFetchError, type DecodeReason, type FailureContext, type FetchFailure} from './errors.js';
import type {Config} from './options.js';
import {SurefetchResponse} from './response.js';

/** The Standard Schema interface (https://standardschema.dev), the part surefetch calls. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
	readonly '~standard': {
		readonly version: 1;
		readonly vendor: string;
		readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
		readonly types?: {readonly input: Input; readonly output: Output} | undefined;
	};
}

type StandardResult<Output> =
	| {readonly value: Output; readonly issues?: undefined}
	| {readonly issues: ReadonlyArray<{readonly message: string; readonly path?: ReadonlyArray<unknown>}>};

export type InferOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

export type ParseJson = (text: string, context: {request: Request; response: Response}) => unknown;

export type ReaderKind = 'json' | 'text' | 'bytes' | 'arrayBuffer' | 'blob';

/** What a reader needs of its operation. */
export interface ReadContext {
	readonly node: SignalNode;
	readonly config: Config;
	readonly promise: Promise<Response>;
	readonly method: string;
	readonly response: Response | undefined;
	readonly lastRequest: Request | undefined;
	readBytes: {response: Response; bytes: Uint8Array} | undefined;
	parseJson: ParseJson | undefined;
	context(cause?: unknown): FailureContext;
	classify(error: unknown, phase: 'body'): unknown;
	reportFailure(failure: FetchFailure): void;
	settle(): void;
	end(error?: unknown): void;
}

/** The bytes a reader already has: read inside the attempt (the common case), or by an earlier reader. */
function bytesAtHand(op: ReadContext, response: Response): Uint8Array | undefined {
	return response instanceof SurefetchResponse && response.bodyBytes ? response.bodyBytes : op.readBytes?.response === response ? op.readBytes.bytes : undefined;
}

/** A body nobody read yet (the reader came late, or a hook made the Response). */
async function readLate(op: ReadContext, response: Response): Promise<Uint8Array> {
	const ours = response instanceof SurefetchResponse ? response : undefined;
	try {
		const bytes = await readWhole(response, op.config.maxBodyBytes, op.node);
		if (ours) ours.bodyBytes = bytes;
		else op.readBytes = {response, bytes};
		return bytes;
	} catch (error) {
		if (error instanceof BodyTooLarge) throw tooLarge(op, error, response.headers.get('content-type') ?? undefined);
		throw isFetchError(error) ? error : op.classify(error, 'body');
	} finally {
		// A body we did not watch (a hook's own Response) ends the operation here.
		if (!ours?.open) op.settle();
	}
}

/** maxBodyBytes was passed: the body was cancelled, the reader gets this. */
export function tooLarge(op: {context(): FailureContext}, error: BodyTooLarge, contentType: string | undefined): DecodeError {
	const detail = error.declared ? `Content-Length ${error.seen} > ${error.limit}` : `more than ${error.limit} bytes`;
	return new DecodeError({...op.context(), reason: 'too-large', contentType, detail});
}

function charsetOf(op: ReadContext, contentType: string | undefined, bytes: Uint8Array): ResolvedCharset {
	return resolveCharset(bytes, parseContentType(contentType).charset, op.config.decode.encoding);
}

type DecodeFields = {charset?: string | undefined; contentType: string | undefined; snippet?: string; detail?: string | undefined; issues?: readonly unknown[]};

function failDecode(op: ReadContext, reason: DecodeReason, fields: DecodeFields, cause?: unknown): never {
	throw new DecodeError({...op.context(cause), reason, ...fields});
}

function decodeOrFail(op: ReadContext, bytes: Uint8Array, charset: ResolvedCharset, contentType: string | undefined, fatal: boolean): string {
	const text = decodeBytes(bytes, charset, fatal);
	if (!(text instanceof CharsetFailure)) return text;
	const unknown = text.reason === 'unknown-label';
	return failDecode(op, 'charset', {
		charset: text.label,
		contentType,
		snippet: snippetOf(bytes, unknown ? undefined : charset),
		detail: unknown ? `unknown charset "${text.label}" (this runtime's TextDecoder does not know it)` : `the bytes are not valid ${text.label}`,
	});
}

/** One reader call. */
export async function read(op: ReadContext, kind: ReaderKind, schema?: StandardSchemaV1): Promise<unknown> {
	try {
		const response = await op.promise;
		const bytes = bytesAtHand(op, response) ?? await readLate(op, response);
		let value: unknown = bytes;
		if (kind === 'arrayBuffer') {
			value = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
		} else if (kind === 'blob') {
			value = new Blob([bytes as Uint8Array<ArrayBuffer>], {type: response.headers.get('content-type') ?? ''});
		} else if (kind === 'text') {
			const contentType = response.headers.get('content-type') ?? undefined;
			value = decodeOrFail(op, bytes, charsetOf(op, contentType, bytes), contentType, op.config.decode.fatal ?? false);
		} else if (kind === 'json') {
			value = await parseJson(op, response, bytes);
			if (schema !== undefined) value = await validate(op, schema, value, response, bytes);
		}
		op.end();
		return value;
	} catch (error) {
		if (isFetchError(error)) op.reportFailure(error);
		else op.end(error);
		throw error;
	}
}

async function parseJson(op: ReadContext, response: Response, bytes: Uint8Array): Promise<unknown> {
	const contentType = response.headers.get('content-type') ?? undefined;
	// No content by definition: nothing to parse and no media type to check, even when strict.
	if (bytes.byteLength === 0 && (response.status === 204 || response.status === 205 || op.method === 'HEAD')) return undefined;
	const charset = charsetOf(op, contentType, bytes);
	if (op.config.decode.json === 'strict' && !isJsonMediaType(parseContentType(contentType).essence)) {
		failDecode(op, 'content-type', {contentType: contentType ?? '', charset: charset.label, snippet: snippetOf(bytes, charset), detail: 'decode.json is strict and the media type is not JSON'});
	}
	if (bytes.byteLength === 0) failDecode(op, 'json', {contentType, charset: charset.label, snippet: '', detail: 'the body is empty'});
	const text = decodeOrFail(op, bytes, charset, contentType, op.config.decode.fatal ?? true);
	const custom = op.parseJson;
	try {
		// ky's parseJson (it may be async) sees the text; what it refuses is not JSON either.
		return custom ? await custom(text, {request: op.lastRequest!, response}) : JSON.parse(text);
	} catch (error) {
		return failDecode(op, 'json', {contentType, charset: charset.label, snippet: text.slice(0, 200), detail: error instanceof Error ? error.message : undefined}, error);
	}
}

async function validate(op: ReadContext, schema: StandardSchemaV1, value: unknown, response: Response, bytes: Uint8Array): Promise<unknown> {
	const result = await schema['~standard'].validate(value);
	if (!result.issues) return result.value;
	const contentType = response.headers.get('content-type') ?? undefined;
	const charset = charsetOf(op, contentType, bytes);
	const first = result.issues[0];
	const path = first?.path?.map((p) => String(typeof p === 'object' && p !== null && 'key' in p ? (p as {key: unknown}).key : p)).join('.');
	return failDecode(op, 'schema', {contentType, charset: charset.label, snippet: snippetOf(bytes, charset), issues: result.issues, detail: first && `${first.message}${path ? ` at ${path}` : ''}`});
}

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
	const standard = (value as {'~standard'?: {validate?: unknown}} | null | undefined)?.['~standard'];
	return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof standard?.validate === 'function';
}

/** HttpError.body: lenient text in the server's charset, parsed (with ky's parseJson when given) when the media type is JSON; undefined when empty or unparsable. */
export async function decodeErrorBody(op: {config: Config; parseJson: ParseJson | undefined; lastRequest: Request | undefined}, bytes: Uint8Array, response: Response): Promise<unknown> {
	if (bytes.byteLength === 0) return undefined;
	const {essence, charset} = parseContentType(response.headers.get('content-type'));
	const decoded = decodeBytes(bytes, resolveCharset(bytes, charset, op.config.decode.encoding), false);
	const text = decoded instanceof CharsetFailure ? decodeBytes(bytes, {label: 'utf-8', skip: 0}, false) as string : decoded;
	if (!isJsonMediaType(essence)) return text;
	try {
		return op.parseJson ? await op.parseJson(text, {request: op.lastRequest!, response}) : JSON.parse(text);
	} catch {
		return text;
	}
}
