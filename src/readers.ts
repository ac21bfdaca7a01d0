// Readers: bytes -> charset -> text -> JSON (-> schema). The bytes were usually read inside the
// attempt; when a reader comes late (after the response arrived) it reads the watched body here.

import {BodyTooLarge, readWhole} from './body.js';
import {CharsetFailure, decodeBytes, isJsonMediaType, parseContentType, resolveCharset, snippetOf, type ResolvedCharset} from './charset.js';
import {DecodeError, isFetchError} from './errors.js';
import type {Config} from './options.js';
import type {Operation, ReaderKind} from './operation.js';
import {SurefetchResponse} from './response.js';

/** The Standard Schema interface (https://standardschema.dev), the subset surefetch calls. */
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

/** Bytes a reader already has: read inside the attempt (the common case), or by an earlier reader. */
function bytesAtHand(op: Operation, response: Response): Uint8Array | undefined {
	if (response instanceof SurefetchResponse && response.bodyBytes) return response.bodyBytes;
	if (op.readBytes?.response === response) return op.readBytes.bytes;
	return undefined;
}

/** A body nobody read yet (the reader came late, or a hook made the Response). Settles the operation. */
async function readLate(op: Operation, response: Response): Promise<Uint8Array> {
	const ours = response instanceof SurefetchResponse ? response : undefined;
	const {maxBodyBytes} = op.config;
	try {
		const bytes = await readWhole(response, maxBodyBytes, undefined);
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
export function tooLarge(op: Operation, error: BodyTooLarge, contentType: string | undefined): DecodeError {
	const what = error.declared ? `Content-Length ${error.seen} > ${error.limit}` : `more than ${error.limit} bytes`;
	return new DecodeError({...op.context(), reason: 'too-large', contentType, detail: what});
}

function charsetOf(op: Operation, contentType: string | undefined, bytes: Uint8Array): ResolvedCharset {
	return resolveCharset(bytes, parseContentType(contentType).charset, op.config.decode.encoding);
}

function decodeOrFail(op: Operation, bytes: Uint8Array, charset: ResolvedCharset, contentType: string | undefined, fatal: boolean): string {
	const text = decodeBytes(bytes, charset, fatal);
	if (!(text instanceof CharsetFailure)) return text;
	const detail = text.reason === 'unknown-label'
		? `unknown charset "${text.label}" (this runtime's TextDecoder does not know it)`
		: `the bytes are not valid ${text.label}`;
	return failDecode(op, 'charset', {charset: text.label, contentType, snippet: snippetOf(bytes, text.reason === 'unknown-label' ? undefined : charset), detail});
}

function failDecode(op: Operation, reason: DecodeError['reason'], extra: {charset?: string | undefined; contentType: string | undefined; snippet?: string; detail?: string; issues?: readonly unknown[]}): never {
	throw new DecodeError({...op.context(), reason, ...extra});
}

/** One reader call. Sync work stays sync: the only awaits are the response and, rarely, a late body read. */
export async function read(op: Operation, kind: ReaderKind, schema?: StandardSchemaV1): Promise<unknown> {
	try {
		const response = await op.promise;
		const bytes = bytesAtHand(op, response) ?? await readLate(op, response);
		switch (kind) {
			case 'bytes':
				return bytes;
			case 'arrayBuffer':
				return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
					? bytes.buffer
					: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
			case 'blob':
				return new Blob([bytes as Uint8Array<ArrayBuffer>], {type: response.headers.get('content-type') ?? ''});
			case 'text': {
				const contentType = response.headers.get('content-type') ?? undefined;
				return decodeOrFail(op, bytes, charsetOf(op, contentType, bytes), contentType, op.config.decode.fatal ?? false);
			}
			case 'json': {
				const value = parseJson(op, response, bytes);
				return schema === undefined ? value : await validate(op, schema, value, response, bytes);
			}
		}
	} catch (error) {
		if (isFetchError(error)) op.reportFailure(error);
		throw error;
	}
}

function parseJson(op: Operation, response: Response, bytes: Uint8Array): unknown {
	const contentType = response.headers.get('content-type') ?? undefined;
	const charset = charsetOf(op, contentType, bytes);
	// No content by definition: nothing to parse and no media type to check, even in strict mode.
	if (bytes.byteLength === 0 && (response.status === 204 || response.status === 205 || op.method === 'HEAD')) return undefined;
	if (op.config.decode.json === 'strict' && !isJsonMediaType(parseContentType(contentType).essence)) {
		failDecode(op, 'content-type', {contentType: contentType ?? '', charset: charset.label, snippet: snippetOf(bytes, charset), detail: 'decode.json is strict and the media type is not JSON'});
	}
	if (bytes.byteLength === 0) failDecode(op, 'json', {contentType, charset: charset.label, snippet: '', detail: 'the body is empty'});
	const text = decodeOrFail(op, bytes, charset, contentType, op.config.decode.fatal ?? true);
	try {
		return JSON.parse(text);
	} catch (error) {
		const detail = error instanceof Error ? error.message : undefined;
		throw new DecodeError({...op.context(error), reason: 'json', contentType, charset: charset.label, snippet: text.slice(0, 200), detail});
	}
}

async function validate(op: Operation, schema: StandardSchemaV1, value: unknown, response: Response, bytes: Uint8Array): Promise<unknown> {
	const result = await schema['~standard'].validate(value);
	if (result.issues) {
		const contentType = response.headers.get('content-type') ?? undefined;
		const charset = charsetOf(op, contentType, bytes);
		const first = result.issues[0];
		const where = first?.path?.length ? ` at ${first.path.map((p) => typeof p === 'object' && p !== null && 'key' in p ? String((p as {key: unknown}).key) : String(p)).join('.')}` : '';
		failDecode(op, 'schema', {contentType, charset: charset.label, snippet: snippetOf(bytes, charset), issues: result.issues, detail: first ? `${first.message}${where}` : undefined});
	}
	return result.value;
}

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
	const standard = (value as {'~standard'?: {validate?: unknown}} | null | undefined)?.['~standard'];
	return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof standard?.validate === 'function';
}

/** HttpError.body: lenient text in the server's charset, parsed when the media type is JSON. */
export function decodeErrorBody(bytes: Uint8Array, headers: Headers, config: Config): unknown {
	if (bytes.byteLength === 0) return undefined;
	const {essence, charset} = parseContentType(headers.get('content-type'));
	const text = decodeBytes(bytes, resolveCharset(bytes, charset, config.decode.encoding), false);
	const lenient = text instanceof CharsetFailure ? decodeBytes(bytes, {label: 'utf-8', skip: 0, from: 'default'}, false) as string : text;
	if (isJsonMediaType(essence)) {
		try {
			return JSON.parse(lenient);
		} catch {}
	}
	return lenient;
}
