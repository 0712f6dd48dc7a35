import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { outputFor } from '../context.ts';
import { FindingsError } from '../../errors.ts';
import { loadRunInputs } from '../../report/inputs.ts';
import { buildDossierModel } from '../../report/model.ts';
import { renderDossierModel } from '../../report/dossier.ts';
import { parseFormat, writeDocument } from '../../report/pandoc.ts';
import type { Lang } from '../../report/format.ts';
import { stringsFor } from '../../report/format.ts';
import type { Recette } from '../../report/recette.ts';
import { loadRecette } from '../../report/recette.ts';
import type { DocumentMeta } from '../../report/pandoc.ts';
import { readFunctionalResults } from '../../functional/index.ts';
import { functionalAnomalies } from '../../report/functional-anomalies.ts';

/** The cover page and running header/footer of docx and pdf exports. */
export function documentMeta(o: ReportCommandOptions, recette: Recette | undefined, date: string): DocumentMeta {
  const s = stringsFor(o.lang);
  return {
    lang: o.lang ?? 'fr',
    customer: o.customer ?? recette?.customer,
    contract: recette?.contract,
    order: recette?.order,
    date: s.day(date),
    subtitle: s.dossier.lotValue,
  };
}

export interface ReportCommandOptions {
  output?: string;
  lang?: Lang;
  format?: string;
  snapshot?: string;
  customer?: string;
  project?: string;
  recette?: string;
  failUnlessAccepted?: boolean;
}

export function addReportOptions(cmd: Command, defaultName: string): Command {
  return cmd
    .option('-o, --output <file>', `where to write the document (default: ${defaultName}.<format> in the directory given)`)
    .addOption(new Option('--lang <lang>', 'language of the document').choices(['fr', 'en']).default('fr'))
    .addOption(new Option('--format <format>', 'md, or docx / pdf / html through pandoc when installed (default: from -o, else md)').choices(['md', 'docx', 'pdf', 'html']))
    .option('--snapshot <dir>', 'the snapshot directory, when it moved since the rehearsal (default: the one run.yaml names)')
    .option('--recette <file>', 'recette.yaml: contract and order references, signatories, agreed severities, anomaly follow-up, réserves, manual test results (docs/reports.md)')
    .option('--customer <name>', 'customer name for the identification and the acceptance report (overrides recette.yaml)')
    .option('--project <name>', 'project name (default: the MAJSER lot title)');
}

export function outputPath(dir: string, defaultName: string, o: ReportCommandOptions): { file: string; format: ReturnType<typeof parseFormat> } {
  const format = parseFormat(o.format, o.output);
  return { file: o.output ?? path.join(dir, `${defaultName}.${format}`), format };
}

export function register(program: Command): void {
  const cmd = program
    .command('dossier')
    .description('write the test dossier (dossier de tests) of a rehearsal: test cases with evidence, anomaly register, §8.11 verdict, traceability, PV')
    .argument('<run-dir>', 'the run directory written by `rehearse` (run.yaml, plan.yaml, journal.jsonl, evidence/)');
  addReportOptions(cmd, 'dossier-de-tests')
    .option('--fail-unless-accepted', `exit with code 8 when the verdict is not "provisional acceptance" (for CI)`)
    .addHelpText(
      'after',
      `
Examples:
  $ glpi-ocs-upgrade dossier run-1                         # run-1/dossier-de-tests.md, in French
  $ glpi-ocs-upgrade dossier run-1 --lang en -o test-dossier.md
  $ glpi-ocs-upgrade dossier run-1 --recette recette.yaml --format docx -o livrables/dossier.docx   # needs pandoc
  $ glpi-ocs-upgrade dossier run-1 --format pdf           # pandoc + chromium (Debian package chromium)
  $ glpi-ocs-upgrade dossier run-1 --json --fail-unless-accepted         # CI: verdict on stdout, exit 8 if not accepted

The same run directory always gives the same document (no clock, stable order). No password is ever written.
See docs/reports.md.`,
    )
    .action(async (runDir: string, opts: ReportCommandOptions, command: Command) => {
      const out = outputFor(command);
      const inputs = loadRunInputs(runDir, { snapshotDir: opts.snapshot });
      const recette = opts.recette ? loadRecette(opts.recette) : undefined;
      const functional = readFunctionalResults(runDir);
      const model = buildDossierModel(inputs, { recette, extraAnomalies: functionalAnomalies(functional) });
      const markdown = renderDossierModel(model, { lang: opts.lang, customer: opts.customer, project: opts.project, functional });
      const { file, format } = outputPath(runDir, 'dossier-de-tests', opts);
      await writeDocument(markdown, file, format, stringsFor(opts.lang).dossier.title, { meta: documentMeta(opts, recette, model.date), resourcePath: runDir });
      const v = model.verdict;
      out.result({
        file,
        format,
        verdict: v.kind,
        residual: v.residual,
        resolved: v.resolved,
        notRun: v.notRun,
        failed: v.failed,
        reasons: v.reasons,
        cases: model.cases.length,
        registers: { anomalies: model.register.length, constats: model.constats.length, risks: model.risks.length },
      });
      out.say(`wrote ${file}`);
      out.say(`verdict: ${v.kind} (residual anomalies: ${v.residual.blocking} blocking, ${v.residual.major} major, ${v.residual.minor} minor; ${v.notRun.length} not run, ${v.failed.length} failed)`);
      if (model.unknownRecetteIds.length) out.warn(`recette.yaml names ids this run does not know: ${model.unknownRecetteIds.join(', ')}`);
      for (const w of inputs.warnings)
        out.warn(
          w === 'no-manifest'
            ? 'the snapshot manifest was not found: the dossier lacks the per-table fingerprints (use --snapshot DIR)'
            : 'no findings.yaml in the run directory: the audit checks are not in the dossier',
        );
      if (opts.failUnlessAccepted && v.kind !== 'accepted') {
        throw new FindingsError(`the verdict is "${v.kind}", not an acceptance (--fail-unless-accepted)`);
      }
    });
}
