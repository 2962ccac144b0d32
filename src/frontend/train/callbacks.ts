// Training callbacks (early stopping, checkpointing, JSONL logging) and the history they see.
import { appendFileSync, writeFileSync } from 'node:fs';
import { fnArg, numberArg, oneOfArg, stringArg } from '../args.js';
import type { Trainer, StepResult } from './trainer.js';

export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  samplesPerSecond: number;
  lr: number;
}

export interface History {
  epochs: EpochLogs[];
}

export interface Callback {
  onTrainBegin?(trainer: Trainer): void;
  onBatchEnd?(trainer: Trainer, step: number, result: StepResult): void;
  onEpochEnd?(trainer: Trainer, logs: EpochLogs): void | Promise<void>;
  onTrainEnd?(trainer: Trainer): void | Promise<void>;
}

type Monitored = 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy';
const higherIsBetter = (m: Monitored) => m === 'accuracy' || m === 'valAccuracy';

/** Stops training when `monitor` has not improved by minDelta for `patience` epochs. */
const MONITORED: readonly Monitored[] = ['loss', 'accuracy', 'valLoss', 'valAccuracy'];

export function earlyStopping({ monitor = 'valLoss', patience = 2, minDelta = 0 }: { monitor?: Monitored; patience?: number; minDelta?: number } = {}): Callback {
  oneOfArg('earlyStopping', 'monitor', monitor, MONITORED);
  numberArg('earlyStopping', 'patience', patience, { integer: true, min: 0 });
  numberArg('earlyStopping', 'minDelta', minDelta, { min: 0 });
  let best = NaN;
  let wait = 0;
  return {
    onEpochEnd(trainer, logs) {
      const v = logs[monitor];
      if (v === undefined) return;
      const better = Number.isNaN(best) || (higherIsBetter(monitor) ? v > best + minDelta : v < best - minDelta);
      if (better) {
        best = v;
        wait = 0;
      } else if (++wait >= patience) trainer.stopTraining = true;
    },
  };
}

/** Calls save(trainer, logs) after each epoch where `monitor` improved (or every epoch if bestOnly is false). */
export function checkpoint(save: (trainer: Trainer, logs: EpochLogs) => void | Promise<void>, { monitor = 'valLoss', bestOnly = true }: { monitor?: Monitored; bestOnly?: boolean } = {}): Callback {
  fnArg('checkpoint', 'save', save);
  oneOfArg('checkpoint', 'monitor', monitor, MONITORED);
  let best = NaN;
  return {
    async onEpochEnd(trainer, logs) {
      const v = logs[monitor];
      const better = v !== undefined && (Number.isNaN(best) || (higherIsBetter(monitor) ? v > best : v < best));
      if (better) best = v!;
      if (!bestOnly || better) await save(trainer, logs);
    },
  };
}

/** Writes one JSON line per epoch (scalars), the input of `kiln report`. */
export function jsonlLogger(path: string): Callback {
  stringArg('jsonlLogger', 'path', path);
  return {
    onTrainBegin() {
      writeFileSync(path, '');
    },
    onEpochEnd(_, logs) {
      appendFileSync(path, JSON.stringify({ time: Date.now(), ...logs }) + '\n');
    },
  };
}
