/** The registry transport: what the rest of rechunker (commands, ref/open) imports. */
export { RegistryClient, MAX_MANIFEST_BYTES, DEFAULT_MANIFEST_ACCEPT, type RegistryClientOptions, type FetchedManifest } from './client.js';
export { RegistrySource, type RegistryOptions } from './registry-source.js';
export { RegistrySink, type RegistrySinkOptions, type PushStats } from './registry-sink.js';
export { parseDockerReference, formatDockerReference, manifestReference, isLoopback, type DockerReference } from './reference.js';
export { lookupCredentials, parseCredsFlag, type RegistryCredentials, type CredentialOptions } from './credentials.js';
export { createLimit, mapLimit, DEFAULT_JOBS, type Limit } from './limit.js';
export type { RetryOptions } from './retry.js';
export type { ProgressOptions } from './progress.js';
