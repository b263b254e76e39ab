/** A distinct content's number in its ContentIndex, from 0 in the order contents were added. */
export type ContentId = number;

const DIGEST = 32;
const EMPTY = -1;

/**
 * Every distinct content of an image by its sha256: the digest, size and offset in the pack file
 * (content-store.ts) of each, numbered. The records live in typed arrays outside the V8 heap: as a
 * Map of objects keyed by hex digests they were 40 % of the heap of a 250,000-file image (42 MB:
 * a record, a 64-char string and a Map entry per content), and every full collection walked them.
 * Here they take 64 bytes a content that no collection looks at.
 *
 * The lookup is a hash table of ids with linear probing, kept at most half full; a sha256 needs
 * no hashing of its own, so its first four bytes are the hash.
 */
export class ContentIndex {
  private digests = Buffer.alloc(0);
  private offsets = new Float64Array(0);
  private sizes = new Float64Array(0);
  private slots = new Int32Array(16).fill(EMPTY);
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** The id of the content whose sha256 is `digest` (32 bytes), if it was added. */
  find(digest: Uint8Array): ContentId | undefined {
    const id = this.slots[this.slotOf(digest)]!;
    return id === EMPTY ? undefined : id;
  }

  /** Add a content not in the index yet; returns its id. */
  add(digest: Uint8Array, size: number, offset: number): ContentId {
    if (digest.length !== DIGEST) throw new Error(`internal: a sha256 of ${digest.length} bytes`);
    if (this.n === this.sizes.length) this.grow();
    if (2 * (this.n + 1) > this.slots.length) this.rehash(2 * this.slots.length);
    const slot = this.slotOf(digest);
    if (this.slots[slot] !== EMPTY) throw new Error('internal: a content added to the index twice');
    const id = this.n++;
    this.digests.set(digest, id * DIGEST);
    this.sizes[id] = size;
    this.offsets[id] = offset;
    this.slots[slot] = id;
    return id;
  }

  /** The sha256 of content `id`, lowercase hex without a prefix. */
  sha256(id: ContentId): string {
    return this.digests.toString('hex', id * DIGEST, (id + 1) * DIGEST);
  }

  size(id: ContentId): number {
    return this.sizes[id]!;
  }

  offset(id: ContentId): number {
    return this.offsets[id]!;
  }

  /** The slot holding `digest`, or the empty slot where it would go. */
  private slotOf(digest: Uint8Array): number {
    const mask = this.slots.length - 1;
    let slot = (digest[0]! | (digest[1]! << 8) | (digest[2]! << 16) | (digest[3]! << 24)) & mask;
    for (;;) {
      const id = this.slots[slot]!;
      if (id === EMPTY || this.holds(id, digest)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private holds(id: ContentId, digest: Uint8Array): boolean {
    const at = id * DIGEST;
    for (let i = 0; i < DIGEST; i++) if (this.digests[at + i] !== digest[i]) return false;
    return true;
  }

  private grow(): void {
    const cap = Math.max(1024, 2 * this.sizes.length);
    const digests = Buffer.alloc(cap * DIGEST);
    this.digests.copy(digests);
    this.digests = digests;
    const offsets = new Float64Array(cap);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const sizes = new Float64Array(cap);
    sizes.set(this.sizes);
    this.sizes = sizes;
  }

  private rehash(length: number): void {
    this.slots = new Int32Array(length).fill(EMPTY);
    for (let id = 0; id < this.n; id++) {
      this.slots[this.slotOf(this.digests.subarray(id * DIGEST, (id + 1) * DIGEST))] = id;
    }
  }
}
