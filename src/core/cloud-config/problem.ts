// The located validation report (shared/DESIGN.md "Validation returns a report"): every problem
// names the file, a JSON pointer into the parsed document, and the 1-based line and column of the
// node it is about, so editors and people can jump to it.

export type Severity = 'error' | 'warning';

export interface Problem {
  readonly severity: Severity;
  /**
   * The file as the caller named it. Parts of MIME multipart or archive user-data are shown as
   * `FILE#part-N` or `FILE#part-N(filename)`; their line and column count within the part's
   * decoded content (see user-data.ts).
   */
  readonly file: string;
  /** RFC 6901 JSON pointer, e.g. `/write_files/2/permissions`; '' is the whole document. */
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** `file:line:column: path: message`; the whole-document pointer '' is shown as `/`. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path === '' ? '/' : p.path}: ${p.message}`;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** RFC 6901: `~` is written `~0` and `/` is written `~1` inside a reference token. */
export function childPointer(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Where the lines of a text start: turns an offset into a 1-based line and column. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  linePos(offset: number): { line: number; col: number } {
    // The last line that starts at or before the offset (binary search).
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }
}

/**
 * Problems found in one text (a file, or one part of user-data). Offsets are UTF-16 offsets into
 * that text; the line counter turns them into line and column.
 */
export class ProblemReport {
  readonly problems: Problem[] = [];

  constructor(
    readonly file: string,
    private readonly lines: LineIndex,
  ) {}

  add(severity: Severity, offset: number, path: string, message: string): void {
    const { line, col } = this.lines.linePos(Math.max(0, offset));
    this.problems.push({ severity, file: this.file, path, line, column: col, message });
  }

  error(offset: number, path: string, message: string): void {
    this.add('error', offset, path, message);
  }

  warning(offset: number, path: string, message: string): void {
    this.add('warning', offset, path, message);
  }

  errorCount(): number {
    return this.problems.filter((p) => p.severity === 'error').length;
  }

  /** An empty report on the same text, for trying an alternative before committing to it. */
  fork(): ProblemReport {
    return new ProblemReport(this.file, this.lines);
  }

  absorb(other: ProblemReport): void {
    this.problems.push(...other.problems);
  }
}
