import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { ConfigError } from './config-error';

/**
 * Where a `webhook_trigger` job may send its request. Webhooks run inside the worker, next to the
 * database, Temporal and any cloud metadata endpoint, so an admin-configured URL must not become a
 * way to reach them (SSRF).
 */
export interface OutboundPolicy {
  /**
   * Hostnames (`api.example.com`) or wildcard suffixes (`*.example.com`, which matches subdomains at
   * any depth but not `example.com` itself), compared case-insensitively. An EMPTY list means "any
   * public host": the address checks below still apply, so an installation that has not configured
   * a list can reach the internet but not its own network. List hosts to narrow that further.
   */
  allowedHosts: string[];
  /**
   * Permits private, loopback, link-local, unique-local and CGNAT addresses (webhooks to services
   * on the company network). Unspecified, multicast, broadcast and documentation addresses stay
   * refused even then: no HTTP server lives there, and `0.0.0.0` is an alias for this machine.
   */
  allowPrivateNetworks: boolean;
}

/** Lower case, no brackets around IPv6, no trailing dot, IDN in punycode: the form hosts are compared in. */
export function normalizeHostname(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  return isIP(bare) ? bare.toLowerCase() : domainToASCII(bare.toLowerCase());
}

const HOST_PATTERN = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?\.?$/;

/**
 * EDMS_WEBHOOK_ALLOWED_HOSTS (comma-separated hostnames or `*.suffix`, unset or empty = any public
 * host) and EDMS_WEBHOOK_ALLOW_PRIVATE (`true`/`1`; `false`/`0`/unset = no). Anything else is a
 * ConfigError at boot: a typo such as `https://api.example.com` or `yes` must not quietly change
 * what webhooks can reach.
 */
export function outboundPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): OutboundPolicy {
  const entries = (env.EDMS_WEBHOOK_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry.length > 0);
  const allowedHosts: string[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    const wildcard = entry.startsWith('*.');
    const host = normalizeHostname(wildcard ? entry.slice(2) : entry);
    if (isIP(host) ? wildcard : !HOST_PATTERN.test(host)) invalid.push(JSON.stringify(entry));
    else allowedHosts.push(wildcard ? `*.${host}` : host);
  }
  if (invalid.length > 0) {
    throw new ConfigError(
      `Invalid configuration: EDMS_WEBHOOK_ALLOWED_HOSTS must list hostnames or *.suffixes, without scheme, port or path (got ${invalid.join(', ')})`,
    );
  }
  const allowPrivate = (env.EDMS_WEBHOOK_ALLOW_PRIVATE ?? '').trim().toLowerCase();
  if (!['', 'true', '1', 'false', '0'].includes(allowPrivate)) {
    throw new ConfigError(
      `Invalid configuration: EDMS_WEBHOOK_ALLOW_PRIVATE must be true, 1, false or 0 (got ${JSON.stringify(env.EDMS_WEBHOOK_ALLOW_PRIVATE)})`,
    );
  }
  return {
    allowedHosts: [...new Set(allowedHosts)],
    allowPrivateNetworks: allowPrivate === 'true' || allowPrivate === '1',
  };
}
