import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StagedSink } from '../oci/staged-sink.js';
import type { ImageSink } from '../oci/transport.js';

/**
 * `oci-archive:-`: the archive is written to a temporary file by the archive sink and, once the
 * manifest is in, streamed to stdout (for `| podman load`, as chunkah's `-o -`). Not streamed as
 * the layers are made: an archive's index must name the manifest, known only at the end, and a
 * tar cannot be rewritten once sent.
 */
export function stdoutSink(
  name: string,
  archive: ImageSink,
  file: string,
  cleanup: () => Promise<void>,
  out: Writable = process.stdout,
): ImageSink {
  const deliver = () => pipeline(createReadStream(file), out, { end: false });
  return new StagedSink(name, archive, deliver, cleanup);
}
