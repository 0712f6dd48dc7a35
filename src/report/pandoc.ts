/**
 * Exports of the generated Markdown (GFM, the reference document) as deliverables:
 *
 *   - docx: pandoc, with a reference document built at run time from pandoc's own default
 *     (`pandoc --print-default-data-file reference.docx`) whose styles are patched: A4 page, grid tables,
 *     each chapter on a new page, a cover page (title, subtitle, customer, contract, date) followed by the
 *     table of contents, a running header (title, customer) and footer (contract, page n / total), lang fr-FR;
 *   - html: pandoc, standalone, with the same cover page, table of contents and print style sheet;
 *   - pdf: that HTML printed by Chromium (`chromium --headless --print-to-pdf`, Debian package `chromium`),
 *     with the header and footer as CSS page margin boxes. No LaTeX needed.
 *
 * Mermaid diagrams stay code blocks in every export (no offline renderer is shipped); the DAT says so.
 * The output directory is created when missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { MissingDependencyError, ToolError, ExitCode, UsageError } from '../errors.ts';
import { readZip, writeZip } from './zip.ts';

export type OutputFormat = 'md' | 'docx' | 'pdf' | 'html';
export const OUTPUT_FORMATS: OutputFormat[] = ['md', 'docx', 'pdf', 'html'];

/** What the cover page, header and footer show. */
export interface DocumentMeta {
  lang: 'fr' | 'en';
  customer?: string;
  contract?: string;
  order?: string;
  /** Already formatted for the document's language. */
  date?: string;
  subtitle?: string;
}

export interface WriteOptions {
  pandoc?: string;
  chromium?: string;
  meta?: DocumentMeta;
  /** Where relative images (the functional tests' screenshots) are found: the run directory. */
  resourcePath?: string;
}

export function parseFormat(value: string | undefined, outFile?: string): OutputFormat {
  if (value === undefined) {
    const ext = outFile ? path.extname(outFile).slice(1).toLowerCase() : '';
    return (OUTPUT_FORMATS as string[]).includes(ext) ? (ext as OutputFormat) : 'md';
  }
  if (!(OUTPUT_FORMATS as string[]).includes(value)) throw new UsageError(`unknown format "${value}": use md, docx, pdf or html`);
  return value as OutputFormat;
}

const LABELS = {
  fr: { toc: 'Table des matières', contract: 'Marché', order: 'Bon de commande', customer: 'Client', page: 'Page', of: 'sur' },
  en: { toc: 'Contents', contract: 'Contract', order: 'Purchase order', customer: 'Customer', page: 'Page', of: 'of' },
};

