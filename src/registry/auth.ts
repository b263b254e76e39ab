import { RechunkerError } from '../errors.js';
import { parseChallenges, pickChallenge, type Challenge } from './challenge.js';
import type { RegistryCredentials } from './credentials.js';
import { discard, readBody, type HttpTransport, type HttpResponse } from './http.js';
import { isLoopback } from './docker-reference.js';
import { backoffDelay, isRetryableError, isRetryableStatus, parseRetryAfter, wait, type RetryPolicy } from './retry.js';
import { byteOrder } from '../util/byte-order.js';

/**
 * Challenge-driven registry auth, as the distribution spec's token flow describes it:
 * the registry answers 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; we ask the
 * realm for a token for the scopes the request needs (with Basic credentials when we have them,
 * anonymously otherwise), cache it by scope set until `expires_in` runs out, and send it as
 * `Authorization: Bearer`. A `Basic` challenge gets the credentials themselves.
 *
 * Callers attach the header only to requests for the registry's own origin; the HTTP layer drops
 * it on any redirect that leaves it.
 */
export interface AuthOptions {
  /** `host[:port]` for messages. */
  registry: string;
  transport: HttpTransport;
  credentials: (repository: string | undefined) => Promise<RegistryCredentials | undefined>;
  tlsVerify: boolean;
  retry: RetryPolicy;
  /** Clock (ms), for tests of token expiry. */
  now?: () => number;
}

interface CachedToken {
  who: string;
  atoms: Set<string>;
  token: string;
  expiresAt: number;
}

/** Tokens shorter-lived than this are treated as living this long (as docker and containers/image do). */
const MIN_TOKEN_LIFETIME_S = 60;
const MAX_TOKEN_RESPONSE = 1024 * 1024;

/** `repository:a/b:pull,push` -> [`repository:a/b:pull`, `repository:a/b:push`]. */
export function scopeAtoms(scope: string): string[] {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return [scope];
  const resource = scope.slice(0, last);
  return scope
    .slice(last + 1)
    .split(',')
    .filter(Boolean)
    .map((a) => `${resource}:${a}`);
}

/** Merge scopes per resource: [`repository:a:pull`, `repository:a:push`] -> [`repository:a:pull,push`]. */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    for (const part of scope.split(' ').filter(Boolean)) {
      for (const atom of scopeAtoms(part)) {
        const i = atom.lastIndexOf(':');
        const resource = i > atom.indexOf(':') ? atom.slice(0, i) : atom;
        const action = i > atom.indexOf(':') ? atom.slice(i + 1) : '';
        const set = byResource.get(resource) ?? new Set<string>();
        if (action) set.add(action);
        byResource.set(resource, set);
      }
    }
  }
  return [...byResource.entries()]
    .sort(([a], [b]) => byteOrder(a, b))
    .map(([r, acts]) => (acts.size ? `${r}:${[...acts].sort().join(',')}` : r));
}

function who(creds: RegistryCredentials | undefined): string {
  if (!creds) return 'anonymous';
  return creds.identityToken !== undefined ? `token:${creds.username ?? ''}` : `user:${creds.username ?? ''}`;
}

export class AuthManager {
  private challenge?: Challenge;
  private tokens: CachedToken[] = [];
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  private readonly now: () => number;
  /** Tokens fetched from the realm so far (for tests and diagnostics). */
  tokenFetches = 0;

