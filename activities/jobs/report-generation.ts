import path from 'node:path';
import { JOB_REPORT_KIND } from '../../common';
import { REPORT_FORMATS, REPORT_SECTIONS, type ReportGenerationParameters } from '../../jobs/parameter-schemas';
import { writeFileAtomically } from './files';
import { sendJobEmails } from './outbox-mail';
import { reportCsv, reportHtml, type SectionTable } from './report-render';
import { createReportSections } from './report-sections';
import {
  shortKey,
  utcStamp,
  validatedParams,
  type JobRequest,
  type JobTemplateDeps,
  type JobTemplateResult,
} from './types';

export function createReportGeneration(deps: JobTemplateDeps) {
  const { settings } = deps;
  const SECTIONS = createReportSections(deps.database.sql, settings.timezone);

  return async function runReportGeneration(
    request: JobRequest<ReportGenerationParameters>,
  ): Promise<JobTemplateResult> {
    const params = validatedParams('report_generation', request.params);
    const sections = params.sections ?? [...REPORT_SECTIONS];
    const formats = params.formats ?? [...REPORT_FORMATS];
    const days = params.period_days ?? 7;
    const generated = new Date();
    const logs: string[] = [];

    const figures: Record<string, unknown> = {};
    const tables: SectionTable[] = [];
    for (const section of sections) {
      const computed = await SECTIONS[section](days);
      figures[section] = computed.figures;
      tables.push(computed.table);
    }
    logs.push(`computed ${sections.join(', ')} over ${days} days`);
    const title = `EDMS report, last ${days} days`;
    const html = reportHtml(title, generated, tables, settings.timezone);

    const files: Record<string, string> = {};
    if (!request.dryRun) {
      // The execution key in the name keeps two runs in the same second apart.
      const base = path.join(
        settings.exportsDir,
        'reports',
        `report_${utcStamp(generated)}_${shortKey(request.executionKey)}`,
      );
      for (const format of formats) {
        const file = `${base}.${format}`;
        await writeFileAtomically(file, format === 'html' ? html : reportCsv(tables));
        files[format] = file;
        logs.push(`wrote ${path.basename(file)}`);
      }
    }

    let emailed: string[] = [];
    if (params.email_to && !request.dryRun) {
      const subject = `[EDMS] ${title}`;
      const text = `${title}\n\nThe report is in the HTML part of this email${files.html ? ` and at ${files.html}` : ''}.\n`;
      const outcomes = await sendJobEmails(
        deps,
        request.executionKey,
        params.email_to.map((recipient) => ({
          recipient,
          kind: JOB_REPORT_KIND,
          variables: { subject, text, html, job_id: request.jobId },
        })),
        async ({ variables }) => ({
          subject: String(variables.subject),
          text: String(variables.text),
          html: String(variables.html),
        }),
      );
      emailed = outcomes.map((o) => o.recipient);
      logs.push(`emailed to ${emailed.join(', ')}`);
    } else if (params.email_to) {
      logs.push(`dry run: would email to ${params.email_to.join(', ')}`);
    }

    return {
      summary: request.dryRun
        ? `Built the report (${sections.length} sections) without storing or emailing it`
        : `Report with ${sections.length} sections written${emailed.length ? ` and emailed to ${emailed.length}` : ''}`,
      result: {
        period_days: days,
        generated_at: generated.toISOString(),
        sections: figures,
        files,
        emailed_to: emailed,
      },
      logs,
    };
  };
}
