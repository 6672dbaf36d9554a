export { ER, TesseraError, tesseraError } from './errors.js';
export type { ErrorCode } from './errors.js';
