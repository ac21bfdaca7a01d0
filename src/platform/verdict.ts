// What a runtime's error table says an error is: a network failure with its code, a timeout of a
// phase (the runtime's own timer; without a phase: the one the attempt was in), or a request the
// runtime refuses outright (for that reason: `url` when none is given).
import type {InvalidReason, NetworkCode, TimeoutPhase} from '../errors.js';

export type Verdict = ['network', NetworkCode] | ['timeout', TimeoutPhase?] | ['invalid', InvalidReason?];
