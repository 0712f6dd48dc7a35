import type { Command } from 'commander';
import { outputFor } from '../context.ts';
import { loadReportInputs } from '../../report/inputs.ts';
import { renderDat } from '../../report/dat.ts';
import { writeDocument } from '../../report/pandoc.ts';
import { stringsFor } from '../../report/format.ts';
import type { ReportCommandOptions } from './dossier.ts';
import { addReportOptions, documentMeta, outputPath } from './dossier.ts';
import { loadRecette } from '../../report/recette.ts';

export function register(program: Command): void {
  const cmd = program
    .command('dat')
    .description('write the technical architecture document (DAT) skeleton, filled from a run or snapshot directory')
    .argument('<dir>', 'a run directory (run.yaml: uses its plan, audit and snapshot) or a snapshot directory (manifest.yaml)');
  addReportOptions(cmd, 'dat')
    .addHelpText(
      'after',
      `
Examples:
  $ glpi-ocs-upgrade dat run-1                    # run-1/dat.md, in French
  $ glpi-ocs-upgrade dat snap-2026-11-23 -o dat.md
  $ glpi-ocs-upgrade dat run-1 --lang en --format html   # needs pandoc

What the tool cannot know is marked "À compléter" ("To be completed") with a hint. See docs/reports.md.`,
    )
    .action(async (dir: string, opts: ReportCommandOptions, command: Command) => {
      const out = outputFor(command);
      const inputs = loadReportInputs(dir, { snapshotDir: opts.snapshot });
      const recette = opts.recette ? loadRecette(opts.recette) : undefined;
      const markdown = renderDat(inputs, { lang: opts.lang, customer: opts.customer ?? recette?.customer, project: opts.project ?? recette?.project, recette });
      const { file, format } = outputPath(dir, 'dat', opts);
      const date = inputs.kind === 'run' ? (inputs.run.finishedAt ?? inputs.run.startedAt) : inputs.manifest.createdAt;
      await writeDocument(markdown, file, format, stringsFor(opts.lang).dat.title, { meta: documentMeta(opts, recette, date) });
      const todo = markdown.split(stringsFor(opts.lang).todo).length - 1;
      out.result({ file, format, source: inputs.kind, toComplete: todo });
      out.say(`wrote ${file} (${todo} ${todo === 1 ? 'item' : 'items'} marked "${stringsFor(opts.lang).todo}")`);
    });
}
