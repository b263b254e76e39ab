/**
 * Compare strings by UTF-16 code unit, which for our latin1 byte-string paths is byte order: the
 * order tar entries, plans and reports use, never the locale's (localeCompare differs by machine).
 */
export const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
