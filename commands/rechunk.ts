import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { prose } from '../src/cli/prose.js';
import {
  planningFlags,
  platformFlag,
  platformOf,
  sideTransportFlags,
  transportFlags,
  transportOptions,
  writeDigestFile,
  checkDigestFile,
} from '../src/cli/flags.js';
import { referencesHelp } from '../src/cli/references.js';
import { transferLine } from '../src/cli/transfer-line.js';
import { formatBytes } from '../src/util/format-bytes.js';
import { imageEditFlags, imageEditOptions } from '../src/cli/image-edit-flags.js';
import { RechunkerError } from '../src/errors.js';
import type { RechunkResult } from '../src/engine/rechunk-types.js';
import { DIR_MTIME_MODES } from '../src/parents/index.js';

export default class Rechunk extends BaseCommand {
  static override summary = 'Repack an image into at most N size-balanced layers grouped by component';

  static override description =
    prose(`Reads SOURCE, flattens its layers into one file tree (OCI whiteout semantics), groups files by the
package or component that owns them, packs the groups into at most --max-layers layers, and writes
a new image to DESTINATION. Output is byte-for-byte reproducible for the same input and flags.

By default (--parent-dirs top-layer) directory entries go in one final small layer with their true
metadata, so no runtime shadows a directory with default metadata and component layers change only
when their files do. \`rechunker verify\` shows what each runtime model will see.

A rebuild onto a destination holding the previous build takes its unchanged layers as they are
(no compression), and identical input onto its own output writes nothing ("unchanged").

Each side may log in on its own (--src-creds, --dest-authfile, --dest-tls-verify=false, ...);
the flags without a side apply to both, and --prior is read as the destination when it is on
the destination's registry. Without --work-dir, temporary files go to $TMPDIR, else /var/tmp.

${referencesHelp()}`);

  static override examples = [
    '<%= config.bin %> <%= command.id %> oci:./image:latest oci:./out:latest',
    '<%= config.bin %> <%= command.id %> oci:./image:latest oci:./out:v2 --max-layers 32 --compression zstd',
    '<%= config.bin %> <%= command.id %> docker://quay.io/fedora/fedora-bootc:42 docker://registry.example.com/os:42 ' +
      '--prior docker://registry.example.com/os:41',
    '<%= config.bin %> <%= command.id %> containers-storage:localhost/myos:latest oci:./out:latest ' +
      '--keep-base docker://quay.io/fedora/fedora-bootc:42',
    'SOURCE_DATE_EPOCH=1700000000 <%= config.bin %> <%= command.id %> oci:in oci:out:tag --json',
  ];

  static override args = {
    source: Args.string({ description: 'image to read, e.g. oci:DIR:TAG', required: true }),
    destination: Args.string({ description: 'where to write the result, e.g. oci:DIR:TAG', required: true }),
  };

  static override flags = {
    ...planningFlags,
    platform: platformFlag,
    compression: Flags.option({
      description: 'layer compression',
      options: ['gzip', 'zstd', 'none'] as const,
      default: 'gzip',
    })(),
    'compression-level': Flags.integer({
      description: 'gzip 1-9 (default 6), zstd 1-19 (default 3); not with --compression none',
    }),
    'source-date-epoch': Flags.integer({
      description:
        "clamp mtimes later than this (seconds since 1970) and make it the config's created time; off unless given",
      env: 'SOURCE_DATE_EPOCH',
      min: 0,
    }),
    jobs: Flags.integer({
      description: 'layers compressed in parallel, 1-64 (default: the number of cores, at least 2)',
      min: 1,
      max: 64,
    }),
    'dir-mtime': Flags.option({
      description:
        'keep true directory mtimes, or clamp them all to 1970-01-01 (stable every-layer layers, at the cost of fidelity)',
      options: DIR_MTIME_MODES,
      default: 'keep',
    })(),
    ...transportFlags,
    ...sideTransportFlags,
    ...imageEditFlags,
    prior: Flags.string({
      description:
        'previous rechunked build (any reference): keep its components in their layers; default: the rechunked image already at DESTINATION',
      helpValue: 'REF',
      exclusive: ['no-prior'],
    }),
    'no-prior': Flags.boolean({
      description: 'ignore the rechunked image already at DESTINATION: plan from scratch',
      default: false,
    }),
  };

