/**
 * A lexer for the shell-assignment files that boot and initramfs tools `source`
 * (/etc/default/grub, grub.d/*.cfg, dracut.conf.d/*.conf, mkinitcpio.conf). It understands the
 * subset such files use: `NAME=value` words (several per line, `;` separated), `export`,
 * comments, single quotes, double quotes with the POSIX escapes \" \\ \$ \` and \<newline>,
 * unquoted backslash escapes, backslash-newline continuation, `$NAME` / `${NAME}` references,
 * and, when asked, bash `NAME+=value` and `NAME=(a b c)` arrays (dracut and mkinitcpio are
 * sourced by bash; grub-mkconfig by /bin/sh, where both are errors).
 *
 * Command substitution ($(...), `...`) is recorded, not run: the caller decides whether a value
 * that needs it is fatal. Anything else (pipes, redirections, control flow, other commands,
 * ${NAME:-x} forms, $1) throws an BootConfigError naming the file and line.
 */
import { BootConfigError } from './BootConfigError';

/** Characters with no meaning inside double quotes, as a run (sticky: matched from lastIndex). */
const PLAIN_IN_DOUBLE_QUOTES = /[^"\\$`]+/y;
/** Characters with no meaning in an unquoted word, as a run. */
const PLAIN_UNQUOTED = /[^\s;()|&<>\\'"$`]+/y;

export type ShellQuote = 'none' | 'single' | 'double';

export type ShellSegment =
  | { kind: 'literal'; text: string; quote: ShellQuote }
  | { kind: 'var'; name: string; quote: ShellQuote }
  | { kind: 'cmdsub'; raw: string; quote: ShellQuote };

export interface ShellAssignment {
  name: string;
  exported: boolean;
  /** bash `NAME+=value`. */
  append: boolean;
  /** 1-based line of the assignment word's first character. */
  line: number;
  /** 1-based line of its last character (> line when continued or a quote spans lines). */
  endLine: number;
  /** [start, end) of the whole `NAME=value` word in the text. */
  start: number;
  end: number;
  /** [valueStart, valueEnd) of the value's source text (after `=`). */
  valueStart: number;
  valueEnd: number;
  /** The value's segments in order; for an array, empty. */
  value: ShellSegment[];
  /** For `NAME=(...)`: one segment list per element. */
  array?: ShellSegment[][];
  /** A backslash-newline continuation occurs inside the word. */
  continued: boolean;
}

export interface ShellLexOptions {
  /** Accept bash `+=` and `NAME=(...)` arrays. */
  bash?: boolean;
  /** The <what> of error messages ("GRUB defaults"). */
  what?: string;
}

const NAME_ASSIGN = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/;
const NAME_ONLY = /^[A-Za-z_][A-Za-z0-9_]*/;

export function lexShellAssignments(text: string, path: string, options: ShellLexOptions = {}): ShellAssignment[] {
  const what = options.what ?? 'shell assignments';
  let i = 0;
  let line = 1;
  const out: ShellAssignment[] = [];
  const fail = (detail: string, at = line): never => {
    throw new BootConfigError('parsing', what, path, detail, { line: at });
  };

  const skipBlanks = (withNewlines: boolean): void => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t') i++;
      else if (c === '\\' && text[i + 1] === '\n') {
        i += 2;
        line++;
      } else if (withNewlines && c === '\n') {
        i++;
        line++;
      } else if (withNewlines && c === '#') {
        while (i < text.length && text[i] !== '\n') i++;
      } else return;
    }
  };

  /** Scans $( ... ) from the `(`; returns the index after the matching `)`. */
  const scanParens = (from: number, startLine: number): number => {
    let depth = 0;
    let j = from;
    while (j < text.length) {
      const c = text[j];
      if (c === '\n') line++;
      if (c === '\\') j++;
      else if (c === "'") {
        const close = text.indexOf("'", j + 1);
        if (close < 0) break;
        line += countNewlines(text.slice(j, close));
        j = close;
      } else if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return fail('unterminated command substitution $(', startLine);
  };

  const scanBacktick = (from: number, startLine: number): number => {
    let j = from + 1;
    while (j < text.length) {
      const c = text[j];
      if (c === '\n') line++;
      if (c === '\\') {
        if (text[j + 1] === '\n') line++;
        j += 2;
        continue;
      }
      if (c === '`') return j + 1;
      j++;
    }
    return fail('unterminated command substitution `', startLine);
  };

  /** At a `$`: pushes a segment and returns the next index. */
  const readDollar = (j: number, quote: ShellQuote, push: (s: ShellSegment) => void): number => {
    const next = text[j + 1];
    const startLine = line;
    if (next === '(') {
      const end = scanParens(j + 1, startLine);
      push({ kind: 'cmdsub', raw: text.slice(j, end), quote });
      return end;
    }
    if (next === '{') {
      const close = text.indexOf('}', j + 2);
      if (close < 0) return fail('unterminated ${');
      const inner = text.slice(j + 2, close);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) return fail(`unsupported parameter expansion \${${inner}}`);
      push({ kind: 'var', name: inner, quote });
      return close + 1;
    }
    const m = NAME_ONLY.exec(text.slice(j + 1, j + 200));
    if (m) {
      push({ kind: 'var', name: m[0], quote });
      return j + 1 + m[0].length;
    }
    if (next !== undefined && /[0-9@*#?$!-]/.test(next)) return fail(`unsupported special parameter $${next}`);
    push({ kind: 'literal', text: '$', quote });
    return j + 1;
  };

  /** Reads one word from i; stops at unquoted blank, newline, `;`, `(` or `)`. */
  const readWord = (): { segments: ShellSegment[]; continued: boolean } => {
    const segments: ShellSegment[] = [];
    let continued = false;
    const push = (s: ShellSegment): void => {
      const last = segments[segments.length - 1];
      if (s.kind === 'literal' && last?.kind === 'literal' && last.quote === s.quote) last.text += s.text;
      else segments.push(s);
    };
    for (;;) {
      const c = text[i];
      if (c === undefined || c === ' ' || c === '\t' || c === '\n' || c === ';' || c === '(' || c === ')') break;
      if (c === '|' || c === '&' || c === '<' || c === '>') fail(`unsupported shell operator '${c}'`);
      if (c === '\\') {
        const n = text[i + 1];
        if (n === '\n') {
          continued = true;
          line++;
          i += 2;
        } else if (n === undefined) {
          push({ kind: 'literal', text: '\\', quote: 'none' });
          i++;
        } else {
          push({ kind: 'literal', text: n, quote: 'none' });
          i += 2;
        }
      } else if (c === "'") {
        const close = text.indexOf("'", i + 1);
        if (close < 0) fail('unterminated single quote');
        const body = text.slice(i + 1, close);
        segments.push({ kind: 'literal', text: body, quote: 'single' });
        line += countNewlines(body);
        i = close + 1;
      } else if (c === '"') {
        const startLine = line;
        segments.push({ kind: 'literal', text: '', quote: 'double' }); // marks "" even when empty
        let j = i + 1;
        for (;;) {
          const d = text[j];
          if (d === undefined) return fail('unterminated double quote', startLine);
          if (d === '"') break;
          if (d === '\\') {
            const n = text[j + 1];
            if (n === '\n') {
              continued = true;
              line++;
              j += 2;
            } else if (n === '$' || n === '`' || n === '"' || n === '\\') {
              push({ kind: 'literal', text: n, quote: 'double' });
              j += 2;
            } else {
              push({ kind: 'literal', text: '\\', quote: 'double' });
              j++;
            }
          } else if (d === '$') {
            j = readDollar(j, 'double', push);
          } else if (d === '`') {
            const end = scanBacktick(j, line);
            push({ kind: 'cmdsub', raw: text.slice(j, end), quote: 'double' });
            j = end;
          } else {
            // A run of plain characters at once (one segment per character made long values quadratic in garbage).
            PLAIN_IN_DOUBLE_QUOTES.lastIndex = j;
            const end = PLAIN_IN_DOUBLE_QUOTES.test(text) ? PLAIN_IN_DOUBLE_QUOTES.lastIndex : j + 1;
            const run = text.slice(j, end);
            line += countNewlines(run);
            push({ kind: 'literal', text: run, quote: 'double' });
            j = end;
          }
        }
        i = j + 1;
      } else if (c === '$') {
        i = readDollar(i, 'none', push);
      } else if (c === '`') {
        const end = scanBacktick(i, line);
        push({ kind: 'cmdsub', raw: text.slice(i, end), quote: 'none' });
        i = end;
      } else {
        PLAIN_UNQUOTED.lastIndex = i;
        const end = PLAIN_UNQUOTED.test(text) ? PLAIN_UNQUOTED.lastIndex : i + 1;
        push({ kind: 'literal', text: text.slice(i, end), quote: 'none' });
        i = end;
      }
    }
    return { segments, continued };
  };

  while (i < text.length) {
    skipBlanks(false);
    const c = text[i];
    if (c === undefined) break;
    if (c === '\n' || c === ';') {
      if (c === '\n') line++;
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const statementLine = line;
    let exported = false;
    let words = 0;
    const exportMatch = /^export(?=[ \t])/.exec(text.slice(i, i + 7));
    if (exportMatch) {
      exported = true;
      i += 6;
      skipBlanks(false);
    }
    for (;;) {
      const d = text[i];
      if (d === undefined || d === '\n' || d === ';' || d === '#') break;
      if (d === '|' || d === '&' || d === '<' || d === '>') fail(`unsupported shell operator '${d}'`);
      const rest = text.slice(i, i + 300);
      const m = NAME_ASSIGN.exec(rest);
      if (m && (options.bash || m[2] === '')) {
        const start = i;
        const startLine = line;
        i += m[0].length;
        const valueStart = i;
        let value: ShellSegment[] = [];
        let array: ShellSegment[][] | undefined;
        let continued = false;
        if (text[i] === '(') {
          if (!options.bash) fail(`unsupported array assignment to ${m[1]}`);
          i++;
          array = [];
          for (;;) {
            skipBlanks(true);
            if (text[i] === undefined) fail(`unterminated array assignment to ${m[1]}`, startLine);
            if (text[i] === ')') {
              i++;
              break;
            }
            if (text[i] === ';' || text[i] === '(') fail(`unexpected '${text[i]}' in array ${m[1]}`);
            const w = readWord();
            continued ||= w.continued;
            array.push(w.segments);
          }
        } else {
          const w = readWord();
          value = w.segments;
          continued = w.continued;
          if (text[i] === '(' || text[i] === ')') fail(`unexpected '${text[i]}'`);
        }
        const a: ShellAssignment = {
          name: m[1]!,
          exported,
          append: m[2] === '+',
          line: startLine,
          endLine: line,
          start,
          end: i,
          valueStart,
          valueEnd: i,
          value,
          continued,
        };
        if (array) a.array = array;
        out.push(a);
      } else if (exported && NAME_ONLY.test(rest)) {
        // `export NAME`: marks an existing variable, assigns nothing.
        i += NAME_ONLY.exec(rest)![0].length;
        if (text[i] !== undefined && !/[ \t\n;]/.test(text[i]!)) fail('unsupported export syntax');
      } else {
        const word = /^[^\s;]*/.exec(rest)![0];
        fail(words === 0 && !exported ? `unsupported shell command '${word}'` : `unexpected '${word}' after assignment`, statementLine);
      }
      words++;
      skipBlanks(false);
    }
  }
  return out;
}

export function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === '\n') n++;
  return n;
}
