export { signedPackCopy } from './signed-copy.js';
