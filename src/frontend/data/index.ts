// The data API: datasets, loaders, readers (IDX, CSV) and batch transforms.
export * from './dataset.js';
export * from './loader.js';
export * from './idx.js';
export * from './csv.js';
export * from './transforms.js';
export * from './shard.js';
