/**
 * Exports that look like deliverables: docx through the reference document patched at run time (cover page,
 * table of contents, grid tables, header and footer, lang fr-FR), PDF printed by Chromium from pandoc's HTML,
 * the synthesis within three pages. Needs pandoc (and chromium for PDF; LibreOffice, optional, to paginate
 * the docx): each test says what it skips.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { execaSync } from 'execa';
import { loadRunInputs, renderDossier, writeDocument } from '../src/report/index.ts';
import { readZip } from '../src/report/zip.ts';
import { tempRoot, writeRunDir } from './report-fixture.ts';

const roots: string[] = [];
function root(label: string): string {
  const r = tempRoot(label);
  roots.push(r);
  return r;
}
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function has(cmd: string, args: string[] = ['--version']): boolean {
  try {
    execaSync(cmd, args, { timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}
const PANDOC = has('pandoc');
const CHROMIUM = has(process.env.CHROMIUM ?? '/usr/bin/chromium') && has('pdftotext', ['-v']);
const SOFFICE = has('soffice') && has('pdftotext', ['-v']);
const META = {
  lang: 'fr' as const,
  customer: 'ARS PACA',
  contract: 'MAPA/06/2019/ARS13',
  order: 'BC-2026-0412',
  date: '02/03/2026',
  subtitle: 'MAJSER — mise à jour des serveurs GLPI et OCS existants',
};
const TITLE = 'Dossier de tests — mise à jour des serveurs GLPI et OCS (lot MAJSER)';

/** The page (1-based) where a line equal to `text` first appears, read with pdftotext page by page. */
function pageOf(pdf: string, text: string, from = 1): number {
  const pages = Number(/Pages:\s+(\d+)/.exec(execaSync('pdfinfo', [pdf]).stdout)![1]);
  for (let p = from; p <= pages; p++) {
    const t = execaSync('pdftotext', ['-f', String(p), '-l', String(p), '-layout', pdf, '-']).stdout;
    if (t.split('\n').some((l) => l.trim() === text)) return p;
  }
  return -1;
}

describe('docx', () => {
  it.skipIf(!PANDOC)('has a cover page, a table of contents, grid tables, header, footer and lang fr-FR (skipped when pandoc is missing)', async () => {
    const md = renderDossier(loadRunInputs(writeRunDir(root('docx'))));
    const out = path.join(root('docx-out'), 'not', 'yet', 'dossier.docx');
    await writeDocument(md, out, 'docx', TITLE, { meta: META });
    const entries = new Map(readZip(fs.readFileSync(out)).map((e) => [e.name, e.data.toString('utf8')]));
    const document = entries.get('word/document.xml')!;
    const styles = entries.get('word/styles.xml')!;
    expect(document).toContain('w:val="Title"');
    expect(document).toContain('MAPA/06/2019/ARS13');
    expect(document).toMatch(/TOC \\o/);
    expect(document).toMatch(/<w:headerReference [^>]*w:type="default"/);
    expect(document).toMatch(/<w:footerReference [^>]*w:type="default"/);
    expect(document).toContain('w:w="11906"');
    const header = [...entries.entries()].find(([n]) => /^word\/header\d*\.xml$/.test(n))![1];
    const footer = [...entries.entries()].find(([n]) => /^word\/footer\d*\.xml$/.test(n))![1];
    expect(header).toContain('Dossier de tests — ARS PACA');
    expect(footer).toContain('Marché MAPA/06/2019/ARS13');
    expect(footer).toContain('NUMPAGES');
    expect(styles).toMatch(/w:styleId="Table"[^>]*>(?:(?!<\/w:style>)[\s\S])*<w:tblInd [^>]*\/>\s*<w:tblBorders>/);
    expect(styles).toMatch(/w:styleId="Heading1"[^>]*>(?:(?!<\/w:style>)[\s\S])*<w:keepLines \/>\s*<w:pageBreakBefore \/>/);
    expect(entries.get('word/settings.xml')).toMatch(/<w:updateFields w:val="true" \/>\s*<w:footnotePr>/);
    expect(styles).toContain('w:val="fr-FR"');
    // The Markdown's own H1 became the title, not a chapter.
    expect(document).not.toMatch(/w:val="Heading1"\/?>(?:(?!<\/w:p>)[\s\S])*Dossier de tests — mise à jour/);
  });

  it.skipIf(!PANDOC || !SOFFICE)(
    'the synthesis fits in three pages once paginated by LibreOffice (skipped when pandoc, soffice or pdftotext is missing)',
    async () => {
      const md = renderDossier(loadRunInputs(writeRunDir(root('docx-pages'))));
      const dir = root('docx-pages-out');
      const out = path.join(dir, 'dossier.docx');
      await writeDocument(md, out, 'docx', TITLE, { meta: META });
      execaSync('soffice', ['--headless', '--convert-to', 'pdf', '--outdir', dir, out], { timeout: 300_000, env: { HOME: dir } });
      const pdf = path.join(dir, 'dossier.pdf');
      // After the table of contents, which lists the same titles.
      const start = pageOf(pdf, 'Synthèse pour le comité de pilotage', pageOf(pdf, 'Table des matières') + 1);
      const next = pageOf(pdf, '1. Identification', start + 1);
      expect(start).toBeGreaterThan(1);
      expect(next - start).toBeGreaterThan(0);
      expect(next - start).toBeLessThanOrEqual(3);
    },
    400_000,
  );
});

describe('pdf', () => {
  it.skipIf(!PANDOC || !CHROMIUM)(
    'printed by chromium: A4, cover page, the synthesis within three pages (skipped when pandoc, chromium or poppler-utils is missing)',
    async () => {
      const md = renderDossier(loadRunInputs(writeRunDir(root('pdf'))));
      const out = path.join(root('pdf-out'), 'new-dir', 'dossier.pdf');
      await writeDocument(md, out, 'pdf', TITLE, { meta: META });
      const info = execaSync('pdfinfo', [out]).stdout;
      expect(info).toMatch(/Page size:\s+59\d\.\d+ x 84\d\.\d+ pts \(A4\)/);
      const first = execaSync('pdftotext', ['-f', '1', '-l', '1', out, '-']).stdout;
      expect(first).toContain('Marché MAPA/06/2019/ARS13');
      expect(first).not.toContain('Synthèse pour le comité de pilotage');
      const toc = pageOf(out, 'Table des matières');
      expect(toc).toBe(2);
      const start = pageOf(out, 'Synthèse pour le comité de pilotage', toc + 1);
      const next = pageOf(out, '1. Identification', start + 1);
      expect(start).toBeGreaterThan(2);
      expect(next - start).toBeGreaterThan(0);
      expect(next - start).toBeLessThanOrEqual(3);
      const later = execaSync('pdftotext', ['-f', String(start), '-l', String(start), out, '-']).stdout;
      expect(later).toMatch(/Page \d+ sur \d+/);
    },
    300_000,
  );

  it.skipIf(!PANDOC)('a missing chromium is a clear missing-dependency error naming the Debian package', async () => {
    const out = path.join(root('pdf-nochrome'), 'x.pdf');
    await expect(writeDocument('# T\n\n## A\n\ntext\n', out, 'pdf', 'T', { chromium: '/nonexistent/chromium-fake' })).rejects.toThrow(
      /chromium is needed for --format pdf but was not found at \/nonexistent\/chromium-fake/,
    );
    await expect(writeDocument('# T\n', out, 'pdf', 'T', { chromium: '/nonexistent/chromium-fake' })).rejects.toMatchObject({ hint: expect.stringContaining('apt-get install chromium') });
  });
});
