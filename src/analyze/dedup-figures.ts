import type { DuckDBConnection } from '@duckdb/node-api';
import type { DedupFigures, DuplicatedPath, DuplicatedType, Relayering } from './analyze-report.js';
import type { ImageSummary } from './index-schema.js';

/** The files table with no images: the same columns, no rows. */
const EMPTY_FILES =
  'SELECT 0 AS image, NULL::VARCHAR AS path, 0::BIGINT AS size, NULL::VARCHAR AS digest, ' +
  '0::BIGINT AS compressed_size, 0 AS inode, true AS first, NULL::VARCHAR AS component WHERE false';

const TOP = 20;
const GROUPS = 30;
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Every image's file table (one Parquet file per image, see parquet-index.ts) as one view `f`,
 * with the image's position: the cross-image figures are SQL over it. A view, not a table, so
 * each query streams the Parquet files instead of every row sitting in DuckDB's memory; one scan
 * of the distinct files joined to their positions, not a UNION ALL of one scan per image, whose
 * aggregates held some 20 MB more over 20 images. Every query below is a hash aggregate, whose
 * state is a row per distinct key, rather than a window that sorts all rows.
 */
export async function defineFileView(db: DuckDBConnection, files: readonly string[]): Promise<void> {
  if (files.length === 0) {
    await db.run(`CREATE OR REPLACE TEMP VIEW f AS ${EMPTY_FILES}`);
    return;
  }
  const distinct = [...new Set(files)].map(sqlString).join(', ');
  const positions = files.map((file, i) => `(${sqlString(file)}, ${i})`).join(', ');
  await db.run(
    `CREATE OR REPLACE TEMP VIEW f AS SELECT m.image, p.* EXCLUDE (filename) ` +
      `FROM read_parquet([${distinct}], filename = true) p JOIN (VALUES ${positions}) m(filename, image) USING (filename)`,
  );
}

async function rows(db: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : Math.round((a / b) * 1000) / 1000);

/** File-level against layer-level deduplication. */
export async function dedupFigures(db: DuckDBConnection, images: readonly ImageSummary[]): Promise<DedupFigures> {
  const [t] = await rows(db, `SELECT coalesce(sum(size), 0) AS bytes, count(*) AS n FROM f WHERE first`);
  const [d] = await rows(
    db,
    `SELECT coalesce(sum(size), 0) AS bytes, count(*) AS n FROM (SELECT digest, any_value(size) AS size FROM f GROUP BY digest)`,
  );
  const layers = new Map<string, number>();
  let totalBytes = 0;
  let totalCount = 0;
  for (const img of images) {
    for (const l of img.layers) {
      layers.set(l.digest, l.compressedSize);
      totalBytes += l.compressedSize;
      totalCount++;
    }
  }
  const distinctBytes = [...layers.values()].reduce((s, n) => s + n, 0);
  const files = {
    totalBytes: Number(t!.bytes),
    distinctBytes: Number(d!.bytes),
    totalCount: Number(t!.n),
    distinctCount: Number(d!.n),
    ratio: 0,
  };
  files.ratio = ratio(files.totalBytes, files.distinctBytes);
  return {
    files,
    layers: {
      totalBytes,
      distinctBytes,
      totalCount,
      distinctCount: layers.size,
      ratio: ratio(totalBytes, distinctBytes),
    },
  };
}

/**
 * Paths by the bytes their copies hold beyond one copy of each distinct content at that path:
 * a path held by 4 images with one content counts 3 copies' bytes.
 */
export async function topDuplicatedPaths(db: DuckDBConnection): Promise<DuplicatedPath[]> {
  const r = await rows(
    db,
    `
    SELECT path, sum(n) AS copies, sum(size * n) - sum(size) AS dup FROM (
      SELECT path, digest, any_value(size) AS size, count(*) AS n FROM f WHERE first GROUP BY path, digest)
    GROUP BY path HAVING dup > 0 ORDER BY dup DESC, path LIMIT ${TOP}`,
  );
  return r.map((x) => ({ path: String(x.path), copies: Number(x.copies), duplicatedBytes: Number(x.dup) }));
}

/** File name extensions by duplicated bytes (within and across images), a hardlink set once. */
export async function topDuplicatedTypes(db: DuckDBConnection): Promise<DuplicatedType[]> {
  // A content's one copy is its first file by (image, path), as the extension it is counted under.
  // Trailing version numbers are not an extension: libfoo.so.1.4 is a "so", python3.11 has none.
  const ext = (col: string) =>
    `lower(regexp_extract(regexp_replace(regexp_extract(${col}, '[^/]*$'), '(\\.[0-9]+)+$', ''), '\\.([A-Za-z0-9_+-]{1,16})$', 1))`;
  const r = await rows(
    db,
    `
    WITH typed AS (SELECT ${ext('path')} AS ext, count(*) AS files, sum(size) AS bytes FROM f WHERE first GROUP BY ext),
    once AS (
      SELECT ${ext('path')} AS ext, sum(size) AS bytes FROM (
        SELECT min({i: image, p: path}).p AS path, any_value(size) AS size FROM f WHERE first GROUP BY digest)
      GROUP BY ext)
    SELECT typed.ext, files, typed.bytes - coalesce(once.bytes, 0) AS dup FROM typed LEFT JOIN once USING (ext)
    WHERE dup > 0 ORDER BY dup DESC, typed.ext LIMIT ${TOP}`,
  );
  return r.map((x) => ({ type: String(x.ext), files: Number(x.files), duplicatedBytes: Number(x.dup) }));
}

/**
 * Distinct contents grouped by the set of images that hold them. A perfect layering makes one
 * layer per group, shared by exactly those images: each content is stored once, and a group held
 * by k images saves k - 1 copies of its bytes.
 */
export async function relayering(db: DuckDBConnection): Promise<Relayering> {
  const r = await rows(
    db,
    `
    SELECT holders, count(*) AS contents, sum(size) AS bytes FROM (
      SELECT digest, any_value(size) AS size, list(DISTINCT image ORDER BY image) AS holders FROM f GROUP BY digest)
    GROUP BY holders ORDER BY bytes DESC, contents DESC`,
  );
  const groups = r.map((x) => ({
    images: (x.holders as number[]).map(Number),
    contents: Number(x.contents),
    bytes: Number(x.bytes),
  }));
  return {
    groups: groups.slice(0, GROUPS),
    layerCount: groups.length,
    storedBytes: groups.reduce((s, g) => s + g.bytes, 0),
    sharedBytes: groups.reduce((s, g) => s + g.bytes * (g.images.length - 1), 0),
  };
}

/** Contents of the image whose file table is `to` that the one of `from` does not hold, each gzip'd alone. */
export async function lowerBound(db: DuckDBConnection, from: string, to: string): Promise<number> {
  const [x] = await rows(
    db,
    `
    SELECT coalesce(sum(c), 0) AS bytes FROM (SELECT digest, any_value(compressed_size) AS c FROM read_parquet(${sqlString(to)}) GROUP BY digest)
    WHERE digest NOT IN (SELECT digest FROM read_parquet(${sqlString(from)}))`,
  );
  return Number(x!.bytes);
}