function xmlEscape(t: string): string {
  return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function footerText(meta: DocumentMeta): string {
  const l = LABELS[meta.lang];
  return [meta.contract ? `${l.contract} ${meta.contract}` : undefined, meta.order ? `${l.order} ${meta.order}` : undefined].filter(Boolean).join(' — ');
}

function headerText(title: string, meta: DocumentMeta): string {
  const short = title.split(' — ')[0];
  return meta.customer ? `${short} — ${meta.customer}` : short;
}

/** Authors line of the cover page: customer, contract, order. */
function coverLines(meta: DocumentMeta): string[] {
  const l = LABELS[meta.lang];
  return [
    meta.customer ? `${l.customer} : ${meta.customer}`.replace(' :', meta.lang === 'fr' ? '\u00a0:' : ':') : undefined,
    meta.contract ? `${l.contract} ${meta.contract}` : undefined,
    meta.order ? `${l.order} ${meta.order}` : undefined,
  ].filter((x): x is string => Boolean(x));
}

const run = (text: string, extra = '') => `<w:r>${extra ? `<w:rPr>${extra}</w:rPr>` : ''}<w:t xml:space="preserve">${xmlEscape(text)}</w:t></w:r>`;
const field = (instr: string) =>
  `<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> ${instr} </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>`;
const W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';

/** Patches pandoc's default reference.docx: styles, A4 section with header and footer. */
export function patchReferenceDocx(reference: Buffer, title: string, meta: DocumentMeta): Buffer {
  const l = LABELS[meta.lang];
  const entries = readZip(reference);
  const get = (name: string) => {
    const e = entries.find((x) => x.name === name);
    if (!e) throw new Error(`reference.docx has no ${name}`);
    return e;
  };
  /** Replaces the text of entry `name` by `change(text)`. */
  const edit = (name: string, change: (text: string) => string) => {
    const e = get(name);
    e.data = Buffer.from(change(e.data.toString('utf8')), 'utf8');
  };
  const border = (side: string) => `<w:${side} w:val="single" w:sz="4" w:space="0" w:color="808080"/>`;
  const styles = get('word/styles.xml');
  let st = styles.data.toString('utf8');
  // Elements are inserted where the WordprocessingML schema orders them (Word rejects a misordered part).
  // Grid tables: tblBorders comes right after tblInd in tblPr.
  st = st.replace(
    /(<w:style w:type="table" w:default="1" w:styleId="Table">[\s\S]*?<w:tblPr>[\s\S]*?<w:tblInd [^>]*\/>)/,
    `$1<w:tblBorders>${['top', 'left', 'bottom', 'right', 'insideH', 'insideV'].map(border).join('')}</w:tblBorders>`,
  );
  // Each chapter on a new page (pageBreakBefore follows keepNext and keepLines); the table of contents
  // closes the cover page.
  st = st.replace(/(<w:style w:type="paragraph" w:styleId="Heading1">[\s\S]*?<w:keepLines \/>)/, '$1<w:pageBreakBefore />');
  // Cover page: the title lower on the page.
  st = st.replace(/(<w:style w:type="paragraph" w:styleId="Title">[\s\S]*?)<w:spacing w:before="\d+" w:after="\d+" \/>/, '$1<w:spacing w:before="3600" w:after="480" />');
  // Language of the text (spelling, hyphenation).
  st = st.replace(/<w:lang [^>]*\/>/g, `<w:lang w:val="${meta.lang === 'fr' ? 'fr-FR' : 'en-GB'}" />`);
  // Smaller body text in tables.
  styles.data = Buffer.from(st, 'utf8');

  const header = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:hdr ${W_NS}><w:p><w:pPr><w:pBdr><w:bottom w:val="single" w:sz="4" w:space="1" w:color="808080"/></w:pBdr><w:jc w:val="right"/></w:pPr>${run(headerText(title, meta), '<w:sz w:val="16"/>')}</w:p></w:hdr>`;
  const foot = footerText(meta);
  const footer = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:ftr ${W_NS}><w:p><w:pPr><w:pBdr><w:top w:val="single" w:sz="4" w:space="1" w:color="808080"/></w:pBdr><w:tabs><w:tab w:val="right" w:pos="9638"/></w:tabs></w:pPr>${run(foot, '<w:sz w:val="16"/>')}<w:r><w:tab/></w:r>${run(`${l.page} `, '<w:sz w:val="16"/>')}${field('PAGE')}${run(` ${l.of} `, '<w:sz w:val="16"/>')}${field('NUMPAGES')}</w:p></w:ftr>`;
  entries.push({ name: 'word/header1.xml', data: Buffer.from(header, 'utf8') }, { name: 'word/footer1.xml', data: Buffer.from(footer, 'utf8') });

  edit('word/_rels/document.xml.rels', (t) =>
    t.replace(
      '</Relationships>',
      '<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Id="rIdGouHeader" Target="header1.xml" /><Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Id="rIdGouFooter" Target="footer1.xml" /></Relationships>',
    ),
  );
  edit('[Content_Types].xml', (t) =>
    t.replace(
      '</Types>',
      '<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml" /><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml" /></Types>',
    ),
  );
  const sect =
    '<w:sectPr><w:headerReference w:type="default" r:id="rIdGouHeader"/><w:footerReference w:type="default" r:id="rIdGouFooter"/><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1417" w:right="1134" w:bottom="1417" w:left="1134" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>';
  edit('word/document.xml', (text) => {
    const d = /xmlns:r=/.test(text) ? text : text.replace('<w:document ', '<w:document xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ');
    return d.replace(/<w:sectPr\s*\/>|<w:sectPr>[\s\S]*?<\/w:sectPr>/, sect);
  });
  return writeZip(entries);
}

/**
 * Word fills the table of contents and the page count when the document is opened (pandoc writes the
 * fields empty and keeps only some settings of the reference document, so this is set on its output).
 */
export function askToUpdateFields(docx: Buffer): Buffer {
  const entries = readZip(docx);
  const settings = entries.find((e) => e.name === 'word/settings.xml');
  if (!settings || settings.data.includes('w:updateFields')) return docx;
  settings.data = Buffer.from(settings.data.toString('utf8').replace(/(\s*<w:footnotePr>)/, '<w:updateFields w:val="true" />$1'), 'utf8');
  return writeZip(entries);
}

/** The print style sheet of the HTML and PDF exports. */
function css(title: string, meta: DocumentMeta): string {
  const l = LABELS[meta.lang];
  const q = (t: string) => JSON.stringify(t);
  return `
@page { size: A4; margin: 22mm 18mm 20mm 18mm;
  @top-right { content: ${q(headerText(title, meta))}; font: 8pt sans-serif; color: #555; }
  @bottom-left { content: ${q(footerText(meta))}; font: 8pt sans-serif; color: #555; }
  @bottom-right { content: ${q(`${l.page} `)} counter(page) ${q(` ${l.of} `)} counter(pages); font: 8pt sans-serif; color: #555; } }
@page :first { @top-right { content: none; } @bottom-left { content: none; } @bottom-right { content: none; } }
html, body { background: #fff; }
html { font: 10pt/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111; }
body { max-width: none; margin: 0; padding: 0; hyphens: auto; }
header#title-block-header { padding-top: 60mm; break-after: page; margin: 0; }
header#title-block-header .title { font-size: 24pt; line-height: 1.25; color: #1f4e79; margin: 0 0 12mm 0; }
header#title-block-header .subtitle { font-size: 14pt; margin: 0 0 14mm 0; }
header#title-block-header .author, header#title-block-header .date { font-size: 12pt; margin: 2mm 0; }
nav#TOC { break-after: page; }
nav#TOC > h2 { font-size: 16pt; color: #1f4e79; margin-bottom: 6mm; }
nav#TOC ul { list-style: none; padding-left: 1.2em; }
nav#TOC > ul { padding-left: 0; }
nav#TOC a { color: #111; text-decoration: none; }
h1 { break-before: page; font-size: 16pt; color: #1f4e79; border-bottom: 1px solid #1f4e79; padding-bottom: 2mm; }
h2 { font-size: 13pt; color: #1f4e79; break-after: avoid; }
h3 { font-size: 11pt; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 3mm 0; font-size: 8.5pt; }
th, td { border: 0.5pt solid #808080; padding: 1.2mm 1.6mm; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #dde6f0; overflow-wrap: normal; }
tr { break-inside: avoid; }
code { font-size: 8.5pt; overflow-wrap: anywhere; }
pre { font-size: 8pt; white-space: pre-wrap; background: #f4f4f4; padding: 2mm; border: 0.5pt solid #ccc; }
blockquote { margin: 3mm 0; padding: 2mm 4mm; border-left: 3pt solid #1f4e79; background: #eef3f8; }
`;
}

async function runTool(cmd: string, args: string[], what: string, hint: string, format: OutputFormat): Promise<void> {
  const r = await execa(cmd, args, { reject: false, timeout: 300_000 });
  if ((r as { code?: string }).code === 'ENOENT' || (r.failed && r.exitCode === undefined && /ENOENT/.test(String(r.message)))) {
    throw new MissingDependencyError(`${what} is needed for --format ${format} but was not found ${path.isAbsolute(cmd) ? `at ${cmd}` : 'on PATH'}`, { hint });
  }
  if (r.exitCode !== 0) {
    const err =
      String(r.stderr)
        .trim()
        .split('\n')
        .filter((x) => x.trim())[0] ?? '';
    throw new ToolError(`${what} failed (exit ${r.exitCode}): ${err}`, ExitCode.INTERNAL);
  }
}

/** Writes `markdown` to `outFile` in `format`; md is written as is, the others go through pandoc. */
export async function writeDocument(markdown: string, outFile: string, format: OutputFormat, title: string, options: WriteOptions = {}): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  if (format === 'md') {
    fs.writeFileSync(outFile, markdown);
    return;
  }
  const meta: DocumentMeta = options.meta ?? { lang: 'fr' };
  const pandoc = options.pandoc ?? process.env.PANDOC ?? 'pandoc';
  const pandocHint = 'install it (apt-get install pandoc) or use --format md (the default)';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-report-'));
  const src = path.join(tmp, 'document.md');
  fs.writeFileSync(src, markdown);
  const l = LABELS[meta.lang];
  // The document's own H1 becomes the title (cover page); its chapters (##) become level 1.
  const common = ['-f', 'gfm', src, '--shift-heading-level-by=-1', '--toc', '--toc-depth=2', '-M', `lang=${meta.lang === 'fr' ? 'fr-FR' : 'en-GB'}`, '-M', `toc-title=${l.toc}`];
  if (meta.subtitle) common.push('-M', `subtitle=${meta.subtitle}`);
  for (const a of coverLines(meta)) common.push('-M', `author=${a}`);
  if (meta.date) common.push('-M', `date=${meta.date}`);
  // Relative images (the functional tests' screenshots) are found from the run directory.
  if (options.resourcePath) common.push(`--resource-path=${path.resolve(options.resourcePath)}`);
  try {
    if (format === 'docx') {
      const refOut = path.join(tmp, 'default-reference.docx');
      await runTool(pandoc, ['-o', refOut, '--print-default-data-file', 'reference.docx'], 'pandoc', pandocHint, format);
      const ref = path.join(tmp, 'reference.docx');
      fs.writeFileSync(ref, patchReferenceDocx(fs.readFileSync(refOut), title, meta));
      await runTool(pandoc, [...common, '-t', 'docx', '--reference-doc', ref, '-o', path.resolve(outFile)], 'pandoc', pandocHint, format);
      fs.writeFileSync(outFile, askToUpdateFields(fs.readFileSync(outFile)));
      return;
    }
    const header = path.join(tmp, 'style.html');
    fs.writeFileSync(header, `<style>${css(title, meta)}</style>\n`);
    const html = format === 'html' ? path.resolve(outFile) : path.join(tmp, 'document.html');
    // The PDF's HTML lives in a temporary directory: images are embedded so that Chromium finds them.
    const embed = format === 'pdf' && options.resourcePath ? ['--self-contained'] : [];
    await runTool(pandoc, [...common, ...embed, '-s', '-t', 'html5', '-H', header, '-o', html], 'pandoc', pandocHint, format);
    if (format === 'html') return;
    const chromium = options.chromium ?? process.env.CHROMIUM ?? '/usr/bin/chromium';
    await runTool(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-pdf-header-footer', `--user-data-dir=${path.join(tmp, 'profile')}`, `--print-to-pdf=${path.resolve(outFile)}`, `file://${html}`],
      'chromium',
      'PDF is printed from HTML by Chromium: apt-get install chromium (or set CHROMIUM to its path); or use --format docx or html',
      format,
    );
    if (!fs.existsSync(outFile)) throw new ToolError(`chromium did not write ${outFile}`, ExitCode.INTERNAL);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
