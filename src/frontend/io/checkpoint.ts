// Training checkpoints: one safetensors file with the model's state dict (`model/<name>`), the
// optimizer's slots (`optimizer/<param index>/<slot>`) and, in the metadata, the optimizer's step
// count and learning rate, the lr scheduler's position, plus user data, so training resumes exactly
// where it stopped (Adam + cosine annealing included).
// Also adds `model.saveCheckpoint(path, {optimizer})` / `model.loadCheckpoint(...)` to Module.
import { KilnError } from '../../ir/error.js';
import { parseSafetensors, serializeSafetensors } from '../../format/safetensors.js';
import { readFileBytes, writeFileBytes } from '../../format/files.js';
import { parseJson, isRecord } from '../../format/bytes.js';
import { KILN_VERSION } from '../../format/version.js';
import type { Tensor } from '../tensor.js';
import { show } from '../args.js';
import { Module } from '../nn/module.js';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizer.js';
import type { LRScheduler, SchedulerStateDict } from '../optim/schedulers.js';
import { fromHostRecord, toHostRecord } from './safetensors.js';

const META_KEY = 'kiln.checkpoint';
const FORMAT = 1;

export interface CheckpointOptions {
  optimizer?: Optimizer<any>;
  /** A learning-rate scheduler whose position (step count, lr) is saved too. */
  scheduler?: LRScheduler;
  /** JSON-serializable data to keep with the checkpoint (epoch, best metric). */
  extra?: unknown;
}

export interface LoadCheckpointOptions {
  optimizer?: Optimizer<any>;
  /** Continues this scheduler from the saved position (built like the saved one, on `optimizer`). */
  scheduler?: LRScheduler;
  /** Model keys must match exactly (default true), as in loadStateDict. */
  strict?: boolean;
}

export interface CheckpointInfo {
  /** The optimizer's step count when saved (0 without an optimizer). */
  step: number;
  extra: unknown;
  kilnVersion: string;
}

interface Meta {
  format: number;
  kilnVersion: string;
  optimizer: { name: string; step: number; lr: number } | null;
  /** Absent in checkpoints written before schedulers were saved. */
  scheduler?: SchedulerStateDict | null;
  extra: unknown;
}

export async function checkpointToBytes(model: Module, opts: CheckpointOptions = {}): Promise<Uint8Array> {
  return checkpointBytes('checkpointToBytes', model, opts);
}

function checkModule(op: string, model: unknown): asserts model is Module {
  if (!(model instanceof Module)) throw new KilnError(`${op}: expected an nn.Module, got ${show(model)}`);
}

async function checkpointBytes(op: string, model: Module, opts: CheckpointOptions): Promise<Uint8Array> {
  checkModule(op, model);
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) tensors[`model/${k}`] = t;
  let optimizer: Meta['optimizer'] = null;
  if (opts.optimizer) {
    const s = opts.optimizer.stateDict();
    for (const [i, slots] of Object.entries(s.slots)) for (const [k, t] of Object.entries(slots)) tensors[`optimizer/${i}/${k}`] = t;
    optimizer = { name: s.name, step: s.step, lr: s.lr };
  }
  const scheduler = opts.scheduler ? opts.scheduler.stateDict() : null;
  const meta: Meta = { format: FORMAT, kilnVersion: KILN_VERSION, optimizer, scheduler, extra: opts.extra ?? null };
  let metaText: string;
  try {
    metaText = JSON.stringify(meta);
  } catch (e) {
    throw new KilnError(`saveCheckpoint: extra must be JSON-serializable (${e instanceof Error ? e.message : String(e)})`);
  }
  return serializeSafetensors(await toHostRecord('saveCheckpoint', tensors), { [META_KEY]: metaText });
}

