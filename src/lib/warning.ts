/** The `type` of the warnings revocable emits with a code through `process.emitWarning`. */
export const REVOCABLE_WARNING = 'RevocableWarning';

/**
 * Emits a `RevocableWarning` with `code`. Programs filter warnings on their code, so codes are as
 * stable as error codes; each is documented where its cause is.
 */
export function emitRevocableWarning(code: string, message: string): void {
  process.emitWarning(message, { type: REVOCABLE_WARNING, code });
}
