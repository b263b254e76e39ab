/** The registry transport: what the rest of rechunker (commands, ref/open) imports. */
export { RegistryClient, DEFAULT_MANIFEST_ACCEPT, type RegistryClientOptions, type FetchedManifest } from './client.js';
export { MAX_MANIFEST_BYTES } from '../oci/resolve.js';
export { RegistrySource, type RegistryOptions } from './registry-source.js';
export { RegistrySink, type RegistrySinkOptions, type PushStats } from './registry-sink.js';
export {
  parseDockerReference,
  formatDockerReference,
  manifestReference,
  isLoopback,
  type DockerReference,
} from './docker-reference.js';
export { lookupCredentials, parseCredsFlag, type RegistryCredentials, type CredentialOptions } from './credentials.js';
export type { RetryOptions } from './retry.js';
