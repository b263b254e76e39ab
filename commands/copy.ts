import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { prose } from '../src/cli/prose.js';
import {
  checkDigestFile,
  sideTransportFlags,
  transportFlags,
  transportOptions,
  writeDigestFile,
} from '../src/cli/flags.js';
import { referencesHelp } from '../src/cli/references.js';
import { transferLine } from '../src/cli/transfer-line.js';
import { parsePlatform } from '../src/oci/platform.js';
import { formatBytes } from '../src/util/format-bytes.js';
import type { CopyResult } from '../src/engine/copy.js';
import { DEFAULT_JOBS } from '../src/oci/transport.js';

export default class Copy extends BaseCommand {
  static override summary = 'Copy an image between transports, layers unchanged';

  static override description =
    prose(`Copies SOURCE to DESTINATION without repacking: blobs first, verified as they stream,
manifests last with their bytes unchanged, so both ends report the same digest. A multi-platform
index is copied whole, every image and the index itself (as skopeo copy --all); --platform copies
one image, and is an error when SOURCE is a single image of another platform. Blobs the
destination already has are skipped; within one registry they are mounted instead of uploaded.

Each side may log in on its own (--src-creds, --dest-authfile, --dest-tls-verify=false, ...);
the flags without a side apply to both.

${referencesHelp({ rootfs: false })}`);

  static override examples = [
    '<%= config.bin %> <%= command.id %> oci:./out:latest docker://registry.example.com/os:latest',
    '<%= config.bin %> <%= command.id %> docker://127.0.0.1:5000/os:42 oci:./mirror:42 --tls-verify=false',
  ];

  static override args = {
    source: Args.string({ description: 'image to read', required: true }),
    destination: Args.string({ description: 'where to write it', required: true }),
  };

  static override flags = {
    platform: Flags.string({
      description: 'copy only the image for this platform from a multi-platform index (default: the whole index)',
      helpValue: 'os/arch[/variant]',
    }),
    ...transportFlags,
    ...sideTransportFlags,
    jobs: Flags.integer({
      description: 'blobs transferred in parallel (1-64)',
      default: DEFAULT_JOBS,
      min: 1,
      max: 64,
    }),
    'work-dir': Flags.string({
      description: 'directory where an oci-archive: is unpacked or staged (default: $TMPDIR, else /var/tmp)',
      helpValue: 'DIR',
    }),
  };

  async run(): Promise<CopyResult> {
    const { args, flags } = await this.parse(Copy);
    const transport = transportOptions(flags, flags.jobs);
    checkDigestFile(flags.digestfile);
    // The engine loads with the command's run, not with its help or the manifest.
    const { copyImage } = await import('../src/engine/copy.js');
    const result = await copyImage({
      source: args.source,
      destination: args.destination,
      ...(flags.platform !== undefined ? { platform: parsePlatform(flags.platform) } : {}),
      transport,
      jobs: flags.jobs,
      progress: this.progress(flags.quiet),
    });
    await writeDigestFile(flags.digestfile, result.manifestDigest);
    this.log(`${result.destination} ${result.manifestDigest}`);
    const images =
      result.platforms.length > 1 ? `${result.platforms.length} images (${result.platforms.join(', ')}), ` : '';
    this.log(`${images}${result.blobs} blobs, ${formatBytes(result.bytes)}`);
    this.log(transferLine(result.transfer));
    return result;
  }
}
