/**
 * YAML of plain data (objects, arrays, strings, numbers, booleans, null) in block style.
 * Strings are always double-quoted JSON strings (a valid YAML double-quoted scalar), so no
 * value is ever read back as another type ("10DE:1EB8", "true", "0x10").
 */
export function renderYaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  const scalar = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : String(v));
  const isBlock = (v: unknown) => v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
  const empty = (v: unknown) => (Array.isArray(v) ? '[]' : '{}');
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if (!isBlock(item)) return `${pad}- ${item !== null && typeof item === 'object' ? empty(item) : scalar(item)}\n`;
        const inner = renderYaml(item, indent + 2);
        return `${pad}- ${inner.slice(indent + 2)}`;
      })
      .join('');
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) =>
        isBlock(v) ? `${pad}${k}:\n${renderYaml(v, indent + 2)}` : `${pad}${k}: ${v !== null && typeof v === 'object' ? empty(v) : scalar(v)}\n`,
      )
      .join('');
  }
  return `${pad}${scalar(value)}\n`;
}
