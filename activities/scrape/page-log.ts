/**
 * A scrape run's page log: one NDJSON file that pages are appended to in page order. Writes are queued
 * off the request path (the next page is fetched while this one is written); `onPersisted` runs once a
 * page is on disk, and that is when the caller checkpoints it. The checkpoint records the log's length,
 * so a resumed run truncates whatever was written after its last checkpoint (a page whose heartbeat
 * never reached the server, or half a line from a crash) and fetches it again.
 *
 * What survives: a process crash (the bytes are in the OS page cache once `write` returns). An OS
 * crash may lose the tail; `open` notices a log shorter than its checkpoint and the caller restarts.
 */
import { open, readFile, stat, truncate, type FileHandle } from 'node:fs/promises';
import type { ScrapePage } from './play-client';

export class PageLog {
  private tail: Promise<void> = Promise.resolve();
  private error: unknown;

  private constructor(
    private readonly handle: FileHandle,
    /** Bytes on disk after every page persisted so far. */
    public bytes: number,
  ) {}

  /**
   * Opens the log at `path` cut to `bytes` (0: a fresh log). Returns undefined when the file is shorter
   * than `bytes`: the checkpoint names pages that are gone, so the run must start over.
   */
  static async open(path: string, bytes: number): Promise<PageLog | undefined> {
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size < bytes) return undefined;
    if (size > bytes) await truncate(path, bytes);
    return new PageLog(await open(path, 'a'), bytes);
  }

  /**
   * Queues a page; `onPersisted` runs once it is on disk, in page order. Throws the error of an earlier
   * write, so the scrape stops at the first page that could not be stored.
   */
  append(page: ScrapePage, onPersisted: (bytes: number) => void): void {
    if (this.error !== undefined) throw this.error;
    const text = pageToNdjson(page);
    this.tail = this.tail
      .then(async () => {
        if (this.error !== undefined) return; // never write past a hole
        if (text !== '') {
          await this.handle.appendFile(text);
          this.bytes += Buffer.byteLength(text);
        }
        onPersisted(this.bytes);
      })
      .catch((error: unknown) => {
        this.error ??= error;
      });
  }

  /** Waits for every queued page; throws if one could not be written. */
  async flush(): Promise<void> {
    await this.tail;
    if (this.error !== undefined) throw this.error;
  }

  /** Waits for queued pages (persisting what can be) and closes the file. */
  async close(): Promise<void> {
    await this.tail;
    await this.handle.close();
  }
}

/** Review ids in a log (its first `bytes` bytes): already stored by this run. */
export async function loggedReviewIds(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const ids: string[] = [];
  for (const line of text.split('\n')) {
    if (line !== '') ids.push((JSON.parse(line) as { review_id: string }).review_id);
  }
  return ids;
}

/** One review per line in the snapshot's column names; `position` keeps Play's order within the page. */
export function pageToNdjson(page: ScrapePage): string {
  let text = '';
  page.reviews.forEach((r, position) => {
    text +=
      JSON.stringify({
        review_id: r.reviewId,
        app: r.appId,
        lang: r.lang,
        country: r.country,
        user_name: r.userName,
        score: r.score,
        text: r.text,
        date: r.date,
        thumbs_up: r.thumbsUp,
        reply_text: r.replyText,
        reply_date: r.replyDate,
        app_version: r.appVersion,
        scraped_at: r.scrapedAt,
        page_number: r.pageNumber,
        position,
      }) + '\n';
  });
  return text;
}
