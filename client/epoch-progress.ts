/**
 * Per-epoch training progress on the console, from the train stage's heartbeats (TrainProgress): epoch,
 * loss, validation macro-F1 and an ETA from the epochs so far. On a TTY one line is rewritten in place;
 * otherwise (logs, CI, pipes) each epoch is a plain line.
 */
import type { TrainProgress } from '../activities/train/train';

export interface EpochReporterOptions {
  /** Writes a plain line (non-TTY). */
  log: (line: string) => void;
  /** Where a TTY line is rewritten; absent for plain lines. */
  tty?: { write(text: string): unknown };
  now?: () => number;
}

const isEpochProgress = (details: unknown): details is TrainProgress & { epochs: number; durationMs: number; checkpointKey: string } =>
  typeof details === 'object' && details !== null && typeof (details as TrainProgress).epoch === 'number' && typeof (details as TrainProgress).epochs === 'number' &&
  typeof (details as TrainProgress).checkpointKey === 'string';

function seconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export function formatEpoch(p: TrainProgress & { epochs: number }, etaSeconds: number): string {
  const val = p.valMacroF1 === undefined ? '' : `  val macro-F1 ${p.valMacroF1.toFixed(4)}`;
  const loss = p.loss === undefined ? '' : `  loss ${p.loss.toFixed(4)}`;
  return `train epoch ${p.epoch + 1}/${p.epochs}${loss}${val}  ETA ${seconds(etaSeconds)}`;
}

/** A heartbeat callback: ignores anything but per-epoch training progress. */
export function epochReporter(options: EpochReporterOptions): (details?: unknown) => void {
  const spent = new Map<string, number[]>();
  return (details) => {
    if (!isEpochProgress(details)) return;
    // One list of epoch times per model (checkpointKey is `<train key>/epoch-<n>`): an ETA per fit.
    const model = details.checkpointKey.split('/')[0]!;
    const times = details.epoch === 0 ? [] : (spent.get(model) ?? []);
    times.push(details.durationMs);
    spent.set(model, times);
    const mean = times.reduce((a, b) => a + b, 0) / times.length / 1000;
    const line = formatEpoch(details, mean * (details.epochs - details.epoch - 1));
    const last = details.epoch + 1 >= details.epochs;
    if (options.tty) options.tty.write(`\r\x1b[K${line}${last ? '\n' : ''}`);
    else options.log(line);
  };
}
