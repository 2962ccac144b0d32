// Training helpers: the Trainer (fit/evaluate/predict), callbacks and the progress bar.
export * from './trainer.js';
export * from './callbacks.js';
export * from './progress.js';
