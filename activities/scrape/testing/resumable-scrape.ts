/**
 * Test helper: `scrapeReviews` under `withRetry`, resuming each attempt from the last page handed to
 * `onPage`, as the scrape activity does under Temporal (activity retries + heartbeat details). The
 * play-client tests use it to show a retried window neither loses nor repeats reviews; production code
 * resumes through the activity's heartbeat checkpoint instead (activities/scrape/scrape-app.ts).
 */
import { scrapeReviews, type ScrapeHooks, type ScrapeOptions, type ScrapeResult } from '../play-client';
import { withRetry, type RetryOptions } from '../../../core/retry';

export interface ResumableScrapeResult extends ScrapeResult {
  /** Attempts made (1 when nothing failed). */
  attempts: number;
}

/**
 * Scrapes with retries. Between attempts it keeps the checkpoint (`nextToken`, `pageNumber`), the set of
 * review ids already handed over, and the counts, so a retried window neither loses nor repeats reviews.
 */
export async function scrapeWithRetry(
  options: ScrapeOptions,
  hooks: ScrapeHooks,
  retry: RetryOptions = {},
): Promise<ResumableScrapeResult> {
  const seen = options.seen ?? new Set<string>();
  let checkpoint = { token: options.resumeToken, pageNumber: options.resumePageNumber ?? 0 };
  const counts = { seen: 0, new: 0, duplicates: 0, pages: 0 };
  const onPage = async (page: Parameters<ScrapeHooks['onPage']>[0]): Promise<void> => {
    await hooks.onPage(page);
    checkpoint = { token: page.nextToken ?? undefined, pageNumber: page.pageNumber };
    counts.seen += page.seen;
    counts.new += page.new;
    counts.duplicates += page.duplicates;
    counts.pages++;
  };
  let attempts = 0;
  const result = await withRetry(
    (attempt) => {
      attempts = attempt;
      const attemptOptions: ScrapeOptions = {
        ...options,
        resumePageNumber: checkpoint.pageNumber,
        maxReviews: options.maxReviews - counts.new,
        seen,
      };
      if (checkpoint.token !== undefined) attemptOptions.resumeToken = checkpoint.token;
      else delete attemptOptions.resumeToken;
      return scrapeReviews(attemptOptions, { onPage });
    },
    { ...retry, ...(options.signal ? { signal: options.signal } : {}) },
  );
  return { ...result, ...counts, attempts };
}
