import type { PasswordHasher } from './passwords.js';

/**
 * Passwords as Unicode text. One password can be typed as different code points: "é" is U+00E9
 * on one keyboard and "e" then U+0301 on another, "Ａ" (full width) is "A" to the person typing
 * it. NIST SP 800-63B (5.1.1.2) asks a verifier to normalise memorized secrets before hashing,
 * so the accounts hash and verify the NFKC form, and the policy measures that form.
 *
 * @module
 */

/**
 * The form of a password that is hashed, verified and measured by the policy: its NFKC
 * normalisation. A lone surrogate is left as it is (the policy refuses it before this matters).
 *
 * @example
 * ```ts
 * normalizePassword('cafe\u0301'); // 'café' (U+00E9)
 * normalizePassword('\uff21\ufb01'); // 'Afi'
 * ```
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * The hasher the accounts use: `inner` given the NFKC form of every password, so registration,
 * login, a password change, an administrator's reset and the CLI all agree on what a password is.
 *
 * `verify` also accepts the password as typed when its NFKC form fails: a hash made before
 * passwords were normalised is of the typed text, and its user must still be able to sign in.
 * That second verify runs only when normalising changed the text, so an ASCII password (or any
 * already normal one) still costs one; and it never widens what a normalised hash accepts, since
 * a typed text that differs from its NFKC form is never itself an NFKC form. The old hash is not
 * rewritten at login (see accounts.ts): it is replaced by the next password change.
 *
 * @example
 * ```ts
 * const passwords = normalizingHasher(ARGON2_PASSWORDS);
 * await passwords.verify(await passwords.hash('caf\u00e9 au lait'), 'cafe\u0301 au lait'); // true
 * ```
 */
export function normalizingHasher(inner: PasswordHasher): PasswordHasher {
  return {
    hash: (password) => inner.hash(normalizePassword(password)),
    async verify(hash, password) {
      const normalized = normalizePassword(password);
      if (await inner.verify(hash, normalized)) return true;
      return normalized !== password && inner.verify(hash, password);
    },
  };
}
