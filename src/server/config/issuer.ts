import { isIP } from 'node:net';

// Addresses that mean "every interface" or "this machine": a token's issuer then says localhost,
// the name a newcomer's browser and curl use.
const LOCAL_OR_WILDCARD =
  /^(0\.0\.0\.0|::|::1|127(\.\d{1,3}){3}|localhost|::ffff:127(\.\d{1,3}){3})$/i;

/**
 * The issuer a server uses when none is configured: `http://localhost:PORT`, or the host itself
 * when it is a specific address other than a loopback or wildcard one. With port 0, call it again
 * once the server listens, with the port it was given.
 *
 * @example
 * ```ts
 * defaultIssuer('0.0.0.0', 3000); // 'http://localhost:3000'
 * defaultIssuer('10.0.0.5', 8080); // 'http://10.0.0.5:8080'
 * ```
 */
export function defaultIssuer(host: string, port: number): string {
  if (LOCAL_OR_WILDCARD.test(host)) return `http://localhost:${port}`;
  return isIP(host) === 6 ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
