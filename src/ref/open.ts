import { RechunkerError } from '../errors.js';
import { LayoutSink } from '../store/layout-sink.js';
import { LayoutSource } from '../store/layout-source.js';
import { parseReference } from './reference.js';
import type { ImageSink, ImageSource } from './transport.js';

/** The one place that maps a reference's transport to the code that reads or writes it. */
export async function openSource(text: string): Promise<ImageSource> {
  const ref = parseReference(text);
  switch (ref.transport) {
    case 'oci':
      return new LayoutSource(text, ref.dir, ref.tag, ref.digest);
    default:
      throw new RechunkerError('UNSUPPORTED', `${text}: the ${ref.transport} transport is not supported as a source yet`);
  }
}

export async function openSink(text: string): Promise<ImageSink> {
  const ref = parseReference(text);
  switch (ref.transport) {
    case 'oci':
      if (ref.digest) throw new RechunkerError('BAD_REFERENCE', `${text}: a destination takes a tag, not a digest`);
      return new LayoutSink(text, ref.dir, ref.tag);
    default:
      throw new RechunkerError('UNSUPPORTED', `${text}: the ${ref.transport} transport is not supported as a destination yet`);
  }
}
