/**
 * OCI layer whiteouts (image-spec layer.md): `.wh.NAME` deletes NAME from the layers below, and
 * `.wh..wh..opq` in a directory hides everything below it. Other names starting `.wh..wh.` are
 * aufs metadata, not content.
 */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
export const AUFS_META_PREFIX = '.wh..wh.';
