// Every workflow the worker bundles.
export { pipelineWorkflow } from './pipeline';
export { gridWorkflow } from './grid';
export { nightlyScrapeWorkflow, scrapeAppWorkflow } from './scrape';
