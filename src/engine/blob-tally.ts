import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.js';
import type { BlobOutcome, ImageSink } from '../oci/transport.js';

/** Where the bytes of a run went: what the summary after `rechunk` and `copy` reports. */
export interface TransferSummary {
  /** Blobs the destination received in full, and their bytes. */
  uploaded: number;
  uploadedBytes: number;
  /** Blobs a registry mounted from another repository of its own (no bytes sent). */
  mounted: number;
  /** Blobs the destination already had. */
  skipped: number;
  /** Compressed bytes of every blob the image references, however they got there. */
  totalBytes: number;
}

/** Counts each blob once by digest; a sink that reports no outcome counts as an upload. */
export class BlobTally {
  private readonly outcomes = new Map<string, { outcome: BlobOutcome; size: number }>();

  record(desc: Descriptor, outcome: BlobOutcome | undefined): void {
    this.outcomes.set(desc.digest, { outcome: outcome ?? 'uploaded', size: desc.size });
  }

  outcome(digest: string): BlobOutcome | undefined {
    return this.outcomes.get(digest)?.outcome;
  }

  summary(): TransferSummary {
    const s: TransferSummary = { uploaded: 0, uploadedBytes: 0, mounted: 0, skipped: 0, totalBytes: 0 };
    for (const { outcome, size } of this.outcomes.values()) {
      s.totalBytes += size;
      if (outcome === 'uploaded') {
        s.uploaded++;
        s.uploadedBytes += size;
      } else if (outcome === 'mounted') s.mounted++;
      else s.skipped++;
    }
    return s;
  }
}

/** The same sink, with every blob's outcome recorded in `tally`. */
export function tallySink(sink: ImageSink, tally: BlobTally): ImageSink {
  const adopt = sink.adoptFile?.bind(sink);
  return {
    name: sink.name,
    hasBlob: (desc) => sink.hasBlob(desc),
    async putBlob(desc: Descriptor, open: () => Promise<Readable>) {
      const outcome = await sink.putBlob(desc, open);
      tally.record(desc, outcome ?? undefined);
      return outcome;
    },
    ...(adopt
      ? {
          async adoptFile(file: string, desc: Descriptor) {
            const outcome = await adopt(file, desc);
            tally.record(desc, outcome ?? undefined);
            return outcome;
          },
        }
      : {}),
    putManifest: (bytes, mediaType, digest, opts) => sink.putManifest(bytes, mediaType, digest, opts),
    close: () => sink.close(),
  };
}
