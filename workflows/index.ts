// Every workflow the worker bundles. Changing what one of them commands (activities, children, timers,
// continue-as-new) breaks the runs in flight: follow the patching policy in workflows/README.md
// (`patched()` / `deprecatePatch()`); recorded-histories.test.ts replays recorded runs to catch it.
export { pipelineWorkflow } from './pipeline';
export { gridWorkflow } from './grid';
export { nightlyScrapeWorkflow, scrapeAppWorkflow } from './scrape';
export { predictWorkflow } from './predict';
export { scoringWorkflow } from './score';