  async run(): Promise<RechunkResult> {
    const { args, flags } = await this.parse(Rechunk);
    if (args.source === args.destination)
      throw new RechunkerError('USAGE', 'source and destination are the same reference');
    const toStdout = /^oci-archive:-(:|$)/.test(args.destination);
    if (toStdout && this.jsonEnabled())
      throw new RechunkerError('USAGE', '--json and oci-archive:- both write to stdout; choose one');
    checkCompressionLevel(flags.compression, flags['compression-level']);
    checkDigestFile(flags.digestfile);
    const transport = transportOptions(flags);
    // The engine loads with the command's run, not with its help or the manifest.
    const { rechunk } = await import('../src/engine/rechunk.js');
    const result = await rechunk({
      source: args.source,
      destination: args.destination,
      platform: platformOf(flags.platform),
      maxLayers: flags['max-layers'],
      compression: flags.compression,
      compressionLevel: flags['compression-level'],
      sourceDateEpoch: flags['source-date-epoch'],
      workDir: flags['work-dir'],
      jobs: flags.jobs,
      progress: this.progress(flags.quiet),
      parentDirs: flags['parent-dirs'],
      dirMtime: flags['dir-mtime'],
      prior: flags.prior,
      noPrior: flags['no-prior'],
      packer: flags.packer,
      edits: await imageEditOptions(flags),
      keepBase: flags['keep-base'],
      transport,
      toolVersion: this.config.version,
    });
    // With oci-archive:- stdout carries the archive, so the summary goes to stderr.
    const say = toStdout ? (line: string) => this.logToStderr(line) : (line: string) => this.log(line);
    say(`${result.destination} ${result.manifestDigest}`);
    await writeDigestFile(flags.digestfile, result.manifestDigest);
    if (result.unchanged)
      say(`unchanged: ${result.destination} already holds this build of ${result.source} (--no-prior builds it again)`);
    const kept = result.keptBase ? ` (${result.keptBase.layers} kept from ${result.keptBase.ref})` : '';
    say(
      `${result.layers.length} layers${kept} from ${result.components} components ` +
        `(${result.files} files, ${result.directories} directories); ` +
        `largest ${formatBytes(result.largestLayer)}, median ${formatBytes(result.medianLayer)}`,
    );
    // Taken from the prior and already at the destination are not the same count: a layer
    // compressed now may find its blob there (another tag's), a kept base layer is neither.
    const own = result.layers.filter((l) => !l.kept);
    const fromPrior = own.filter((l) => l.reused).length;
    say(
      `${formatBytes(own.reduce((n, l) => n + l.size, 0))} in ${own.length} layers: ${fromPrior} as the prior ` +
        `build wrote them, ${own.length - fromPrior} compressed now; ${result.layersReused} already at the destination`,
    );
    say(transferLine(result.transfer));
    return result;
  }
}

const LEVELS: Record<string, [number, number]> = { gzip: [1, 9], zstd: [1, 19] };

/** Checked before any work: the codec would only refuse a level after the image was read. */
function checkCompressionLevel(compression: string, level: number | undefined): void {
  if (level === undefined) return;
  const range = LEVELS[compression];
  if (!range) throw new RechunkerError('USAGE', `--compression-level has no meaning with --compression ${compression}`);
  if (level < range[0] || level > range[1]) {
    throw new RechunkerError('USAGE', `--compression-level ${level}: ${compression} takes ${range[0]}-${range[1]}`);
  }
}