  constructor(private readonly opts: AuthOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Record the challenge of a 401 answer (from the /v2/ ping or any request). */
  setChallenge(header: string | string[] | undefined): Challenge | undefined {
    const c = pickChallenge(parseChallenges(header));
    if (c) this.challenge = c;
    return c;
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** The Authorization header for a request needing `scopes`, or undefined (anonymous). */
  async authorization(scopes: string[], repository: string | undefined): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    const creds = await this.opts.credentials(repository);
    if (c.scheme === 'basic') {
      if (!creds || creds.username === undefined || creds.password === undefined) return undefined;
      return 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    }
    const merged = mergeScopes(scopes);
    const atoms = new Set(merged.flatMap(scopeAtoms));
    const id = who(creds);
    const now = this.now();
    const cached = this.tokens.find(
      (t) => t.who === id && t.expiresAt > now && [...atoms].every((a) => t.atoms.has(a)),
    );
    if (cached) return `Bearer ${cached.token}`;
    const key = `${id}\n${merged.join(' ')}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(c, merged, creds, id).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const t = await pending;
    return `Bearer ${t.token}`;
  }

  /**
   * A request was refused with 401: take the new challenge, forget tokens for these scopes
   * (expired or revoked early), and return the scopes the challenge asks for on top of ours.
   */
  onUnauthorized(header: string | string[] | undefined, scopes: string[]): string[] {
    const c = this.setChallenge(header);
    const atoms = new Set(mergeScopes(scopes).flatMap(scopeAtoms));
    this.tokens = this.tokens.filter((t) => ![...atoms].every((a) => t.atoms.has(a)));
    return c?.params.scope ? c.params.scope.split(' ').filter(Boolean) : [];
  }

  private async fetchToken(
    c: Challenge,
    scopes: string[],
    creds: RegistryCredentials | undefined,
    id: string,
  ): Promise<CachedToken> {
    const realmText = c.params.realm;
    // Callers prefix these messages with the request they were for (registry, repository, blob).
    const where = 'token auth';
    if (!realmText) throw new RechunkerError('AUTH', `${where}: Bearer challenge without a realm`);
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new RechunkerError('AUTH', `${where}: Bearer realm "${realmText.slice(0, 200)}" is not a URL`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:')
      throw new RechunkerError('AUTH', `${where}: Bearer realm ${realm.origin} is not http(s)`);
    if (realm.protocol === 'http:' && creds && this.opts.tlsVerify && !isLoopback(realm.host)) {
      throw new RechunkerError(
        'AUTH',
        `${where}: refusing to send credentials to the plain-http token realm ${realm.origin} (use --tls-verify=false to allow)`,
      );
    }
    const service = c.params.service;
    let method = 'GET';
    let body: Buffer | undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (creds?.identityToken !== undefined) {
      // OAuth2 refresh-token grant, as docker and containers/image do with an identity token.
      method = 'POST';
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        client_id: 'rechunker',
      });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service) realm.searchParams.set('service', service);
      for (const s of scopes) realm.searchParams.append('scope', s);
      if (creds?.username !== undefined && creds.password !== undefined) {
        realm.searchParams.set('account', creds.username);
        headers.authorization = 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
      }
    }
    const what = `token from ${realm.origin}${realm.pathname}`;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.opts.transport.request({ method, url: realm, headers, ...(body ? { body } : {}) });
      } catch (err) {
        if (attempt < this.opts.retry.attempts && isRetryableError(err)) {
          await wait(backoffDelay(attempt, this.opts.retry));
          continue;
        }
        throw new RechunkerError('NETWORK', `${what}: ${(err as Error).message}`, { cause: err });
      }
      if (isRetryableStatus(res.status) && attempt < this.opts.retry.attempts) {
        discard(res.body);
        await wait(backoffDelay(attempt, this.opts.retry, parseRetryAfter(res.headers['retry-after'])));
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        discard(res.body);
        const as = creds ? 'the credentials were refused' : 'anonymous access was refused (give --creds or --authfile)';
        throw new RechunkerError('AUTH', `${what}: ${as} (HTTP ${res.status})`);
      }
      if (res.status !== 200) {
        discard(res.body);
        throw new RechunkerError('AUTH', `${what}: HTTP ${res.status} ${res.statusText}`.trim());
      }
      let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
      try {
        parsed = JSON.parse((await readBody(res.body, MAX_TOKEN_RESPONSE)).toString('utf8')) as typeof parsed;
      } catch (err) {
        throw new RechunkerError(
          'AUTH',
          `${what}: the answer is not a JSON token response (${(err as Error).message})`,
        );
      }
      const token =
        typeof parsed.token === 'string' && parsed.token
          ? parsed.token
          : typeof parsed.access_token === 'string'
            ? parsed.access_token
            : '';
      if (!token) throw new RechunkerError('AUTH', `${what}: the answer has neither "token" nor "access_token"`);
      const lifetime = Math.max(
        MIN_TOKEN_LIFETIME_S,
        typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : MIN_TOKEN_LIFETIME_S,
      );
      this.tokenFetches++;
      // Renew a little early so a token does not expire between our check and the registry's.
      const entry: CachedToken = {
        who: id,
        atoms: new Set(scopes.flatMap(scopeAtoms)),
        token,
        expiresAt: this.now() + lifetime * 1000 * 0.9,
      };
      this.tokens = this.tokens.filter((t) => t.expiresAt > this.now());
      this.tokens.push(entry);
      return entry;
    }
  }
}
