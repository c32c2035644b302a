/**
 * Scraping on Temporal: `scrapeAppWorkflow` runs the scrape activity for one app on the scrape task queue
 * (retries resume from its heartbeat checkpoint; no worker there within the queue timeout fails it as NoWorker);
 * `nightlyScrapeWorkflow` (what a Schedule starts) runs the shared nightly plan with one child per app (id
 * `<parent id>/<appId>`, so a retried parent never starts a duplicate) and, when asked, the pipeline
 * (`<parent id>/pipeline`) and the night's scoring (`<parent id>/score`) as children afterwards; a scored night's
 * memo carries `scoringStatus` (`ok`, `drift`, `skipped`, `failed`) and its alerts.
 */
import { ApplicationFailure, executeChild, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ScrapeAppInput, ScrapeAppOutput } from '../activities/scrape/scrape-app';
import { workflowFailure } from './failure';
import { pipelineWorkflow } from './pipeline';
import { NIGHTLY_SCORING_PATCH, scoringWorkflow, upsertScoringMemo } from './score';
import {
  SCRAPE_PROFILES,
  runNightlyScrape,
  scrapeActivityOptions,
  scrapeRouting,
  validateNightlyPlan,
  type NightlyScrapePlan,
  type NightlyScrapeResult,
  type ScrapeActivities,
  type ScrapeRouting,
} from './plans/scrape';

const { combineScrapes } = proxyActivities<ScrapeActivities>(SCRAPE_PROFILES.combineScrapes);

export async function scrapeAppWorkflow(input: ScrapeAppInput, routing: ScrapeRouting = {}): Promise<ScrapeAppOutput> {
  const options = scrapeActivityOptions(routing);
  const { scrapeApp } = proxyActivities<ScrapeActivities>(options);
  try {
    return await scrapeApp(input);
  } catch (error) {
    // Typed, with the real cause; no scrape worker within the queue timeout is NoWorker, naming the queue.
    throw workflowFailure(error, () => ({ queue: options.taskQueue, waitMs: options.scheduleToStartTimeout, option: '--scrape-queue' }));
  }
}

export async function nightlyScrapeWorkflow(plan: NightlyScrapePlan): Promise<NightlyScrapeResult> {
  const problems = validateNightlyPlan(plan);
  if (problems.length > 0) throw ApplicationFailure.nonRetryable(`Invalid nightly scrape plan: ${problems.join(' ')}`, 'BadInput');
  const parentId = workflowInfo().workflowId;
  // Asked only when the plan scores: nights recorded before the patch never had `score`.
  const scoring = plan.score !== undefined && patched(NIGHTLY_SCORING_PATCH);
  const result = await runNightlyScrape(
    {
      scrapeApp: (input) => executeChild(scrapeAppWorkflow, { workflowId: `${parentId}/${input.appId}`, args: [input, scrapeRouting(plan)] }),
      combineScrapes,
      runPipeline: (pipeline) => executeChild(pipelineWorkflow, { workflowId: `${parentId}/pipeline`, args: [pipeline] }),
      runScoring: (scoringPlan) => executeChild(scoringWorkflow, { workflowId: `${parentId}/score`, args: [scoringPlan] }),
    },
    plan,
    { scoring },
  );
  // The night's scoring outcome where the schedule's runs are listed: `drift` (with the alerts) is never silent.
  if (result.scoring) upsertScoringMemo(result.scoring.status, 'alerts' in result.scoring ? result.scoring.alerts : []);
  // Some apps failing is recorded in the result; all of them failing is a failed night, visibly.
  if (result.failed > 0 && result.failed === result.apps.length) {
    const errors = result.apps.flatMap((app) => (app.status === 'failed' ? [{ appId: app.appId, ...app.error }] : []));
    const why = errors.map((e) => `${e.appId}: ${e.message}`).join('; ');
    // The first app's failure type (one of the shared types), so callers can tell rate limits from bad ids.
    throw ApplicationFailure.nonRetryable(`Every app failed to scrape: ${why}`, errors[0]?.type ?? 'Internal', result);
  }
  return result;
}