export function checkpointFromBytes(model: Module, bytes: Uint8Array, opts: LoadCheckpointOptions = {}): CheckpointInfo {
  checkModule('loadCheckpoint', model);
  const { tensors: host, metadata } = parseSafetensors(bytes);
  const raw = metadata?.[META_KEY];
  if (raw === undefined) throw new KilnError(`loadCheckpoint: not a Kiln checkpoint (no ${META_KEY} metadata); for plain weights use load() and loadStateDict()`);
  const meta = parseJson('loadCheckpoint: metadata', raw);
  if (!isRecord(meta) || meta.format !== FORMAT) throw new KilnError(`loadCheckpoint: checkpoint format ${isRecord(meta) ? JSON.stringify(meta.format) : '?'} is not supported (expected ${FORMAT})`);
  const device = model.parameters()[0]?.device;
  const tensors = fromHostRecord(host, device);
  const modelState: Record<string, Tensor> = {};
  const slots: Record<number, Record<string, Tensor>> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const m = /^model\/(.+)$/.exec(name);
    const o = /^optimizer\/(0|[1-9][0-9]*)\/([^/]+)$/.exec(name);
    if (m) modelState[m[1]] = t;
    else if (o) (slots[Number(o[1])] ??= {})[o[2]] = t;
    else throw new KilnError(`loadCheckpoint: unexpected tensor ${JSON.stringify(name)} (expected model/... or optimizer/<index>/<slot>)`);
  }
  model.loadStateDict(modelState, { strict: opts.strict ?? true });
  const saved = meta.optimizer as Meta['optimizer'];
  if (opts.optimizer) {
    if (!isRecord(saved) || typeof saved.name !== 'string' || typeof saved.step !== 'number' || typeof saved.lr !== 'number') {
      throw new KilnError('loadCheckpoint: an optimizer was given but the checkpoint holds no optimizer state');
    }
    const state: OptimizerStateDict = { name: saved.name, step: saved.step, lr: saved.lr, slots };
    opts.optimizer.loadStateDict(state);
  }
  if (opts.scheduler) {
    const sched = meta.scheduler;
    if (!isRecord(sched)) throw new KilnError('loadCheckpoint: a scheduler was given but the checkpoint holds no scheduler state (save it with {scheduler})');
    opts.scheduler.loadStateDict(sched as unknown as SchedulerStateDict);
  }
  return { step: isRecord(saved) && typeof saved.step === 'number' ? saved.step : 0, extra: meta.extra ?? null, kilnVersion: String(meta.kilnVersion) };
}

/** Writes model weights and (optionally) optimizer state to one file. */
export async function saveCheckpoint(model: Module, path: string, opts: CheckpointOptions = {}): Promise<void> {
  if (typeof path !== 'string') throw new KilnError(`saveCheckpoint: path must be a string, got ${show(path)}`);
  await writeFileBytes('saveCheckpoint', path, await checkpointBytes('saveCheckpoint', model, opts));
}

/** Restores model weights (in place) and optimizer state from a checkpoint file. */
export async function loadCheckpoint(model: Module, path: string, opts: LoadCheckpointOptions = {}): Promise<CheckpointInfo> {
  checkModule('loadCheckpoint', model);
  return checkpointFromBytes(model, await readFileBytes('loadCheckpoint', path), opts);
}

declare module '../nn/module.js' {
  interface Module {
    /** Saves weights and optimizer state for resuming training (a safetensors file). */
    saveCheckpoint(path: string, opts?: CheckpointOptions): Promise<void>;
    /** Restores what saveCheckpoint wrote, in place; returns the step count and extra data. */
    loadCheckpoint(path: string, opts?: LoadCheckpointOptions): Promise<CheckpointInfo>;
  }
}

// Methods on Module, defined here so nn/module.ts stays free of file I/O (the layering keeps
// src/format out of the nn core); index.ts imports this file, so `kiln` users always have them.
Module.prototype.saveCheckpoint = function (this: Module, path: string, opts?: CheckpointOptions) {
  return saveCheckpoint(this, path, opts);
};
Module.prototype.loadCheckpoint = function (this: Module, path: string, opts?: LoadCheckpointOptions) {
  return loadCheckpoint(this, path, opts);
};
