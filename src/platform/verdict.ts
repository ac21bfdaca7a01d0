// What a runtime's error table says an error is: a network failure with its code, a timeout of a
// phase (the runtime's own timer), or a request the runtime refuses outright.
import type {NetworkCode, TimeoutPhase} from '../errors.js';

export type Verdict = ['network', NetworkCode] | ['timeout', TimeoutPhase] | ['invalid'];
