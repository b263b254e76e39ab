import { RechunkerError } from '../errors.js';

/**
 * Registry references, the part after `docker://`, normalised as docker/distribution's `reference`
 * package (and so containers/image) does:
 *   fedora                      -> docker.io/library/fedora:latest
 *   quay.io/fedora/fedora:40    -> quay.io/fedora/fedora:40
 *   localhost:5000/a/b@sha256:… -> localhost:5000/a/b@sha256:…
 *   index.docker.io/x/y         -> docker.io/x/y:latest
 */
export interface DockerReference {
  /** `host[:port]` as the user spelled it after normalisation: docker.io, quay.io, 127.0.0.1:5000, [::1]:5000. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/fedora`. */
  repository: string;
  /** A tag; `latest` when the reference had neither tag nor digest. */
  tag?: string;
  /** `sha256:<64 hex>`; when present it decides what is pulled. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's API is not served under its name. */
const DOCKER_HUB_API = 'registry-1.docker.io';
const DEFAULT_TAG = 'latest';
const MAX_NAME = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function bad(text: string, why: string): never {
  throw new RechunkerError('BAD_REFERENCE', `invalid image reference "docker://${text}": ${why}`);
}

/** Is this the first path component a registry host (as opposed to a Docker Hub namespace)? */
function looksLikeHost(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.startsWith('[') ||
    component !== component.toLowerCase()
  );
}

/** Parse a reference; a leading `docker://` is accepted and dropped. */
export function parseDockerReference(input: string): DockerReference {
  const text = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  if (text === '') bad(text, 'empty reference');
  if (/\s/.test(text)) bad(text, 'contains whitespace');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) bad(text, `invalid digest "${digest}" (expected sha256: and 64 lowercase hex digits)`);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/') && colon > rest.lastIndexOf(']')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      bad(text, `invalid tag "${tag}" (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')`);
  }

  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  if (slash < 0 || !looksLikeHost(rest.slice(0, slash))) {
    registry = DOCKER_HUB;
    repository = rest;
  } else {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!DOMAIN.test(registry)) bad(text, `invalid registry host "${registry}"`);
    const port = /:(\d+)$/.exec(registry)?.[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) bad(text, `invalid port ${port}`);
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;

  if (repository === '') bad(text, 'no repository');
  for (const part of repository.split('/')) {
    if (!PATH_COMPONENT.test(part)) {
      const hint = part !== part.toLowerCase() ? ' (repository names must be lowercase)' : '';
      bad(text, `invalid repository path component "${part}"${hint}`);
    }
  }
  if (registry.length + 1 + repository.length > MAX_NAME) bad(text, `name longer than ${MAX_NAME} characters`);

  const ref: DockerReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** `registry/repository[:tag][@digest]`, fully qualified. */
export function formatDockerReference(ref: DockerReference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** What to ask the registry for: the digest when there is one, else the tag. */
export function manifestReference(ref: DockerReference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** The host that serves the registry API for a registry name (Docker Hub's differs). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** Hostname without port or IPv6 brackets. */
export function hostnameOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** localhost, 127.0.0.0/8 and ::1: hosts where plain http is allowed, as Docker allows it. */
export function isLoopback(registry: string): boolean {
  const host = hostnameOf(registry).toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === '::1'
  );
}

export function isDigest(reference: string): boolean {
  return DIGEST.test(reference);
}
