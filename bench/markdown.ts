/** One markdown table row from its cells. */
export function mdRow(cells: readonly unknown[]): string {
  return `| ${cells.join(' | ')} |`;
}
