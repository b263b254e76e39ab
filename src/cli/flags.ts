import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { RechunkerError } from '../errors.js';
import { hostPlatform, parsePlatform } from '../oci/platform.js';
import { PACKERS } from '../plan/plan-types.js';
import { DEFAULT_PARENT_DIR_MODE, PARENT_DIR_MODES } from '../parents/index.js';
import type { RegistryAccess, TransportOptions } from '../engine/registry-access.js';

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

/** Registry access, spelled as skopeo spells it; for both sides unless a side's own flag is given. */
export const transportFlags = {
  creds: Flags.string({
    description: 'registry credentials USER:PASSWORD (default: auth files, as podman)',
    helpValue: 'USER:PASS',
  }),
  authfile: Flags.string({
    description: "path of an auth.json (default: $REGISTRY_AUTH_FILE, then containers' and docker's usual files)",
    env: 'REGISTRY_AUTH_FILE',
    helpValue: 'FILE',
  }),
  'tls-verify': Flags.boolean({
    description:
      'require https with a verified certificate (--tls-verify=false allows http and self-signed; loopback may use http)',
    default: true,
    allowNo: true,
  }),
  'cert-dir': Flags.string({
    description: 'directory of *.crt CA certificates and a *.cert/*.key client pair (as containers-certs.d)',
    helpValue: 'DIR',
  }),
  'retry-times': Flags.integer({
    description: 'retries of a failed registry request, with backoff (0-100)',
    default: 4,
    min: 0,
    max: 100,
  }),
};

/** One side's own access, for commands with a source and a destination (skopeo copy's flags). */
function sideFlags(side: 'src' | 'dest', what: string) {
  return {
    [`${side}-creds`]: Flags.string({
      description: `credentials USER:PASSWORD for the ${what} registry (default: --creds)`,
      helpValue: 'USER:PASS',
    }),
    [`${side}-authfile`]: Flags.string({
      description: `auth.json for the ${what} registry (default: --authfile)`,
      helpValue: 'FILE',
    }),
    [`${side}-tls-verify`]: Flags.boolean({
      description: `require https with a verified certificate at the ${what} (default: --tls-verify)`,
      allowNo: true,
    }),
    [`${side}-cert-dir`]: Flags.string({
      description: `certificate directory for the ${what} registry (default: --cert-dir)`,
      helpValue: 'DIR',
    }),
  };
}

/** Per-side registry access and the digest file, for `copy` and `rechunk`. */
export const sideTransportFlags = {
  ...sideFlags('src', 'source'),
  ...sideFlags('dest', 'destination'),
  digestfile: Flags.string({
    description: "write the destination's manifest digest to FILE (for scripts)",
    helpValue: 'FILE',
  }),
};

/** Boolean flags that skopeo and podman users also spell with a value (`--tls-verify=false`). */
const GO_BOOLEAN_FLAGS = ['tls-verify', 'src-tls-verify', 'dest-tls-verify'];

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

type TransportFlagValues = Record<string, unknown> & { 'tls-verify': boolean };

/**
 * The flags' TransportOptions, checked before any work: a password-less --creds or an auth file
 * that is not there would otherwise fail minutes in, or (the file) silently as anonymous.
 */
export function transportOptions(flags: TransportFlagValues, jobs?: number): TransportOptions {
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const access = (prefix: string): RegistryAccess => {
    const out: RegistryAccess = {};
    const creds = str(`${prefix}creds`);
    if (creds !== undefined && creds.indexOf(':') <= 0) {
      throw new RechunkerError('USAGE', `--${prefix}creds takes USER:PASSWORD (no password was given)`);
    }
    if (creds !== undefined) out.creds = creds;
    const authfile = str(`${prefix}authfile`);
    if (authfile !== undefined)
      out.authfile = mustExist(authfile, `--${prefix}authfile${prefix ? '' : ' (or $REGISTRY_AUTH_FILE)'}`);
    const certDir = str(`${prefix}cert-dir`);
    if (certDir !== undefined) out.certDir = mustExist(certDir, `--${prefix}cert-dir`);
    const tls = flags[`${prefix}tls-verify`];
    if (typeof tls === 'boolean') out.tlsVerify = tls;
    return out;
  };
  const src = access('src-');
  const dest = access('dest-');
  return {
    ...access(''),
    ...(Object.keys(src).length > 0 ? { src } : {}),
    ...(Object.keys(dest).length > 0 ? { dest } : {}),
    ...(typeof flags['retry-times'] === 'number' ? { retryTimes: flags['retry-times'] } : {}),
    ...(typeof flags.platform === 'string' ? { platformRequested: true } : {}),
    ...(typeof flags['work-dir'] === 'string' ? { workDir: flags['work-dir'] } : {}),
    ...(jobs !== undefined ? { jobs } : {}),
  };
}

function mustExist(file: string, flag: string): string {
  if (!existsSync(file)) throw new RechunkerError('USAGE', `${flag} ${file}: no such file or directory`);
  return file;
}

/**
 * --digestfile is written after the image: a path it cannot be written to is refused before any
 * work, so a failure never leaves an image tagged at the destination behind it.
 */
export function checkDigestFile(file: string | undefined): void {
  if (file === undefined) return;
  const refuse = (why: string) => new RechunkerError('USAGE', `--digestfile ${file}: ${why}`);
  const st = statSync(file, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw refuse('is a directory');
  try {
    accessSync(st ? file : path.dirname(path.resolve(file)), constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw refuse(code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'not writable' : String(code));
  }
}

/** --digestfile: the manifest digest, without a newline, as skopeo writes it. */
export async function writeDigestFile(file: string | undefined, digest: string): Promise<void> {
  if (file === undefined) return;
  try {
    await writeFile(file, digest);
  } catch (e) {
    throw new RechunkerError(
      'IO',
      `--digestfile ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { cause: e },
    );
  }
}

/** What `rechunk` and `plan` both take: how to pack, and which build guides the packing. */
export const planningFlags = {
  'max-layers': Flags.integer({
    description: `most layers the output may have, the directory layer included (${MIN_LAYERS}-${MAX_LAYERS})`,
    default: 64,
    min: MIN_LAYERS,
    max: MAX_LAYERS,
  }),
  prior: Flags.string({
    description: 'previous rechunked build (any reference) whose plan guides this one',
    helpValue: 'REF',
  }),
  'keep-base': Flags.string({
    description:
      'keep the bottom layers SOURCE shares with this image (its FROM) as they are; rechunk only what SOURCE adds, changes or deletes above them',
    helpValue: 'REF',
  }),
  'parent-dirs': Flags.option({
    description:
      'where directory entries go: top-layer (one last layer), every-layer (each layer carries its parents), ' +
      'delegate (each once; needs dirmeta_delegate)',
    options: PARENT_DIR_MODES,
    default: DEFAULT_PARENT_DIR_MODE,
  })(),
  'work-dir': Flags.string({
    description:
      "directory for temporary file contents, about the image's uncompressed size (default: $TMPDIR, else /var/tmp)",
    helpValue: 'DIR',
  }),
  packer: Flags.option({
    description: 'packing algorithm (for benchmarks)',
    options: PACKERS,
    default: 'rechunker',
    hidden: true,
  })(),
};
