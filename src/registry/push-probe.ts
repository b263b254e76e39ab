import type { RegistryClient } from './client.js';
import { discard } from './http.js';
import { responseError } from './response-error.js';

/**
 * Is `repo` on this registry ours to push to? Asked as skopeo's push would find out, but at no
 * cost: start a blob upload (POST /v2/REPO/blobs/uploads/, with push scope, so the registry checks
 * reachability, credentials and permission), then cancel it (DELETE on its Location). A failure
 * is the error the first blob of the real push would have met: AUTH, REGISTRY or NETWORK.
 */
export async function probePush(client: RegistryClient, repo: string): Promise<void> {
  client.declarePush(repo);
  const what = `${client.where(repo)}: push check`;
  const scopes = client.scopesFor(repo);
  const res = await client.conn.send({
    method: 'POST',
    target: `/v2/${repo}/blobs/uploads/`,
    repo,
    scopes,
    what,
    attempts: 1,
  });
  if (res.status !== 202) throw await responseError(res, what, 'cannot start a blob upload');
  discard(res.body);
  const loc = res.headers.location;
  if (!loc) return;
  // The cancel is a courtesy: a registry that refuses it expires the empty upload itself.
  try {
    const del = await client.conn.send({
      method: 'DELETE',
      target: new URL(loc, res.url),
      repo,
      scopes,
      what,
      attempts: 1,
    });
    discard(del.body);
  } catch {
    // see above
  }
}
