import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { prose } from '../src/cli/prose.js';
import { platformFlag, platformOf, transportFlags, transportOptions } from '../src/cli/flags.js';
import { referencesHelp } from '../src/cli/references.js';
import { formatDifference, IGNORABLE, type Difference } from '../src/verify/compare.js';
import { VERIFY_MODELS, verifyImages, type VerifyModel, type VerifyResult } from '../src/engine/verify-images.js';

export default class Verify extends BaseCommand {
  static override summary = 'Flatten two images (or an image and a directory) under an unpacker model and compare them';

  static override description =
    prose(`Compares A and B entry by entry: type, mode, uid, gid, mtime, content digest, symlink target,
device numbers, xattrs and hardlink sets (a symlink's mode is not compared: Linux ignores it).
Prints the differences. Exits 0 when there are none, 1 when there are, 2 when the comparison
could not be made (as diff does).

Models (--model):
  oci       layers applied into one tree (image-spec semantics; an implied directory keeps its metadata)
  overlay   each layer unpacked on its own, implied parents made 0755 root at the time of unpacking
            (containers/storage), merged top-down (overlayfs): what podman and moby show today
  delegate  as overlay, but an implied directory takes its metadata from the nearest lower layer
            that defines it (dirmeta_delegate, containers/container-libs PR #701)
  containerd  as overlay, but an implied directory takes mode, owner and xattrs from the nearest
            lower layer that has it, mtime the time of unpacking: what containerd's overlayfs shows
  all       the four

A directory shown with the unpacker's default metadata is reported as "shadowed (default
metadata)" with mtime "unpack-time". A root filesystem (rootfs:DIR) is the same tree under every
model, so \`verify IMAGE rootfs:DIR --model overlay\` tells what a runtime will get wrong.

${referencesHelp()}`);

  static override examples = [
    '<%= config.bin %> <%= command.id %> oci:./in:latest oci:./out:latest',
    '<%= config.bin %> <%= command.id %> oci:./out:latest rootfs:./rootfs --model overlay',
    '<%= config.bin %> <%= command.id %> oci:./out:latest rootfs:./rootfs --model all --json',
  ];

  static override args = {
    a: Args.string({ description: 'first image (any reference)', required: true }),
    b: Args.string({ description: 'second image (any reference), or rootfs:DIR', required: true }),
  };

  static override flags = {
    model: Flags.string({ description: 'unpacker model', options: [...VERIFY_MODELS, 'all'], default: 'oci' }),
    platform: platformFlag,
    'max-shown': Flags.integer({
      description: 'differences printed per model (all are in --json)',
      default: 50,
      min: 0,
    }),
    'work-dir': Flags.string({
      description: 'directory for temporary file contents (default: $TMPDIR, else /var/tmp)',
      helpValue: 'DIR',
    }),
    ignore: Flags.option({
      description: 'leave a field out: mtime-ns compares mtimes to the second',
      options: IGNORABLE,
      multiple: true,
    })(),
    ...transportFlags,
  };

  /** 1 is "they differ"; a comparison that could not be made is 2, as diff's trouble. */
  protected override troubleExit(): number {
    return 2;
  }

  async run(): Promise<VerifyResult> {
    const { args, flags } = await this.parse(Verify);
    const models: VerifyModel[] = flags.model === 'all' ? [...VERIFY_MODELS] : [flags.model as VerifyModel];
    const result = await verifyImages({
      a: args.a,
      b: args.b,
      models,
      platform: platformOf(flags.platform),
      workDir: flags['work-dir'],
      transport: transportOptions(flags),
      progress: this.progress(flags.quiet),
      ...(flags.ignore ? { ignore: flags.ignore } : {}),
    });
    // Models that agree are one list: the same differences printed three times hide nothing more.
    const groups: Array<{ names: string[]; model: (typeof result.models)[number] }> = [];
    for (const m of result.models) {
      const same = groups.find((g) => sameDifferences(g.model.differences, m.differences));
      if (same) same.names.push(m.model);
      else groups.push({ names: [m.model], model: m });
    }
    for (const { names, model: m } of groups) {
      const shadowed = m.differences.filter((d) => d.kind === 'shadowed').length;
      const count =
        m.differences.length === 0
          ? 'no differences'
          : `${m.differences.length} difference(s)${shadowed > 0 ? `, ${shadowed} shadowed directories` : ''}`;
      this.log(`${names.join(', ')}: ${count} (A ${m.entries.a} paths, B ${m.entries.b})`);
      for (const d of m.differences.slice(0, flags['max-shown'])) this.log(`  ${formatDifference(d)}`);
      if (m.differences.length > flags['max-shown'])
        this.log(`  ... and ${m.differences.length - flags['max-shown']} more`);
    }
    if (result.differences > 0) process.exitCode = 1;
    return result;
  }
}

function sameDifferences(a: readonly Difference[], b: readonly Difference[]): boolean {
  return a.length === b.length && a.every((d, i) => formatDifference(d) === formatDifference(b[i]!));
}
