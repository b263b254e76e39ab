import { Flags } from '@oclif/core';
import { RechunkerError } from '../errors.js';
import { hostPlatform, parsePlatform } from '../oci/platform.js';
import { PACKERS } from '../plan/plan-types.js';
import { DEFAULT_PARENT_DIR_MODE, PARENT_DIR_MODES } from '../parents/index.js';

/** The flags commands share, defined once and spelled as podman, skopeo and chunkah spell them. */

/** Bounds of --max-layers: a layer for files and one for directories; containers/storage's limit. */
export const MIN_LAYERS = 2;
export const MAX_LAYERS = 500;

export const platformFlag = Flags.string({
  description: "platform to pick from a multi-platform image, os/arch[/variant] (default: this machine's)",
  helpValue: 'os/arch[/variant]',
});

export function platformOf(value: string | undefined) {
  return value ? parsePlatform(value) : hostPlatform();
}

/** Registry access, spelled as skopeo spells it. */
export const transportFlags = {
  creds: Flags.string({
    description: 'registry credentials USER:PASSWORD (default: auth files, as podman)',
    helpValue: 'USER:PASS',
  }),
  authfile: Flags.string({
    description: "path of an auth.json (default: $REGISTRY_AUTH_FILE, then containers' and docker's usual files)",
    env: 'REGISTRY_AUTH_FILE',
  }),
  'tls-verify': Flags.boolean({
    description: 'require https with a verified certificate (--tls-verify=false allows http and self-signed)',
    default: true,
    allowNo: true,
  }),
};

/** Boolean flags that skopeo and podman users also spell with a value (`--tls-verify=false`). */
const GO_BOOLEAN_FLAGS = ['tls-verify'];

/**
 * Go's flag package takes `--name=VALUE` for a boolean, with any value strconv.ParseBool takes;
 * oclif's booleans take `--name` / `--no-name`. Translate the spelling users already type.
 */
export function rewriteGoBooleans(argv: readonly string[]): string[] {
  const names = GO_BOOLEAN_FLAGS.join('|');
  const re = new RegExp(`^--(${names})=(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$`);
  return argv.map((a) => {
    const m = re.exec(a);
    if (!m) return a;
    return /^(1|t|true)$/i.test(m[2]!) ? `--${m[1]}` : `--no-${m[1]}`;
  });
}

export function transportOptions(
  flags: { creds?: string; authfile?: string; 'tls-verify': boolean },
  jobs?: number,
) {
  // Checked before any work: without a password the first registry request would fail minutes in.
  if (flags.creds !== undefined && flags.creds.indexOf(':') <= 0) {
    throw new RechunkerError('USAGE', '--creds takes USER:PASSWORD (no password was given)');
  }
  return {
    ...(flags.creds !== undefined ? { creds: flags.creds } : {}),
    ...(flags.authfile !== undefined ? { authfile: flags.authfile } : {}),
    tlsVerify: flags['tls-verify'],
    ...(jobs !== undefined ? { jobs } : {}),
  };
}

/** What `rechunk` and `plan` both take: how to pack, and which build guides the packing. */
export const planningFlags = {
  'max-layers': Flags.integer({
    description: 'most layers the output may have, the directory layer included',
    default: 64,
    min: MIN_LAYERS,
    max: MAX_LAYERS,
  }),
  prior: Flags.string({
    description: 'previous rechunked build (any reference) whose plan guides this one',
    helpValue: 'REF',
  }),
  'parent-dirs': Flags.option({
    description:
      'where directory entries go: top-layer (one last layer), every-layer (each layer carries its parents), ' +
      'delegate (each once; needs dirmeta_delegate)',
    options: PARENT_DIR_MODES,
    default: DEFAULT_PARENT_DIR_MODE,
  })(),
  'work-dir': Flags.string({ description: "directory for temporary file contents (about the image's uncompressed size)" }),
  packer: Flags.option({ description: 'packing algorithm (for benchmarks)', options: PACKERS, default: 'rechunker', hidden: true })(),
};
