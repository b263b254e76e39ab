import { open } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { applyKeyValueOps, parseConfigOverride, type ConfigOverride } from '../assemble/config-edits.js';
import { normalizePrunePath } from '../graph/prune-paths.js';
import { RechunkerError } from '../errors.js';

/**
 * chunkah's image-editing flags, with its names and semantics: what to leave out of the tree
 * (--prune), and what to change in the config and manifest (--config, --label, --annotation).
 * Each repeatable flag takes one value per use, so `--label a=1 SOURCE` never eats SOURCE.
 */
export const imageEditFlags = {
  prune: Flags.string({
    description:
      'leave PATH (absolute) and all under it out of the image; PATH/ keeps the directory and drops its contents (repeatable)',
    helpValue: 'PATH',
    multiple: true,
    multipleNonGreedy: true,
  }),
  label: Flags.string({
    description: 'set a config label KEY=VALUE, remove one with KEY-, or all with - (repeatable, in order)',
    helpValue: 'KEY=VALUE|KEY-|-',
    multiple: true,
    multipleNonGreedy: true,
  }),
  annotation: Flags.string({
    description: 'set a manifest annotation KEY=VALUE (KEY- and - remove, as for --label; repeatable)',
    helpValue: 'KEY=VALUE',
    multiple: true,
    multipleNonGreedy: true,
  }),
  config: Flags.string({
    description:
      'take Env, Cmd, Entrypoint, User, WorkingDir, Labels... from FILE: an OCI config or podman/docker inspect output',
    helpValue: 'FILE',
    exclusive: ['config-str'],
  }),
  'config-str': Flags.string({ description: 'as --config, the JSON given inline', helpValue: 'JSON' }),
  'keep-host-xattrs': Flags.boolean({
    description:
      'keep security.selinux and trusted.* xattrs read from rootfs: and containers-storage: (left out by default)',
    default: false,
  }),
};

export interface ImageEditOptions {
  prune: string[];
  labels: string[];
  annotations: string[];
  override?: ConfigOverride;
  keepHostXattrs: boolean;
}

export async function imageEditOptions(flags: {
  prune?: string[];
  label?: string[];
  annotation?: string[];
  config?: string;
  'config-str'?: string;
  'keep-host-xattrs': boolean;
}): Promise<ImageEditOptions> {
  // Checked before any work: a typo would otherwise surface after the image was read.
  for (const p of flags.prune ?? []) normalizePrunePath(p);
  applyKeyValueOps(flags.label ?? [], {}, '--label');
  applyKeyValueOps(flags.annotation ?? [], {}, '--annotation');
  let override: ConfigOverride | undefined;
  if (flags.config !== undefined) {
    let text: string | undefined;
    try {
      text = await readCapped(flags.config, MAX_CONFIG_FILE);
    } catch (e) {
      throw new RechunkerError(
        'USAGE',
        `--config ${flags.config}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        { cause: e },
      );
    }
    if (text === undefined)
      throw new RechunkerError('USAGE', `--config ${flags.config}: over ${MAX_CONFIG_FILE} bytes, not an image config`);
    override = parseConfigOverride(text, `--config ${flags.config}`);
  } else if (flags['config-str'] !== undefined) {
    override = parseConfigOverride(flags['config-str'], '--config-str');
  }
  return {
    prune: flags.prune ?? [],
    labels: flags.label ?? [],
    annotations: flags.annotation ?? [],
    ...(override ? { override } : {}),
    keepHostXattrs: flags['keep-host-xattrs'],
  };
}

/** A config is kilobytes; /dev/stdin is fine, /dev/zero must not be read to the end. */
const MAX_CONFIG_FILE = 4 * 1024 * 1024;

/** The file as text, or undefined when it holds more than `max` bytes. */
async function readCapped(file: string, max: number): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let got = 0;
    while (got <= max) {
      const { bytesRead } = await handle.read(buf, got, max + 1 - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got > max ? undefined : buf.toString('utf8', 0, got);
  } finally {
    await handle.close();
  }
}
