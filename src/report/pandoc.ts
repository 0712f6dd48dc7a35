/**
 * Optional conversion of the generated Markdown to DOCX, PDF or HTML with pandoc, when it is installed.
 * The Markdown (GFM) stays the reference document; Mermaid diagrams remain code blocks in the output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { MissingDependencyError, ToolError, ExitCode, UsageError } from '../errors.ts';

export type OutputFormat = 'md' | 'docx' | 'pdf' | 'html';
export const OUTPUT_FORMATS: OutputFormat[] = ['md', 'docx', 'pdf', 'html'];

export function parseFormat(value: string | undefined, outFile?: string): OutputFormat {
  if (value === undefined) {
    const ext = outFile ? path.extname(outFile).slice(1).toLowerCase() : '';
    return (OUTPUT_FORMATS as string[]).includes(ext) ? (ext as OutputFormat) : 'md';
  }
  if (!(OUTPUT_FORMATS as string[]).includes(value)) throw new UsageError(`unknown format "${value}": use md, docx, pdf or html`);
  return value as OutputFormat;
}

/** Writes `markdown` to `outFile` in `format`; md is written as is, the others go through pandoc. */
export async function writeDocument(markdown: string, outFile: string, format: OutputFormat, title: string, options: { pandoc?: string; resourcePath?: string } = {}): Promise<void> {
  if (format === 'md') {
    fs.writeFileSync(outFile, markdown);
    return;
  }
  const pandoc = options.pandoc ?? process.env.PANDOC ?? 'pandoc';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-report-'));
  const src = path.join(tmp, 'document.md');
  fs.writeFileSync(src, markdown);
  // The document carries its own H1: only HTML needs a page title (for <title>), not a title block.
  const args = ['-f', 'gfm', src, '-o', outFile];
  // Relative images (the functional tests' screenshots) are found from the run directory.
  if (options.resourcePath) args.push(`--resource-path=${path.resolve(options.resourcePath)}`);
  if (format === 'html') args.push('-s', '-t', 'html5', '--metadata', `pagetitle=${title}`);
  try {
    const r = await execa(pandoc, args, { reject: false });
    if ((r as { code?: string }).code === 'ENOENT' || (r.failed && r.exitCode === undefined && /ENOENT/.test(String(r.message)))) {
      throw new MissingDependencyError(`pandoc is needed for --format ${format} but was not found on PATH`, {
        hint: 'install it (apt-get install pandoc) or use --format md (the default)',
      });
    }
    if (r.exitCode !== 0) {
      const err = String(r.stderr).trim().split('\n')[0] ?? '';
      if (/not found|pdflatex|xelatex|lualatex|pdf-engine/i.test(err)) {
        throw new MissingDependencyError(`pandoc could not produce ${format}: ${err}`, { hint: 'PDF needs a LaTeX engine (apt-get install texlive-xetex); or use --format docx or html' });
      }
      throw new ToolError(`pandoc failed (exit ${r.exitCode}): ${err}`, ExitCode.INTERNAL);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
