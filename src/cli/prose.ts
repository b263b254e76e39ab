/**
 * A command's description as written in source, wrapped near 100 columns, unwrapped so that help
 * wraps it to the terminal instead: the lines of a paragraph are joined; blank lines and indented
 * lines (lists, the References table) stay as they are.
 */
export function prose(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const prev = out[out.length - 1];
    const joins =
      prev !== undefined && prev !== '' && line !== '' && !/^\s/.test(line) && !/^\s/.test(prev) && !prev.endsWith(':');
    if (joins) out[out.length - 1] = `${prev} ${line}`;
    else out.push(line);
  }
  return out.join('\n');
}
