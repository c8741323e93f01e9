// One interface for every channel (declared in core, where the worker reaches it): deliver a stored message, answer with an outcome instead of throwing.
export { codeOf, type Channel, type Outcome, type StoredMessage } from '../core/delivery.js';
